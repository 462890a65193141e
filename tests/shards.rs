//! A sweep trained in shares (`train --shard I/N`) into one output directory is the same sweep,
//! byte for byte, as one process trains (wall-clock fields and the shard bookkeeping aside); a
//! killed share resumes with the same command; the readers work on whatever runs are complete.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-shards-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn grokgpu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args).output().expect("grokgpu runs")
}

#[track_caller]
fn ok(out: Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "grokgpu failed: {text}");
    text
}

/// Two data sizes (two groups of shapes) × two weight decays × two seeds: 8 tiny runs of
/// `steps` updates.
fn sweep_args(dir: &Path, steps: &str) -> Vec<String> {
    let args = [
        "train", "--preset", "quick", "--p", "11", "--d-model", "8", "--steps", steps, "--eval-every", "4", "--ckpt-every", "4",
        "--seeds", "0,1", "--sweep", "weight_decay=0.001,0.01", "--sweep", "train_frac=0.5,0.7", "--out-dir", dir.to_str().unwrap(),
    ];
    args.iter().map(|a| a.to_string()).collect()
}

fn sweep(dir: &Path, extra: &[&str]) -> Output {
    let mut args = sweep_args(dir, "12");
    args.extend(extra.iter().map(|a| a.to_string()));
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(&args).output().expect("grokgpu runs")
}

/// Every file under `root` with its content; JSON with the wall-clock `elapsed_s` and the
/// shard fields of sweep.json removed. Lock files and kernels.json are not run data.
fn contents(root: &Path) -> BTreeMap<String, Value> {
    fn strip(v: &mut Value, keys: &[&str]) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !keys.contains(&k.as_str()));
                m.values_mut().for_each(|x| strip(x, keys));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| strip(x, keys)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            // kernels.json names the matmul variants each machine launched (tuned per
            // adapter); they give the same bits, so they are bookkeeping, not run data.
            if name.ends_with("lock") || name.ends_with(grokgpu::rundir::KERNELS_FILE) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let keys: &[&str] = if name == "sweep.json" { &["elapsed_s", "shard", "shards"] } else { &["elapsed_s"] };
            let value = if name.ends_with(".jsonl") {
                Value::Array(
                    String::from_utf8(bytes).unwrap().lines().map(|l| {
                        let mut v: Value = serde_json::from_str(l).unwrap();
                        strip(&mut v, keys);
                        v
                    }).collect(),
                )
            } else if name.ends_with(".json") {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                strip(&mut v, keys);
                v
            } else {
                Value::from(bytes)
            };
            out.insert(name, value);
        }
    }
    out
}

#[track_caller]
fn assert_same_files(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) {
    let only = |x: &BTreeMap<String, Value>, y: &BTreeMap<String, Value>| x.keys().filter(|k| !y.contains_key(*k)).cloned().collect::<Vec<_>>();
    let (only_a, only_b) = (only(a, b), only(b, a));
    assert!(only_a.is_empty() && only_b.is_empty(), "only in the one-process sweep: {only_a:?}; only in the shares': {only_b:?}");
}

#[test]
fn shares_merge_into_the_one_process_sweep() {
    let one = scratch("one");
    ok(sweep(&one, &[]));

    let merged = scratch("merged");
    let mut trained = 0;
    for shard in ["0/3", "1/3", "2/3"] {
        let text = ok(sweep(&merged, &["--shard", shard]));
        let line = text.lines().find(|l| l.starts_with(&format!("shard {shard}: "))).expect("the share says how many runs it trains");
        trained += line.split_whitespace().nth(2).unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(trained, 8, "every run is trained by exactly one share");

    let sweep_file: Value = serde_json::from_slice(&std::fs::read(merged.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep_file["shards"], 3);
    let shares: Vec<u64> = sweep_file["runs"].as_array().unwrap().iter().map(|r| r["shard"].as_u64().unwrap()).collect();
    assert_eq!(shares.iter().filter(|&&s| s == 0).count(), 3);

    let (a, b) = (contents(&one), contents(&merged));
    assert_same_files(&a, &b);
    for (name, value) in &a {
        assert!(b[name] == *value, "{name} differs between the one-process and the merged sweep");
    }

    // A share run again (a requeued Slurm task whose runs had finished) changes nothing.
    let text = ok(sweep(&merged, &["--shard", "1/3"]));
    assert!(text.contains("resuming"), "{text}");
    assert!(contents(&merged) == b);
}

/// How many checkpoint files the runs under `dir` hold.
fn checkpoints(dir: &Path) -> usize {
    let runs = std::fs::read_dir(dir).into_iter().flatten().flatten();
    runs.map(|run| std::fs::read_dir(run.path().join("checkpoints")).map_or(0, |c| c.count())).sum()
}

#[test]
fn a_killed_share_resumes_with_the_same_command() {
    killed_and_rerun("share", &["--shard", "0/1"], &["--shard", "0/1"]);
}

#[test]
fn a_killed_multi_run_resumes_across_its_groups() {
    // Killed in any group: --resume continues the runs that started and starts the others.
    killed_and_rerun("resume", &[], &["--resume"]);
}

/// Trains the sweep with `first`'s flags, killing it again and again after a few checkpoints
/// and rerunning it with `later`'s once its sweep.json exists, until it finishes; the result
/// must equal an uninterrupted run's files.
fn killed_and_rerun(name: &str, first: &[&str], later: &[&str]) {
    let one = scratch(&format!("kill-{name}-one"));
    ok(Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(sweep_args(&one, "40")).output().unwrap());
    let merged = scratch(&format!("kill-{name}"));
    for attempt in 0.. {
        let flags = if merged.join("sweep.json").exists() { later } else { first };
        let mut child = Command::new(env!("CARGO_BIN_EXE_grokgpu"))
            .args(sweep_args(&merged, "40"))
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill it once it has written a few more checkpoints, so every attempt makes progress.
        let before = checkpoints(&merged);
        let started = std::time::Instant::now();
        while started.elapsed().as_secs() < 60 && child.try_wait().unwrap().is_none() {
            if checkpoints(&merged) >= before + 10 {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let status = child.wait().unwrap();
        if status.success() {
            break;
        }
        assert!(attempt < 30, "the sweep did not finish after many kills");
    }
    let (a, b) = (contents(&one), contents(&merged));
    assert_same_files(&a, &b);
    for (name, value) in &a {
        assert!(b[name] == *value, "{name} differs after kills and resumes");
    }
}

#[test]
fn readers_name_the_missing_runs_and_process_the_rest() {
    let dir = scratch("missing");
    ok(sweep(&dir, &["--shard", "0/2"]));
    let d = dir.to_str().unwrap();
    let sweep_file: Value = serde_json::from_slice(&std::fs::read(dir.join("sweep.json")).unwrap()).unwrap();
    let missing: Vec<String> = sweep_file["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dir"].as_str().unwrap().to_string())
        .filter(|name| !dir.join(name).exists())
        .collect();
    assert_eq!(missing.len(), 4, "the second share's runs are missing");
    for args in [vec!["analyze", "--run-dir", d, "--only", "sparsity"], vec!["plot", "--run-dir", d], vec!["summarize", d]] {
        let text = ok(grokgpu(&args));
        for name in &missing {
            assert!(text.contains(name.as_str()), "{} does not name the missing run {name}: {text}", args[0]);
        }
    }
    let analyzed = std::fs::read_dir(&dir).unwrap().flatten().filter(|r| r.path().join("analysis.jsonl").exists()).count();
    assert_eq!(analyzed, 4, "the trained half of the sweep is analyzed");
}
