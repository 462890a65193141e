//! The trainer: R runs' parameters in one flat buffer, the step program traced once
//! (minibatch gather, forward, backward, optimizer) and replayed k updates per submit,
//! exact evaluation, and the state a resume needs.

use super::device_data::DeviceData;
use super::eval::{Evaluator, SetMetrics};
use super::minibatch::MinibatchFeed;
use super::norms::{RunNorms, WeightNorms};
use super::quicklook::{Look, QuickLook};
use crate::config::vary::{forbidden_changes, Change};
use crate::config::RunConfig;
use crate::data::BatchSchedule;
use crate::gpu::{Buffer, Gpu, Program};
use crate::nn::forward::{forward, Weights};
use crate::nn::grad_filters::GradFilters;
use crate::nn::init::init_params;
use crate::nn::optimizer::Optimizer;
use crate::nn::spec::{ModelSpec, TransformerSpec};
use crate::nn::FlatLayout;
use crate::rundir::state::RunState;
use crate::tensor::ops::cross_entropy::cross_entropy;
use crate::tensor::Tape;
use crate::{bail, Result};

/// Updates one submit replays at most: bounds the minibatch table and keeps progress
/// reports and interruption latency short.
pub const MAX_STEPS_PER_SUBMIT: usize = 64;

/// Everything an evaluation measures, per run.
pub struct RunEval {
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub norms: RunNorms,
    /// W_E's spectral quick-look (the modular tasks only: it is a spectrum over Z_p).
    pub look: Option<Look>,
}

pub struct Trainer<'g> {
    pub gpu: &'g Gpu,
    pub runs: Vec<RunConfig>,
    pub spec: ModelSpec,
    pub layout: FlatLayout,
    pub params: Buffer,
    optimizer: Optimizer,
    filters: GradFilters,
    step_program: Program,
    feed: Option<MinibatchFeed>,
    data: DeviceData,
    eval: Evaluator,
    norms: WeightNorms,
    quicklook: Option<QuickLook>,
    /// Updates done.
    pub step: u64,
}

/// Settings every run of one batch must share (they shape the dispatches).
fn check_compatible(runs: &[RunConfig]) -> Result<()> {
    for r in &runs[1..] {
        let differ = forbidden_changes(&runs[0], r, Change::TrainTogether);
        if !differ.is_empty() {
            bail!("runs trained together must differ in per-run values only; {} and {} differ in {}", runs[0].dir.display(), r.dir.display(), differ.join(", "));
        }
    }
    Ok(())
}

/// Parameters of one model, counted in saturating arithmetic before any layout is built, from
/// a model of at most one block (so that a huge layer count costs nothing to refuse).
fn param_count(spec: &ModelSpec) -> u64 {
    let count = |s: &ModelSpec| {
        s.param_shapes().iter().map(|(_, shape)| shape.iter().fold(1u64, |n, &d| n.saturating_mul(d as u64))).fold(0u64, u64::saturating_add)
    };
    match spec {
        ModelSpec::Transformer(t) if t.layers > 1 => {
            let with_layers = |layers| count(&ModelSpec::Transformer(TransformerSpec { layers, ..t.clone() }));
            let (none, one) = (with_layers(0), with_layers(1));
            none.saturating_add((one - none).saturating_mul(t.layers as u64))
        }
        _ => count(spec),
    }
}

/// Refuses `runs` runs like `cfg` trained together when their buffers exceed what the adapter
/// can bind, with the sizes; checked from the settings alone, before anything is allocated.
fn check_fits(gpu: &Gpu, cfg: &RunConfig, runs: usize) -> Result<()> {
    let (spec, rows) = (&cfg.model_spec(), cfg.batch_len());
    let (examples, train_rows) = (cfg.examples(), cfg.train_len());
    let widest = match spec {
        ModelSpec::Transformer(t) => (spec.seq_len() as u64).saturating_mul((3 * t.d_model as u64).max(t.d_mlp as u64)),
        ModelSpec::Mlp(m) => (2 * m.hidden as u64).max(m.p as u64),
    };
    let activations = (runs as u64).saturating_mul(rows as u64).saturating_mul(widest);
    let largest = activations.max((runs as u64).saturating_mul(param_count(spec))).saturating_mul(4);
    let limit = gpu.limits.max_storage_buffer_binding_size;
    if largest > limit {
        bail!(
            "this model needs a {} MiB buffer but {} binds at most {} MiB; use fewer runs, a smaller batch or a smaller model",
            largest >> 20,
            gpu.info.name,
            limit >> 20
        );
    }
    // The train and validation sets live on the GPU as token rows; checked before the
    // task's table is built, which for a large p would itself exhaust the host.
    let set_rows = examples.saturating_sub(train_rows).max(train_rows) as u64;
    let set_bytes = (runs as u64).saturating_mul(set_rows).saturating_mul(spec.seq_len() as u64 * 4);
    if set_bytes > limit {
        bail!(
            "the data set of p = {} ({examples} examples) needs a {} MiB buffer but {} binds at most {} MiB; use a smaller p or fewer runs",
            cfg.p,
            set_bytes >> 20,
            gpu.info.name,
            limit >> 20
        );
    }
    Ok(())
}

