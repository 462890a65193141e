//! `grokgpu report --run-dir DIR`: the run's figures, report.md and its tables as LaTeX.

use std::path::PathBuf;

use grokgpu::report::report_dir;
use grokgpu::Result;

#[derive(clap::Args)]
pub struct Args {
    /// A run directory (analyzed with `grokgpu analyze` for the tables) or a multi-run
    /// directory (sweep.json).
    #[arg(long)]
    pub run_dir: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    for file in report_dir(&args.run_dir)? {
        println!("wrote {}", file.display());
    }
    Ok(())
}
