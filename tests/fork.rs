//! `grokgpu fork`: a fork without changes continues its parent bit for bit; a fork with
//! another weight decay equals its parent up to the fork step and differs after it.

use std::path::{Path, PathBuf};
use std::process::Output;

use grokgpu::rundir::metrics::read_metrics;
use grokgpu::rundir::read_checkpoint;
use serde_json::Value;

mod common;
use common::grokgpu;

fn scratch(name: &str) -> PathBuf {
    common::scratch("fork", name)
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn weights(run: &Path, step: u64) -> Vec<u32> {
    let ck = read_checkpoint(&run.join(format!("checkpoints/step_{step:08}.safetensors"))).unwrap();
    ck.params.into_iter().flat_map(|(_, _, v)| v).map(f32::to_bits).collect()
}

/// metrics.jsonl without the wall-clock time, by step.
fn metrics(run: &Path) -> Vec<(u64, String)> {
    read_metrics(&run.join("metrics.jsonl"))
        .unwrap()
        .into_iter()
        .map(|mut r| {
            r.elapsed_s = 0.0;
            (r.step, serde_json::to_string(&r).unwrap())
        })
        .collect()
}

#[test]
fn fork_continues_exactly_and_a_changed_weight_decay_differs_only_after_the_fork() {
    let dir = scratch("exact");
    let parent = dir.join("parent");
    let p = parent.to_str().unwrap();
    // Minibatches of 16 (so the batch order must continue), AdamW moments and a Grokfast
    // filter (so their state must be carried over).
    ok(grokgpu(&[
        "train", "--preset", "quick", "--p", "11", "--d-model", "8", "--batch-size", "16", "--optimizer", "adamw",
        "--grokfast-ema", "0.9,1", "--steps", "12", "--eval-every", "3", "--ckpt-every", "3", "--out-dir", p,
    ]));

    let same = dir.join("same");
    let stdout = ok(grokgpu(&["fork", "--from", p, "--step", "6", "--out-dir", same.to_str().unwrap()]));
    assert!(stdout.contains("replaying"), "the parent's saved state is at step 12, so step 6 is replayed: {stdout}");
    for step in [6, 9, 12] {
        assert_eq!(weights(&same, step), weights(&parent, step), "step {step}");
    }
    assert_eq!(metrics(&same), metrics(&parent));
    let config: Value = serde_json::from_str(&std::fs::read_to_string(same.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["forked_from"], serde_json::json!({"run": p, "step": 6}));

    let decayed = dir.join("decayed");
    ok(grokgpu(&["fork", "--from", p, "--step", "6", "--out-dir", decayed.to_str().unwrap(), "--set", "weight_decay=0.5,2"]));
    for run in ["weight_decay=0.5", "weight_decay=2"] {
        let fork = decayed.join(run);
        assert_eq!(weights(&fork, 6), weights(&parent, 6), "{run}");
        for step in [9, 12] {
            assert_ne!(weights(&fork, step), weights(&parent, step), "{run} at {step}");
        }
        let (theirs, ours) = (metrics(&parent), metrics(&fork));
        assert_eq!(ours.iter().filter(|(s, _)| *s <= 6).collect::<Vec<_>>(), theirs.iter().filter(|(s, _)| *s <= 6).collect::<Vec<_>>(), "{run}");
        for ((step, a), (_, b)) in ours.iter().zip(&theirs).filter(|((s, _), _)| *s > 6) {
            assert_ne!(a, b, "{run} at {step}");
        }
    }
    let sweep: Value = serde_json::from_str(&std::fs::read_to_string(decayed.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep["varying"], serde_json::json!(["weight_decay"]));

    // --at takes the last checkpoint at or before the event of the parent's summary.json.
    std::fs::write(parent.join("summary.json"), r#"{"events": {"memorization_step": 8, "grok_step": null}, "precursors": {}}"#).unwrap();
    let at = dir.join("at");
    let stdout = ok(grokgpu(&["fork", "--from", p, "--at", "memorization", "--out-dir", at.to_str().unwrap(), "--steps", "9"]));
    assert!(stdout.contains("memorization at step 8: forking at checkpoint 6"), "{stdout}");
    assert_eq!(weights(&at, 9), weights(&parent, 9));

    let refused = dir.join("refused");
    for (flags, want) in [
        (vec!["--step", "5"], "has no checkpoint at step 5 (nearest: 3, 6)"),
        (vec!["--step", "6", "--set", "seed=3"], "cannot change seed: 0 → 3"),
        (vec!["--step", "6", "--set", "d_model=16"], "cannot change d_model: 8 → 16"),
        (vec!["--at", "grokking"], "never reached grokking"),
        (vec!["--at", "fsd"], "unknown event 'fsd'"),
        (vec!["--step", "12"], "give --steps beyond 12"),
    ] {
        let mut args = vec!["fork", "--from", p, "--out-dir", refused.to_str().unwrap()];
        args.extend(flags);
        let out = grokgpu(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.lines().count() == 1 && stderr.starts_with("error: ") && stderr.contains(want), "{want}: {stderr}");
    }
    assert!(!refused.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
