//! A checkpoint written by Python's `safetensors` library (tests/fixtures/
//! python_checkpoint.safetensors, made by make_python_checkpoint.py beside it) stores its
//! tensors sorted by name, not in grokgpu's layout order. `analyze` and `intervene` must read
//! it by name: their results equal those of the same weights saved by grokgpu.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use grokgpu::io::safetensors::{self, Tensor};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/python_checkpoint.safetensors");
/// The MLP's tensors in grokgpu's layout order (its checkpoint order).
const LAYOUT_ORDER: [&str; 5] = ["embed.weight", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

fn grokgpu(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args).output().expect("grokgpu runs");
    assert!(out.status.success(), "grokgpu {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-python-checkpoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixture's model, trained 6 steps so the run has its config, dataset and metrics.
fn train(dir: &Path) {
    grokgpu(&["train", "--preset", "quick", "--p", "11", "--d-model", "8", "--steps", "6", "--eval-every", "3", "--ckpt-every", "3", "--out-dir", dir.to_str().unwrap()]);
}

/// The stdout of `intervene` without the line naming the saved file.
fn intervention(dir: &Path) -> String {
    let out = grokgpu(&["intervene", "ablate-freq", "--run-dir", dir.to_str().unwrap(), "--step", "6", "--k", "1,3"]);
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.starts_with("saved ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_checkpoint_saved_by_python_is_read_by_name() {
    let root = scratch();
    let fixture = safetensors::read(Path::new(FIXTURE)).unwrap();
    let file_order: Vec<&str> = fixture.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_ne!(file_order, LAYOUT_ORDER, "the fixture must store its tensors in another order than grokgpu's");

    // The same weights in grokgpu's order, written by grokgpu.
    let reordered: Vec<Tensor> = LAYOUT_ORDER.iter().map(|n| fixture.get(n).unwrap().clone()).collect();
    let (python_run, grokgpu_run) = (root.join("python"), root.join("grokgpu"));
    for run in [&python_run, &grokgpu_run] {
        train(run);
    }
    let step6 = |run: &Path| run.join("checkpoints/step_00000006.safetensors");
    std::fs::copy(FIXTURE, step6(&python_run)).unwrap();
    safetensors::write(&step6(&grokgpu_run), &reordered, &BTreeMap::from([("step".to_string(), "6".to_string())])).unwrap();

    for run in [&python_run, &grokgpu_run] {
        grokgpu(&["analyze", "--run-dir", run.to_str().unwrap()]);
    }
    let analysis = |run: &Path| std::fs::read_to_string(run.join("analysis.jsonl")).unwrap();
    assert!(analysis(&python_run).contains("\"step\":6"));
    assert_eq!(analysis(&python_run), analysis(&grokgpu_run));
    assert_eq!(intervention(&python_run), intervention(&grokgpu_run));
    std::fs::remove_dir_all(&root).unwrap();
}
