//! `grokgpu summarize`: statistics across runs. For every precursor event, each run's lead
//! over grokking (grok step − event step), their mean ± sd, how many are positive and the
//! two-sided sign test; the grok and memorization steps by every setting that varies.
//! Each run's events come from its metrics.jsonl and analysis.jsonl, exactly as its own
//! summary.json (so runs need not have been summarized one by one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::store::Store;
use super::summary_files::summarize;
use crate::analysis::stats::{mean_sd, sign_test_p};
use crate::config::setting::value_text;
use crate::config::vary::{role, Role};
use crate::io::write_atomic;
use crate::rundir::sweep_file::SweepFile;
use crate::rundir::{RunDir, ANALYSIS_FILE, SUMMARY_RUNS_JSON, SUMMARY_RUNS_MD, SWEEP_FILE};
use crate::{bail, Result};

/// One run's events and settings.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub config: Map<String, Value>,
    pub memorization_step: Option<u64>,
    pub grok_step: Option<u64>,
    /// (precursor, lead over grokking), in the catalogue's order.
    pub leads: Vec<(String, Option<i64>)>,
}

/// The run directories `dirs` stand for: a multi-run directory's runs, or the run itself.
pub fn run_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut runs = vec![];
    for d in dirs {
        if d.join(SWEEP_FILE).exists() {
            runs.extend(SweepFile::read(d)?.finished_dirs(d));
        } else {
            runs.push(d.clone());
        }
    }
    if runs.is_empty() {
        bail!("no runs to summarize");
    }
    Ok(runs)
}

/// The events of the run in `path`.
pub fn outcome(path: &Path) -> Result<RunOutcome> {
    let (dir, cfg) = RunDir::open(path)?;
    let (store, _) = Store::load(&dir.path.join(ANALYSIS_FILE))?;
    let summary = summarize(&dir, &store)?;
    let config = match serde_json::to_value(&cfg)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let events = summary.events;
    let leads = events.precursors.iter().map(|p| (p.name.to_string(), p.lead)).collect();
    Ok(RunOutcome { dir: path.to_path_buf(), config, memorization_step: events.memorization_step, grok_step: events.grok_step, leads })
}

/// The settings (config.json keys other than how runs were recorded) whose values differ.
fn varying(runs: &[RunOutcome]) -> Vec<String> {
    let first = &runs[0].config;
    first.keys().filter(|k| role(k) != Role::Record && runs.iter().any(|r| r.config.get(*k) != first.get(*k))).cloned().collect()
}

/// Mean ± sd as text ("—" for no values).
fn mean_sd_text(values: &[f64]) -> String {
    match mean_sd(values) {
        Some((m, s)) => format!("{m:+.0} ± {s:.0}"),
        None => "—".to_string(),
    }
}

fn steps_text(values: &[f64]) -> String {
    match mean_sd(values) {
        Some((m, s)) => format!("{m:.0} ± {s:.0}"),
        None => "—".to_string(),
    }
}

