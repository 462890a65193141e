//! `grokgpu plot --run-dir DIR`: every figure of a run (or multi-run) into DIR/plots/, one
//! line per figure (written, or skipped and why).

use std::io::Write;
use std::path::PathBuf;

use grokgpu::plot::{plot_dir, Outcome};
use grokgpu::{bail, Result};

#[derive(clap::Args)]
pub struct Args {
    /// A run directory (config.json, metrics.jsonl, analysis.jsonl) or a multi-run directory
    /// (sweep.json).
    #[arg(long)]
    pub run_dir: PathBuf,
}

/// Prints a line, ignoring a closed stdout (`grokgpu plot … | head` must not panic).
fn say(line: &dyn std::fmt::Display) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

pub fn run(args: &Args) -> Result<()> {
    let outcomes = plot_dir(&args.run_dir, &mut |o| say(o))?;
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let (written, skipped, failed) = (count(|o| matches!(o, Outcome::Written(_))), count(|o| matches!(o, Outcome::Skipped { .. })), count(|o| matches!(o, Outcome::Failed { .. })));
    say(&format!("{written} figures written, {skipped} skipped"));
    if failed > 0 {
        bail!("{failed} figure(s) failed to draw");
    }
    Ok(())
}
