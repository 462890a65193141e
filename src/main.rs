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
    // Negative numbers are values (`--lr -1` is then refused by the setting's own check).
    #[command(allow_negative_numbers = true)]
    Train(Box<cli::train::Args>),
    /// Continue a run's exact training state at a checkpoint in new runs, optionally with
    /// other hyperparameters (one run per combination of --set values).
    Fork(cli::fork::Args),
    /// Draw the figures of a run directory (or of every run of a multi-run, plus overlays)
    /// into DIR/plots/.
    Plot(cli::plot::Args),
    /// Write a run's paper kit: its figures, report.md (Tables 1–3 and A1, the events
    /// timeline, the figures) and the tables as LaTeX (report.tex, tables/*.tex).
    Report(cli::report::Args),
    /// Analyze a run's checkpoints: analysis.jsonl, summary.json and summary.md in the run
    /// directory (incremental: a re-run analyzes only what is new).
    Analyze(cli::analyze::AnalyzeArgs),
    /// Causal experiments made of forks (seed 004's weight-decay law).
    Experiment {
        #[command(subcommand)]
        experiment: cli::experiment::Experiment,
    },
    /// Statistics across runs: each precursor's lead over grokking with the sign test, and
    /// grok and memorization steps by every setting that varies.
    Summarize(cli::summarize::Args),
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

/// A closed stdout (`grokgpu train … | head -1`) ends the process quietly, as it does any
/// Unix filter, instead of making the next `println!` panic.
fn exit_quietly_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Devices => cli::devices::run(),
        Command::Train(args) => cli::train::run(&args),
        Command::Fork(args) => cli::fork::run(&args),
        Command::Plot(args) => cli::plot::run(&args),
        Command::Report(args) => cli::report::run(&args),
        Command::Analyze(args) => cli::analyze::run(&args),
        Command::Experiment { experiment } => cli::experiment::run(experiment),
        Command::Summarize(args) => cli::summarize::run(&args),
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
