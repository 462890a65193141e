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
    /// Training steps per second of a preset's replayed step program at R runs.
    Step(StepOptions),
}

#[derive(Args)]
pub struct StepOptions {
    /// Presets to time, comma-separated.
    #[arg(long, default_value = "power2022,nanda2023,tian-mlp", value_delimiter = ',')]
    pub presets: Vec<String>,
    /// Run counts R to time, comma-separated.
    #[arg(long, default_value = "1,8,64", value_delimiter = ',')]
    pub runs: Vec<usize>,
    /// Time each dispatch of the step alone and print the breakdown.
    #[arg(long)]
    pub profile: bool,
    #[command(flatten)]
    pub common: Options,
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
        Target::Step(options) => step(&options),
    }
}

fn step(options: &StepOptions) -> Result<()> {
    let gpu = Gpu::open(options.common.json)?;
    let (steps, rounds) = if options.common.quick { (4, 3) } else { (64, 5) };
    let runs = if options.common.quick { vec![1] } else { options.runs.clone() };
    if !options.common.json {
        println!("training step on {} (wall clock, median of {rounds} rounds of {steps} steps)", gpu.adapter_name());
        println!("{:>10} {:>4} {:>10} {:>12} {:>12} {:>14} {:>12}", "preset", "R", "dispatches", "ms/step", "steps/s", "aggregate/s", "encode µs");
    }
    for preset in &options.presets {
        for &r in &runs {
            let m = bench::step::measure(&gpu, preset, r, steps, rounds, options.profile)?;
            if options.common.json {
                let doc = serde_json::json!({
                    "bench": "step", "config": m.preset, "mode": "grokgpu", "runs": m.runs,
                    "steps_per_s": m.steps_per_second(), "aggregate_steps_per_s": m.aggregate_steps_per_second(),
                    "dispatches_per_step": m.dispatches, "submits_per_step": m.submits_per_step,
                    "encode_us_per_step": m.encode_seconds * 1e6, "device": gpu.adapter_name(),
                    "profile": m.profile.iter().map(|(l, s)| serde_json::json!([l, s])).collect::<Vec<_>>(),
                });
                println!("{doc}");
                continue;
            }
            println!(
                "{:>10} {:>4} {:>10} {:>12.3} {:>12.1} {:>14.1} {:>12.1}",
                m.preset, m.runs, m.dispatches, m.seconds_per_step * 1e3, m.steps_per_second(), m.aggregate_steps_per_second(), m.encode_seconds * 1e6
            );
            let total: f64 = m.profile.iter().map(|p| p.1).sum();
            for (label, s) in &m.profile {
                println!("{:>28} {:>10.1} µs {:>5.1}%", label, s * 1e6, 100.0 * s / total);
            }
        }
    }
    Ok(())
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
