//! What the figures read from a run directory: metrics.jsonl and analysis.jsonl joined by
//! step into one record per step, config.json for the title, and the events. Every reader
//! is lenient: a missing file, a missing field, a null (NaN and ±∞ are written as null) or an
//! unreadable line only leaves gaps, and [`Run::need`] turns a gap into the one-line reason
//! a figure is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::rundir::metrics::DIVERGENCE_FIELDS;
use crate::rundir::{run_id, RUN_ID_KEY};
use crate::analysis::events::{self, Events, Record};
use crate::data::Task;
use crate::rundir::{ANALYSIS_FILE, CONFIG_FILE, METRICS_FILE, SWEEP_FILE};
use crate::{bail, Error, Result};

/// Fields that come from the training log; every other field is an analysis output.
const TRAINING_FIELDS: &[&str] = &["train_loss", "train_acc", "val_loss", "val_acc", "lr", "elapsed_s"];

/// One run directory, read for plotting.
#[derive(Clone, Debug)]
pub struct Run {
    pub dir: PathBuf,
    pub config: Map<String, Value>,
    /// metrics.jsonl ∪ analysis.jsonl, one record per step, ascending (analysis fields win
    /// where both files hold one).
    pub records: Vec<Record>,
    pub has_metrics: bool,
    pub has_analysis: bool,
    /// The run's identity (see [`crate::rundir::identity`]), when its config.json and
    /// dataset.safetensors can be read; files derived from another run are left out.
    pub run_id: Option<String>,
    /// One line per problem met while reading (unreadable lines, a broken config.json).
    pub warnings: Vec<String>,
}

