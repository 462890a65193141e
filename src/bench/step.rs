//! Training-step throughput: the replayed step program of a preset at R runs, as steps/s
//! per run and aggregate, with dispatch and submit counts, CPU encode time per step and,
//! optionally, each dispatch's share of the step.

use std::time::Instant;

use std::path::Path;

use crate::config::{run_configs, RunPlan};
use crate::gpu::{Gpu, Program};
use crate::train::trainer::{Trainer, MAX_STEPS_PER_SUBMIT};
use crate::Result;

pub struct StepResult {
    pub preset: String,
    pub runs: usize,
    pub dispatches: usize,
    pub submits_per_step: f64,
    /// Median seconds per step over the timed rounds.
    pub seconds_per_step: f64,
    /// CPU time to encode one step's dispatches (the only per-step host work).
    pub encode_seconds: f64,
    pub gpu_timer: bool,
    /// (dispatch label, seconds per replay), when profiled.
    pub profile: Vec<(String, f64)>,
}

impl StepResult {
    pub fn steps_per_second(&self) -> f64 {
        1.0 / self.seconds_per_step
    }

    pub fn aggregate_steps_per_second(&self) -> f64 {
        self.runs as f64 / self.seconds_per_step
    }
}

/// The trainer of `preset` with `runs` seeds (nothing is written to disk).
pub fn trainer<'g>(gpu: &'g Gpu, preset: &str, runs: usize) -> Result<Trainer<'g>> {
    let plan = RunPlan { seeds: (runs > 1).then(|| (0..runs as u64).collect()), ..RunPlan::preset(preset) };
    Trainer::new(gpu, run_configs(&plan, Path::new("runs").join(preset).as_path())?)
}

/// Median of `rounds` timings of `steps` replayed updates (after one warm-up round).
pub fn measure(gpu: &Gpu, preset: &str, runs: usize, steps: usize, rounds: usize, profile: bool) -> Result<StepResult> {
    let mut t = trainer(gpu, preset, runs)?;
    let steps = steps.clamp(1, MAX_STEPS_PER_SUBMIT);
    t.train(steps as u64);
    gpu.wait();
    let mut times: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            t.train(steps as u64);
            gpu.wait();
            start.elapsed().as_secs_f64() / steps as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let program = t.step_program().clone();
    let encode_seconds = encode_time(gpu, &program);
    let profile = if profile { profile_dispatches(gpu, &program) } else { vec![] };
    Ok(StepResult {
        preset: preset.to_string(),
        runs,
        dispatches: program.len(),
        submits_per_step: 1.0 / steps as f64,
        seconds_per_step: times[times.len() / 2],
        encode_seconds,
        gpu_timer: false,
        profile,
    })
}

/// Host time to encode one step into a compute pass (no submit).
fn encode_time(gpu: &Gpu, program: &Program) -> f64 {
    const REPS: usize = 200;
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    let start = Instant::now();
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        for _ in 0..REPS {
            program.encode(&mut pass);
        }
    }
    let seconds = start.elapsed().as_secs_f64() / REPS as f64;
    drop(encoder);
    seconds
}

/// Each dispatch replayed alone (GPU timestamps where available).
fn profile_dispatches(gpu: &Gpu, program: &Program) -> Vec<(String, f64)> {
    program
        .dispatches
        .iter()
        .map(|d| {
            let single = Program { dispatches: vec![d.clone()] };
            gpu.time_replay(&single, 3);
            (d.label.to_string(), gpu.time_replay(&single, 20).seconds() / 20.0)
        })
        .collect()
}
