//! summary.json and summary.md of a run: metrics.jsonl joined with analysis.jsonl by step,
//! summarized by `analysis::summary` (initial / peak / final of every scalar, the events
//! and the precursors' leads).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::store::{Record, Store};
use crate::analysis::events::{crossover_step, lead};
use crate::analysis::summary::Summary;
use crate::io::write_atomic;
use crate::train::metrics::read_metrics;
use crate::train::RunDir;
use crate::Result;

pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_MD: &str = "summary.md";

/// metrics.jsonl's records (none if the file is missing) with each analysis record's fields
/// added at its step (analysis fields win where both have one, e.g. `weight_norm`).
pub fn joined_records(dir: &RunDir, store: &Store) -> Result<Vec<Record>> {
    let mut by_step: BTreeMap<u64, Record> = BTreeMap::new();
    if dir.metrics_path().exists() {
        for m in read_metrics(&dir.metrics_path())? {
            if let Value::Object(map) = serde_json::to_value(&m)? {
                by_step.insert(m.step, map);
            }
        }
    }
    for (&step, record) in &store.records {
        by_step.entry(step).or_default().extend(record.clone());
    }
    Ok(by_step.into_values().collect())
}

/// The circuit crossover with an infinite ratio (written as null plus
/// `circuit_ratio_infinite`) counted as ≥ 1, which `events` cannot see in JSON numbers.
fn crossover_with_infinite_ratios(records: &[Record]) -> Option<u64> {
    let ratios: Vec<(u64, f64)> = records
        .iter()
        .filter_map(|r| {
            let step = r.get("step")?.as_u64()?;
            if r.get("circuit_ratio_infinite").and_then(Value::as_bool) == Some(true) {
                return Some((step, f64::INFINITY));
            }
            r.get("circuit_ratio")?.as_f64().map(|v| (step, v))
        })
        .collect();
    crossover_step(&ratios)
}

/// The run's summary from its metrics and analysis records.
pub fn summarize(dir: &RunDir, store: &Store) -> Result<Summary> {
    let records = joined_records(dir, store)?;
    let mut summary = Summary::of(&records);
    let grok = summary.events.grok_step;
    let crossover = crossover_with_infinite_ratios(&records);
    if let Some(p) = summary.events.precursors.iter_mut().find(|p| p.name == "circuit_crossover") {
        p.step = crossover;
        p.lead = lead(grok, crossover);
    }
    Ok(summary)
}

/// Writes summary.json and summary.md (atomically) and returns the summary.
pub fn write_summary(dir: &RunDir, store: &Store, key_final: &[usize]) -> Result<Summary> {
    let summary = summarize(dir, store)?;
    let mut j = summary.to_json();
    j["key_freqs_final"] = json!(key_final);
    j["checkpoints_analyzed"] = json!(store.records.len());
    write_atomic(&dir.path.join(SUMMARY_JSON), (serde_json::to_string_pretty(&j)? + "\n").as_bytes())?;
    let keys: Vec<String> = key_final.iter().map(|k| k.to_string()).collect();
    let md = format!("{}\nKey frequencies (last checkpoint): {}. Checkpoints analyzed: {}.\n", summary.to_markdown(), keys.join(", "), store.records.len());
    write_atomic(&dir.path.join(SUMMARY_MD), md.as_bytes())?;
    Ok(summary)
}
