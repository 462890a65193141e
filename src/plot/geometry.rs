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

fn family_panel(run: &Run, title: &str, y_label: &str, fields: &[String]) -> Panel {
    let mut panel = Panel::new(title, "step (log scale)", y_label).log_x().band(run.grokking_band());
    for (i, field) in fields.iter().enumerate() {
        panel = panel.line(Line::new(field.as_str(), run.series(field), series_color(i)));
    }
    panel
}

/// PCA participation ratio, TwoNN intrinsic dimension and the longest H1 bar of W_E's rows.
pub fn intrinsic_dimension(run: &Run, path: &Path) -> Result<Made> {
    let pca = fields_with_prefix(run, "pca_pr");
    let twonn: Vec<String> = fields_with_prefix(run, "twonn_id");
    let betti = fields_with_prefix(run, "betti1_persistence");
    let all: Vec<&str> = pca.iter().chain(&twonn).chain(&betti).map(String::as_str).collect();
    if let Err(why) = run.need(if all.is_empty() { &["pca_pr", "twonn_id"] } else { &all }) {
        return Ok(Made::Skipped(why));
    }
    let panels: Vec<Panel> = [
        ("PCA participation ratio (Σλ)²/Σλ²", "participation ratio", &pca),
        ("TwoNN intrinsic dimension", "dimension", &twonn),
        ("H1 persistence of W_E's rows (longest bar)", "death / birth", &betti),
    ]
    .into_iter()
    .filter(|(_, _, fields)| !fields.is_empty())
    .map(|(title, y, fields)| family_panel(run, title, y, fields))
    .collect();
    figure(path, "Intrinsic dimension and topology of the representation", &run.subtitle(), &panels, 1)
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
            let mut panel = Panel::new(format!("Layer {layer}"), "step (log scale)", "entropy (nats)").log_x().band(run.grokking_band()).level(uniform, "uniform over 4 positions (ln 4)", GREY).level(0.0, "", GREY);
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
