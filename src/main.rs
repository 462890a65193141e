//! The grokgpu command line.

use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(name = "grokgpu", version, about = "Grokking research on any GPU: train, analyze, plot, benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every GPU adapter grokgpu can use and mark the one it picks
    /// (override with GROKGPU_BACKEND=vulkan|metal|dx12|gl and GROKGPU_ADAPTER=<name substring>).
    Devices,
    /// Train a grokking setup (default: the power2022 preset into runs/power2022).
    Train(Box<cli::train::Args>),
    /// Draw the figures of a run directory (or of every run of a multi-run, plus overlays)
    /// into DIR/plots/.
    Plot(cli::plot::Args),
    /// Analyze a run's checkpoints: analysis.jsonl, summary.json and summary.md in the run
    /// directory (incremental: a re-run analyzes only what is new).
    Analyze(cli::analyze::AnalyzeArgs),
    /// Edit a checkpoint's embedding and report train/validation accuracy and loss before
    /// and after.
    Intervene {
        #[command(subcommand)]
        command: cli::intervene::InterveneCommand,
    },
    /// Write a run's checkpoints in another tool's format (transformer-lens: TransformerLens
    /// 3.x's HookedTransformer).
    Export(cli::export::ExportArgs),
    /// Time every matmul variant for each product of a preset's (or a run's) training step
    /// on this adapter and cache the fastest (train, analyze and bench tune on first use).
    Tune(cli::tune::Args),
    /// Microbenchmarks of grokgpu's kernels.
    Bench {
        #[command(subcommand)]
        target: cli::bench::Target,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices => cli::devices::run(),
        Command::Train(args) => cli::train::run(&args),
        Command::Plot(args) => cli::plot::run(&args),
        Command::Analyze(args) => cli::analyze::run(&args),
        Command::Intervene { command } => cli::intervene::run(command),
        Command::Export(args) => cli::export::run(&args),
        Command::Tune(args) => cli::tune::run(&args),
        Command::Bench { target } => cli::bench::run(target),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
