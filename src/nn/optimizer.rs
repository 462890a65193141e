//! AdamW, Adam (coupled L2) and SGD with momentum over the flat parameter buffer, with
//! PyTorch semantics (docs/runs.md), per-run hyperparameters and a GPU-side step counter.
//!
//! One step is a two-dispatch program: `begin_step` advances every run's counter t and
//! derives lr_t = lr·min(1, t/warmup) and the bias corrections once per run; the update
//! kernel then touches every parameter once. Replaying the program k times performs k
//! updates with no host work; the counter is a buffer, read and written for `--resume`.
//!
//! Gradient transforms (⊥Grad, Grokfast) fit in front of the update: the kernel table
//! already maps each element to its tensor and run, which is what a per-(tensor, run)
//! coefficient table or an extra flat state buffer is indexed by.

use super::flat::FlatLayout;
use crate::gpu::{flat_grid, shaders, Access, Buffer, Gpu, Kernel, Program};

/// docs/runs.md `optimizer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Decoupled weight decay (torch.optim.AdamW).
    AdamW,
    /// Coupled L2, g + wd·θ (torch.optim.Adam's weight_decay).
    Adam,
    /// g + wd·θ, optional momentum (torch.optim.SGD, dampening 0, no Nesterov).
    Sgd,
}

/// One run's hyperparameters. Betas and eps are ignored by SGD, momentum by Adam(W).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyperparams {
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub momentum: f64,
    /// Linear warmup length in updates; 0 = constant lr.
    pub warmup: u32,
}

/// Matches the WGSL `Hyper`: values derived in f64 and rounded to f32 once.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct GpuHyper {
    lr: f32,
    weight_decay: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    log_beta1: f32,
    log_beta2: f32,
    eps: f32,
    momentum: f32,
    warmup: f32,
}

impl From<&Hyperparams> for GpuHyper {
    fn from(h: &Hyperparams) -> GpuHyper {
        assert!((0.0..1.0).contains(&h.beta1) && (0.0..1.0).contains(&h.beta2), "betas must lie in [0, 1)");
        GpuHyper {
            lr: h.lr as f32,
            weight_decay: h.weight_decay as f32,
            beta1: h.beta1 as f32,
            one_minus_beta1: (1.0 - h.beta1) as f32,
            beta2: h.beta2 as f32,
            one_minus_beta2: (1.0 - h.beta2) as f32,
            // ln 0 = −∞ gives a bias correction of exactly 1, as β = 0 should.
            log_beta1: h.beta1.ln() as f32,
            log_beta2: h.beta2.ln() as f32,
            eps: h.eps as f32,
            momentum: h.momentum as f32,
            warmup: h.warmup as f32,
        }
    }
}

/// Per-run scalars of one update (WGSL `StepScalars`): t, lr_t, step size, 1/√correction2.
const STEP_SCALARS: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    total: u32,
    runs: u32,
    tensors: u32,
    _pad: u32,
}

const fn kernel(entry: &'static str, bindings: &'static [Access]) -> Kernel {
    Kernel { file: "optimizer.wgsl", source: shaders::OPTIMIZER, entry, bindings }
}

const BEGIN_STEP: Kernel = kernel("begin_step", &[Access::Uniform, Access::Read, Access::ReadWrite, Access::ReadWrite]);

/// uniform, hyper, layout table, step scalars, θ, g, moment1 (, moment2)
const ADAM_BINDINGS: &[Access] = &[
    Access::Uniform,
    Access::Read,
    Access::Read,
    Access::Read,
    Access::ReadWrite,
    Access::Read,
    Access::ReadWrite,
    Access::ReadWrite,
];
const ADAMW_UPDATE: Kernel = kernel("adamw_update", ADAM_BINDINGS);
const ADAM_UPDATE: Kernel = kernel("adam_update", ADAM_BINDINGS);
// SGD has no second moment: the same bindings without the last.
const SGD_UPDATE: Kernel = kernel("sgd_update", ADAM_BINDINGS.split_at(7).0);

