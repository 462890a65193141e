//! Gradient filters between backward and the optimizer update (docs/runs.md "Options"), in place
//! on the flat gradient buffer, each per run:
//! - `--l1 λ`: g += λ·sign(θ) on `embed.weight` only (sign(0) = 0). The penalty's value is
//!   not added to the loss: the reported loss stays the data loss.
//! - `--grokfast-ema α,λ` (Lee et al. 2024): μ ← α·μ + (1−α)·g, g ← g + λ·μ, with μ₁ = g₁ as
//!   in the Grokfast code.
//! - `--grokfast-ma w,λ`: the last w gradients in a ring buffer; once w have been seen,
//!   g ← g + λ·mean(window), the current one included; before that g passes unchanged (the
//!   Grokfast code's default warmup).
//! - `--ortho-grad` (⊥Grad, Prieto et al. 2025): per tensor and run, g⊥ = g − (θ·g/θ·θ)·θ
//!   rescaled to ‖g‖. g is left unchanged when θ·θ = 0 or g⊥ = 0, and for one-element
//!   tensors (g⊥ = 0 in exact arithmetic; Prieto et al.'s code would rescale rounding noise).
//!
//! Order when several are on: L1 first (part of the objective's gradient), then Grokfast EMA,
//! then MA (both filter the objective's gradient, as `gradfilter_ema` then `gradfilter_ma`
//! would in PyTorch), then ⊥Grad (it projects the final gradient, as Prieto et al.'s wrapper
//! does inside `optimizer.step()`). The optimizer then adds coupled L2 (Adam, SGD) or applies
//! decoupled decay (AdamW) to the filtered gradient, as the PyTorch optimizers would.
//!
//! The program runs right before the optimizer's, whose `begin_step` advances the per-run
//! counter: the filters read it as t = count + 1, the update they prepare. EMA initialization
//! and the MA ring slot come from that counter, so a replayed program needs no host work.
//! Dispatches per step: one elementwise pass if L1 or Grokfast is on, two more for ⊥Grad,
//! none when nothing is on.

use super::flat::FlatLayout;
use crate::gpu::{flat_grid, shaders, Access, Buffer, Gpu, Kernel, Program};

/// Which filters are on; all off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FilterConfig {
    /// λ of the L1 penalty λ·Σ|θ| on `embed.weight`.
    pub l1: Option<f64>,
    pub ortho_grad: bool,
    /// (α, λ) of Grokfast EMA.
    pub grokfast_ema: Option<(f64, f64)>,
    /// (window w, λ) of Grokfast MA.
    pub grokfast_ma: Option<(usize, f64)>,
}

/// Matches the WGSL `Params`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    total: u32,
    runs: u32,
    tensors: u32,
    window: u32,
    embed_start: u32,
    embed_end: u32,
    l1: f32,
    ema_alpha: f32,
    ema_one_minus_alpha: f32,
    ema_lambda: f32,
    ma_lambda: f32,
    _pad: u32,
}

const fn kernel(entry: &'static str, bindings: &'static [Access]) -> Kernel {
    Kernel { file: "grad_filters.wgsl", source: shaders::GRAD_FILTERS, entry, bindings }
}

/// uniform, layout table, step count, θ, g, μ, MA window
const FILTER_GRADIENT: Kernel = kernel(
    "filter_gradient",
    &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::ReadWrite, Access::ReadWrite],
);
/// uniform, layout table, θ, g, coefficients
const ORTHO_COEFFICIENTS: Kernel = kernel("ortho_coefficients", &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite]);
const ORTHO_APPLY: Kernel = kernel("ortho_apply", &[Access::Uniform, Access::Read, Access::Read, Access::ReadWrite, Access::Read]);

/// The filters of one [`FilterConfig`] bound to a flat parameter and gradient buffer.
pub struct GradFilters {
    pub config: FilterConfig,
    /// Grokfast EMA's μ, laid out like the parameters.
    ema: Option<Buffer>,
    /// Grokfast MA's last w gradients, [w, layout.len]; update t's is in slot (t − 1) mod w.
    ma_window: Option<Buffer>,
    program: Program,
}

