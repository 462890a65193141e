//! `grokgpu train`: run directories, the training loop with its evaluation and checkpoint
//! schedule, resume, and the divergence stop.

use std::path::Path;
use std::time::Instant;

use serde_json::{Map, Value};

use super::options::TrainOptions;
use super::progress::Progress;
use super::trainer::{RunEval, Trainer};
use crate::config::vary::groups;
use crate::config::{RunConfig, Shard};
use crate::gpu::Gpu;
use crate::nn::init::param_specs;
use crate::rundir::metrics::{EvalRecord, MetricsLog};
use crate::rundir::state::{read_state, write_state};
use crate::rundir::sweep_file::create_multi_run;
use crate::rundir::{read_kernels, run_files, write_kernels, RunDir, RunLock, CHECKPOINT_DIR, CONFIG_FILE, STATE_FILE, SWEEP_FILE};
use crate::{bail, Error, Result};

/// The run directories of a batch, opened for a fresh start, a resume or a fork.
pub(super) struct Runs {
    pub(super) dirs: Vec<RunDir>,
    pub(super) logs: Vec<MetricsLog>,
}

/// Locks the directory of every run, creating it for a new run; a resume needs it to exist.
pub(super) fn lock_run_dirs(runs: &[RunConfig], resume: bool) -> Result<Vec<RunLock>> {
    let mut locks = vec![];
    for dir in runs.iter().map(|c| c.dir.as_path()) {
        if resume && !dir.is_dir() {
            bail!("nothing to resume: {} does not exist; start the run without --resume", dir.display());
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))?;
        locks.push(RunLock::acquire(dir)?);
    }
    Ok(locks)
}

/// A run resumes from its state.safetensors; without one, resuming stops and says so
/// (starting over would discard the run's checkpoints, metrics and analyses).
fn check_resumable(cfg: &RunConfig) -> Result<()> {
    let dir = cfg.dir.display();
    if !cfg.dir.join(CONFIG_FILE).exists() {
        bail!("nothing to resume: {dir} holds no run (no {CONFIG_FILE}); start the run without --resume");
    }
    if !cfg.dir.join(STATE_FILE).exists() {
        bail!(
            "{dir} cannot be resumed: its {STATE_FILE} is missing (the run stopped before its first checkpoint, or the file was removed); nothing was changed. --force starts the run over and removes its files"
        );
    }
    Ok(())
}

fn start_fresh(runs: &[RunConfig], force: bool) -> Result<Runs> {
    let mut dirs = vec![];
    let mut logs = vec![];
    for cfg in runs {
        let present = run_files(&cfg.dir);
        if force && !present.is_empty() {
            println!("--force: removing {} from {}", present.join(", "), cfg.dir.display());
        }
        let (table, split) = cfg.dataset()?;
        let dir = RunDir::create(cfg, &table, &split, force)?;
        logs.push(MetricsLog::create(&dir.metrics_path())?);
        dirs.push(dir);
    }
    Ok(Runs { dirs, logs })
}

fn eval_record(cfg: &RunConfig, step: u64, e: &RunEval, elapsed_s: f64) -> EvalRecord {
    let mut extra = Map::new();
    let norms: Map<String, Value> = e.norms.per_tensor.iter().map(|(n, v)| (n.clone(), Value::from(*v))).collect();
    extra.insert("weight_norms".into(), Value::Object(norms));
    if let Some(look) = &e.look {
        extra.insert("n_eff".into(), Value::from(look.n_eff));
        extra.insert("gini".into(), Value::from(look.gini));
        extra.insert("dominant_freq".into(), Value::from(look.dominant_freq));
    }
    EvalRecord {
        step,
        train_loss: e.train_loss,
        train_acc: e.train_acc,
        val_loss: e.val_loss,
        val_acc: e.val_acc,
        lr: cfg.lr_at(step.max(1)),
        weight_norm: e.norms.global,
        elapsed_s,
        extra,
    }
}

fn save_checkpoint(trainer: &Trainer, runs: &Runs) -> Result<()> {
    let states = trainer.states();
    for ((cfg, dir), (state, log)) in trainer.runs.iter().zip(&runs.dirs).zip(states.iter().zip(&runs.logs)) {
        dir.write_checkpoint(cfg, trainer.step, &param_specs(cfg), &state.params)?;
        log.sync()?;
        write_state(dir, state)?;
    }
    Ok(())
}