impl Run {
    /// Reads `dir`; it must exist and hold a run (config.json, metrics.jsonl or
    /// analysis.jsonl).
    pub fn load(dir: &Path) -> Result<Run> {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        let present = |f: &str| dir.join(f).is_file();
        if !present(CONFIG_FILE) && !present(METRICS_FILE) && !present(ANALYSIS_FILE) {
            bail!("{} holds no run (no {CONFIG_FILE}, {METRICS_FILE}, {ANALYSIS_FILE} or {SWEEP_FILE})", dir.display());
        }
        let mut warnings = vec![];
        let config = match std::fs::read_to_string(dir.join(CONFIG_FILE)) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                _ => {
                    warnings.push(format!("{CONFIG_FILE} is not a JSON object; titles leave out the run's settings"));
                    Map::new()
                }
            },
            Err(_) => Map::new(),
        };
        let run_id = run_id(dir).ok();
        let mut by_step: BTreeMap<u64, Record> = BTreeMap::new();
        let mut read = |name: &str| -> bool {
            let path = dir.join(name);
            if !path.is_file() {
                return false;
            }
            match read_jsonl(&path) {
                Ok((rows, skipped)) => {
                    if let Some(first) = skipped.first() {
                        warnings.push(format!("{name}: {} unreadable line(s) left out (first: {first})", skipped.len()));
                    }
                    let ours = |row: &Record| name != ANALYSIS_FILE || run_id.is_none() || row.get(RUN_ID_KEY).and_then(Value::as_str) == run_id.as_deref();
                    let (rows, foreign): (Vec<Record>, Vec<Record>) = rows.into_iter().partition(ours);
                    if !foreign.is_empty() {
                        warnings.push(format!("{name}: {} record(s) of another run (run_id) left out; run `grokgpu analyze` again", foreign.len()));
                    }
                    for row in rows {
                        if let Some(step) = row.get("step").and_then(Value::as_u64) {
                            by_step.entry(step).or_default().extend(row);
                        }
                    }
                    true
                }
                Err(e) => {
                    warnings.push(e.to_string());
                    false
                }
            }
        };
        let has_metrics = read(METRICS_FILE);
        let has_analysis = read(ANALYSIS_FILE);
        Ok(Run { dir: dir.to_path_buf(), config, records: by_step.into_values().collect(), has_metrics, has_analysis, run_id, warnings })
    }

    /// The directory's last component, for titles and legends.
    pub fn name(&self) -> String {
        self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone()).file_name().map_or_else(|| self.dir.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// (step, value) of every finite value of a scalar field.
    pub fn series(&self, field: &str) -> Vec<(f64, f64)> {
        events::series(&self.records, field).into_iter().map(|(s, v)| (s as f64, v)).collect()
    }

    /// (step, values) of every record whose `field` is an array of numbers (null → NaN).
    pub fn vectors(&self, field: &str) -> Vec<(u64, Vec<f64>)> {
        self.records
            .iter()
            .filter_map(|r| {
                let step = r.get("step")?.as_u64()?;
                let values = r.get(field)?.as_array()?.iter().map(number).collect::<Option<Vec<f64>>>()?;
                Some((step, values))
            })
            .collect()
    }

    /// (step, value) of every record that holds `field`, as stored.
    pub fn values(&self, field: &str) -> Vec<(u64, &Value)> {
        self.records.iter().filter_map(|r| Some((r.get("step")?.as_u64()?, r.get(field)?))).collect()
    }

    /// The run's events (memorization, grokking, precursors) from its records.
    pub fn events(&self) -> Events {
        Events::of(&self.records)
    }

    /// The step where training stopped as diverged: the first record in which a field of
    /// [`DIVERGENCE_FIELDS`] is null or not finite.
    pub fn divergence_step(&self) -> Option<u64> {
        let diverged = |r: &Record| DIVERGENCE_FIELDS.iter().any(|f| r.get(*f).and_then(number).is_some_and(|v| !v.is_finite()));
        self.records.iter().find(|r| diverged(r)).and_then(|r| r.get("step")?.as_u64())
    }

    /// The memorization → grokking interval to shade, when both happened in that order.
    pub fn grokking_band(&self) -> Option<(f64, f64)> {
        let e = self.events();
        match (e.memorization_step, e.grok_step) {
            (Some(m), Some(g)) if m < g => Some((m as f64, g as f64)),
            _ => None,
        }
    }

    /// The task of config.json, when it names one grokgpu knows.
    pub fn task(&self) -> Option<Task> {
        self.config.get("task").and_then(Value::as_str).and_then(|t| t.parse().ok())
    }

    /// Why the Fourier figures and tables do not apply to this run (see [`Task::not_modular`]).
    pub fn not_modular(&self) -> Option<String> {
        self.task().and_then(Task::not_modular)
    }

    pub fn p(&self) -> Option<u64> {
        self.config.get("p").and_then(Value::as_u64)
    }

    /// "add mod 97 · transformer 1L d128 · adamw wd 1 · frac 0.3" from config.json, with the
    /// run's events.
    pub fn subtitle(&self) -> String {
        let c = &self.config;
        let text = |k: &str| c.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        let mut parts = vec![self.name()];
        match (self.task(), self.p()) {
            (Some(task), Some(p)) => parts.push(task.with_p(p as u32)),
            _ => parts.extend(text("task")),
        }
        if let Some(model) = text("model") {
            let layers = text("layers").filter(|_| model == "transformer").map_or(String::new(), |l| format!(" {l}L"));
            parts.push(format!("{model}{layers}"));
        }
        if let (Some(opt), Some(wd)) = (text("optimizer"), text("weight_decay")) {
            parts.push(format!("{opt} wd {wd}"));
        }
        if let Some(frac) = text("train_frac") {
            parts.push(format!("train frac {frac}"));
        }
        let e = self.events();
        if let Some(m) = e.memorization_step {
            parts.push(format!("memorized at step {m}"));
        }
        match e.grok_step {
            Some(g) => parts.push(format!("grokked at step {g}")),
            None if self.has_metrics => parts.push("not grokked".to_string()),
            None => {}
        }
        parts.join(" · ")
    }

    /// The key frequencies fixed at the last checkpoint: `key_freqs_final` where written,
    /// else the last record's `key_freqs`.
    pub fn key_freqs(&self) -> Vec<usize> {
        ["key_freqs_final", "key_freqs"]
            .iter()
            .find_map(|field| {
                let (_, v) = self.values(field).into_iter().last()?;
                v.as_array()?.iter().map(|k| k.as_u64().map(|k| k as usize)).collect::<Option<Vec<usize>>>()
            })
            .unwrap_or_default()
    }

    /// Ok when at least one of `fields` has a value, else the reason the figure is skipped.
    pub fn need(&self, fields: &[&str]) -> std::result::Result<(), String> {
        let has = |f: &&str| self.records.iter().any(|r| r.get(*f).is_some_and(|v| !v.is_null()));
        if fields.iter().any(has) {
            return Ok(());
        }
        let from_training = fields.iter().all(|f| TRAINING_FIELDS.contains(f));
        let (file, present) = if from_training { (METRICS_FILE, self.has_metrics) } else { (ANALYSIS_FILE, self.has_analysis) };
        let names = fields.join(", ");
        Err(if !present && from_training {
            format!("no {file} in {}", self.dir.display())
        } else if !present {
            format!("no {file} in {} (run `grokgpu analyze --run-dir {}` first)", self.dir.display(), self.dir.display())
        } else {
            format!("{file} holds no values of {names}")
        })
    }
}

