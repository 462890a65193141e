//! Seed 000 finding 4: phase. Token phase coherence per key frequency, the literal phase R²,
//! and the phase interventions' accuracy and loss before and after.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::bars::{BarSeries, Bars};
use super::canvas;
use super::data::Run;
use super::frame;
use super::lines::{Line, Panel};
use super::style::{series_color, BLUE, GREY, ORANGE, SKY, VERMILLION};
use super::{canvas_size, figure, Made};
use crate::rundir::{INTERVENTIONS_DIR, RUN_ID_KEY};
use crate::Result;

/// R_k series by frequency label. `token_phase_coherence` may be an array aligned with the
/// record's `key_freqs` (or the final key set), an object {k: R_k}, or one number.
fn coherence_series(run: &Run) -> BTreeMap<(u64, String), Vec<(f64, f64)>> {
    let finals = run.key_freqs();
    let mut out: BTreeMap<(u64, String), Vec<(f64, f64)>> = BTreeMap::new();
    let mut push = |k: Option<u64>, label: String, step: u64, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            out.entry((k.unwrap_or(u64::MAX), label)).or_default().push((step as f64, v));
        }
    };
    for record in &run.records {
        let (Some(step), Some(value)) = (record.get("step").and_then(Value::as_u64), record.get("token_phase_coherence")) else { continue };
        match value {
            Value::Array(values) => {
                let own: Option<Vec<u64>> = record.get("key_freqs").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_u64).collect());
                let keys: Vec<u64> = own.filter(|k| k.len() == values.len()).unwrap_or_else(|| finals.iter().map(|&k| k as u64).collect());
                for (i, v) in values.iter().enumerate() {
                    let k = keys.get(i).copied().filter(|_| keys.len() == values.len());
                    let label = k.map_or_else(|| format!("key frequency #{}", i + 1), |k| format!("k = {k}"));
                    push(k, label, step, v.as_f64());
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    push(k.parse().ok(), format!("k = {k}"), step, v.as_f64());
                }
            }
            v => push(None, "mean over key frequencies".to_string(), step, v.as_f64()),
        }
    }
    out
}

pub fn phase_coherence(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["token_phase_coherence", "phase_r2"]) {
        return Ok(Made::Skipped(why));
    }
    let mut coherence = Panel::new("Token phase coherence R_k in each key plane (1 = ideal)", "step", "R_k").log_steps().y_range(0.0, 1.02).band(run.grokking_band());
    for (i, ((_, label), series)) in coherence_series(run).into_iter().enumerate() {
        coherence = coherence.line(Line::new(label, series, series_color(i)));
    }
    if let Some(p) = run.p() {
        coherence = coherence.level(1.0 / (p as f64).sqrt(), format!("unrelated angles ≈ 1/√p = {:.2}", 1.0 / (p as f64).sqrt()), GREY);
    }
    let r2 = Panel::new("Literal phase linearity: R² of phase vs k (null where no column has 3 strong bins)", "step", "R²")
        .log_steps()
        .y_range(0.0, 1.02)
        .line(Line::new("phase R² (energy-weighted over columns)", run.series("phase_r2"), BLUE))
        .band(run.grokking_band());
    figure(path, "Phase coherence", &run.subtitle(), &[coherence, r2], 1)
}

/// One intervention's measures before and after.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Intervention {
    pub label: String,
    pub before: BTreeMap<String, f64>,
    pub after: BTreeMap<String, f64>,
}

const MEASURES: [&str; 4] = ["train_acc", "val_acc", "train_loss", "val_loss"];

fn measures(v: &Value) -> BTreeMap<String, f64> {
    MEASURES.iter().filter_map(|m| Some((m.to_string(), v.get(*m)?.as_f64()?))).collect()
}

