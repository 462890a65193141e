//! `grokgpu fork`: new runs that continue a run's exact training state at one of its
//! checkpoints — weights, optimizer moments, update counter, gradient-filter state — with
//! some hyperparameters changed (one run per combination of `--set` values, all in the same
//! dispatches). The minibatch order is a pure function of seed and update, so the position
//! in it needs no state.
//!
//! The state at the fork step is rebuilt by replaying the parent from its initialization,
//! not read from disk: a run keeps the full state (weights and both Adam moments, three
//! times a checkpoint's f32 size, more with a Grokfast filter) only for its latest
//! checkpoint, because a thousand checkpoints' states would take several gigabytes for a
//! power2022 run. Training is deterministic on one adapter, so the replay is exact; it is
//! checked against the parent's checkpoint at that step, and a parent whose saved state is
//! at exactly that step is read instead of replayed.

use std::path::PathBuf;

use super::progress::Progress;
use super::run::{lock_run_dirs, train_schedule, Runs};
use super::trainer::Trainer;
use crate::config::sweep::{expand, SweepAxis};
use crate::config::vary::{forbidden_changes, Change};
use crate::config::{CkptDtype, ForkOrigin, RunConfig};
use crate::data::Task;
use crate::gpu::Gpu;
use crate::io::safetensors::TensorData;
use crate::nn::init::param_specs;
use crate::rundir::metrics::{read_metrics, MetricsLog};
use crate::rundir::state::{read_state, RunState};
use crate::rundir::summary::read_events;
use crate::rundir::sweep_file::create_multi_run;
use crate::rundir::{read_checkpoint, RunDir, RunLock};
use crate::{bail, Result};

