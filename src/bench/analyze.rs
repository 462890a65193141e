//! Analysis time per checkpoint and per family: trains the `quick` preset into a scratch
//! directory (through this same binary, silently), then times `grokgpu analyze` on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::analyze::run::{analyze, AnalyzeOptions, Observer};
use crate::analyze::timings::Timings;
use crate::gpu::Gpu;
use crate::{bail, Error, Result};

pub struct AnalyzeResult {
    pub checkpoints: usize,
    pub wall_seconds: f64,
    /// Per family (and "probe", the shared forward pass): summed time over all checkpoints.
    pub timings: Timings,
}

impl AnalyzeResult {
    pub fn wall_ms_per_checkpoint(&self) -> f64 {
        1e3 * self.wall_seconds / self.checkpoints.max(1) as f64
    }
}

struct Silent;

impl Observer for Silent {
    fn run_started(&self, _: &Path, _: usize) {}
    fn advanced(&self, _: usize) {}
    fn warn(&self, _: &str) {}
    fn run_finished(&self) {}
}

fn train_scratch_run(dir: &Path, quick: bool) -> Result<()> {
    let exe = std::env::current_exe().map_err(|e| Error::msg(format!("cannot find the grokgpu binary: {e}")))?;
    let mut cmd = Command::new(exe);
    cmd.args(["train", "--preset", "quick", "--force", "--out-dir"]).arg(dir);
    if quick {
        cmd.args(["--steps", "40", "--eval-every", "20", "--ckpt-every", "10"]);
    }
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status()?;
    if !status.success() {
        bail!("training the benchmark's run in {} failed", dir.display());
    }
    Ok(())
}

/// The quick preset's run (40 updates and 5 checkpoints with `quick`, else its full 1000
/// updates and 101 checkpoints), analyzed from scratch.
pub fn measure(gpu: &Gpu, quick: bool) -> Result<AnalyzeResult> {
    let dir: PathBuf = std::env::temp_dir().join(format!("grokgpu-bench-analyze-{}", std::process::id()));
    train_scratch_run(&dir, quick)?;
    let start = Instant::now();
    let reports = analyze(gpu, &dir, &AnalyzeOptions::default(), &Silent);
    let wall_seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let report = reports?.into_iter().next().ok_or_else(|| Error::msg("the benchmark's run was not analyzed"))?;
    Ok(AnalyzeResult { checkpoints: report.analyzed, wall_seconds, timings: report.timings })
}