/// An optimizer bound to one flat parameter buffer and its gradient buffer.
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub runs: usize,
    /// Adam's first moment m, or SGD's momentum buffer; laid out like the parameters
    /// (a 1-element placeholder when no run uses it).
    pub moment1: Buffer,
    /// Adam's second moment v, laid out like the parameters (a placeholder for SGD).
    pub moment2: Buffer,
    /// Updates done so far, per run: u32 [R]. The next update is t = count + 1.
    pub step_count: Buffer,
    hyper: Buffer,
    program: Program,
}

impl Optimizer {
    /// Allocates the state (zero moments, t = 0) and records the step program.
    /// `hyper` has one entry per run.
    pub fn new(gpu: &Gpu, kind: OptimizerKind, layout: &FlatLayout, params: &Buffer, grads: &Buffer, hyper: &[Hyperparams]) -> Optimizer {
        let runs = layout.runs;
        assert_eq!(hyper.len(), runs, "Optimizer: one set of hyperparameters per run");
        assert_eq!(params.len, layout.len, "Optimizer: parameter buffer is not laid out by the layout");
        assert_eq!(grads.len, layout.len, "Optimizer: gradient buffer is not laid out by the layout");
        let flat_state = |label: &str, used: bool| gpu.buffer(label, if used { layout.len } else { 1 });
        let adam = kind != OptimizerKind::Sgd;
        let moment1 = flat_state("moment1", adam || hyper.iter().any(|h| h.momentum != 0.0));
        let moment2 = flat_state("moment2", adam);
        let step_count = gpu.buffer("step count", runs);
        let hyper_buf = gpu.buffer_from("optimizer hyperparameters", &gpu_hyper(hyper));
        let scalars = gpu.buffer("step scalars", runs * STEP_SCALARS);
        let table = gpu.buffer_from("flat layout table", &layout.kernel_table());
        let uniform = gpu.uniform(
            "optimizer",
            &Params { total: layout.len as u32, runs: runs as u32, tensors: layout.tensors.len() as u32, _pad: 0 },
        );

        let mut program = Program::new();
        program.push(gpu.dispatch(&BEGIN_STEP, &[], &[&uniform, &hyper_buf, &step_count, &scalars], [runs.div_ceil(64) as u32, 1, 1]));
        let grid = flat_grid(layout.len, 256);
        let update = match kind {
            OptimizerKind::AdamW => gpu.dispatch(&ADAMW_UPDATE, &[], &[&uniform, &hyper_buf, &table, &scalars, params, grads, &moment1, &moment2], grid),
            OptimizerKind::Adam => gpu.dispatch(&ADAM_UPDATE, &[], &[&uniform, &hyper_buf, &table, &scalars, params, grads, &moment1, &moment2], grid),
            OptimizerKind::Sgd => gpu.dispatch(&SGD_UPDATE, &[], &[&uniform, &hyper_buf, &table, &scalars, params, grads, &moment1], grid),
        };
        program.push(update);
        Optimizer { kind, runs, moment1, moment2, step_count, hyper: hyper_buf, program }
    }

    /// One update of every run: two dispatches, replayable any number of times.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Updates done so far, per run (a readback: checkpoints only).
    pub fn step_counts(&self, gpu: &Gpu) -> Vec<u32> {
        gpu.read_u32(&self.step_count)
    }

    /// Sets the per-run update counters, e.g. when resuming a run.
    pub fn set_step_counts(&self, gpu: &Gpu, counts: &[u32]) {
        assert_eq!(counts.len(), self.runs, "one step count per run");
        gpu.write(&self.step_count, counts);
    }

    /// Replaces the per-run hyperparameters (e.g. a weight-decay fork), effective from
    /// the next update.
    pub fn set_hyperparams(&self, gpu: &Gpu, hyper: &[Hyperparams]) {
        assert_eq!(hyper.len(), self.runs, "one set of hyperparameters per run");
        gpu.write(&self.hyper, &gpu_hyper(hyper));
    }
}

fn gpu_hyper(hyper: &[Hyperparams]) -> Vec<f32> {
    let rows: Vec<GpuHyper> = hyper.iter().map(GpuHyper::from).collect();
    bytemuck::cast_slice(&rows).to_vec()
}