/// Trains every run the options describe: runs whose shapes match in the same dispatches,
/// the groups of such runs one after another.
pub fn train(options: &TrainOptions) -> Result<()> {
    let mut configs = options.resolve()?;
    let gpu = Gpu::open(false)?;
    for cfg in &mut configs {
        cfg.adapter = gpu.adapter_name();
        cfg.grokgpu_version = env!("CARGO_PKG_VERSION").to_string();
    }
    // A share, and the resume of a multi-run, continue the runs that have a saved state and
    // start those never reached (a sweep killed in its first group); a single run resumes or
    // is refused.
    let per_run = options.shard.is_some() || (options.resume && options.out_dir.join(SWEEP_FILE).exists());
    if options.resume && !per_run {
        configs.iter().try_for_each(check_resumable)?;
    } else if options.plan.is_multi_run() && !options.resume {
        let _listing = RunLock::wait(&options.out_dir)?;
        create_multi_run(&options.out_dir, &configs, options.force, options.shard.map(|s| s.count))?;
    }
    let groups = groups(&configs);
    let groups = match options.shard {
        Some(shard) => share_of(&configs, &groups, shard),
        None => groups,
    };
    let has_state = |c: &RunConfig| c.dir.join(STATE_FILE).exists();
    if per_run {
        // Every run without a state must be one that never trained, before anything trains.
        let scope = groups.iter().flatten().map(|&i| &configs[i]);
        scope.filter(|c| !has_state(c) && !before_first_update(c)).try_for_each(check_resumable)?;
    }
    for (g, members) in groups.iter().enumerate() {
        let group: Vec<RunConfig> = members.iter().map(|&i| configs[i].clone()).collect();
        if groups.len() > 1 {
            println!("group {} of {}: {} run(s)", g + 1, groups.len(), group.len());
        }
        if per_run {
            let (started, unstarted): (Vec<RunConfig>, Vec<RunConfig>) = group.into_iter().partition(has_state);
            if !started.is_empty() {
                resume_group(&gpu, started, &options.out_dir)?;
            }
            if !unstarted.is_empty() {
                start_group(&gpu, unstarted, true, &options.out_dir)?;
            }
        } else if options.resume {
            resume_group(&gpu, group, &options.out_dir)?;
        } else {
            start_group(&gpu, group, options.force, &options.out_dir)?;
        }
    }
    Ok(())
}

/// Whether a run without a saved state had written nothing past its initialization (a share
/// killed while its runs were being created): starting it again rewrites the same files.
fn before_first_update(cfg: &RunConfig) -> bool {
    let dir = RunDir { path: cfg.dir.clone() };
    !dir.path.join(CHECKPOINT_DIR).exists() || dir.checkpoints().is_ok_and(|c| c.iter().all(|&(step, _)| step == 0))
}

/// The groups of runs that `shard` trains (a group may be cut between two shares).
fn share_of(configs: &[RunConfig], groups: &[Vec<usize>], shard: Shard) -> Vec<Vec<usize>> {
    let assignment = Shard::assignment(shard.count, groups);
    let mine: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| g.iter().copied().filter(|&i| assignment[i] == shard.index).collect::<Vec<_>>())
        .filter(|g| !g.is_empty())
        .collect();
    let count = mine.iter().map(Vec::len).sum::<usize>();
    println!("shard {}/{}: {count} of {} runs", shard.index, shard.count, configs.len());
    mine
}

/// Continues runs that share every dispatch from their saved states.
fn resume_group(gpu: &Gpu, configs: Vec<RunConfig>, out_dir: &Path) -> Result<()> {
    let _locks = lock_run_dirs(&configs, true)?;
    // The matmul variants the runs launched so far, whatever the tune cache holds now.
    gpu.pin_choices(&read_kernels(&configs[0].dir)?);
    gpu.start_recording();
    let dirs = configs.iter().map(RunDir::resume).collect::<Result<Vec<_>>>()?;
    let states = dirs.iter().map(read_state).collect::<Result<Vec<_>>>()?;
    // A kill while a group's checkpoints were being written leaves its runs one checkpoint
    // apart. A run's numbers do not depend on the runs beside it, so the runs saved at each
    // step continue as a group of their own.
    let mut steps: Vec<u64> = states.iter().map(|s| s.step).collect();
    steps.sort_unstable();
    steps.dedup();
    for step in steps {
        let at_step: Vec<usize> = (0..configs.len()).filter(|&i| states[i].step == step).collect();
        let mut trainer = Trainer::new(gpu, at_step.iter().map(|&i| configs[i].clone()).collect())?;
        trainer.restore(&at_step.iter().map(|&i| states[i].clone()).collect::<Vec<_>>())?;
        let dirs: Vec<RunDir> = at_step.iter().map(|&i| dirs[i].clone()).collect();
        let logs = dirs.iter().map(|d| d.rewind_to(step)).collect::<Result<Vec<_>>>()?;
        record_kernels(gpu, &dirs)?;
        println!("resuming {} run(s) from step {step}", at_step.len());
        // A resumed run's step 0 is already in its files (the state is written after them).
        train_schedule(gpu, &mut trainer, Runs { dirs, logs }, false, None, out_dir)?;
    }
    Ok(())
}

/// Starts runs that share every dispatch from their initialization; `replace` removes what
/// their directories held.
fn start_group(gpu: &Gpu, configs: Vec<RunConfig>, replace: bool, out_dir: &Path) -> Result<()> {
    gpu.start_recording();
    // Trainer::new checks every size against the device before anything is written.
    let mut trainer = Trainer::new(gpu, configs.clone())?;
    let _locks = lock_run_dirs(&configs, false)?;
    let runs = start_fresh(&configs, replace)?;
    record_kernels(gpu, &runs.dirs)?;
    train_schedule(gpu, &mut trainer, runs, true, None, out_dir)
}

