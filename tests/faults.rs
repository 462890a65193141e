//! Fault injection: bad flags, bad files and busy run directories given to every command.
//! Each case copies one tiny trained run, breaks it (or not), runs one command, and asserts
//! what a user must get: a non-zero exit, exactly one `error:` line saying what is wrong,
//! no panic, and every file of the directory exactly as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use grokgpu::io::safetensors::{self, TensorData};

/// The tiny run every case starts from: an MLP at p = 11 (K = 5 frequencies), 6 steps,
/// checkpoints at 0, 3 and 6.
const TINY: &[&str] = &["--preset", "quick", "--p", "11", "--d-model", "8", "--steps", "6", "--eval-every", "3", "--ckpt-every", "3"];

/// One bad input. In `args`, `RUN` is the copy of the tiny run and `DIR` the case's
/// scratch directory that holds it; `TINY` expands to the tiny run's training flags.
struct Case {
    name: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
    /// A piece of the error line.
    expect: &'static str,
    /// Whether another process (this test) holds the run directory's lock meanwhile.
    locked: bool,
}

const fn case(name: &'static str, setup: fn(&Path), args: &'static [&'static str], expect: &'static str) -> Case {
    Case { name, setup, args, expect, locked: false }
}

/// A case run while this test process holds the run's lock, as a second writer would meet it.
const fn busy(name: &'static str, args: &'static [&'static str]) -> Case {
    Case { name, setup: untouched, args, expect: "is in use by process", locked: true }
}

fn untouched(_: &Path) {}

fn remove(run: &Path, name: &str) {
    let path = run.join(name);
    if path.is_dir() {
        std::fs::remove_dir_all(&path).unwrap();
    } else {
        std::fs::remove_file(&path).unwrap();
    }
}

fn no_run(run: &Path) {
    std::fs::remove_dir_all(run).unwrap();
}

fn empty_run(run: &Path) {
    std::fs::remove_dir_all(run).unwrap();
    std::fs::create_dir(run).unwrap();
}

fn run_is_a_file(run: &Path) {
    std::fs::remove_dir_all(run).unwrap();
    std::fs::write(run, "not a directory").unwrap();
}

fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

fn edit_config(run: &Path, from: &str, to: &str) {
    let path = run.join("config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "config.json has no {from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn checkpoints(run: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(run.join("checkpoints")).unwrap().map(|e| e.unwrap().path()).collect();
    list.sort();
    list
}

/// Rewrites a safetensors file with `change` applied to its tensors.
fn rewrite(path: &Path, change: fn(&mut safetensors::SafeTensors)) {
    let mut file = safetensors::read(path).unwrap();
    change(&mut file);
    safetensors::write(path, &file.tensors, &file.metadata).unwrap();
}

fn every_checkpoint(run: &Path, change: fn(&mut safetensors::SafeTensors)) {
    for path in checkpoints(run) {
        rewrite(&path, change);
    }
}

fn tensor<'a>(file: &'a mut safetensors::SafeTensors, name: &str) -> &'a mut safetensors::Tensor {
    file.tensors.iter_mut().find(|t| t.name == name).unwrap()
}

fn token_out_of_range(run: &Path) {
    rewrite(&run.join("dataset.safetensors"), |f| {
        let TensorData::I64(x) = &mut tensor(f, "x").data else { panic!("x is I64") };
        x[3] = 50;
    });
}

fn negative_target(run: &Path) {
    rewrite(&run.join("dataset.safetensors"), |f| {
        let TensorData::I64(t) = &mut tensor(f, "target").data else { panic!("target is I64") };
        t[0] = -1;
    });
}

fn short_dataset(run: &Path) {
    rewrite(&run.join("dataset.safetensors"), |f| {
        let t = tensor(f, "y");
        let TensorData::I64(y) = &mut t.data else { panic!("y is I64") };
        y.pop();
        t.shape = vec![y.len()];
    });
}

fn fc1_reshaped(run: &Path) {
    every_checkpoint(run, |f| tensor(f, "fc1.weight").shape = vec![4, 32]);
}

fn fc2_bias_renamed(run: &Path) {
    every_checkpoint(run, |f| tensor(f, "fc2.bias").name = "fc2.b".into());
}

fn nan_weight(run: &Path) {
    every_checkpoint(run, |f| {
        let TensorData::F32(v) = &mut tensor(f, "embed.weight").data else { panic!("f32 weights") };
        v[5] = f32::NAN;
    });
}

fn extra_tensor(run: &Path) {
    every_checkpoint(run, |f| {
        let mut extra = f.tensors[0].clone();
        extra.name = "embed.extra".into();
        f.tensors.push(extra);
    });
}

/// A two-run multi-run (seeds 0 and 1) whose second run lost its state.safetensors.
fn multi_run_without_a_state(run: &Path) {
    std::fs::remove_dir_all(run).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).arg("train").args(TINY).args(["--seeds", "0,1", "--out-dir"]).arg(run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = std::fs::read_dir(run).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).max().unwrap();
    std::fs::remove_file(second.join("state.safetensors")).unwrap();
}

fn truncated_checkpoints(run: &Path) {
    checkpoints(run).iter().for_each(|p| truncate(p));
}

fn empty_checkpoints(run: &Path) {
    checkpoints(run).iter().for_each(|p| std::fs::remove_file(p).unwrap());
}

const CASES: &[Case] = &[
    // train: settings
    case("train: p not prime", no_run, &["train", "--preset", "quick", "--p", "91", "--out-dir", "RUN"], "prime"),
    case("train: p too small", no_run, &["train", "--preset", "quick", "--p", "2", "--out-dir", "RUN"], "p must be"),
    case("train: train_frac above 1", no_run, &["train", "TINY", "--train-frac", "1.5", "--out-dir", "RUN"], "train_frac"),
    case("train: no steps", no_run, &["train", "--preset", "quick", "--steps", "0", "--out-dir", "RUN"], "steps must be at least 1"),
    case("train: negative lr", no_run, &["train", "TINY", "--lr", "-1", "--out-dir", "RUN"], "lr must be a positive number, got -1"),
    case("train: negative weight decay", no_run, &["train", "TINY", "--weight-decay", "-0.5", "--out-dir", "RUN"], "weight_decay must be ≥ 0"),
    case("train: beta1 of 1", no_run, &["train", "TINY", "--beta1", "1", "--out-dir", "RUN"], "beta1 must be in [0, 1)"),
    case("train: unknown task", no_run, &["train", "TINY", "--task", "pow", "--out-dir", "RUN"], "pow"),
    case("train: unknown preset", no_run, &["train", "--preset", "nosuch", "--out-dir", "RUN"], "unknown preset 'nosuch'"),
    case("train: zero batch", no_run, &["train", "TINY", "--batch-size", "0", "--out-dir", "RUN"], "batch_size must be at least 1"),
    case("train: no eval interval", no_run, &["train", "--preset", "quick", "--eval-every", "0", "--out-dir", "RUN"], "eval_every must be at least 1"),
    case("train: heads do not divide d_model", no_run, &["train", "--preset", "power2022", "--d-model", "10", "--heads", "4", "--out-dir", "RUN"], "heads (4) must divide d_model (10)"),
    case("train: bad seed list", no_run, &["train", "TINY", "--seeds", "a,b", "--out-dir", "RUN"], "invalid value 'a'"),
    case("train: table too large for the device", no_run, &["train", "--preset", "power2022", "--p", "65521", "--out-dir", "RUN"], "needs a"),
    case("train: a hundred million blocks", no_run, &["train", "--preset", "power2022", "--layers", "100000000", "--out-dir", "RUN"], "binds at most"),
    case("train: model too wide for the device", no_run, &["train", "--preset", "tian-mlp", "--d-model", "40000", "--out-dir", "RUN"], "binds at most"),
    // train: run directories
    case("train: a run is already there", untouched, &["train", "TINY", "--out-dir", "RUN"], "already holds this run"),
    case("train: another run is there", untouched, &["train", "TINY", "--weight-decay", "0.5", "--out-dir", "RUN"], "holds a different run (weight_decay"),
    case("train: out-dir is a file", run_is_a_file, &["train", "TINY", "--out-dir", "RUN"], "RUN"),
    case("train: resume a different run", untouched, &["train", "TINY", "--weight-decay", "0.5", "--resume", "--out-dir", "RUN"], "(weight_decay: 0.001 → 0.5)"),
    case("train: resume with a corrupt config", |r| std::fs::write(r.join("config.json"), "{not json").unwrap(), &["train", "TINY", "--resume", "--out-dir", "RUN"], "config.json"),
    case("train: resume a directory that does not exist", no_run, &["train", "TINY", "--resume", "--out-dir", "RUN"], "nothing to resume"),
    case("train: resume an empty directory", empty_run, &["train", "TINY", "--resume", "--out-dir", "RUN"], "nothing to resume"),
    case("train: resume without a state", |r| remove(r, "state.safetensors"), &["train", "TINY", "--resume", "--out-dir", "RUN"], "state.safetensors is missing"),
    case("train: resume a multi-run missing one state", multi_run_without_a_state, &["train", "TINY", "--seeds", "0,1", "--resume", "--out-dir", "RUN"], "state.safetensors is missing"),
    busy("train: resume while another writer runs", &["train", "TINY", "--resume", "--out-dir", "RUN"]),
    busy("train: force while another writer runs", &["train", "TINY", "--force", "--out-dir", "RUN"]),
    case("train: resume with a truncated state", |r| truncate(&r.join("state.safetensors")), &["train", "TINY", "--resume", "--out-dir", "RUN"], "state.safetensors: truncated"),
    // analyze
    case("analyze: no directory", no_run, &["analyze", "--run-dir", "RUN"], "holds no run"),
    case("analyze: empty directory", empty_run, &["analyze", "--run-dir", "RUN"], "holds no run"),
    case("analyze: corrupt config", |r| std::fs::write(r.join("config.json"), "{\"p\": ").unwrap(), &["analyze", "--run-dir", "RUN"], "config.json"),
    case("analyze: config with p not prime", |r| edit_config(r, "\"p\": 11", "\"p\": 91"), &["analyze", "--run-dir", "RUN"], "p must be prime"),
    case("analyze: token beyond p", token_out_of_range, &["analyze", "--run-dir", "RUN"], "x[3] = 50 is not a number below p = 11"),
    case("analyze: negative target", negative_target, &["analyze", "--run-dir", "RUN"], "target[0]"),
    case("analyze: dataset one row short", short_dataset, &["analyze", "--run-dir", "RUN"], "must each hold the task's 121 examples"),
    case("analyze: truncated dataset", |r| truncate(&r.join("dataset.safetensors")), &["analyze", "--run-dir", "RUN"], "dataset.safetensors: truncated"),
    case("analyze: no dataset", |r| remove(r, "dataset.safetensors"), &["analyze", "--run-dir", "RUN"], "dataset.safetensors"),
    case("analyze: no checkpoints", empty_checkpoints, &["analyze", "--run-dir", "RUN"], "has no checkpoints"),
    case("analyze: every checkpoint truncated", truncated_checkpoints, &["analyze", "--run-dir", "RUN"], "no checkpoint of"),
    case("analyze: every checkpoint of another shape", fc1_reshaped, &["analyze", "--run-dir", "RUN"], "no checkpoint of"),
    case("analyze: every checkpoint non-finite", nan_weight, &["analyze", "--run-dir", "RUN"], "no checkpoint of"),
    busy("analyze: while another writer runs", &["analyze", "--run-dir", "RUN"]),
    case("analyze: every 0", untouched, &["analyze", "--run-dir", "RUN", "--every", "0"], "--every must be at least 1"),
    case("analyze: batch 0", untouched, &["analyze", "--run-dir", "RUN", "--batch", "0"], "--batch must be at least 1"),
    case("analyze: unknown family", untouched, &["analyze", "--run-dir", "RUN", "--only", "spectrum,nosuch"], "nosuch"),
    // intervene
    case("intervene: frequency 0", untouched, &["intervene", "ablate-freq", "--run-dir", "RUN", "--step", "6", "--k", "0"], "frequenc"),
    case("intervene: frequency beyond K", untouched, &["intervene", "ablate-freq", "--run-dir", "RUN", "--step", "6", "--k", "2,6"], "6"),
    case("intervene: no such step", untouched, &["intervene", "phase", "--run-dir", "RUN", "--step", "999"], "999"),
    case("intervene: no step", untouched, &["intervene", "phase", "--run-dir", "RUN"], "required arguments"),
    case("intervene: unknown mode", untouched, &["intervene", "phase", "--run-dir", "RUN", "--step", "6", "--mode", "sideways"], "sideways"),
    case("intervene: no directory", no_run, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "holds no run"),
    case("intervene: token beyond p", token_out_of_range, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "x[3] = 50 is not a number below p = 11"),
    case("intervene: tensor of another shape", fc1_reshaped, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "fc1.weight: shape [4, 32], expected [8, 16]"),
    case("intervene: tensor missing", fc2_bias_renamed, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "has no tensor fc2.bias"),
    case("intervene: tensor extra", extra_tensor, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "holds embed.extra, which the run's model does not have"),
    case("intervene: non-finite weights", nan_weight, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "embed.weight holds 1 non-finite value"),
    busy("intervene: while another writer runs", &["intervene", "phase", "--run-dir", "RUN", "--step", "6"]),
    case("intervene: truncated checkpoint", truncated_checkpoints, &["intervene", "phase", "--run-dir", "RUN", "--step", "6"], "truncated"),
    // plot
    case("plot: no directory", no_run, &["plot", "--run-dir", "RUN"], "RUN"),
    case("plot: empty directory", empty_run, &["plot", "--run-dir", "RUN"], "RUN"),
    case("plot: a file", run_is_a_file, &["plot", "--run-dir", "RUN"], "RUN"),
    case("plot: corrupt sweep.json", |r| std::fs::write(r.join("sweep.json"), "{").unwrap(), &["plot", "--run-dir", "RUN"], "sweep.json"),
    // export
    case("export: no directory", no_run, &["export", "--run-dir", "RUN", "--out", "DIR/out", "--format", "transformer-lens"], "holds no run"),
    case("export: a model TransformerLens lacks", untouched, &["export", "--run-dir", "RUN", "--out", "DIR/out", "--format", "transformer-lens"], "TransformerLens has no model like grokgpu's MLP"),
    case("export: no format", untouched, &["export", "--run-dir", "RUN", "--out", "DIR/out"], "required arguments"),
    // bench
    case("bench: no runs", untouched, &["bench", "step", "--quick", "--runs", "0"], "--runs"),
    case("bench: unknown preset", untouched, &["bench", "step", "--quick", "--presets", "nosuch"], "nosuch"),
    case("bench: unknown target", untouched, &["bench", "nosuch"], "nosuch"),
];

/// The scratch directory of this test process, in the system's temporary directory; a case
/// that fails leaves its copy there to look at.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("grokgpu-faults-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The tiny run, trained once per test binary.
fn tiny_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let run = root().join("tiny");
        let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).arg("train").args(TINY).arg("--out-dir").arg(&run).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        run
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Every file under `dir` (or `dir` itself when it is a file) with its bytes, but the run
/// directory's lock file, which holds the process id of its latest writer by design.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if dir.ends_with(".grokgpu.lock") {
        return files;
    }
    if dir.is_file() {
        files.insert(dir.to_path_buf(), std::fs::read(dir).unwrap());
    } else if dir.is_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            files.extend(snapshot(&entry.unwrap().path()));
        }
    }
    files
}