impl<'g> Trainer<'g> {
    /// Uploads the data and initial weights of every run and traces the step program.
    pub fn new(gpu: &'g Gpu, runs: Vec<RunConfig>) -> Result<Trainer<'g>> {
        check_compatible(&runs)?;
        let first = &runs[0];
        let spec = first.model_spec();
        check_fits(gpu, first, runs.len())?;
        let layout = FlatLayout::new(runs.len(), spec.param_shapes());
        let batch = first.batch_len();

        let (table, _) = first.dataset()?;
        let splits = runs.iter().map(|r| r.dataset().map(|d| d.1)).collect::<Result<Vec<_>>>()?;
        let data = DeviceData::upload(gpu, &spec, &table, &splits);
        let params = gpu.buffer("parameters", layout.len);
        let grads = gpu.buffer("gradients", layout.len);
        let mut flat = vec![0f32; layout.len];
        for (r, cfg) in runs.iter().enumerate() {
            for (t, values) in layout.tensors.iter().zip(init_params(cfg)) {
                flat[t.offset + r * t.numel..t.offset + (r + 1) * t.numel].copy_from_slice(&values);
            }
        }
        gpu.write(&params, &flat);
        let hyper: Vec<_> = runs.iter().map(RunConfig::hyperparams).collect();
        let optimizer = Optimizer::new(gpu, first.optimizer_kind(), &layout, &params, &grads, &hyper);
        let filters = GradFilters::new(gpu, &layout, &params, &grads, &optimizer.step_count, &first.filter_config());

        let full_batch = batch == data.train.rows;
        let feed = (!full_batch).then(|| {
            let schedules = runs.iter().map(|r| BatchSchedule::new(r.seed, data.train.rows, batch)).collect();
            MinibatchFeed::new(gpu, schedules, data.train.rows, data.width, &data.train.tokens, &data.train.targets, &optimizer.step_count, MAX_STEPS_PER_SUBMIT)
        });
        let (tokens, targets) = match &feed {
            Some(f) => (f.tokens.clone(), f.targets.clone()),
            None => (data.train.tokens.clone(), data.train.targets.clone()),
        };

        let mut tape = Tape::new(gpu);
        let weights = Weights(layout.tensors.iter().map(|t| (t.name.clone(), layout.param(&mut tape, &params, &grads, &t.name))).collect());
        let tok = tape.input(tokens, &[runs.len(), batch, data.width]);
        let tgt = tape.input(targets, &[runs.len(), batch]);
        let out = forward(&mut tape, &spec, &weights, tok);
        cross_entropy(&mut tape, out.logits, tgt, first.loss_kind(), None);
        let backward = tape.backward();
        let mut step_program = Program::new();
        if let Some(f) = &feed {
            step_program.push(f.gather().clone());
        }
        step_program.extend(tape.forward_program().clone());
        step_program.extend(backward);
        step_program.extend(filters.program().clone());
        step_program.extend(optimizer.program().clone());

        let eval = Evaluator::new(gpu, &spec, &layout, &params, &data, first.loss_kind());
        let norms = WeightNorms::new(gpu, &layout, &params);
        let quicklook = first.task.is_modular().then(|| QuickLook::new(gpu, &layout, &params, &first.task.to_string(), first.p as usize));
        Ok(Trainer { gpu, runs, spec, layout, params, optimizer, filters, step_program, feed, data, eval, norms, quicklook, step: 0 })
    }

    /// Dispatches one update replays (gather, forward, backward, optimizer).
    pub fn dispatches_per_step(&self) -> usize {
        self.step_program.len()
    }

    pub fn step_program(&self) -> &Program {
        &self.step_program
    }

    /// Does `steps` more updates of every run, in submits of at most
    /// `MAX_STEPS_PER_SUBMIT`. Does not wait for the GPU.
    pub fn train(&mut self, steps: u64) {
        let mut left = steps;
        while left > 0 {
            let k = left.min(MAX_STEPS_PER_SUBMIT as u64) as usize;
            if let Some(feed) = &mut self.feed {
                feed.prepare(self.gpu, self.step, k);
            }
            self.gpu.replay(&self.step_program, k);
            self.step += k as u64;
            left -= k as u64;
        }
    }

    /// Exact train and validation loss and accuracy, the weight norms and W_E's spectral
    /// quick-look of every run.
    pub fn evaluate(&self) -> Vec<RunEval> {
        let train: SetMetrics = self.eval.evaluate(self.gpu, &self.data.train);
        let val: SetMetrics = self.eval.evaluate(self.gpu, &self.data.val);
        let norms = self.norms.read(self.gpu);
        let looks: Vec<Option<Look>> = match &self.quicklook {
            Some(q) => q.measure(self.gpu).into_iter().map(Some).collect(),
            None => self.runs.iter().map(|_| None).collect(),
        };
        train
            .into_iter()
            .zip(val)
            .zip(norms.into_iter().zip(looks))
            .map(|(((train_loss, train_acc), (val_loss, val_acc)), (norms, look))| RunEval { train_loss, train_acc, val_loss, val_acc, norms, look })
            .collect()
    }

    /// Run r's part of a flat buffer laid out like the parameters, tensors concatenated.
    fn run_slice(&self, flat: &[f32], r: usize) -> Vec<f32> {
        self.layout.tensors.iter().flat_map(|t| flat[t.offset + r * t.numel..t.offset + (r + 1) * t.numel].iter().copied()).collect()
    }

    fn scatter_run(&self, flat: &mut [f32], r: usize, values: &[f32]) {
        let mut at = 0;
        for t in &self.layout.tensors {
            flat[t.offset + r * t.numel..t.offset + (r + 1) * t.numel].copy_from_slice(&values[at..at + t.numel]);
            at += t.numel;
        }
    }

    /// Every run's weights, tensors concatenated in layout order (a readback).
    pub fn run_params(&self) -> Vec<Vec<f32>> {
        let flat = self.gpu.read_f32(&self.params);
        (0..self.runs.len()).map(|r| self.run_slice(&flat, r)).collect()
    }

    /// The state buffers besides the weights, by name: optimizer moments and filter state.
    fn state_buffers(&self) -> Vec<(String, Buffer)> {
        let mut bufs = vec![("moment1".to_string(), self.optimizer.moment1.clone()), ("moment2".to_string(), self.optimizer.moment2.clone())];
        bufs.extend(self.filters.state_buffers().into_iter().map(|(n, b)| (n.to_string(), b.clone())));
        // Placeholders (an optimizer or filter that keeps no state) are not layout-sized.
        bufs.retain(|(_, b)| b.len % self.layout.len == 0);
        bufs
    }

    /// Run r's share of a buffer made of whole layout-sized blocks.
    fn run_blocks(&self, flat: &[f32], r: usize) -> Vec<f32> {
        flat.chunks(self.layout.len).flat_map(|block| self.run_slice(block, r)).collect()
    }

    /// Every run's full training state (a readback; checkpoint steps only).
    pub fn states(&self) -> Vec<RunState> {
        let params = self.gpu.read_f32(&self.params);
        let buffers: Vec<(String, Vec<f32>)> = self.state_buffers().into_iter().map(|(n, b)| (n, self.gpu.read_f32(&b))).collect();
        let counts = self.optimizer.step_counts(self.gpu);
        (0..self.runs.len())
            .map(|r| RunState {
                step: counts[r] as u64,
                params: self.run_slice(&params, r),
                buffers: buffers.iter().map(|(n, flat)| (n.clone(), self.run_blocks(flat, r))).collect(),
            })
            .collect()
    }

    /// Restores every run from its saved state; all must be at the same step.
    pub fn restore(&mut self, states: &[RunState]) -> Result<()> {
        let step = states[0].step;
        if states.iter().any(|s| s.step != step) {
            bail!("the runs' saved states are at different steps; resume them separately");
        }
        let total: usize = self.layout.tensors.iter().map(|t| t.numel).sum();
        let mut params = vec![0f32; self.layout.len];
        for (r, s) in states.iter().enumerate() {
            if s.params.len() != total {
                bail!("saved state has {} parameters, the model has {total}", s.params.len());
            }
            self.scatter_run(&mut params, r, &s.params);
        }
        self.gpu.write(&self.params, &params);
        for (name, buf) in self.state_buffers() {
            let mut flat = vec![0f32; buf.len];
            for (r, s) in states.iter().enumerate() {
                let Some((_, values)) = s.buffers.iter().find(|(n, _)| *n == name) else {
                    bail!("saved state has no '{name}'; it was written with other optimizer or filter settings");
                };
                if values.len() != total * (buf.len / self.layout.len) {
                    bail!("saved '{name}' has {} values, expected {}", values.len(), total * (buf.len / self.layout.len));
                }
                for (block, run_values) in flat.chunks_mut(self.layout.len).zip(values.chunks(total)) {
                    self.scatter_run(block, r, run_values);
                }
            }
            self.gpu.write(&buf, &flat);
        }
        self.optimizer.set_step_counts(self.gpu, &vec![step as u32; states.len()]);
        self.step = step;
        Ok(())
    }
}
