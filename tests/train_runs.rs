//! Whole training runs: the quick preset groks, a run is deterministic, R batched runs equal
//! the same runs trained one by one, and a run killed with SIGKILL resumes to the weights of
//! an uninterrupted one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use grokgpu::config::presets::preset;
use grokgpu::config::RunConfig;
use grokgpu::gpu::Gpu;
use grokgpu::rundir::metrics::read_metrics;
use grokgpu::rundir::read_checkpoint;
use grokgpu::train::trainer::Trainer;

fn grokgpu(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args).output().expect("grokgpu runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A small MLP run with minibatches (so the batch order matters) that takes seconds.
fn small(seed: u64) -> RunConfig {
    let mut c = preset("quick").unwrap().config;
    c.p = 23;
    c.d_model = 16;
    c.batch_size = grokgpu::config::BatchSize::Size(64);
    c.seed = seed;
    c.data_seed = seed;
    c.steps = 40;
    c.validate().unwrap();
    c
}

#[test]
fn quick_preset_groks() {
    let dir = scratch("quick");
    let out = grokgpu(&["train", "--preset", "quick", "--out-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metrics = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    let last = metrics.last().unwrap();
    assert_eq!(last.step, 1000);
    assert!(last.train_acc >= 0.99, "train accuracy {}", last.train_acc);
    assert!(last.val_acc >= 0.95, "validation accuracy {} after {} updates: no grokking", last.val_acc, last.step);
    let first_grok = metrics.iter().find(|m| m.val_acc >= 0.95).unwrap().step;
    assert!(metrics.iter().any(|m| m.train_acc >= 0.99 && m.val_acc < 0.5), "memorization should come before generalization");
    assert!(first_grok > 100, "grokked at {first_grok}: too early to be grokking");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn same_seed_gives_identical_weights() {
    let gpu = Gpu::shared();
    let run = |cfg: RunConfig| {
        let mut t = Trainer::new(gpu, vec![cfg]).unwrap();
        t.train(25);
        t.run_params().remove(0)
    };
    let a = run(small(3));
    let b = run(small(3));
    assert!(a == b, "two runs with one seed differ");
    assert!(run(small(4)) != a, "different seeds should differ");
}

#[test]
fn batched_runs_equal_runs_trained_alone() {
    let gpu = Gpu::shared();
    let configs: Vec<RunConfig> = (0..4).map(small).collect();
    let mut batched = Trainer::new(gpu, configs.clone()).unwrap();
    batched.train(25);
    let together = batched.run_params();
    for (r, cfg) in configs.into_iter().enumerate() {
        let mut alone = Trainer::new(gpu, vec![cfg]).unwrap();
        alone.train(25);
        assert!(alone.run_params()[0] == together[r], "run {r} trained in a batch of 4 differs from run {r} alone");
    }
}

fn final_weights(dir: &Path, step: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    read_checkpoint(&dir.join(format!("checkpoints/step_{step:08}.safetensors"))).unwrap().params
}

fn metrics_without_time(dir: &Path) -> Vec<String> {
    read_metrics(&dir.join("metrics.jsonl"))
        .unwrap()
        .into_iter()
        .map(|mut m| {
            m.elapsed_s = 0.0;
            serde_json::to_string(&m).unwrap()
        })
        .collect()
}

#[test]
fn killed_run_resumes_to_the_uninterrupted_result() {
    let args = |dir: &Path| {
        vec!["train", "--preset", "quick", "--p", "23", "--d-model", "16", "--batch-size", "64", "--steps", "300", "--eval-every", "10", "--ckpt-every", "7", "--out-dir"]
            .into_iter()
            .map(String::from)
            .chain([dir.to_str().unwrap().to_string()])
            .collect::<Vec<_>>()
    };
    let whole = scratch("whole");
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args(&whole)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Kill twice while it trains: once soon after a checkpoint appears, once a few
    // milliseconds later (usually in the middle of stepping or writing).
    let killed = scratch("killed");
    for (after_step, extra_ms) in [(28, 0), (126, 7)] {
        let resume = killed.join("state.safetensors").exists();
        let mut child = Command::new(env!("CARGO_BIN_EXE_grokgpu"))
            .args(args(&killed))
            .args(resume.then_some("--resume"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let marker = killed.join(format!("checkpoints/step_{after_step:08}.safetensors"));
        while !marker.exists() {
            assert!(child.try_wait().unwrap().is_none(), "the run ended before step {after_step}");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(extra_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!killed.join("checkpoints/step_00000300.safetensors").exists(), "the kill came after the run finished");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args(&killed)).arg("--resume").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(final_weights(&killed, 300) == final_weights(&whole, 300), "resumed run ends with different weights");
    assert_eq!(metrics_without_time(&killed), metrics_without_time(&whole), "resumed run logged different metrics");
    for d in [whole, killed] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// The eval line's spectral quick-look sees a planted pure frequency (docs/analyses.md §1–2:
/// a pure cosine has n_eff 1 and Gini (K−1)/K), for both token orders; a group task has none.
#[test]
fn quick_look_finds_a_planted_frequency() {
    use grokgpu::analysis::spectrum::TokenOrder;
    use grokgpu::data::Task;
    let gpu = Gpu::shared();
    for task in [Task::Add, Task::Mul] {
        let mut cfg = small(0);
        cfg.task = task;
        let trainer = Trainer::new(gpu, vec![cfg.clone()]).unwrap();
        let p = cfg.p as usize;
        let d = cfg.d_model;
        let tokens = TokenOrder::for_task(&task.to_string(), p).tokens(p);
        let n = tokens.len();
        let mut embed = vec![0f32; p * d];
        for (pos, &t) in tokens.iter().enumerate() {
            for j in 0..d {
                embed[t * d + j] = (std::f64::consts::TAU * ((5 * pos) % n) as f64 / n as f64 + j as f64).cos() as f32;
            }
        }
        gpu.write(&trainer.layout.slice(&trainer.params, "embed.weight"), &embed);
        let evals = trainer.evaluate();
        let look = evals[0].look.as_ref().expect("a modular task has a quick-look");
        // K = ⌊n/2⌋ folded bins (even n counts the Nyquist bin once, docs/analyses.md).
        let k = n / 2;
        assert_eq!(look.dominant_freq, 5, "{task}");
        // f32 weights and an f32 FFT: leakage energy ~1e-12 relative.
        assert!((look.n_eff - 1.0).abs() < 1e-5, "{task}: n_eff {}", look.n_eff);
        let want_gini = (k as f64 - 1.0) / k as f64;
        assert!((look.gini - want_gini).abs() < 1e-5, "{task}: gini {} vs {want_gini}", look.gini);
    }
    let s5 = RunConfig { task: Task::S5Compose, p: 120, ..small(0) };
    assert!(Trainer::new(gpu, vec![s5]).unwrap().evaluate()[0].look.is_none());
}