/// summary_runs.json's content and summary_runs.md's text.
pub fn summarize_runs(runs: &[RunOutcome]) -> (Value, String) {
    let names: Vec<String> = runs.iter().flat_map(|r| r.leads.iter().map(|(n, _)| n.clone())).fold(vec![], |mut acc, n| {
        if !acc.contains(&n) {
            acc.push(n);
        }
        acc
    });
    let mut md = format!("# Across {} runs\n\n## Precursor leads over grokking (grok step − event step)\n\n", runs.len());
    md += "| event | runs with a lead | mean ± sd (steps) | positive | negative | sign test p (two-sided) |\n|---|---|---|---|---|---|\n";
    let mut precursors = vec![];
    for name in &names {
        let leads: Vec<Option<i64>> = runs.iter().map(|r| r.leads.iter().find(|(n, _)| n == name).and_then(|(_, l)| *l)).collect();
        let known: Vec<f64> = leads.iter().flatten().map(|&l| l as f64).collect();
        let (pos, neg) = (known.iter().filter(|&&l| l > 0.0).count(), known.iter().filter(|&&l| l < 0.0).count());
        let p = sign_test_p(pos, neg);
        let (mean, sd) = mean_sd(&known).map_or((None, None), |(m, s)| (Some(m), Some(s)));
        precursors.push(json!({
            "name": name, "leads": leads, "runs": known.len(), "mean": mean, "sd": sd,
            "positive": pos, "negative": neg, "zero": known.len() - pos - neg, "sign_test_p": p,
        }));
        let p_text = p.map_or("—".to_string(), |p| format!("{p:.4}"));
        md += &format!("| {name} | {} of {} | {} | {pos} | {neg} | {p_text} |\n", known.len(), runs.len(), mean_sd_text(&known));
    }

    let keys = varying(runs);
    let mut by_setting = Map::new();
    for key in &keys {
        md += &format!("\n## By {key}\n\n| {key} | runs | grokked | grok step (mean ± sd) | memorization step (mean ± sd) |\n|---|---|---|---|---|\n");
        let mut values: Vec<Value> = vec![];
        for r in runs {
            let v = r.config.get(key).cloned().unwrap_or(Value::Null);
            if !values.contains(&v) {
                values.push(v);
            }
        }
        let mut rows = vec![];
        for v in values {
            let members: Vec<&RunOutcome> = runs.iter().filter(|r| r.config.get(key).unwrap_or(&Value::Null) == &v).collect();
            let grok: Vec<f64> = members.iter().filter_map(|r| r.grok_step).map(|s| s as f64).collect();
            let memo: Vec<f64> = members.iter().filter_map(|r| r.memorization_step).map(|s| s as f64).collect();
            md += &format!("| {} | {} | {} | {} | {} |\n", value_text(&v), members.len(), grok.len(), steps_text(&grok), steps_text(&memo));
            rows.push(json!({
                "value": v, "runs": members.len(), "grokked": grok.len(),
                "grok_step": mean_sd(&grok).map(|(m, s)| json!({"mean": m, "sd": s})),
                "memorization_step": mean_sd(&memo).map(|(m, s)| json!({"mean": m, "sd": s})),
            }));
        }
        by_setting.insert(key.clone(), Value::Array(rows));
    }

    md += "\n## Runs\n\n| run | memorization step | grok step |\n|---|---|---|\n";
    let step_text = |s: Option<u64>| s.map_or("never".to_string(), |s| s.to_string());
    for r in runs {
        md += &format!("| {} | {} | {} |\n", r.dir.display(), step_text(r.memorization_step), step_text(r.grok_step));
    }
    let run_list: Vec<Value> = runs
        .iter()
        .map(|r| {
            let settings: Map<String, Value> = keys.iter().map(|k| (k.clone(), r.config.get(k).cloned().unwrap_or(Value::Null))).collect();
            let leads: BTreeMap<&str, Option<i64>> = r.leads.iter().map(|(n, l)| (n.as_str(), *l)).collect();
            json!({"dir": r.dir.display().to_string(), "settings": settings, "memorization_step": r.memorization_step, "grok_step": r.grok_step, "leads": leads})
        })
        .collect();
    let json = json!({"runs": run_list, "varying": keys, "precursors": precursors, "by_setting": by_setting});
    (json, md)
}

/// Summarizes the runs of `dirs` into `out_dir`'s summary_runs.json and summary_runs.md;
/// returns the Markdown.
pub fn write_summary_runs(dirs: &[PathBuf], out_dir: &Path) -> Result<String> {
    let runs = run_dirs(dirs)?.iter().map(|d| outcome(d)).collect::<Result<Vec<_>>>()?;
    let (json, md) = summarize_runs(&runs);
    write_atomic(&out_dir.join(SUMMARY_RUNS_JSON), (serde_json::to_string_pretty(&json)? + "\n").as_bytes())?;
    write_atomic(&out_dir.join(SUMMARY_RUNS_MD), md.as_bytes())?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, wd: f64, grok: Option<u64>, fsd_lead: Option<i64>) -> RunOutcome {
        let config = json!({"weight_decay": wd, "seed": 0, "adapter": name}).as_object().unwrap().clone();
        RunOutcome { dir: name.into(), config, memorization_step: Some(100), grok_step: grok, leads: vec![("fsd_ceiling".into(), fsd_lead)] }
    }

    #[test]
    fn leads_signs_and_settings() {
        let runs = [run("a", 0.1, Some(900), Some(300)), run("b", 0.1, Some(1100), Some(500)), run("c", 1.0, Some(200), Some(-10)), run("d", 1.0, None, None)];
        let (json, md) = summarize_runs(&runs);
        let fsd = &json["precursors"][0];
        assert_eq!((fsd["runs"].as_u64(), fsd["positive"].as_u64(), fsd["negative"].as_u64()), (Some(3), Some(2), Some(1)));
        assert_eq!(fsd["sign_test_p"].as_f64(), Some(1.0));
        assert!((fsd["mean"].as_f64().unwrap() - 790.0 / 3.0).abs() < 1e-9);
        assert_eq!(json["varying"], json!(["weight_decay"]), "adapter records the run, seed does not vary");
        let by_wd = &json["by_setting"]["weight_decay"];
        assert_eq!((by_wd[0]["grokked"].as_u64(), by_wd[1]["grokked"].as_u64(), by_wd[1]["runs"].as_u64()), (Some(2), Some(1), Some(2)));
        assert_eq!(by_wd[0]["grok_step"]["mean"].as_f64(), Some(1000.0));
        assert!(md.contains("| fsd_ceiling | 3 of 4 | +263 ± 257 | 2 | 1 | 1.0000 |"), "{md}");
        assert!(md.contains("| d | 100 | never |"), "{md}");
    }
}