/// Every object under `v` holding `before` and `after` objects (or flat `<measure>_before` /
/// `<measure>_after` numbers), labelled by its `kind`/`mode`/`method`/`name` (else the key it
/// sits under, else `name`) and its own or an enclosing object's `step`.
fn collect(v: &Value, name: &str, step: Option<u64>, out: &mut Vec<Intervention>) {
    match v {
        Value::Object(map) => {
            let step = map.get("step").and_then(Value::as_u64).or(step);
            let flat = |suffix: &str| -> BTreeMap<String, f64> { MEASURES.iter().filter_map(|m| Some((m.to_string(), map.get(&format!("{m}_{suffix}"))?.as_f64()?))).collect() };
            let (before, after) = match (map.get("before"), map.get("after")) {
                (Some(b), Some(a)) => (measures(b), measures(a)),
                _ => (flat("before"), flat("after")),
            };
            if !before.is_empty() || !after.is_empty() {
                let kind = ["kind", "mode", "method", "name"].iter().find_map(|k| map.get(*k).and_then(Value::as_str)).unwrap_or(name);
                // A file name such as phase_in_plane_step_00001000 carries the step the label
                // adds again.
                let kind = kind.split("_step_").next().unwrap_or(kind);
                let label = step.map_or_else(|| kind.to_string(), |s| format!("{kind} @ step {s}"));
                out.push(Intervention { label, before, after });
                return;
            }
            for (k, child) in map {
                collect(child, k, step, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, name, step, out)),
        _ => {}
    }
}

pub(crate) fn read_interventions(run: &Run) -> std::result::Result<Vec<Intervention>, String> {
    let dir = run.dir.join(INTERVENTIONS_DIR);
    let last_step = run.records.last().and_then(|r| r.get("step")).and_then(Value::as_u64).map_or("S".to_string(), |s| s.to_string());
    let advice = format!("run `grokgpu intervene phase --run-dir {} --step {last_step}` first", run.dir.display());
    let entries = std::fs::read_dir(&dir).map_err(|_| format!("no {INTERVENTIONS_DIR}/ in {} ({advice})", run.dir.display()))?;
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    let mut found = vec![];
    for file in &files {
        let stem = file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        if let Ok(v) = std::fs::read_to_string(file).map_err(|_| ()).and_then(|t| serde_json::from_str::<Value>(&t).map_err(|_| ())) {
            let of_another_run = run.run_id.is_some() && v.get(RUN_ID_KEY).and_then(Value::as_str) != run.run_id.as_deref();
            if !of_another_run {
                collect(&v, &stem, None, &mut found);
            }
        }
    }
    if found.is_empty() {
        return Err(format!("{} holds no readable intervention results of this run (objects with before/after accuracy or loss and this run's run_id)", dir.display()));
    }
    Ok(found)
}

fn bars(found: &[Intervention], measure: &str, title: &str, y_label: &str, percent: bool) -> Bars {
    let (train, val) = if measure == "acc" { ("train_acc", "val_acc") } else { ("train_loss", "val_loss") };
    let pick = |side: &str, key: &str| -> Vec<f64> {
        found.iter().map(|i| *if side == "before" { &i.before } else { &i.after }.get(key).unwrap_or(&f64::NAN)).collect()
    };
    Bars {
        title: title.to_string(),
        x_label: "intervention".to_string(),
        y_label: y_label.to_string(),
        groups: found.iter().map(|i| i.label.clone()).collect(),
        series: vec![
            BarSeries { label: "train, before".to_string(), color: BLUE, values: pick("before", train) },
            BarSeries { label: "train, after".to_string(), color: SKY, values: pick("after", train) },
            BarSeries { label: "validation, before".to_string(), color: VERMILLION, values: pick("before", val) },
            BarSeries { label: "validation, after".to_string(), color: ORANGE, values: pick("after", val) },
        ],
        y_range: if percent { Some((0.0, 1.1)) } else { None },
        percent,
    }
}

/// Bars of train/val accuracy and loss before and after each intervention in
/// interventions/*.json.
pub fn phase_intervention(run: &Run, path: &Path) -> Result<Made> {
    let found = match read_interventions(run) {
        Ok(found) => found,
        Err(why) => return Ok(Made::Skipped(why)),
    };
    let charts: Vec<Bars> = [bars(&found, "acc", "Accuracy before and after", "accuracy", true), bars(&found, "loss", "Loss before and after", "cross-entropy loss", false)].into_iter().filter(Bars::has_data).collect();
    if charts.is_empty() {
        return Ok(Made::Skipped("the intervention results hold no accuracy or loss values".to_string()));
    }
    canvas::render(path, canvas_size(charts.len(), 1), |root| {
        let body = frame::header(root, "Phase interventions", &run.subtitle())?;
        for (chart, area) in charts.iter().zip(body.split_evenly((charts.len(), 1))) {
            chart.draw(&area)?;
        }
        Ok(())
    })?;
    Ok(Made::Written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn interventions_are_found_in_nested_and_flat_layouts() {
        let mut found = vec![];
        let v = json!({
            "step": 1500,
            "literal": {"before": {"train_acc": 1.0, "val_acc": 0.99}, "after": {"train_acc": 0.01, "val_acc": 0.01}},
            "in_plane": {"kind": "in-plane", "step": 1500, "train_acc_before": 1.0, "train_acc_after": 0.98},
        });
        collect(&v, "phase", None, &mut found);
        let labels: Vec<&str> = found.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["in-plane @ step 1500", "literal @ step 1500"]);
        let mut from_file = vec![];
        collect(&json!({"step": 1000, "before": {"val_acc": 1.0}, "after": {"val_acc": 0.5}}), "phase_literal_step_00001000", None, &mut from_file);
        assert_eq!(from_file[0].label, "phase_literal @ step 1000");
        assert_eq!(found[0].after["train_acc"], 0.98);
        assert_eq!(found[1].before["val_acc"], 0.99);
    }
}
