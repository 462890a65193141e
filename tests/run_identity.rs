//! Files derived from a run carry its identity: an analysis.jsonl left by another run is
//! recomputed with a line, not reused; `train --force` says what it removes and takes the old
//! run's derived files (interventions included) with it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn grokgpu(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args).output().expect("grokgpu runs");
    assert!(out.status.success(), "grokgpu {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn train(dir: &Path, p: &str, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--preset", "quick", "--p", p, "--d-model", "8", "--steps", "6", "--eval-every", "3", "--ckpt-every", "3", "--out-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    grokgpu(&args)
}

fn records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("analysis.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn another_runs_analysis_is_recomputed_and_force_clears_derived_files() {
    let root = std::env::temp_dir().join(format!("grokgpu-run-identity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (small, large) = (root.join("p11"), root.join("p13"));
    train(&small, "11", &[]);
    train(&large, "13", &[]);
    grokgpu(&["analyze", "--run-dir", small.to_str().unwrap(), "--only", "spectrum"]);

    std::fs::copy(small.join("analysis.jsonl"), large.join("analysis.jsonl")).unwrap();
    let out = grokgpu(&["analyze", "--run-dir", large.to_str().unwrap(), "--only", "spectrum"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 record(s) of") && stderr.contains("recomputing them"), "{stderr}");
    let (ours, theirs) = (records(&large), records(&small));
    assert_ne!(ours[0]["run_id"], theirs[0]["run_id"]);
    for record in &ours {
        assert_eq!(record["run_id"], ours[0]["run_id"]);
        // p = 13: K = 6, so 7 folded energies (p = 11 has 6).
        assert_eq!(record["we_power"].as_array().unwrap().len(), 7, "{record}");
    }

    grokgpu(&["intervene", "phase", "--run-dir", large.to_str().unwrap(), "--step", "6"]);
    std::fs::write(large.join("notes.txt"), "mine").unwrap();
    let out = train(&large, "13", &["--seed", "1", "--force"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let removing = stdout.lines().find(|l| l.starts_with("--force: removing")).unwrap_or_else(|| panic!("{stdout}"));
    for name in ["config.json", "checkpoints/", "analysis.jsonl", "summary.json", "interventions/"] {
        assert!(removing.contains(name), "{removing}");
    }
    assert!(!large.join("interventions").exists() && !large.join("analysis.jsonl").exists());
    assert_eq!(std::fs::read_to_string(large.join("notes.txt")).unwrap(), "mine", "a user's own file stays");
    std::fs::remove_dir_all(&root).unwrap();
}