/// Runs one case; the reason it fails, if it does.
fn check(index: usize, case: &Case) -> Option<String> {
    let dir = root().join(format!("case{index:02}"));
    let run = dir.join("run");
    copy_dir(tiny_run(), &run);
    (case.setup)(&run);
    let _lock = case.locked.then(|| {
        let file = std::fs::File::create(run.join(".grokgpu.lock")).unwrap();
        file.try_lock().unwrap();
        std::fs::write(run.join(".grokgpu.lock"), std::process::id().to_string()).unwrap();
        file
    });
    let before = snapshot(&dir);
    let mut args: Vec<String> = vec![];
    for arg in case.args {
        match *arg {
            "TINY" => args.extend(TINY.iter().map(|s| s.to_string())),
            a => args.push(a.replace("RUN", run.to_str().unwrap()).replace("DIR", dir.to_str().unwrap())),
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    let expect = case.expect.replace("RUN", run.to_str().unwrap());
    let problem = if out.status.success() {
        Some("exit status 0".to_string())
    } else if stderr.contains("panicked") || out.status.code() == Some(101) {
        Some("a panic".to_string())
    } else if errors.len() != 1 {
        Some(format!("{} error lines", errors.len()))
    } else if !errors[0].contains(&expect) {
        Some(format!("the error line does not mention {expect:?}"))
    } else if snapshot(&dir) != before {
        Some("files changed".to_string())
    } else {
        None
    };
    if problem.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    problem.map(|p| format!("{}: {p}\n  grokgpu {}\n  stderr: {}", case.name, args.join(" "), stderr.trim_end().replace('\n', "\n          ")))
}

fn check_command(command: &str) {
    let failures: Vec<String> =
        CASES.iter().enumerate().filter(|(_, c)| c.name.starts_with(&format!("{command}:"))).filter_map(|(i, c)| check(i, c)).collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_table_covers_every_writing_command() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    for command in ["train", "analyze", "intervene", "plot", "export", "bench"] {
        assert!(CASES.iter().any(|c| c.name.starts_with(&format!("{command}:"))), "no case for {command}");
    }
}

#[test]
fn train_faults() {
    check_command("train");
}

#[test]
fn analyze_faults() {
    check_command("analyze");
}

#[test]
fn intervene_faults() {
    check_command("intervene");
}

#[test]
fn plot_faults() {
    check_command("plot");
}

#[test]
fn export_faults() {
    check_command("export");
}

#[test]
fn bench_faults() {
    check_command("bench");
}

/// `grokgpu train … | head -1`: the reader goes away; training ends without a panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    let run = root().join("closed-stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_grokgpu"))
        .args(["train", "--preset", "quick", "--p", "11", "--d-model", "8", "--steps", "300", "--eval-every", "1", "--out-dir"])
        .arg(&run)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    assert!(!first.is_empty(), "a first line");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && out.status.code() != Some(101), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("error:"), "{stderr}");
}
