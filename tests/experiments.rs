//! `grokgpu experiment wd-fork` and `grokgpu summarize` end to end on a run too small to
//! grok: the files are written, the forks that never grokked are listed, the tables print.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

mod common;
use common::grokgpu;

fn scratch(name: &str) -> PathBuf {
    common::scratch("experiments", name)
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn wd_fork_lists_forks_that_never_grokked_and_summarize_prints_the_sign_test() {
    let dir = scratch("wd_fork");
    let parent = dir.join("parent");
    let p = parent.to_str().unwrap();
    ok(grokgpu(&["train", "--preset", "quick", "--p", "11", "--d-model", "8", "--steps", "12", "--eval-every", "3", "--ckpt-every", "3", "--out-dir", p]));
    let e = dir.join("wd");
    let stdout = ok(grokgpu(&["experiment", "wd-fork", "--run-dir", p, "--step", "6", "--lambdas", "0.5,2", "--max-steps", "6", "--out-dir", e.to_str().unwrap()]));
    assert!(stdout.contains("| λ | 1/λ | grok step | Δt | Δt·λ |"), "{stdout}");
    assert!(stdout.contains("| 0.5 | 2.00 | never (trained to 12) | — | — |"), "{stdout}");
    let experiment = json(e.join("experiment.json"));
    assert_eq!((experiment["fork_step"].as_u64(), experiment["last_step"].as_u64()), (Some(6), Some(12)));
    assert_eq!(experiment["runs"].as_array().unwrap().len(), 2);
    assert_eq!(experiment["runs"][1]["lambda"], 2.0);
    assert_eq!(experiment["fit_inverse"], Value::Null, "no fork grokked");
    assert!(e.join("experiment.md").exists() && e.join("delta_t_vs_inverse_lambda.png").exists());
    assert_eq!(json(e.join("weight_decay=2/config.json"))["forked_from"]["step"], 6);

    let stdout = ok(grokgpu(&["summarize", e.to_str().unwrap()]));
    assert!(stdout.contains("| event | runs with a lead | mean ± sd (steps) | positive | negative | sign test p (two-sided) |"), "{stdout}");
    assert!(stdout.contains("## By weight_decay"), "{stdout}");
    let summary = json(e.join("summary_runs.json"));
    assert_eq!(summary["varying"], serde_json::json!(["weight_decay"]));
    assert_eq!(summary["runs"].as_array().unwrap().len(), 2);

    let out = grokgpu(&["summarize", p, e.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: several directories given"), "{out:?}");
    let out = grokgpu(&["experiment", "wd-fork", "--run-dir", p, "--step", "6", "--lambdas", "0,1", "--out-dir", dir.join("no").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --lambdas must be positive"), "{out:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
