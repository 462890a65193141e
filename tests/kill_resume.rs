//! Training killed (SIGKILL) at random moments and resumed each time ends with the same
//! files as a run never interrupted: every checkpoint, state.safetensors, config.json bit
//! for bit, and metrics.jsonl record for record with elapsed_s aside.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::Value;

const KILLS: usize = 10;

/// A tiny MLP with an evaluation and a checkpoint every 20 of its 600 steps.
fn train(dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grokgpu"));
    cmd.args(["train", "--preset", "quick", "--p", "11", "--d-model", "8", "--steps", "600", "--eval-every", "20", "--ckpt-every", "20", "--out-dir"]);
    cmd.arg(dir).args(extra).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Starts a training and returns once it is training (its "training …" line, printed after
/// its files are opened and its state restored), with that moment.
fn start(dir: &Path, extra: &[&str]) -> (Child, Instant) {
    let mut child = train(dir, extra).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.as_mut().unwrap());
    let mut line = String::new();
    while !line.starts_with("training ") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the training ended before it started");
    }
    (child, Instant::now())
}

/// A fixed stream of fractions in [0, 1) (a 64-bit LCG), so the kill moments are random
/// but the same on every run of the test.
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How the killed run continues: a fresh start when no run was created yet, `--force` when
/// it was killed before its first state (nothing trained to keep), `--resume` otherwise.
fn continue_flag(dir: &Path) -> Option<&'static str> {
    if !dir.join("config.json").exists() {
        None
    } else if !dir.join("state.safetensors").exists() {
        Some("--force")
    } else {
        Some("--resume")
    }
}

fn metrics_without_elapsed(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let mut record: Value = serde_json::from_str(l).unwrap();
            record.as_object_mut().unwrap().remove("elapsed_s");
            record
        })
        .collect()
}

/// Every file of the run but metrics.jsonl and the lock, by path relative to `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    for sub in [dir.to_path_buf(), dir.join("checkpoints")] {
        for entry in std::fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            // The lock file holds the latest writer's process id.
            if path.is_file() && !path.ends_with("metrics.jsonl") && !path.ends_with(".grokgpu.lock") {
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn runs_killed_at_random_moments_resume_to_the_uninterrupted_result() {
    let root = std::env::temp_dir().join(format!("grokgpu-kill-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (reference, killed) = (root.join("reference"), root.join("killed"));

    let (reference_run, started) = start(&reference, &[]);
    let out = reference_run.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Each attempt trains at most a twelfth of the whole run before its kill, so ten of them
    // cannot finish it: every one ends in a kill, in the middle of stepping, evaluating or
    // writing a checkpoint.
    let longest = started.elapsed() / 12;

    let mut moments = Moments(12);
    for kill in 0..KILLS {
        let flag = continue_flag(&killed);
        let (mut child, _) = start(&killed, flag.as_slice());
        let moment = longest.mul_f64(moments.next());
        std::thread::sleep(moment);
        if let Some(status) = child.try_wait().unwrap() {
            let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
            panic!("attempt {kill} ({flag:?}) ended by itself with {status} before its kill: {stderr}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let saved = std::fs::read_dir(killed.join("checkpoints")).map_or(0, |d| d.count());
        println!("kill {kill} {} ms into training ({flag:?}): {saved} checkpoint files", moment.as_millis());
    }
    let flag = continue_flag(&killed);
    let out = train(&killed, flag.as_slice()).output().unwrap();
    assert!(out.status.success(), "the last resume failed: {}", String::from_utf8_lossy(&out.stderr));

    let leftovers: Vec<String> =
        files(&killed).into_iter().map(|(p, _)| p.display().to_string()).filter(|p| p.contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    assert_eq!(metrics_without_elapsed(&killed), metrics_without_elapsed(&reference));
    let (got, want) = (files(&killed), files(&reference));
    assert_eq!(got.iter().map(|f| &f.0).collect::<Vec<_>>(), want.iter().map(|f| &f.0).collect::<Vec<_>>());
    for ((name, a), (_, b)) in got.iter().zip(&want) {
        assert!(a == b, "{} differs from the uninterrupted run's", name.display());
    }
    std::fs::remove_dir_all(&root).unwrap();
}
