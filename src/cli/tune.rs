//! `grokgpu tune`: times every matmul variant for every product of a model's training step
//! on this adapter and caches the winners (see `tensor::gemm::tune`).

use std::path::PathBuf;

use clap::Args as ClapArgs;
use grokgpu::config::presets::preset;
use grokgpu::gpu::Gpu;
use grokgpu::rundir::RunDir;
use grokgpu::tensor::gemm::tune;
use grokgpu::train::trainer::Trainer;
use grokgpu::{Error, Result};

#[derive(ClapArgs)]
pub struct Args {
    /// The preset whose step to tune (default: power2022).
    #[arg(long, conflicts_with = "run_dir")]
    pub preset: Option<String>,
    /// Tune the step of the run in this directory instead.
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Runs R trained in the same dispatches.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

pub fn run(args: &Args) -> Result<()> {
    if args.runs == 0 {
        return Err(Error::msg("--runs must be at least 1"));
    }
    let cfg = match &args.run_dir {
        Some(dir) => RunDir::open(dir)?.1,
        None => preset(args.preset.as_deref().unwrap_or("power2022"))?.config,
    };
    let gpu = Gpu::open(false)?;
    let cache = tune::enable().ok_or_else(|| Error::msg("tuning is off (GROKGPU_TUNE=off, or no cache directory: set GROKGPU_CACHE_DIR)"))?;
    // Tracing the step launches every product once; each shape not yet cached is tuned then.
    Trainer::new(&gpu, vec![cfg; args.runs])?;
    let choices = gpu.choices();
    println!("matmul variants for {} product shapes on {} (R = {}):", choices.len(), gpu.adapter_name(), args.runs);
    for (shape, variant) in &choices {
        println!("  {shape:<45} {variant}");
    }
    println!("cached in {}", cache.display());
    Ok(())
}
