//! analysis.jsonl: one JSON object per analyzed checkpoint, ascending by step, rewritten
//! atomically. Each record lists the families it holds (`analyzed`) and the key
//! frequencies its key-set metrics were computed with (`key_freqs_final`), which is what
//! lets a re-run analyze only what is missing or stale.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::families::Family;
use crate::io::write_atomic;
use crate::rundir::RUN_ID_KEY;
use crate::{Error, Result};

pub type Record = Map<String, Value>;

/// The records of one run, by step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Store {
    pub records: BTreeMap<u64, Record>,
}

impl Store {
    /// The records of `path`; none if it does not exist. Lines that do not parse as a record
    /// with a step are dropped (they will be recomputed) and reported in the returned list.
    pub fn load(path: &Path) -> Result<(Store, Vec<String>)> {
        let mut store = Store::default();
        let mut dropped = Vec::new();
        if !path.exists() {
            return Ok((store, dropped));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str::<Record>(line).ok().and_then(|r| Some((r.get("step")?.as_u64()?, r))) {
                Some((step, record)) => {
                    store.records.insert(step, record);
                }
                None => dropped.push(format!("{}:{}", path.display(), i + 1)),
            }
        }
        Ok((store, dropped))
    }

    /// The families the record at `step` holds.
    pub fn analyzed(&self, step: u64) -> Vec<Family> {
        let Some(list) = self.records.get(&step).and_then(|r| r.get("analyzed")).and_then(Value::as_array) else { return vec![] };
        list.iter().filter_map(|v| v.as_str()?.parse().ok()).collect()
    }

    /// Records computed with other key frequencies lose their key-set families (to be
    /// recomputed) and take the new key set.
    pub fn invalidate_keys(&mut self, key_final: &[usize]) {
        let keys = json!(key_final);
        let stale: Vec<u64> = self.records.iter().filter(|(_, r)| r.get("key_freqs_final") != Some(&keys)).map(|(&s, _)| s).collect();
        for step in stale {
            let kept: Vec<Family> = self.analyzed(step).into_iter().filter(|f| !f.uses_final_keys()).collect();
            let record = self.records.get_mut(&step).expect("listed above");
            record.insert("analyzed".into(), json!(kept.iter().map(|f| f.as_str()).collect::<Vec<_>>()));
            record.insert("key_freqs_final".into(), keys.clone());
        }
    }

    /// Drops the records of steps `keep` rejects (checkpoints that no longer exist).
    pub fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        self.records.retain(|&s, _| keep(s));
    }

    /// Drops the records that do not carry `run_id` (left by another run in the same
    /// directory); returns how many.
    pub fn drop_other_runs(&mut self, run_id: &str) -> usize {
        let before = self.records.len();
        self.records.retain(|_, r| r.get(RUN_ID_KEY).and_then(Value::as_str) == Some(run_id));
        before - self.records.len()
    }

    /// Adds the fields of `fresh` (which computed `families`) to the step's record, which
    /// belongs to the run `run_id`.
    pub fn merge(&mut self, fresh: Record, families: &[Family], run_id: &str) {
        let step = fresh["step"].as_u64().expect("records carry their step");
        let mut done = self.analyzed(step);
        done.extend_from_slice(families);
        let done: Vec<&str> = Family::ALL.iter().filter(|f| done.contains(f)).map(|f| f.as_str()).collect();
        let record = self.records.entry(step).or_default();
        record.extend(fresh);
        record.insert("analyzed".into(), json!(done));
        record.insert(RUN_ID_KEY.into(), json!(run_id));
    }

    /// analysis.jsonl text: one record per line, ascending by step (keys sorted by name).
    pub fn to_jsonl(&self) -> String {
        self.records.values().map(|r| serde_json::to_string(r).expect("records serialize") + "\n").collect()
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_jsonl().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;
    use crate::rundir::ANALYSIS_FILE;

    fn fresh(step: u64, key: &[usize], fields: &[(&str, f64)]) -> Record {
        let mut r = Record::new();
        r.insert("step".into(), json!(step));
        r.insert("key_freqs_final".into(), json!(key));
        for (name, v) in fields {
            r.insert(name.to_string(), json!(v));
        }
        r
    }

    #[test]
    fn merge_invalidate_and_round_trip() {
        let dir = test_dir("analysis_store");
        let path = dir.join(ANALYSIS_FILE);
        let mut store = Store::default();
        store.merge(fresh(20, &[3], &[("n_eff", 2.0), ("phase_r2", 0.5)]), &[Family::Sparsity, Family::Phase], "r1");
        store.merge(fresh(10, &[3], &[("n_eff", 4.0)]), &[Family::Sparsity], "r1");
        store.merge(fresh(20, &[3], &[("fsd", 0.9)]), &[Family::Fsd], "r1");
        assert_eq!(store.analyzed(20), vec![Family::Sparsity, Family::Phase, Family::Fsd]);
        store.write(&path).unwrap();
        std::fs::write(&path, std::fs::read_to_string(&path).unwrap() + "{torn\n").unwrap();
        let (mut back, dropped) = Store::load(&path).unwrap();
        assert_eq!(dropped.len(), 1);
        assert_eq!(back, store);
        assert!(back.to_jsonl().starts_with("{\"analyzed\":[\"sparsity\"],\"key_freqs_final\":[3],\"n_eff\":4.0,\"run_id\":\"r1\",\"step\":10}\n"));
        back.invalidate_keys(&[3, 7]);
        assert_eq!(back.analyzed(20), vec![Family::Sparsity, Family::Fsd], "phase uses the key set");
        assert_eq!(back.records[&10]["key_freqs_final"], json!([3, 7]));
        let mut other = back.clone();
        assert_eq!(other.drop_other_runs("r2"), 2);
        assert!(other.records.is_empty());
        back.retain(|s| s != 10);
        assert_eq!(back.records.keys().copied().collect::<Vec<_>>(), vec![20]);
        assert_eq!(Store::load(&dir.join("none.jsonl")).unwrap().0, Store::default());
    }
}
