//! Seed 001: the geometry of the representation (participation ratio, TwoNN dimension, H1
//! persistence) and how sharply the last query attends.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{series_color, GREY};
use super::{figure, Made};
use crate::Result;

/// Every field name of the run that starts with `prefix`, in order of name.
fn fields_with_prefix(run: &Run, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = run.records.iter().flat_map(|r| r.keys()).filter(|k| k.starts_with(prefix)).cloned().collect();
    names.sort();
    names.dedup();
    names
}

/// Every hidden-representation field `geom.<rep>.<measure>` with this measure, by name.
fn representation_fields(run: &Run, measure: &str) -> Vec<String> {
    fields_with_prefix(run, "geom.").into_iter().filter(|f| f.rsplit_once('.').is_some_and(|(_, m)| m == measure)).collect()
}

/// A panel of `fields` on a linear step axis (step 0 is initialization, where geometry starts).
fn geometry_panel(run: &Run, title: &str, y_label: &str, fields: &[String]) -> Panel {
    let mut panel = Panel::new(title, "step (linear scale)", y_label).band(run.grokking_band());
    for (i, field) in fields.iter().enumerate() {
        let label = field.strip_prefix("geom.").unwrap_or(field);
        panel = panel.line(Line::new(label, run.series(field), series_color(i)));
    }
    panel
}

/// Intrinsic dimension (participation ratio, TwoNN) of W_E, W_U and the hidden
/// representations, and the H1 of the representations' class centroids: the longest loop's
/// persistence and β₁ in the centroids' leading plane and in their full space.
pub fn intrinsic_dimension(run: &Run, path: &Path) -> Result<Made> {
    // Weight fields present in the run, then each representation measure's fields.
    let fields = |weights: &[&str], measures: &[&str]| -> Vec<String> {
        let present = weights.iter().filter(|f| !run.series(f).is_empty()).map(|f| f.to_string());
        present.chain(measures.iter().flat_map(|m| representation_fields(run, m))).collect()
    };
    let pca = fields(&["pca_pr_we", "pca_pr_wu"], &["pca_pr", "centroid_pca_pr"]);
    let twonn = fields(&["twonn_id_we", "twonn_id_wu"], &["twonn_id", "centroid_twonn_id"]);
    let persistence = fields(&[], &["centroid_plane_h1_persistence", "centroid_h1_persistence", "h1_persistence"]);
    let beta1 = fields(&[], &["centroid_plane_beta1", "centroid_beta1", "beta1"]);
    let all: Vec<&str> = pca.iter().chain(&twonn).chain(&persistence).map(String::as_str).collect();
    if let Err(why) = run.need(if all.is_empty() { &["pca_pr_we", "twonn_id_we"] } else { &all }) {
        return Ok(Made::Skipped(why));
    }
    let panels = [
        geometry_panel(run, "PCA participation ratio (Σλ)²/Σλ²", "participation ratio", &pca),
        geometry_panel(run, "TwoNN intrinsic dimension (null outside [1, ambient])", "dimension", &twonn),
        geometry_panel(run, "Longest H1 bar, (death − birth) / enclosing radius", "persistence", &persistence),
        geometry_panel(run, "β₁: loops persisting over ¼ of the enclosing radius", "β₁", &beta1),
    ];
    figure(path, "Intrinsic dimension and loops of the representations (seed 001)", &run.subtitle(), &panels, 2)
}

/// Entropy per (layer, head) from a nested [layers][heads] array, a flat [heads] array, or
/// fields `attn_entropy.L.H` / `attn_entropy[L][H]`.
fn entropy_series(run: &Run) -> BTreeMap<(usize, usize), Vec<(f64, f64)>> {
    let mut out: BTreeMap<(usize, usize), Vec<(f64, f64)>> = BTreeMap::new();
    for record in &run.records {
        let Some(step) = record.get("step").and_then(Value::as_u64) else { continue };
        let mut push = |layer: usize, head: usize, v: Option<f64>| {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                out.entry((layer, head)).or_default().push((step as f64, v));
            }
        };
        for (name, value) in record.iter().filter(|(k, _)| k.starts_with("attn_entropy")) {
            let index: Vec<usize> = name["attn_entropy".len()..].split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
            match (value, index.as_slice()) {
                (Value::Array(rows), []) => {
                    for (a, row) in rows.iter().enumerate() {
                        match row {
                            Value::Array(heads) => heads.iter().enumerate().for_each(|(h, v)| push(a, h, v.as_f64())),
                            v => push(0, a, v.as_f64()),
                        }
                    }
                }
                (v, [layer, head]) => push(*layer, *head, v.as_f64()),
                _ => {}
            }
        }
    }
    out
}

/// One panel per layer, one line per head, ln 4 (uniform over the 4 positions) marked.
pub fn attention_entropy(run: &Run, path: &Path) -> Result<Made> {
    let series = entropy_series(run);
    if series.is_empty() {
        return Ok(Made::Skipped(run.need(&["attn_entropy"]).err().unwrap_or_else(|| "attn_entropy holds no numbers".to_string())));
    }
    let layers: Vec<usize> = {
        let mut l: Vec<usize> = series.keys().map(|&(l, _)| l).collect();
        l.dedup();
        l
    };
    let uniform = 4f64.ln();
    let panels: Vec<Panel> = layers
        .iter()
        .map(|&layer| {
            let mut panel = Panel::new(format!("Layer {layer}"), "step", "entropy (nats)").log_steps().band(run.grokking_band()).level(uniform, "uniform over 4 positions (ln 4)", GREY).level(0.0, "", GREY);
            for (&(_, head), points) in series.range((layer, 0)..=(layer, usize::MAX)) {
                panel = panel.line(Line::new(format!("head {head}"), points.clone(), series_color(head)));
            }
            panel
        })
        .collect();
    let cols = if panels.len() > 3 { 2 } else { 1 };
    figure(path, "Attention entropy of the last query", &run.subtitle(), &panels, cols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_of(rows: Vec<Value>) -> Run {
        Run {
            dir: "x".into(),
            config: Default::default(),
            records: rows.into_iter().map(|r| r.as_object().unwrap().clone()).collect(),
            has_metrics: false,
            has_analysis: true,
            run_id: None,
            warnings: vec![],
        }
    }

    #[test]
    fn entropy_layouts() {
        let run = run_of(vec![
            json!({"step": 1, "attn_entropy": [[1.0, 1.1], [0.5, null]]}),
            json!({"step": 2, "attn_entropy": [0.9, 0.8]}),
            json!({"step": 3, "attn_entropy[1][0]": 0.4, "attn_entropy.1.1": 0.3}),
        ]);
        let s = entropy_series(&run);
        assert_eq!(s[&(0, 0)], vec![(1.0, 1.0), (2.0, 0.9)]);
        assert_eq!(s[&(1, 0)], vec![(1.0, 0.5), (3.0, 0.4)]);
        assert_eq!(s[&(1, 1)], vec![(3.0, 0.3)]);
    }
}
