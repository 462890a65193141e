//! `grokgpu bench <target>`: microbenchmarks, printed as tables or, with `--json`, as one
//! JSON object per line (each with "bench" and "device"), the form tools/bench_torch.py
//! prints and tools/compare_bench.py reads.

use clap::{Args, Subcommand};
use grokgpu::bench;
use grokgpu::gpu::Gpu;
use grokgpu::{bail, Result};
use serde_json::json;

/// What to benchmark.
#[derive(Subcommand)]
pub enum Target {
    /// Batched complex FFTs at lengths 97, 113, 96, 128, 256, 1024, 4096: transforms per
    /// second and effective GB/s.
    Fft(Options),
    /// GFLOP/s of A·B, Aᵀ·B and A·Bᵀ at power2022's linear shapes (forward, both backward
    /// products and the fused backward) and at squares, for every kernel variant of the
    /// adapter, the tuned one marked with *.
    Matmul(MatmulOptions),
    /// Training steps per second of a preset's replayed step program at R runs.
    Step(StepOptions),
    /// Analysis time per checkpoint, in all and per family, on a run of the quick preset.
    Analyze(Options),
    /// Every target above, in turn (fft, matmul, step with its defaults, analyze).
    All(Options),
}

const PRESETS: &[&str] = &["power2022", "nanda2023", "tian-mlp"];
const RUNS: &[usize] = &[1, 8, 64];

#[derive(Args)]
pub struct StepOptions {
    /// Presets to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = PRESETS.iter().map(ToString::to_string))]
    pub presets: Vec<String>,
    /// Run counts R to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = RUNS.to_vec())]
    pub runs: Vec<usize>,
    /// Time each dispatch of the step alone and print the breakdown.
    #[arg(long)]
    pub profile: bool,
    #[command(flatten)]
    pub common: Options,
}

#[derive(Args)]
pub struct MatmulOptions {
    /// Run counts R of the layers' products, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = MATMUL_RUNS.to_vec())]
    pub runs: Vec<usize>,
    /// Sizes of the square products, comma-separated (--squares alone for none).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_values_t = SQUARES.to_vec())]
    pub squares: Vec<usize>,
    #[command(flatten)]
    pub common: Options,
}

const MATMUL_RUNS: &[usize] = &[1, 64];
const SQUARES: &[usize] = &[1024, 4096];

/// Flags every target takes.
#[derive(Args, Clone, Copy)]
pub struct Options {
    /// Smaller sizes and fewer replays (seconds on a software adapter; step: R = 1 only).
    #[arg(long)]
    pub quick: bool,
    /// One JSON object per line instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(target: Target) -> Result<()> {
    let quiet = match &target {
        Target::Fft(o) | Target::Analyze(o) | Target::All(o) => o.json,
        Target::Matmul(o) => o.common.json,
        Target::Step(o) => o.common.json,
    };
    let gpu = Gpu::open(quiet)?;
    grokgpu::tensor::gemm::tune::enable();
    match target {
        Target::Fft(options) => fft(&gpu, options),
        Target::Matmul(options) => matmul(&gpu, &options),
        Target::Step(options) => step(&gpu, &options),
        Target::Analyze(options) => analyze(&gpu, options),
        Target::All(options) => {
            fft(&gpu, options)?;
            matmul(&gpu, &MatmulOptions { runs: MATMUL_RUNS.to_vec(), squares: SQUARES.to_vec(), common: options })?;
            let presets = PRESETS.iter().map(ToString::to_string).collect();
            step(&gpu, &StepOptions { presets, runs: RUNS.to_vec(), profile: false, common: options })?;
            analyze(&gpu, options)
        }
    }
}

fn analyze(gpu: &Gpu, options: Options) -> Result<()> {
    let r = bench::analyze::measure(gpu, options.quick)?;
    let per = r.checkpoints.max(1) as f64;
    if options.json {
        let families: serde_json::Map<String, serde_json::Value> =
            r.timings.parts.iter().map(|(part, d)| (part.to_string(), json!(1e3 * d.as_secs_f64() / per))).collect();
        let doc = json!({
            "bench": "analyze", "preset": "quick", "checkpoints": r.checkpoints,
            "ms_per_checkpoint": r.wall_ms_per_checkpoint(), "family_ms_per_checkpoint": families,
            "device": gpu.adapter_name(),
        });
        println!("{doc}");
        return Ok(());
    }
    println!(
        "\nanalysis on {} (wall clock): {} checkpoints of the quick preset, {:.1} ms per checkpoint",
        gpu.adapter_name(),
        r.checkpoints,
        r.wall_ms_per_checkpoint()
    );
    print!("{}", r.timings.table());
    Ok(())
}

