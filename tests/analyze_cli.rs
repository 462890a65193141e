//! `grokgpu analyze` and `grokgpu intervene` end to end through the binary: a tiny run is
//! trained, analyzed twice (byte-identical output), analyzed with one checkpoint corrupted,
//! intervened on, and fed bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;
use common::{error_line, grokgpu, Scratch};

fn ok(args: &[&str]) -> Output {
    let out = grokgpu(args);
    assert!(out.status.success(), "grokgpu {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("analysis.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A 60-step run of the quick preset at p = 23 with a checkpoint every 20 steps.
fn train(scratch: &Scratch, extra: &[&str]) -> PathBuf {
    let run = scratch.0.join("run");
    let mut args = vec!["train", "--preset", "quick", "--p", "23", "--steps", "60", "--eval-every", "20", "--ckpt-every", "20", "--out-dir"];
    args.push(run.to_str().unwrap());
    args.extend_from_slice(extra);
    ok(&args);
    run
}

#[test]
fn analyze_is_deterministic_and_skips_a_corrupt_checkpoint() {
    let scratch = Scratch::new("cli", "analyze");
    let run = train(&scratch, &[]);
    let dir = run.to_str().unwrap();
    ok(&["analyze", "--run-dir", dir]);
    let first = std::fs::read(run.join("analysis.jsonl")).unwrap();
    let steps: Vec<u64> = records(&run).iter().map(|r| r["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [0, 20, 40, 60]);
    let last = &records(&run)[3];
    for field in ["we_power", "n_eff", "align_2d_z", "phase_r2", "neuron_freq", "circuit_ratio_infinite", "excluded_loss", "attr_keep", "fsd", "geom.readout.pca_pr", "geom.readout.centroid_plane_beta1", "twonn_null_we", "w1_delta_rate", "grad_cosine_unit", "stage", "softmax_collapse", "key_freqs_final"] {
        assert!(last.get(field).is_some(), "{field} missing from {last}");
    }
    assert_eq!(last["we_power"].as_array().unwrap().len(), 12, "K + 1 = 12 at p = 23");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert!(summary["metrics"]["n_eff"]["final"].is_number());
    assert!(std::fs::read_to_string(run.join("summary.md")).unwrap().contains("| Sparsity | `n_eff` |"));

    // Up to date: nothing to do, nothing changes. From scratch: the same bytes.
    let again = ok(&["analyze", "--run-dir", dir, "--timings"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 checkpoints analyzed"));
    assert_eq!(std::fs::read(run.join("analysis.jsonl")).unwrap(), first);
    std::fs::remove_file(run.join("analysis.jsonl")).unwrap();
    ok(&["analyze", "--run-dir", dir]);
    assert_eq!(std::fs::read(run.join("analysis.jsonl")).unwrap(), first, "two analyses, the same bytes");

    // A truncated checkpoint is named on stderr; the others are analyzed.
    let broken = run.join("checkpoints/step_00000020.safetensors");
    let bytes = std::fs::read(&broken).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(run.join("analysis.jsonl")).unwrap();
    let out = ok(&["analyze", "--run-dir", dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(broken.to_str().unwrap()), "{stderr}");
    let steps: Vec<u64> = records(&run).iter().map(|r| r["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [0, 40, 60]);

    // Bad input: one line, a failing exit code.
    assert!(error_line(&["analyze", "--run-dir", scratch.0.join("none").to_str().unwrap()]).contains("holds no run"));
    assert!(error_line(&["analyze", "--run-dir", dir, "--only", "spectrum,bogus"]).contains("unknown analysis 'bogus'"));
    assert!(error_line(&["intervene", "phase", "--run-dir", dir, "--step", "7"]).contains("no checkpoint at step 7"));
    assert!(error_line(&["intervene", "ablate-freq", "--run-dir", dir, "--step", "60", "--k", "12"]).contains("not a frequency"));
}

#[test]
fn interventions_report_before_and_after() {
    let scratch = Scratch::new("cli", "intervene");
    let run = train(&scratch, &[]);
    let dir = run.to_str().unwrap();
    for (args, file) in [
        (vec!["intervene", "phase", "--run-dir", dir, "--step", "60"], "phase_literal_step_00000060.json"),
        (vec!["intervene", "phase", "--run-dir", dir, "--step", "60", "--mode", "in-plane"], "phase_in_plane_step_00000060.json"),
        (vec!["intervene", "ablate-freq", "--run-dir", dir, "--step", "40", "--k", "1,5"], "ablate_freq_1_5_step_00000040.json"),
    ] {
        let out = ok(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("before") && stdout.contains("after"), "{stdout}");
        let report: Value = serde_json::from_str(&std::fs::read_to_string(run.join("interventions").join(file)).unwrap()).unwrap();
        for set in ["before", "after"] {
            for field in ["train_acc", "train_loss", "val_acc", "val_loss"] {
                assert!(report[set][field].is_number(), "{file}: {set}.{field}");
            }
        }
    }
    // The model before the edit is the checkpoint metrics.jsonl evaluated at step 60.
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let at_60: Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(run.join("interventions/phase_literal_step_00000060.json")).unwrap()).unwrap();
    // Tolerance 1e-5: the same f32 forward; the means are taken in f64 here, in f32 there.
    for field in ["train_loss", "val_acc"] {
        let (ours, logged) = (report["before"][field].as_f64().unwrap(), at_60[field].as_f64().unwrap());
        assert!((ours - logged).abs() < 1e-5, "{field}: {ours} vs {logged}");
    }
}

#[test]
fn a_multi_run_of_transformers_is_analyzed_run_by_run() {
    let scratch = Scratch::new("cli", "sweep");
    let run = train(&scratch, &["--model", "transformer", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--layers", "1", "--seeds", "0,1"]);
    ok(&["analyze", "--run-dir", run.to_str().unwrap(), "--every", "2"]);
    for seed in ["seed=0", "seed=1"] {
        let records = records(&run.join(seed));
        let steps: Vec<u64> = records.iter().map(|r| r["step"].as_u64().unwrap()).collect();
        assert_eq!(steps, [0, 40, 60], "every 2nd checkpoint and the last");
        let entropy = records[0]["attn_entropy"].as_array().unwrap();
        assert_eq!(entropy.len(), 1, "one layer");
        assert_eq!(entropy[0].as_array().unwrap().len(), 2, "two heads");
        assert_eq!(records[0]["fsd_components"], serde_json::json!(["W_E", "W_U", "L0H0", "L0H1", "MLP0"]));
        assert!(run.join(seed).join("summary.md").exists());
    }
}
