//! The autotuner: times every candidate variant ([`GemmKernel::candidates`]) on one
//! product shape on this adapter and keeps the fastest. Winners are cached in
//! `gemm-tune.json` in the user's cache directory (`$GROKGPU_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/grokgpu`, else `~/.cache/grokgpu`), keyed by adapter, driver, grokgpu
//! version and shape, so each shape is tuned once per machine.
//!
//! Tuning is off unless a command turns it on ([`enable`]): the library and its tests
//! use the adapter's defaults. `GROKGPU_TUNE=off` keeps it off for the commands too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::choice::ProductShape;
use super::kernel::{shared_runs_on, GemmKernel};
use super::launch::{Gemm, SecondProduct};
use crate::gpu::{Buffer, Gpu, Program};

/// The cache file's name inside the cache directory.
const CACHE_FILE: &str = "gemm-tune.json";
/// Seconds of launches each timed round aims for: enough to rise above the clock's noise,
/// few enough that tuning a model costs seconds on a software adapter.
const ROUND_SECONDS: f64 = 0.01;
/// Timed rounds per candidate; the best counts (other load only ever slows a round).
const ROUNDS: usize = 3;

/// The tuner a command turned on: where its cache lives and what it holds.
struct Tuner {
    path: PathBuf,
    entries: BTreeMap<String, String>,
    /// Whether the "tuning" notice was printed yet.
    announced: bool,
}

static TUNER: Mutex<Option<Tuner>> = Mutex::new(None);

/// The cache file: `$GROKGPU_CACHE_DIR`, `$XDG_CACHE_HOME/grokgpu` or `~/.cache/grokgpu`.
pub fn cache_path() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = var("GROKGPU_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("grokgpu")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("grokgpu")))?;
    Some(dir.join(CACHE_FILE))
}

/// Turns tuning on for this process with the user's cache, unless `GROKGPU_TUNE=off` or
/// no cache directory is known. Returns the cache file in use.
pub fn enable() -> Option<PathBuf> {
    if std::env::var("GROKGPU_TUNE").is_ok_and(|v| v == "off") {
        return None;
    }
    let path = cache_path()?;
    // An unreadable or corrupt cache is only lost time: start afresh and rewrite it.
    let entries = std::fs::read(&path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default();
    *TUNER.lock().unwrap() = Some(Tuner { path: path.clone(), entries, announced: false });
    Some(path)
}

/// What identifies the adapter a winner was measured on.
fn device_key(gpu: &Gpu) -> String {
    let info = &gpu.info;
    format!("{} | {:?} | {} {} | grokgpu {}", info.name, info.backend, info.driver, info.driver_info, env!("CARGO_PKG_VERSION"))
}

/// The cached winner for `shape`, tuning it now when the cache lacks it; `None` when
/// tuning is off.
pub(super) fn tuned(gpu: &Gpu, shape: &ProductShape) -> Option<GemmKernel> {
    let mut guard = TUNER.lock().unwrap();
    let tuner = guard.as_mut()?;
    let key = format!("{} | {shape}", device_key(gpu));
    if let Some(kernel) = tuner.entries.get(&key).and_then(|name| GemmKernel::parse(name)) {
        return Some(kernel);
    }
    if !tuner.announced {
        eprintln!("tuning matmul variants for {} (once per shape; cached in {})", gpu.adapter_name(), tuner.path.display());
        tuner.announced = true;
    }
    let (winner, _) = time_candidates(gpu, shape).into_iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    tuner.entries.insert(key, winner.name());
    if let Err(e) = save(&tuner.path, &tuner.entries) {
        eprintln!("warning: could not write the matmul tune cache {}: {e}", tuner.path.display());
    }
    Some(winner)
}

/// Writes the cache atomically (a temporary file renamed over it).
fn save(path: &std::path::Path, entries: &BTreeMap<String, String>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(entries)?)?;
    std::fs::rename(&tmp, path)
}

/// Deterministic values in [-1, 1): timings do not depend on them, but NaN- and
/// denormal-free inputs keep every adapter on its fast path.
pub fn filled(gpu: &Gpu, label: &str, len: usize) -> Buffer {
    let data: Vec<f32> = (0..len).map(|i| ((i * 2_654_435_761) % 2001) as f32 / 1000.0 - 1.0).collect();
    gpu.buffer_from(label, &data)
}

/// Operands for one launch of `shape`, contiguous per batch entry: A (shared by the
/// products), then B and C of each product.
pub struct Operands {
    pub a: Buffer,
    pub bc: Vec<(Buffer, Buffer)>,
}

impl Operands {
    pub fn new(gpu: &Gpu, shape: &ProductShape) -> Operands {
        let r = shape.batch;
        let a_len = shape.products.iter().map(|&(_, [m, _, k])| r * m * k).max().unwrap_or(0);
        let bc = shape.products.iter().map(|&(_, [m, n, k])| (filled(gpu, "tune B", r * k * n), gpu.buffer("tune C", r * m * n)));
        Operands { a: filled(gpu, "tune A", a_len), bc: bc.collect() }
    }

    /// The launch of `shape` over these operands with `kernel` (`None`: the device's choice).
    pub fn gemm<'a>(&'a self, shape: &ProductShape, kernel: Option<GemmKernel>) -> Gemm<'a> {
        let (layout, [m, n, k]) = shape.products[0];
        let second = shape.products.get(1).map(|&(l, dims)| SecondProduct::new(l, dims, &self.bc[1].0, &self.bc[1].1));
        Gemm { second, kernel, ..Gemm::new(layout, [shape.batch, m, n, k], &self.a, &self.bc[0].0, &self.bc[0].1) }
    }
}

/// Seconds per launch of `gemm`: a warm-up, a probe that sizes the rounds to `round`
/// seconds, then the best (or with `median`, the median) of `rounds` rounds; and whether
/// GPU timestamps measured it.
pub fn time_launch(gpu: &Gpu, gemm: &Gemm, round: f64, rounds: usize, median: bool) -> (f64, bool) {
    let mut program = Program::new();
    program.push(gemm.dispatch(gpu));
    gpu.time_replay(&program, 1);
    let probe = gpu.time_replay(&program, 1).seconds().max(1e-7);
    let replays = ((round / probe) as usize).clamp(1, 1000);
    let mut times: Vec<(f64, bool)> = (0..rounds.max(1))
        .map(|_| {
            let t = gpu.time_replay(&program, replays);
            (t.seconds() / replays as f64, t.gpu_seconds.is_some())
        })
        .collect();
    times.sort_by(|x, y| x.0.total_cmp(&y.0));
    times[if median { times.len() / 2 } else { 0 }]
}

/// Every candidate for this adapter with its seconds per launch of `shape`.
pub fn time_candidates(gpu: &Gpu, shape: &ProductShape) -> Vec<(GemmKernel, f64)> {
    let operands = Operands::new(gpu, shape);
    GemmKernel::candidates(gpu.is_software(), shared_runs_on(gpu))
        .into_iter()
        .map(|kernel| (kernel, time_launch(gpu, &operands.gemm(shape, Some(kernel)), ROUND_SECONDS, ROUNDS, false).0))
        .collect()
}
