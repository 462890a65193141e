//! `grokgpu experiment`: causal experiments built from forks. `wd-fork` (seed 004) forks a
//! run at one step into one run per weight decay λ, trains each until it groks, and relates
//! the delay to 1/λ.

use std::path::PathBuf;

use grokgpu::analyze::wd_fork::{fork_outcomes, write_report};
use grokgpu::config::sweep::SweepAxis;
use grokgpu::plot::wd_fork::wd_fork_figure;
use grokgpu::train::fork::{fork, ForkOptions, ForkPoint};
use grokgpu::{bail, Result};

/// Validation accuracy that counts as grokked.
const GROKKED: f64 = 0.95;

#[derive(clap::Subcommand)]
pub enum Experiment {
    /// Fork a run at one step into one run per weight decay λ, train each until validation
    /// accuracy ≥ 0.95 (or --max-steps more updates), and fit the delay Δt = C/λ:
    /// experiment.json, experiment.md and delta_t_vs_inverse_lambda.png in --out-dir.
    WdFork(WdForkArgs),
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("point").required(true).args(["step", "at"]))]
pub struct WdForkArgs {
    /// The run to fork.
    #[arg(long)]
    pub run_dir: PathBuf,
    /// The checkpoint step to fork at.
    #[arg(long)]
    pub step: Option<u64>,
    /// An event of the run's summary.json instead of a step, e.g. fsd-ceiling.
    #[arg(long, value_name = "EVENT")]
    pub at: Option<String>,
    /// The weight decays, one fork each.
    #[arg(long, value_delimiter = ',', required = true)]
    pub lambdas: Vec<f64>,
    /// Updates after the fork step at most (default: up to the run's own last step).
    #[arg(long)]
    pub max_steps: Option<u64>,
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Replace runs already in the output directory.
    #[arg(long)]
    pub force: bool,
}

pub fn run(experiment: Experiment) -> Result<()> {
    match experiment {
        Experiment::WdFork(args) => wd_fork(&args),
    }
}

fn wd_fork(args: &WdForkArgs) -> Result<()> {
    if let Some(bad) = args.lambdas.iter().find(|&&l| !(l > 0.0 && l.is_finite())) {
        bail!("--lambdas must be positive weight decays (Δt is related to 1/λ), got {bad}");
    }
    let list: Vec<String> = args.lambdas.iter().map(f64::to_string).collect();
    let lambdas: SweepAxis = format!("weight_decay={}", list.join(",")).parse()?;
    let at = match (&args.at, args.step) {
        (Some(event), _) => ForkPoint::Event(event.clone()),
        (None, step) => ForkPoint::Step(step.expect("clap requires --step or --at")),
    };
    let options = ForkOptions {
        parent: args.run_dir.clone(),
        at,
        out_dir: args.out_dir.clone(),
        sets: vec![lambdas],
        steps: None,
        more_steps: args.max_steps,
        until_val_acc: Some(GROKKED),
        force: args.force,
    };
    let forks = fork(&options)?;
    let fork_step = forks[0].forked_from.as_ref().map_or(0, |o| o.step);
    let outcomes = fork_outcomes(&forks, fork_step, GROKKED)?;
    let md = write_report(&args.out_dir, &args.run_dir, fork_step, GROKKED, forks[0].steps, &outcomes)?;
    println!("\n{md}");
    println!("{}", wd_fork_figure(&args.out_dir));
    Ok(())
}
