//! A run's identity: a hash of what makes it this run and no other — its config.json less
//! the keys a resume may change (schedule and record), and its examples (dataset.safetensors
//! as stored). Files derived from a run (analysis.jsonl, summary.json, interventions) carry
//! it as `run_id`, so a file left by another run in the same directory is recognized.

use std::path::Path;

use serde_json::{Map, Value};

use super::{CONFIG_FILE, DATASET_FILE};
use crate::config::vary::{role, Change};
use crate::{Error, Result};

/// The key derived files store the identity under.
pub const RUN_ID_KEY: &str = "run_id";

/// FNV-1a, 64 bits: a stable, dependency-free hash (std's hasher may change between Rust
/// releases; this value is stored in files).
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The identity of a run from its config.json object and dataset.safetensors bytes, as 16
/// hex digits.
pub fn run_id_of(config: &Map<String, Value>, dataset: &[u8]) -> String {
    let identity: Map<String, Value> = config.iter().filter(|(k, _)| !Change::Resume.allows(role(k))).map(|(k, v)| (k.clone(), v.clone())).collect();
    // serde_json's map is sorted by key, so equal settings give equal text.
    let text = serde_json::to_string(&identity).expect("JSON values serialize");
    format!("{:016x}", fnv1a(dataset, fnv1a(text.as_bytes(), 0xcbf2_9ce4_8422_2325)))
}

/// The identity of the run in `dir`.
pub fn run_id(dir: &Path) -> Result<String> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| Error::msg(format!("cannot read {}: {e}", dir.join(name).display())));
    let config: Map<String, Value> = serde_json::from_slice(&read(CONFIG_FILE)?)
        .map_err(|e| Error::msg(format!("{}: {e}", dir.join(CONFIG_FILE).display())))?;
    Ok(run_id_of(&config, &read(DATASET_FILE)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn schedule_and_record_do_not_change_the_identity_settings_and_examples_do() {
        let base = run_id_of(&config(json!({"p": 97, "seed": 0, "steps": 100, "adapter": "a"})), b"data");
        assert_eq!(base.len(), 16);
        assert_eq!(base, run_id_of(&config(json!({"adapter": "b", "steps": 500, "seed": 0, "p": 97})), b"data"));
        assert_ne!(base, run_id_of(&config(json!({"p": 97, "seed": 1, "steps": 100, "adapter": "a"})), b"data"));
        assert_ne!(base, run_id_of(&config(json!({"p": 97, "seed": 0, "steps": 100, "adapter": "a"})), b"dat4"));
    }

    #[test]
    fn fnv1a_matches_its_published_test_vector() {
        assert_eq!(fnv1a(b"a", 0xcbf2_9ce4_8422_2325), 0xaf63_dc4c_8601_ec8c);
    }
}
