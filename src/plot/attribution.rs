//! Seed 000 finding 6: which frequencies the model relies on. Heatmaps checkpoints × k of
//! the correct-logit margin with only W_E^(k) kept, and with W_E^(k) ablated.

use std::path::Path;

use serde_json::Value;

use super::data::{number, Run};
use super::heatmap::Heatmap;
use super::spectrum::heatmaps;
use super::Made;
use crate::Result;

/// (step, value per k) of `field`: numbers, or objects whose `margin` (else `acc`) is used.
fn attribution(run: &Run, field: &str) -> Vec<(u64, Vec<f64>)> {
    let cell = |v: &Value| match v {
        Value::Object(m) => m.get("margin").or_else(|| m.get("acc")).and_then(number).unwrap_or(f64::NAN),
        _ => number(v).unwrap_or(f64::NAN),
    };
    run.values(field).into_iter().filter_map(|(step, v)| Some((step, v.as_array()?.iter().map(cell).collect()))).collect()
}

fn map(rows: &[(u64, Vec<f64>)], title: &str) -> Heatmap {
    let k_count = rows.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    Heatmap {
        title: title.to_string(),
        x_label: "checkpoint step".to_string(),
        y_label: "frequency k".to_string(),
        columns: rows.iter().map(|(s, _)| *s as f64).collect(),
        rows: (0..k_count).map(|k| k.to_string()).collect(),
        values: rows.iter().map(|(_, v)| v.clone()).collect(),
        value_label: "correct-logit margin".to_string(),
        sequential: false,
    }
}

pub fn attribution_heatmap(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["attr_ablate", "attr_keep"]) {
        return Ok(Made::Skipped(why));
    }
    let maps: Vec<Heatmap> = [("attr_ablate", "Margin with W_E^(k) ablated (low = frequency k needed)"), ("attr_keep", "Margin with only W_E^(0) + W_E^(k) kept (high = k suffices)")]
        .iter()
        .map(|(field, title)| map(&attribution(run, field), title))
        .filter(Heatmap::has_data)
        .collect();
    heatmaps(path, "Spectral attribution by frequency", &run.subtitle(), &maps)
}
