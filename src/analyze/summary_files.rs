//! summary.json and summary.md of a run: metrics.jsonl joined with analysis.jsonl by step,
//! summarized by `analysis::summary` (initial / peak / final of every scalar, the events
//! and the precursors' leads).

use crate::rundir::{run_id, RUN_ID_KEY};
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::store::{Record, Store};
use crate::analysis::events::{crossover_step, lead};
use crate::analysis::summary::Summary;
use crate::io::write_atomic;
use crate::rundir::metrics::read_metrics;
use crate::rundir::{RunDir, SUMMARY_JSON, SUMMARY_MD};
use crate::Result;

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

/// The circuit crossover with the infinite ratios (written as null plus
/// `circuit_ratio_infinite`, which `events` cannot see among JSON numbers) put back: +∞
/// where the algorithmic margin is positive, 0 where it is not (at initialization neither
/// circuit carries anything, and no crossover has happened).
fn crossover_with_infinite_ratios(records: &[Record]) -> Option<u64> {
    let ratios: Vec<(u64, f64)> = records
        .iter()
        .filter_map(|r| {
            let step = r.get("step")?.as_u64()?;
            if r.get("circuit_ratio_infinite").and_then(Value::as_bool) == Some(true) {
                let alpha_alg = r.get("alpha_alg").and_then(Value::as_f64).unwrap_or(0.0);
                return Some((step, if alpha_alg > 0.0 { f64::INFINITY } else { 0.0 }));
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
    j[RUN_ID_KEY] = json!(run_id(&dir.path)?);
    write_atomic(&dir.path.join(SUMMARY_JSON), (serde_json::to_string_pretty(&j)? + "\n").as_bytes())?;
    let keys: Vec<String> = key_final.iter().map(|k| k.to_string()).collect();
    let md = format!("{}\nKey frequencies (last checkpoint): {}. Checkpoints analyzed: {}.\n", summary.to_markdown(), keys.join(", "), store.records.len());
    write_atomic(&dir.path.join(SUMMARY_MD), md.as_bytes())?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(step: u64, ratio: Option<f64>, alpha_alg: f64) -> Record {
        let v = json!({"step": step, "circuit_ratio": ratio, "circuit_ratio_infinite": ratio.is_none(), "alpha_alg": alpha_alg});
        v.as_object().unwrap().clone()
    }

    #[test]
    fn infinite_ratios_count_only_with_a_positive_algorithmic_margin() {
        // Initialization: α_mem ≤ 0 and α_alg ≈ 0 (no crossover yet); later α_mem ≤ 0 with
        // α_alg > 0 is +∞ and holds the crossover.
        let records = [
            ratio(0, None, -1e-3),
            ratio(10, Some(0.5), 1.0),
            ratio(20, Some(1.2), 2.0),
            ratio(30, None, 3.0),
            ratio(40, Some(2.0), 3.0),
            ratio(50, Some(1.5), 3.0),
        ];
        assert_eq!(crossover_with_infinite_ratios(&records), Some(20));
        assert_eq!(crossover_with_infinite_ratios(&records[..5]), None);
    }
}
