//! Bad input to `grokgpu train` gets one clear error line and a non-zero exit, never a panic.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).arg("train").args(args).output().expect("grokgpu runs")
}

/// A tiny, fast run of `steps` updates in `dir` with extra flags.
fn tiny_steps(dir: &PathBuf, steps: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--preset", "quick", "--p", "11", "--d-model", "8", "--steps", steps, "--eval-every", "3", "--ckpt-every", "3", "--out-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    train(&args)
}

fn tiny(dir: &PathBuf, extra: &[&str]) -> Output {
    tiny_steps(dir, "6", extra)
}

#[track_caller]
fn assert_error(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got success; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic instead of an error: {stderr}");
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(error_lines[0].contains(expected), "error line {:?} does not mention {expected:?}", error_lines[0]);
}

#[test]
fn invalid_settings_are_refused() {
    let dir = scratch("invalid");
    let d = dir.to_str().unwrap();
    for (flags, expected) in [
        (vec!["--p", "91"], "prime"),
        (vec!["--p", "2"], "p must be"),
        (vec!["--train-frac", "1.5"], "train_frac"),
        (vec!["--train-frac", "0"], "train_frac"),
        (vec!["--steps", "0"], "steps"),
        (vec!["--model", "transformer", "--d-model", "10", "--heads", "4"], "heads"),
        (vec!["--task", "pow"], "task"),
    ] {
        let mut args = vec!["--preset", "quick", "--out-dir", d];
        args.extend(flags.iter().copied());
        assert_error(&train(&args), expected);
    }
    assert!(!dir.exists(), "a refused run must not create its directory");
}

#[test]
fn model_too_large_for_the_device_is_refused() {
    let dir = scratch("large");
    let out = train(&["--preset", "tian-mlp", "--d-model", "40000", "--steps", "1", "--out-dir", dir.to_str().unwrap()]);
    assert_error(&out, "MiB");
}

#[test]
fn existing_different_run_is_refused_unless_resumed_or_forced() {
    let dir = scratch("existing");
    assert!(tiny(&dir, &[]).status.success());
    assert_error(&tiny(&dir, &["--lr", "0.01"]), "--force");
    assert!(tiny(&dir, &["--lr", "0.01", "--force"]).status.success());
    assert_error(&tiny(&dir, &["--lr", "0.02", "--resume"]), "lr");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_state_on_resume_is_reported() {
    let dir = scratch("corrupt");
    assert!(tiny(&dir, &[]).status.success());
    let state = dir.join("state.safetensors");
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    assert_error(&tiny_steps(&dir, "9", &["--resume"]), "state.safetensors");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diverging_run_stops_and_keeps_its_last_good_checkpoint() {
    let dir = scratch("diverge");
    let out = tiny(&dir, &["--optimizer", "sgd", "--lr", "1e30", "--weight-decay", "0"]);
    assert_error(&out, "diverged");
    let checkpoints = std::fs::read_dir(dir.join("checkpoints")).unwrap().count();
    assert!(checkpoints >= 1, "the initial checkpoint must survive");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn multi_run_writes_one_directory_per_run_and_a_sweep_file() {
    let dir = scratch("sweep");
    let out = tiny(&dir, &["--seeds", "0,1", "--sweep", "weight_decay=0.1,1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sweep: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    let mut runs = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            runs += 1;
            assert!(path.join("config.json").exists() && path.join("metrics.jsonl").exists(), "{}", path.display());
            assert!(path.join("checkpoints/step_00000006.safetensors").exists(), "{}", path.display());
        }
    }
    assert_eq!(runs, 4, "2 seeds × 2 weight decays; sweep.json: {sweep}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sweeps_over_shapes_train_in_groups_and_plot_against_any_setting() {
    let dir = scratch("sweep_shapes");
    let d = dir.to_str().unwrap();
    let flags = [
        "--preset", "quick", "--model", "transformer", "--layers", "1", "--d-model", "8", "--heads", "2", "--d-mlp", "16",
        "--steps", "4", "--eval-every", "2", "--ckpt-every", "2", "--out-dir", d, "--seeds", "0,1",
        "--sweep", "bottleneck_rank=none,2", "--sweep", "p=5,7", "--sweep", "train_frac=0.5,0.7",
    ];
    let out = train(&flags);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("group 8 of 8: 2 run(s)"), "{stdout}");
    let sweep: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep["varying"], serde_json::json!(["bottleneck_rank", "p", "train_frac", "seed"]));
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 16);
    let run = &runs[11];
    assert_eq!(run["dir"], "bottleneck_rank=2,p=5,train_frac=0.7,seed=1");
    assert_eq!((run["group"].as_u64(), run["settings"]["bottleneck_rank"].as_u64(), run["settings"]["p"].as_u64()), (Some(5), Some(2), Some(5)));
    for r in runs {
        let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(r["dir"].as_str().unwrap()).join("config.json")).unwrap()).unwrap();
        for key in ["bottleneck_rank", "p", "train_frac", "seed"] {
            assert_eq!(config[key], r["settings"][key], "{}", r["dir"]);
        }
        assert!(dir.join(r["dir"].as_str().unwrap()).join("checkpoints/step_00000004.safetensors").exists());
    }
    let plot = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(["plot", "--run-dir", d]).output().unwrap();
    assert!(plot.status.success(), "{}", String::from_utf8_lossy(&plot.stderr));
    for key in ["bottleneck_rank", "p", "train_frac"] {
        assert!(dir.join("plots").join(format!("grok_step_vs_{key}.png")).exists(), "{key}: {}", String::from_utf8_lossy(&plot.stdout));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