fn timer(gpu: &Gpu) -> &'static str {
    if gpu.has_timestamps() {
        "gpu timestamps"
    } else {
        "wall clock"
    }
}

fn step(gpu: &Gpu, options: &StepOptions) -> Result<()> {
    if options.runs.contains(&0) {
        bail!("--runs takes run counts of at least 1, got 0");
    }
    let (steps, rounds) = if options.common.quick { (1, 3) } else { (64, 5) };
    let runs = if options.common.quick { vec![1] } else { options.runs.clone() };
    if !options.common.json {
        println!("\ntraining step on {} (wall clock, median of {rounds} rounds of {steps} steps)", gpu.adapter_name());
        println!("{:>10} {:>4} {:>10} {:>12} {:>12} {:>14} {:>12}", "preset", "R", "dispatches", "ms/step", "steps/s", "aggregate/s", "encode µs");
    }
    for preset in &options.presets {
        for &r in &runs {
            let m = bench::step::measure(gpu, preset, r, steps, rounds, options.profile)?;
            if options.common.json {
                let doc = json!({
                    "bench": "step", "config": m.preset, "mode": "grokgpu", "runs": m.runs,
                    "steps_per_s": m.steps_per_second(), "aggregate_steps_per_s": m.aggregate_steps_per_second(),
                    "dispatches_per_step": m.dispatches, "submits_per_step": m.submits_per_step,
                    "encode_us_per_step": m.encode_seconds * 1e6, "device": gpu.adapter_name(),
                    "profile": m.profile.iter().map(|(l, s)| json!([l, s])).collect::<Vec<_>>(),
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

fn matmul(gpu: &Gpu, matmul_options: &MatmulOptions) -> Result<()> {
    let options = matmul_options.common;
    if matmul_options.runs.contains(&0) || matmul_options.squares.contains(&0) {
        return Err(grokgpu::Error::msg("--runs and --squares take positive sizes"));
    }
    let (results, skipped) = bench::matmul::run(gpu, options.quick, &matmul_options.runs, &matmul_options.squares);
    if options.json {
        for r in &results {
            let c = &r.case;
            let doc = json!({
                "bench": "matmul", "case": c.label, "layout": c.layout(), "runs": c.shape.batch,
                "mnk": c.shape.dims(), "variant": r.kernel.name(), "chosen": r.chosen,
                "entry": r.entry, "seconds": r.seconds, "gflops": r.gflops(),
                "gpu_timer": r.gpu_timer, "device": gpu.adapter_name(),
            });
            println!("{doc}");
        }
        for c in &skipped {
            println!("{}", json!({"bench": "matmul", "case": c.label, "runs": c.shape.batch, "skipped": "exceeds the adapter's storage binding size", "device": gpu.adapter_name()}));
        }
        return Ok(());
    }
    println!("\nmatmul on {} ({}; median of rounds after a warm-up)", gpu.adapter_name(), timer(gpu));
    println!("{:>30} {:>12} {:>3} {:>22} {:>20} {:>10} {:>10}", "case", "layout", "R", "m×n×k", "variant (* chosen)", "µs", "GFLOP/s");
    for r in &results {
        let c = &r.case;
        let mnk: Vec<String> = c.shape.dims().iter().map(|[m, n, k]| format!("{m}×{n}×{k}")).collect();
        let variant = format!("{}{}", if r.chosen { "*" } else { "" }, r.kernel.name());
        println!(
            "{:>30} {:>12} {:>3} {:>22} {:>20} {:>10.1} {:>10.2}",
            c.label,
            c.layout(),
            c.shape.batch,
            mnk.join("+"),
            variant,
            r.seconds * 1e6,
            r.gflops()
        );
    }
    for c in &skipped {
        println!("{:>30} {:>12} {:>3}  skipped: exceeds the adapter's storage binding size", c.label, c.layout(), c.shape.batch);
    }
    Ok(())
}

fn fft(gpu: &Gpu, options: Options) -> Result<()> {
    let results = bench::fft::run(gpu, options.quick);
    if options.json {
        for r in &results {
            let doc = json!({
                "bench": "fft", "n": r.n, "batch": r.batch, "padded_len": r.padded_len,
                "dispatches": r.dispatches, "replays": r.replays, "seconds_per_batch": r.seconds,
                "transforms_per_second": r.transforms_per_second(),
                "effective_gb_per_second": r.effective_gb_per_second(),
                "gpu_timer": r.gpu_timer, "device": gpu.adapter_name(),
            });
            println!("{doc}");
        }
        return Ok(());
    }
    println!("\nfft on {} ({}); complex forward, contiguous rows", gpu.adapter_name(), timer(gpu));
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
