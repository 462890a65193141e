//! A run records the matmul variant of each product shape in kernels.json, and `--resume`
//! launches those, whatever the tune cache or the adapter's default would pick now. Every
//! variant sums in the same order, so the resumed run still ends with the bits of an
//! uninterrupted one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use grokgpu::rundir::{read_checkpoint, read_kernels, write_kernels};

/// A variant no adapter picks by default: 3 lanes of 5 rows.
const ODD_VARIANT: &str = "simd-3x5";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Trains the small quick run in `dir` up to `steps`, tuning off (the variants come from
/// the run directory or the adapter's default, never from this machine's cache).
fn train(dir: &Path, steps: u64, resume: bool) {
    let steps = steps.to_string();
    let mut args = vec!["train", "--preset", "quick", "--p", "23", "--d-model", "16", "--batch-size", "64", "--eval-every", "10", "--ckpt-every", "10"];
    args.extend(["--steps", &steps, "--out-dir", dir.to_str().unwrap()]);
    if resume {
        args.push("--resume");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(&args).env("GROKGPU_TUNE", "off").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn final_weights(dir: &Path, step: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    read_checkpoint(&dir.join(format!("checkpoints/step_{step:08}.safetensors"))).unwrap().params
}

#[test]
fn resumed_run_launches_its_recorded_variants_and_ends_bit_identical() {
    let whole = scratch("kernels-whole");
    train(&whole, 40, false);
    let defaults = read_kernels(&whole).unwrap();
    assert!(!defaults.is_empty(), "the run recorded no matmul variants");
    assert!(defaults.values().all(|v| v != ODD_VARIANT), "the odd variant is some adapter's default: pick another");

    // Half the run, then its record rewritten to the odd variant, then resumed.
    let part = scratch("kernels-part");
    train(&part, 20, false);
    assert_eq!(read_kernels(&part).unwrap(), defaults, "the same run recorded other variants");
    let odd: BTreeMap<String, String> = defaults.keys().map(|shape| (shape.clone(), ODD_VARIANT.to_string())).collect();
    write_kernels(&part, &odd).unwrap();
    train(&part, 40, true);

    // The resumed run launched what was recorded (and recorded it again), not the default.
    assert_eq!(read_kernels(&part).unwrap(), odd, "the resumed run did not keep its recorded variants");
    assert!(final_weights(&part, 40) == final_weights(&whole, 40), "the resumed run ends with different weights");
    for d in [whole, part] {
        std::fs::remove_dir_all(d).unwrap();
    }
}
