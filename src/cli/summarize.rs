//! `grokgpu summarize DIR [DIR…]`: statistics across runs (a multi-run directory, or any
//! run directories) into summary_runs.json and summary_runs.md, the tables printed.

use std::path::PathBuf;

use grokgpu::analyze::across_runs::write_summary_runs;
use grokgpu::rundir::{SUMMARY_RUNS_JSON, SUMMARY_RUNS_MD};
use grokgpu::{bail, Result};

#[derive(clap::Args)]
pub struct Args {
    /// A multi-run directory (sweep.json), or run directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where summary_runs.json and summary_runs.md go (default: the directory, when one is
    /// given).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let out_dir = match (&args.out_dir, args.dirs.as_slice()) {
        (Some(d), _) => d.clone(),
        (None, [one]) => one.clone(),
        (None, _) => bail!("several directories given: say where the summary goes with --out-dir"),
    };
    let md = write_summary_runs(&args.dirs, &out_dir)?;
    print!("{md}");
    println!("\nwritten: {} and {}", out_dir.join(SUMMARY_RUNS_JSON).display(), out_dir.join(SUMMARY_RUNS_MD).display());
    Ok(())
}
