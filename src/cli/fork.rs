//! `grokgpu fork --from DIR (--step S | --at EVENT) --out-dir D [--set KEY=V1,V2,…]…`:
//! runs that continue DIR's exact training state at a checkpoint, some settings changed.

use std::path::PathBuf;

use grokgpu::config::sweep::SweepAxis;
use grokgpu::train::fork::{fork, ForkOptions, ForkPoint};
use grokgpu::Result;

#[derive(clap::Args, Clone, Debug)]
#[command(group = clap::ArgGroup::new("point").required(true).args(["step", "at"]))]
pub struct Args {
    /// The run to fork (a run directory).
    #[arg(long)]
    pub from: PathBuf,
    /// The checkpoint step to continue from.
    #[arg(long)]
    pub step: Option<u64>,
    /// An event of the run's summary.json instead of a step: memorization, grokking,
    /// fsd-ceiling, circuit-crossover, n-eff-peak or excluded-loss-rise (the last checkpoint
    /// at or before it).
    #[arg(long, value_name = "EVENT")]
    pub at: Option<String>,
    /// Directory of the fork (of the forks, one per combination of --set values).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// One fork per value, e.g. weight_decay=0.1,0.3,1 (repeat for a grid): the optimizer's
    /// hyperparameters and the schedule may change. Without --set, the fork continues the
    /// run exactly.
    #[arg(long, value_name = "KEY=V1,V2,…")]
    pub set: Vec<SweepAxis>,
    /// Total updates of the forks (default: the run's).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Replace runs already in the output directory.
    #[arg(long)]
    pub force: bool,
}

impl Args {
    pub fn options(&self) -> ForkOptions {
        let at = match (&self.at, self.step) {
            (Some(event), _) => ForkPoint::Event(event.clone()),
            (None, step) => ForkPoint::Step(step.expect("clap requires --step or --at")),
        };
        ForkOptions { parent: self.from.clone(), at, out_dir: self.out_dir.clone(), sets: self.set.clone(), steps: self.steps, more_steps: None, until_val_acc: None, force: self.force }
    }
}

pub fn run(args: &Args) -> Result<()> {
    let forks = fork(&args.options())?;
    println!("{} fork(s) in {}", forks.len(), args.out_dir.display());
    Ok(())
}
