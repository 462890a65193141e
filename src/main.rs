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
        Command::Bench { target } => cli::bench::run(target),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
