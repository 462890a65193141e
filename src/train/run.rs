//! `grokgpu train`: run directories, the training loop with its evaluation and checkpoint
//! schedule, resume, and the divergence stop.

use std::time::Instant;

use serde_json::{Map, Value};

use super::options::TrainOptions;
use super::progress::Progress;
use super::trainer::{RunEval, Trainer};
use crate::config::RunConfig;
use crate::gpu::Gpu;
use crate::nn::init::param_specs;
use crate::rundir::metrics::{EvalRecord, MetricsLog};
use crate::rundir::state::{read_state, write_state};
use crate::rundir::sweep_file::create_multi_run;
use crate::rundir::{read_kernels, write_kernels, RunDir, CHECKPOINT_DIR, STATE_FILE};
use crate::{bail, Result};

/// The run directories of a batch, opened for a fresh start or a resume.
struct Runs {
    dirs: Vec<RunDir>,
    logs: Vec<MetricsLog>,
}

fn start_fresh(runs: &[RunConfig], force: bool) -> Result<Runs> {
    let mut dirs = vec![];
    let mut logs = vec![];
    for cfg in runs {
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
    extra.insert("n_eff".into(), Value::from(e.look.n_eff));
    extra.insert("gini".into(), Value::from(e.look.gini));
    extra.insert("dominant_freq".into(), Value::from(e.look.dominant_freq));
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

/// Trains every run the options describe, all in the same dispatches.
pub fn train(options: &TrainOptions) -> Result<()> {
    let mut configs = options.resolve()?;
    let gpu = Gpu::open(false)?;
    for cfg in &mut configs {
        cfg.adapter = gpu.adapter_name();
        cfg.grokgpu_version = env!("CARGO_PKG_VERSION").to_string();
    }
    let resumable = options.resume && configs.iter().all(|c| c.dir.join(STATE_FILE).exists());
    if options.plan.is_multi_run() && !resumable {
        create_multi_run(&options.out_dir, &configs, options.force)?;
    }
    if resumable {
        // The variants the run launched so far, whatever the tune cache holds now.
        gpu.pin_choices(&read_kernels(&configs[0].dir)?);
    }
    let mut trainer = Trainer::new(&gpu, configs.clone())?;
    let mut runs = if resumable {
        let dirs = configs.iter().map(RunDir::resume).collect::<Result<Vec<_>>>()?;
        let states = dirs.iter().map(read_state).collect::<Result<Vec<_>>>()?;
        trainer.restore(&states)?;
        let logs = dirs.iter().map(|d| d.rewind_to(trainer.step)).collect::<Result<Vec<_>>>()?;
        Runs { dirs, logs }
    } else {
        if options.resume {
            println!("nothing to resume in {}: starting a new run", options.out_dir.display());
        }
        start_fresh(&configs, options.force || options.resume)?
    };
    for dir in &runs.dirs {
        write_kernels(&dir.path, &gpu.choices())?;
    }

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
    if trainer.step == 0 {
        evaluate(&trainer, &mut runs, &progress, started, &mut mark)?;
        save_checkpoint(&trainer, &runs)?;
    }
    while trainer.step < cfg.steps {
        let next_eval = (trainer.step / cfg.eval_every + 1) * cfg.eval_every;
        let next_ckpt = (trainer.step / cfg.ckpt_every + 1) * cfg.ckpt_every;
        let stop = next_eval.min(next_ckpt).min(cfg.steps);
        trainer.train(stop - trainer.step);
        progress.advance_to(trainer.step);
        if stop % cfg.eval_every == 0 || stop == cfg.steps {
            evaluate(&trainer, &mut runs, &progress, started, &mut mark)?;
        }
        if stop % cfg.ckpt_every == 0 || stop == cfg.steps {
            save_checkpoint(&trainer, &runs)?;
        }
    }
    gpu.wait();
    progress.finish();
    println!("done: {} steps in {:.1} s; runs in {}", cfg.steps, started.elapsed().as_secs_f64(), options.out_dir.display());
    Ok(())
}

/// Evaluates every run, logs it, and stops on a non-finite loss or weight norm (the last
/// checkpoint written stays the last good one).
fn evaluate(trainer: &Trainer, runs: &mut Runs, progress: &Progress, started: Instant, mark: &mut (Instant, u64)) -> Result<()> {
    let evals = trainer.evaluate();
    let elapsed = started.elapsed().as_secs_f64();
    for ((cfg, log), e) in trainer.runs.iter().zip(&mut runs.logs).zip(&evals) {
        log.append(&eval_record(cfg, trainer.step, e, elapsed))?;
        if !e.train_loss.is_finite() || !e.val_loss.is_finite() || !e.norms.global.is_finite() {
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
    progress.report(format!(
        "step {} · train acc {:.3} · val acc {:.3} · train loss {:.3e} · val loss {:.3e} · n_eff {:.1} · {:.0} steps/s",
        trainer.step,
        mean(|e| e.train_acc),
        mean(|e| e.val_acc),
        mean(|e| e.train_loss),
        mean(|e| e.val_loss),
        mean(|e| e.look.n_eff),
        rate
    ));
    Ok(())
}