/// Writes the matmul variants the group's programs launch (those asked for since
/// `start_recording`) into each run directory.
fn record_kernels(gpu: &Gpu, dirs: &[RunDir]) -> Result<()> {
    dirs.iter().try_for_each(|dir| write_kernels(&dir.path, &gpu.recorded_choices()))
}

/// Trains the runs to their last step on their eval and checkpoint schedule; with
/// `record_start`, the state they start from is evaluated and checkpointed first; with
/// `until_val_acc`, training stops (with a checkpoint) at the first evaluation where every
/// run's validation accuracy has reached it.
pub(super) fn train_schedule(gpu: &Gpu, trainer: &mut Trainer, mut runs: Runs, record_start: bool, until_val_acc: Option<f64>, out_dir: &Path) -> Result<()> {
    let configs = &trainer.runs;
    let cfg = configs[0].clone();
    let label = if configs.len() > 1 { format!("{} runs", configs.len()) } else { cfg.dir.display().to_string() };
    println!(
        "training {label} on {} · {} dispatches per step · {} steps",
        gpu.adapter_name(),
        trainer.dispatches_per_step(),
        cfg.steps
    );
    let progress = Progress::new(cfg.steps, trainer.step);
    let started = Instant::now();
    let mut mark = (Instant::now(), trainer.step);
    if record_start {
        evaluate(trainer, &mut runs, &progress, started, &mut mark)?;
        save_checkpoint(trainer, &runs)?;
    }
    while trainer.step < cfg.steps {
        let next_eval = (trainer.step / cfg.eval_every + 1) * cfg.eval_every;
        let next_ckpt = (trainer.step / cfg.ckpt_every + 1) * cfg.ckpt_every;
        let stop = next_eval.min(next_ckpt).min(cfg.steps);
        trainer.train(stop - trainer.step);
        progress.advance_to(trainer.step);
        let mut all_reached = false;
        if stop.is_multiple_of(cfg.eval_every) || stop == cfg.steps {
            let lowest_val_acc = evaluate(trainer, &mut runs, &progress, started, &mut mark)?;
            all_reached = until_val_acc.is_some_and(|target| lowest_val_acc >= target);
        }
        if stop.is_multiple_of(cfg.ckpt_every) || stop == cfg.steps || all_reached {
            save_checkpoint(trainer, &runs)?;
        }
        if all_reached {
            break;
        }
    }
    gpu.wait();
    progress.finish();
    println!("done: {} steps in {:.1} s; runs in {}", trainer.step, started.elapsed().as_secs_f64(), out_dir.display());
    Ok(())
}

/// Evaluates every run, logs it, and stops on a non-finite loss or weight norm (the last
/// checkpoint written stays the last good one). Returns the lowest validation accuracy.
fn evaluate(trainer: &Trainer, runs: &mut Runs, progress: &Progress, started: Instant, mark: &mut (Instant, u64)) -> Result<f64> {
    let evals = trainer.evaluate();
    let elapsed = started.elapsed().as_secs_f64();
    for ((cfg, log), e) in trainer.runs.iter().zip(&mut runs.logs).zip(&evals) {
        let record = eval_record(cfg, trainer.step, e, elapsed);
        log.append(&record)?;
        if record.diverged() {
            log.sync()?;
            bail!(
                "{} diverged at step {} (train loss {}, weight norm {}); its last good checkpoint is the latest in {}",
                cfg.dir.display(),
                trainer.step,
                e.train_loss,
                e.norms.global,
                cfg.dir.join(CHECKPOINT_DIR).display()
            );
        }
    }
    let (since, from) = *mark;
    let rate = (trainer.step - from) as f64 / since.elapsed().as_secs_f64().max(1e-9);
    *mark = (Instant::now(), trainer.step);
    let mean = |f: fn(&RunEval) -> f64| evals.iter().map(f).sum::<f64>() / evals.len() as f64;
    let looks: Vec<f64> = evals.iter().filter_map(|e| e.look.as_ref().map(|l| l.n_eff)).collect();
    let n_eff = if looks.is_empty() { String::new() } else { format!(" · n_eff {:.1}", looks.iter().sum::<f64>() / looks.len() as f64) };
    progress.report(format!(
        "step {} · train acc {:.3} · val acc {:.3} · train loss {:.3e} · val loss {:.3e}{n_eff} · {:.0} steps/s",
        trainer.step,
        mean(|e| e.train_acc),
        mean(|e| e.val_acc),
        mean(|e| e.train_loss),
        mean(|e| e.val_loss),
        rate
    ));
    Ok(evals.iter().map(|e| e.val_acc).fold(f64::INFINITY, f64::min))
}