impl GradFilters {
    /// Allocates the filter state (zero) and records the program. `step_count` is the
    /// optimizer's per-run counter of updates done (u32 [R]), read but never written.
    pub fn new(gpu: &Gpu, layout: &FlatLayout, params: &Buffer, grads: &Buffer, step_count: &Buffer, config: &FilterConfig) -> GradFilters {
        assert_eq!(params.len, layout.len, "GradFilters: parameter buffer is not laid out by the layout");
        assert_eq!(grads.len, layout.len, "GradFilters: gradient buffer is not laid out by the layout");
        assert_eq!(step_count.len, layout.runs, "GradFilters: one step count per run");
        let embed = match config.l1 {
            Some(lambda) => {
                assert!(lambda.is_finite() && lambda >= 0.0, "--l1 λ must be finite and ≥ 0, got {lambda}");
                assert!(layout.tensors.iter().any(|t| t.name == "embed.weight"), "--l1 needs an embed.weight tensor");
                layout.range("embed.weight")
            }
            None => 0..0,
        };
        let (alpha, ema_lambda) = config.grokfast_ema.unwrap_or((0.0, 0.0));
        assert!((0.0..=1.0).contains(&alpha) && ema_lambda.is_finite(), "--grokfast-ema α,λ needs α in [0, 1] and a finite λ");
        let (window, ma_lambda) = config.grokfast_ma.unwrap_or((1, 0.0));
        assert!(window >= 1 && ma_lambda.is_finite(), "--grokfast-ma w,λ needs w ≥ 1 and a finite λ");

        let ema = config.grokfast_ema.map(|_| gpu.buffer("grokfast ema", layout.len));
        let ma_window = config.grokfast_ma.map(|_| {
            let len = window * layout.len;
            let bytes = (len * 4) as u64;
            assert!(
                len < u32::MAX as usize && bytes <= gpu.limits.max_storage_buffer_binding_size && bytes <= gpu.limits.max_buffer_size,
                "--grokfast-ma: a window of {window} gradients needs {bytes} bytes, more than this adapter binds"
            );
            gpu.buffer("grokfast ma window", len)
        });
        let uniform = gpu.uniform(
            "grad filters",
            &Params {
                total: layout.len as u32,
                runs: layout.runs as u32,
                tensors: layout.tensors.len() as u32,
                window: window as u32,
                embed_start: embed.start as u32,
                embed_end: embed.end as u32,
                l1: config.l1.unwrap_or(0.0) as f32,
                ema_alpha: alpha as f32,
                ema_one_minus_alpha: (1.0 - alpha) as f32,
                ema_lambda: ema_lambda as f32,
                ma_lambda: ma_lambda as f32,
                _pad: 0,
            },
        );

        let mut program = Program::new();
        let elementwise = config.l1.is_some() || ema.is_some() || ma_window.is_some();
        if !elementwise && !config.ortho_grad {
            return GradFilters { config: *config, ema, ma_window, program };
        }
        let table = gpu.buffer_from("flat layout table", &layout.kernel_table());
        let grid = flat_grid(layout.len, 256);
        if elementwise {
            // A filter that is off is compiled out; its state binding is a placeholder.
            let unused = gpu.buffer("unused filter state", 1);
            let on = |b: bool| if b { 1.0 } else { 0.0 };
            let constants = [("L1", on(config.l1.is_some())), ("EMA", on(ema.is_some())), ("MA", on(ma_window.is_some()))];
            let state = [ema.as_ref().unwrap_or(&unused), ma_window.as_ref().unwrap_or(&unused)];
            program.push(gpu.dispatch(&FILTER_GRADIENT, &constants, &[&uniform, &table, step_count, params, grads, state[0], state[1]], grid));
        }
        if config.ortho_grad {
            let blocks = layout.tensors.len() * layout.runs;
            let coefficients = gpu.buffer("ortho-grad coefficients", 2 * blocks);
            program.push(gpu.dispatch(&ORTHO_COEFFICIENTS, &[], &[&uniform, &table, params, grads, &coefficients], flat_grid(blocks, 1)));
            program.push(gpu.dispatch(&ORTHO_APPLY, &[], &[&uniform, &table, params, grads, &coefficients], grid));
        }
        GradFilters { config: *config, ema, ma_window, program }
    }

    /// One step's filtering, to run between backward and the optimizer's program; empty
    /// when no filter is on. Replayable any number of times.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The state a resumed run must restore, with the optimizer's step counts, by name:
    /// `grokfast_ema` (μ, laid out like the parameters) and `grokfast_ma_window`
    /// ([w, layout.len]: update t's filter input in slot (t − 1) mod w).
    pub fn state_buffers(&self) -> Vec<(&'static str, &Buffer)> {
        let ema = self.ema.as_ref().map(|b| ("grokfast_ema", b));
        let window = self.ma_window.as_ref().map(|b| ("grokfast_ma_window", b));
        ema.into_iter().chain(window).collect()
    }
}
