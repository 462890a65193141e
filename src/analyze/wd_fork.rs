//! The results of `grokgpu experiment wd-fork` (seed 004): for each weight decay λ a run
//! forked at the same step, its grok step and the delay Δt = grok step − fork step, the fit
//! Δt = C/λ and the free-exponent fit Δt = C·λ^−a, written as experiment.json and as the
//! table of experiment.md. A fork that never groks is listed as such.

use std::path::Path;

use serde_json::{json, Value};

use crate::analysis::fits::{inverse_fit, power_fit};
use crate::config::RunConfig;
use crate::io::write_atomic;
use crate::rundir::metrics::read_metrics;
use crate::rundir::{EXPERIMENT_JSON, EXPERIMENT_MD};
use crate::Result;

/// One fork's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct ForkOutcome {
    pub lambda: f64,
    pub dir: String,
    /// First evaluation at or after the fork step with validation accuracy ≥ the threshold.
    pub grok_step: Option<u64>,
    /// The last step it was trained to.
    pub last_step: u64,
}

/// Each fork's outcome from its metrics.jsonl.
pub fn fork_outcomes(forks: &[RunConfig], fork_step: u64, threshold: f64) -> Result<Vec<ForkOutcome>> {
    forks
        .iter()
        .map(|f| {
            let records = read_metrics(&f.dir.join(crate::rundir::METRICS_FILE))?;
            let grok_step = records.iter().find(|r| r.step >= fork_step && r.val_acc >= threshold).map(|r| r.step);
            let last_step = records.last().map_or(fork_step, |r| r.step);
            Ok(ForkOutcome { lambda: f.weight_decay, dir: f.dir.display().to_string(), grok_step, last_step })
        })
        .collect()
}

/// experiment.json's content and experiment.md's text.
/// `last_step` is the step the forks were allowed to train to.
pub fn report(parent: &Path, fork_step: u64, threshold: f64, last_step: u64, outcomes: &[ForkOutcome]) -> (Value, String) {
    let points: Vec<(f64, f64)> = outcomes.iter().filter_map(|o| Some((o.lambda, (o.grok_step? - fork_step) as f64))).collect();
    let inverse = inverse_fit(&points);
    let power = power_fit(&points.iter().copied().filter(|&(_, t)| t > 0.0).collect::<Vec<_>>());
    let runs: Vec<Value> = outcomes
        .iter()
        .map(|o| json!({"lambda": o.lambda, "dir": o.dir, "grok_step": o.grok_step, "delta_t": o.grok_step.map(|g| g - fork_step), "last_step": o.last_step}))
        .collect();
    let json = json!({
        "experiment": "wd-fork",
        "parent": parent.display().to_string(),
        "fork_step": fork_step,
        "val_acc_threshold": threshold,
        "last_step": last_step,
        "runs": runs,
        "fit_inverse": inverse.map(|f| json!({"c": f.c, "r2": f.r2})),
        "fit_power": power.map(|f| json!({"c": f.c, "a": f.a, "r2": f.r2})),
    });
    let mut md = format!(
        "# Weight-decay forks of {} at step {fork_step}\n\nGrok step: first evaluation with validation accuracy ≥ {threshold}; Δt = grok step − {fork_step}.\n\n",
        parent.display()
    );
    md += "| λ | 1/λ | grok step | Δt | Δt·λ |\n|---|---|---|---|---|\n";
    for o in outcomes {
        match o.grok_step {
            Some(g) => md += &format!("| {} | {:.3} | {g} | {} | {:.0} |\n", o.lambda, 1.0 / o.lambda, g - fork_step, (g - fork_step) as f64 * o.lambda),
            None => md += &format!("| {} | {:.3} | never (trained to {}) | — | — |\n", o.lambda, 1.0 / o.lambda, o.last_step),
        }
    }
    md += "\n";
    md += &match inverse {
        Some(f) => format!("Fit Δt = C/λ: C = {:.1}, R² = {:.4} ({} runs).\n", f.c, f.r2, points.len()),
        None => "Fit Δt = C/λ: needs two runs that grokked.\n".to_string(),
    };
    md += &match power {
        Some(f) => format!("Free exponent Δt = C·λ^−a: a = {:.3}, C = {:.1}, R² (log-log) = {:.4}.\n", f.a, f.c, f.r2),
        None => "Free exponent Δt = C·λ^−a: needs two runs that grokked after the fork, at different λ.\n".to_string(),
    };
    (json, md)
}

/// Writes experiment.json and experiment.md into `out_dir`; returns the Markdown.
pub fn write_report(out_dir: &Path, parent: &Path, fork_step: u64, threshold: f64, last_step: u64, outcomes: &[ForkOutcome]) -> Result<String> {
    let (json, md) = report(parent, fork_step, threshold, last_step, outcomes);
    write_atomic(&out_dir.join(EXPERIMENT_JSON), (serde_json::to_string_pretty(&json)? + "\n").as_bytes())?;
    write_atomic(&out_dir.join(EXPERIMENT_MD), md.as_bytes())?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_fits_and_runs_that_never_grokked() {
        let o = |lambda: f64, grok: Option<u64>| ForkOutcome { lambda, dir: format!("wd={lambda}"), grok_step: grok, last_step: 3000 };
        let outcomes = [o(0.5, Some(1200)), o(1.0, Some(700)), o(2.0, Some(450)), o(0.1, None)];
        let (json, md) = report(Path::new("runs/p"), 200, 0.95, 3000, &outcomes);
        assert_eq!(json["runs"][0]["delta_t"], 1000);
        assert_eq!(json["runs"][3]["grok_step"], Value::Null);
        // Δt = 1000, 500, 250 at λ = 0.5, 1, 2: exactly 500/λ.
        assert!((json["fit_inverse"]["c"].as_f64().unwrap() - 500.0).abs() < 1e-9);
        assert!((json["fit_power"]["a"].as_f64().unwrap() - 1.0).abs() < 1e-12);
        assert!(md.contains("| 0.5 | 2.000 | 1200 | 1000 | 500 |"), "{md}");
        assert!(md.contains("| 0.1 | 10.000 | never (trained to 3000) | — | — |"), "{md}");
        assert!(md.contains("Fit Δt = C/λ: C = 500.0, R² = 1.0000 (3 runs)."), "{md}");
    }
}
