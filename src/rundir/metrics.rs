//! metrics.jsonl: one JSON object per evaluation.
//!
//! Safe under SIGKILL by append + rewind: each record is appended with a single `write` of
//! the whole line (a killed process leaves whole lines, at worst a torn last line if the
//! machine itself fails), and the file is fsynced at every checkpoint. Resuming from the
//! checkpoint at step s keeps exactly the complete records with step ≤ s and rewrites the
//! file atomically, so records evaluated after that checkpoint are recomputed rather than
//! duplicated. Readers skip a torn final line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::io::write_atomic;
use crate::{Error, Result};

/// One evaluation (docs/runs.md). Losses and accuracies are exact over the whole train /
/// validation sets. A non-finite value is written as null and read back as NaN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    pub step: u64,
    #[serde(deserialize_with = "null_as_nan")]
    pub train_loss: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub train_acc: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub val_loss: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub val_acc: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub lr: f64,
    /// Global L2 norm of all parameters.
    #[serde(deserialize_with = "null_as_nan")]
    pub weight_norm: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub elapsed_s: f64,
    /// Any further fields, kept in order of name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The fields whose non-finite value (null in the file) means the run diverged: the trainer
/// stops there ([`EvalRecord::diverged`]), and figures mark the step.
pub const DIVERGENCE_FIELDS: [&str; 3] = ["train_loss", "val_loss", "weight_norm"];

impl EvalRecord {
    /// Whether a field of [`DIVERGENCE_FIELDS`] is not a finite number.
    pub fn diverged(&self) -> bool {
        [self.train_loss, self.val_loss, self.weight_norm].iter().any(|v| !v.is_finite())
    }
}

/// JSON has no NaN (serde_json writes it as null): a diverged run's loss comes back as NaN.
fn null_as_nan<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The open log of a run being trained.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// A new, empty log (replacing any file at `path`).
    pub fn create(path: &Path) -> Result<MetricsLog> {
        write_atomic(path, b"")?;
        MetricsLog::open_append(path)
    }

    /// The log of a run resumed from the checkpoint at `step`: records after it are dropped.
    pub fn resume(path: &Path, step: u64) -> Result<MetricsLog> {
        let kept: Vec<EvalRecord> = if path.exists() { read_metrics(path)?.into_iter().filter(|r| r.step <= step).collect() } else { vec![] };
        let text: String = kept.iter().map(record_line).collect();
        write_atomic(path, text.as_bytes())?;
        MetricsLog::open_append(path)
    }

    fn open_append(path: &Path) -> Result<MetricsLog> {
        let file = OpenOptions::new().append(true).open(path).map_err(|e| Error::msg(format!("cannot open {}: {e}", path.display())))?;
        Ok(MetricsLog { path: path.to_path_buf(), file })
    }

    /// Appends one record as one line, in a single write.
    pub fn append(&mut self, record: &EvalRecord) -> Result<()> {
        self.file.write_all(record_line(record).as_bytes()).map_err(|e| Error::msg(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Makes every appended record durable (call at each checkpoint).
    pub fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::msg(format!("cannot sync {}: {e}", self.path.display())))
    }
}

fn record_line(r: &EvalRecord) -> String {
    serde_json::to_string(r).expect("a record always serializes") + "\n"
}

/// Every complete record of a metrics.jsonl; a torn final line (no newline) is skipped.
pub fn read_metrics(path: &Path) -> Result<Vec<EvalRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| Error::msg(format!("{}:{}: {e}", path.display(), i + 1))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;

    fn record(step: u64) -> EvalRecord {
        EvalRecord {
            step,
            train_loss: 1.0 / (step + 1) as f64,
            train_acc: 0.5,
            val_loss: 4.5,
            val_acc: 0.01,
            lr: 1e-3,
            weight_norm: 30.0,
            elapsed_s: step as f64 * 0.1,
            extra: Map::new(),
        }
    }

    #[test]
    fn append_read_and_resume_drops_later_records() {
        let dir = test_dir("metrics_resume");
        let path = dir.join("metrics.jsonl");
        let mut log = MetricsLog::create(&path).unwrap();
        for s in [0, 10, 20, 30] {
            log.append(&record(s)).unwrap();
        }
        log.sync().unwrap();
        assert_eq!(read_metrics(&path).unwrap(), [0, 10, 20, 30].map(record));
        drop(log);
        let mut log = MetricsLog::resume(&path, 20).unwrap();
        log.append(&record(30)).unwrap();
        assert_eq!(read_metrics(&path).unwrap(), [0, 10, 20, 30].map(record));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_repaired_on_resume() {
        let dir = test_dir("metrics_torn");
        let path = dir.join("metrics.jsonl");
        let mut log = MetricsLog::create(&path).unwrap();
        log.append(&record(0)).unwrap();
        log.append(&record(5)).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.truncate(text.len() - 20);
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_metrics(&path).unwrap(), [record(0)]);
        MetricsLog::resume(&path, 100).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        assert_eq!(read_metrics(&path).unwrap(), [record(0)]);
    }

    #[test]
    fn nan_and_extra_fields_survive() {
        let dir = test_dir("metrics_nan");
        let path = dir.join("metrics.jsonl");
        let mut r = record(1);
        r.train_loss = f64::NAN;
        r.extra.insert("grad_norm".into(), 2.5.into());
        let mut log = MetricsLog::create(&path).unwrap();
        log.append(&r).unwrap();
        let line = std::fs::read_to_string(&path).unwrap();
        assert!(line.contains("\"train_loss\":null") && line.contains("\"grad_norm\":2.5"), "{line}");
        let back = read_metrics(&path).unwrap().remove(0);
        assert!(back.train_loss.is_nan());
        assert_eq!(back.extra, r.extra);
    }

    #[test]
    fn a_corrupt_middle_line_names_file_and_line() {
        let dir = test_dir("metrics_corrupt");
        let path = dir.join("metrics.jsonl");
        std::fs::write(&path, format!("{}garbage\n{}", record_line(&record(0)), record_line(&record(1)))).unwrap();
        let e = read_metrics(&path).unwrap_err().to_string();
        assert!(e.contains("metrics.jsonl:2:"), "{e}");
    }
}