/// Where in the parent to fork.
#[derive(Clone, Debug, PartialEq)]
pub enum ForkPoint {
    /// A checkpoint step.
    Step(u64),
    /// An event of the parent's summary.json (`fsd-ceiling`, `memorization`, …): the last
    /// checkpoint at or before it.
    Event(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForkOptions {
    pub parent: PathBuf,
    pub at: ForkPoint,
    pub out_dir: PathBuf,
    /// One fork per combination of values.
    pub sets: Vec<SweepAxis>,
    /// Total updates of the forks (default: the parent's).
    pub steps: Option<u64>,
    /// Updates beyond the fork step instead of `steps`.
    pub more_steps: Option<u64>,
    /// Stop once every fork's validation accuracy has reached this.
    pub until_val_acc: Option<f64>,
    /// Replace runs already in `out_dir`.
    pub force: bool,
}

/// The checkpoint step to fork at.
fn fork_step(parent: &RunDir, task: Task, at: &ForkPoint) -> Result<u64> {
    let steps: Vec<u64> = parent.checkpoints()?.into_iter().map(|(s, _)| s).collect();
    match at {
        ForkPoint::Step(s) => {
            if !steps.contains(s) {
                let near: Vec<String> = nearest(&steps, *s).iter().map(u64::to_string).collect();
                bail!("{} has no checkpoint at step {s} (nearest: {})", parent.path.display(), near.join(", "));
            }
            Ok(*s)
        }
        ForkPoint::Event(name) => {
            let Some(event) = read_events(&parent.path)?.step_of(name)? else {
                // The precursors are Fourier measures (docs/analyses.md), absent on such a run.
                if let (Some(why), false) = (task.not_modular(), matches!(name.as_str(), "memorization" | "grokking")) {
                    bail!("{} has no {name}: the precursors are Fourier measures of Z_p, and {why}", parent.path.display());
                }
                bail!("{} never reached {name} (see its summary.json)", parent.path.display());
            };
            let Some(&s) = steps.iter().filter(|&&s| s <= event).max() else {
                bail!("{} has no checkpoint at or before step {event} ({name})", parent.path.display());
            };
            println!("{name} at step {event}: forking at checkpoint {s}");
            Ok(s)
        }
    }
}

/// The checkpoint steps closest to `s` below and above it.
fn nearest(steps: &[u64], s: u64) -> Vec<u64> {
    let below = steps.iter().filter(|&&x| x < s).max();
    let above = steps.iter().filter(|&&x| x > s).min();
    below.into_iter().chain(above).copied().collect()
}

/// The forks' settings: the parent's, with `sets` applied, the schedule extended to `steps`
/// and the origin recorded. Only what a fork may change may differ from the parent.
pub fn fork_configs(parent: &RunConfig, step: u64, options: &ForkOptions) -> Result<Vec<RunConfig>> {
    let mut base = parent.clone();
    base.forked_from = Some(ForkOrigin { run: parent.dir.display().to_string(), step });
    if let Some(steps) = options.steps {
        base.steps = steps;
    }
    if let Some(more) = options.more_steps {
        base.steps = step + more;
    }
    if base.steps <= step {
        bail!("the forks would end at step {} but start at {step}; give --steps beyond {step}", base.steps);
    }
    let forks = if options.sets.is_empty() {
        vec![RunConfig { dir: options.out_dir.clone(), ..base }]
    } else {
        expand(&base, None, &options.sets, true, &options.out_dir)?
    };
    for f in &forks {
        let changed = forbidden_changes(parent, f, Change::Fork);
        if !changed.is_empty() {
            bail!("a fork continues its parent's state and cannot change {} (it may change the optimizer's hyperparameters and the schedule)", changed.join(", "));
        }
        f.validate()?;
    }
    Ok(forks)
}

/// The parent's exact training state after `step` updates: its saved state when that is at
/// `step`, else a replay from its initialization, checked against its checkpoint.
fn state_at(gpu: &Gpu, parent: &RunConfig, dir: &RunDir, step: u64) -> Result<RunState> {
    if dir.state_path().exists() {
        let saved = read_state(dir)?;
        if saved.step == step {
            return Ok(saved);
        }
    }
    println!("replaying {} to step {step}", parent.dir.display());
    let mut replay = Trainer::new(gpu, vec![parent.clone()])?;
    let progress = Progress::new(step, 0);
    while replay.step < step {
        replay.train((step - replay.step).min(parent.ckpt_every));
        progress.advance_to(replay.step);
    }
    progress.finish();
    let state = replay.states().remove(0);
    let stored = read_checkpoint(&dir.checkpoint_path(step))?;
    // In the model's layout order, matched by name (a re-saved file may order them otherwise).
    let mut by_name: std::collections::BTreeMap<String, Vec<f32>> = stored.params.into_iter().map(|(n, _, v)| (n, v)).collect();
    let stored: Vec<f32> = param_specs(parent).iter().flat_map(|s| by_name.remove(&s.name).unwrap_or_default()).collect();
    let replayed = match parent.ckpt_dtype {
        CkptDtype::F32 => state.params.clone(),
        CkptDtype::F16 => TensorData::f16_from_f32(&state.params).to_f32().expect("f16 converts to f32"),
    };
    let differ = stored.len() != replayed.len() || stored.iter().zip(&replayed).any(|(a, b)| a.to_bits() != b.to_bits());
    if differ {
        bail!(
            "replaying {} on {} does not reproduce its checkpoint at step {step} (it was trained on {}); fork it on that adapter",
            parent.dir.display(),
            gpu.adapter_name(),
            parent.adapter
        );
    }
    Ok(state)
}

/// Forks the run in `options.parent` and trains the forks; returns their settings.
pub fn fork(options: &ForkOptions) -> Result<Vec<RunConfig>> {
    let (parent_dir, parent) = RunDir::open(&options.parent)?;
    let step = fork_step(&parent_dir, parent.task, &options.at)?;
    let mut forks = fork_configs(&parent, step, options)?;
    let gpu = Gpu::open(false)?;
    for f in &mut forks {
        f.adapter = gpu.adapter_name();
    }
    let state = state_at(&gpu, &parent, &parent_dir, step)?;
    if !options.sets.is_empty() {
        let _listing = RunLock::wait(&options.out_dir)?;
        create_multi_run(&options.out_dir, &forks, options.force, None)?;
    }
    let _locks = lock_run_dirs(&forks, false)?;
    let history: Vec<_> = read_metrics(&parent_dir.metrics_path())?.into_iter().filter(|r| r.step < step).collect();
    let mut runs = Runs { dirs: vec![], logs: vec![] };
    for f in &forks {
        let (table, split) = f.dataset()?;
        let dir = RunDir::create(f, &table, &split, options.force)?;
        let mut log = MetricsLog::create(&dir.metrics_path())?;
        for record in &history {
            log.append(record)?;
        }
        runs.logs.push(log);
        runs.dirs.push(dir);
    }
    let mut trainer = Trainer::new(&gpu, forks.clone())?;
    trainer.restore(&vec![state; forks.len()])?;
    train_schedule(&gpu, &mut trainer, runs, true, options.until_val_acc, &options.out_dir)?;
    Ok(forks)
}