/// A JSON number, or NaN for null.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Null => Some(f64::NAN),
        _ => v.as_f64(),
    }
}

/// Every JSON object line of a .jsonl file, and "line N: why" for each line that is not one
/// (a torn last line included).
pub fn read_jsonl(path: &Path) -> Result<(Vec<Record>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
    let (mut rows, mut skipped) = (vec![], vec![]);
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => rows.push(m),
            Ok(_) => skipped.push(format!("line {}: not a JSON object", i + 1)),
            Err(e) => skipped.push(format!("line {}: {e}", i + 1)),
        }
    }
    Ok((rows, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;

    #[test]
    fn files_join_by_step_and_gaps_stay_gaps() {
        let dir = test_dir("plot_data_join");
        std::fs::write(dir.join(METRICS_FILE), "{\"step\":0,\"train_acc\":0.1,\"val_acc\":0.0}\n{\"step\":10,\"train_acc\":1.0,\"val_acc\":0.95}\n").unwrap();
        std::fs::write(dir.join(ANALYSIS_FILE), "{\"step\":10,\"n_eff\":null,\"we_power\":[1.0,null,2.0]}\ngarbage\n{\"step\":20,\"n_eff\":3.5,\"key_freqs\":[4,9]}\n{\"step\":30,").unwrap();
        let run = Run::load(&dir).unwrap();
        assert_eq!(run.records.len(), 3);
        assert_eq!(run.series("n_eff"), vec![(20.0, 3.5)]);
        let v = run.vectors("we_power");
        assert_eq!(v.len(), 1);
        assert!(v[0].1[1].is_nan());
        assert_eq!(run.key_freqs(), vec![4, 9]);
        assert_eq!(run.events().grok_step, Some(10));
        assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
        assert!(run.warnings[0].contains("2 unreadable line(s)"), "{:?}", run.warnings);
        assert!(run.need(&["n_eff"]).is_ok());
        assert_eq!(run.need(&["fsd", "fsd_p"]).unwrap_err(), "analysis.jsonl holds no values of fsd, fsd_p");
    }

    #[test]
    fn divergence_is_the_first_non_finite_loss_or_weight_norm_of_the_log() {
        let dir = test_dir("plot_data_divergence");
        let lines = [
            r#"{"step":0,"train_loss":4.0,"val_loss":4.0,"weight_norm":50.0,"train_acc":0.0}"#,
            r#"{"step":10,"train_loss":3.0,"val_loss":3.5,"weight_norm":60.0,"train_acc":0.1}"#,
            r#"{"step":20,"train_loss":2e30,"val_loss":3e30,"weight_norm":null,"train_acc":0.0}"#,
        ];
        std::fs::write(dir.join(METRICS_FILE), lines.join("\n")).unwrap();
        std::fs::write(dir.join(ANALYSIS_FILE), r#"{"step":10,"phase_r2":null}"#).unwrap();
        assert_eq!(Run::load(&dir).unwrap().divergence_step(), Some(20));
        std::fs::write(dir.join(METRICS_FILE), lines[..2].join("\n")).unwrap();
        assert_eq!(Run::load(&dir).unwrap().divergence_step(), None, "a null analysis field is no divergence");
    }

    #[test]
    fn s5_runs_are_named_by_their_group_and_have_no_fourier_figures() {
        let dir = test_dir("plot_data_s5");
        std::fs::write(dir.join(CONFIG_FILE), r#"{"task":"s5_compose_inv","p":120}"#).unwrap();
        let run = Run::load(&dir).unwrap();
        assert!(run.subtitle().contains("s5_compose_inv in S₅"), "{}", run.subtitle());
        assert_eq!(run.not_modular().as_deref(), Some("task s5_compose_inv is not arithmetic mod p"));
    }

    #[test]
    fn reasons_name_the_missing_file() {
        let dir = test_dir("plot_data_reasons");
        std::fs::write(dir.join(CONFIG_FILE), "{\"task\":\"add\",\"p\":97}").unwrap();
        let run = Run::load(&dir).unwrap();
        assert!(run.need(&["train_acc"]).unwrap_err().starts_with("no metrics.jsonl in"));
        assert!(run.need(&["gini"]).unwrap_err().contains("run `grokgpu analyze --run-dir"));
        assert!(run.subtitle().contains("add mod 97"));
        let empty = test_dir("plot_data_empty");
        assert!(Run::load(&empty).unwrap_err().to_string().contains("holds no run"));
        assert!(Run::load(&empty.join("nope")).unwrap_err().to_string().contains("is not a directory"));
    }
}
