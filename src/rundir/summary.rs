//! Reading a run's summary.json (written by `grokgpu analyze`): its events — memorization,
//! grokking — and each precursor's step and lead over grokking.

use std::path::Path;

use serde_json::Value;

use super::SUMMARY_JSON;
use crate::{Error, Result};

/// One precursor of grokking: the step it happened at and grok step − that step.
#[derive(Clone, Debug, PartialEq)]
pub struct PrecursorStep {
    pub name: String,
    pub step: Option<u64>,
    pub lead: Option<i64>,
}

/// The events of one run's summary.json.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEvents {
    pub memorization_step: Option<u64>,
    pub grok_step: Option<u64>,
    /// In summary.json's order.
    pub precursors: Vec<PrecursorStep>,
}

impl RunEvents {
    /// The step of the event called `name`: `memorization`, `grokking`, or a precursor
    /// (`fsd-ceiling`, `circuit-crossover`, …; `-` and `_` alike). `Ok(None)` when the run
    /// never reached it.
    pub fn step_of(&self, name: &str) -> Result<Option<u64>> {
        let key = name.replace('-', "_");
        match key.as_str() {
            "memorization" => Ok(self.memorization_step),
            "grokking" => Ok(self.grok_step),
            _ => match self.precursors.iter().find(|p| p.name == key) {
                Some(p) => Ok(p.step),
                None => {
                    let mut names = vec!["memorization".to_string(), "grokking".to_string()];
                    names.extend(self.precursors.iter().map(|p| p.name.replace('_', "-")));
                    Err(Error::msg(format!("unknown event '{name}' (expected one of: {})", names.join(", "))))
                }
            },
        }
    }
}

/// The events of the summary.json in run directory `dir`.
pub fn read_events(dir: &Path) -> Result<RunEvents> {
    let path = dir.join(SUMMARY_JSON);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("cannot read {}: {e} (run `grokgpu analyze --run-dir {}` first)", path.display(), dir.display())))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    let events = &json["events"];
    let precursors = json["precursors"]
        .as_object()
        .map(|m| m.iter().map(|(name, p)| PrecursorStep { name: name.clone(), step: p["step"].as_u64(), lead: p["lead"].as_i64() }).collect())
        .unwrap_or_default();
    Ok(RunEvents { memorization_step: events["memorization_step"].as_u64(), grok_step: events["grok_step"].as_u64(), precursors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_by_name() {
        let dir = crate::io::test_dir("rundir_summary");
        let text = r#"{"events": {"memorization_step": 250, "grok_step": 600},
            "precursors": {"fsd_ceiling": {"step": 400, "lead": 200}, "circuit_crossover": {"step": null, "lead": null}}}"#;
        std::fs::write(dir.join(SUMMARY_JSON), text).unwrap();
        let e = read_events(&dir).unwrap();
        assert_eq!((e.step_of("memorization").unwrap(), e.step_of("grokking").unwrap()), (Some(250), Some(600)));
        assert_eq!((e.step_of("fsd-ceiling").unwrap(), e.step_of("circuit_crossover").unwrap()), (Some(400), None));
        assert_eq!(e.precursors.iter().find(|p| p.name == "fsd_ceiling").unwrap().lead, Some(200));
        let err = e.step_of("fsd").unwrap_err().to_string();
        assert_eq!(err, "unknown event 'fsd' (expected one of: memorization, grokking, circuit-crossover, fsd-ceiling)");
        let missing = read_events(&dir.join("none")).unwrap_err().to_string();
        assert!(missing.contains("run `grokgpu analyze --run-dir"), "{missing}");
    }
}
