//! `grokgpu bench <target>`: microbenchmarks, printed as a table or as JSON.

use clap::{Args, Subcommand};
use grokgpu::bench;
use grokgpu::gpu::Gpu;
use grokgpu::Result;

/// What to benchmark.
#[derive(Subcommand)]
pub enum Target {
    /// Batched complex FFTs at lengths 97, 113, 96, 128, 256, 1024, 4096: transforms per
    /// second and effective GB/s.
    Fft(Options),
}

/// Flags every target takes.
#[derive(Args)]
pub struct Options {
    /// Smaller batches and fewer replays (seconds on a software adapter).
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(target: Target) -> Result<()> {
    match target {
        Target::Fft(options) => fft(&options),
    }
}

fn fft(options: &Options) -> Result<()> {
    let gpu = Gpu::open(options.json)?;
    let results = bench::fft::run(&gpu, options.quick);
    let timer = if gpu.has_timestamps() { "gpu timestamps" } else { "wall clock" };
    if options.json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "n": r.n,
                    "batch": r.batch,
                    "padded_len": r.padded_len,
                    "dispatches": r.dispatches,
                    "replays": r.replays,
                    "seconds_per_batch": r.seconds,
                    "transforms_per_second": r.transforms_per_second(),
                    "effective_gb_per_second": r.effective_gb_per_second(),
                    "gpu_timer": r.gpu_timer,
                })
            })
            .collect();
        let doc = serde_json::json!({ "bench": "fft", "adapter": gpu.adapter_name(), "timer": timer, "results": rows });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("fft on {} ({timer}); complex forward, contiguous rows", gpu.adapter_name());
    println!("{:>6} {:>8} {:>6} {:>10} {:>12} {:>14} {:>10}", "n", "batch", "M", "dispatches", "µs/batch", "transforms/s", "GB/s");
    for r in &results {
        println!(
            "{:>6} {:>8} {:>6} {:>10} {:>12.1} {:>14.3e} {:>10.2}",
            r.n,
            r.batch,
            r.padded_len,
            r.dispatches,
            r.seconds * 1e6,
            r.transforms_per_second(),
            r.effective_gb_per_second()
        );
    }
    Ok(())
}
