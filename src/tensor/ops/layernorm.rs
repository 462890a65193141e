//! LayerNorm over the last axis with per-run γ, β (PyTorch's `nn.LayerNorm`: biased
//! variance, eps 1e-5), of every row or, with [`layernorm_at`], of one position of a
//! sequence (taking that position costs no dispatch of its own, either way).
//!
//! Dispatches: forward 1 (saves per row the mean of x − x₀, x₀ the row's first element,
//! and rstd; the shift keeps x − mean accurate when a row's offset dwarfs its spread);
//! backward 1 — its grid holds two independent jobs, column sums for dγ and dβ and rows
//! for dx. Both reductions run in a fixed order (see layernorm.wgsl), so gradients are
//! reproducible bit for bit.

use super::softmax::row_threads;
use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

/// uniform, x, γ, β/dy, then y/mean, mean/rstd, rstd/dx (forward/backward), dγ, dβ.
const BINDINGS: &[Access] = &[
    Access::Uniform,
    Access::Read,
    Access::Read,
    Access::Read,
    Access::ReadWrite,
    Access::ReadWrite,
    Access::ReadWrite,
    Access::ReadWrite,
    Access::ReadWrite,
];

const FORWARD: Kernel = Kernel {
    file: "layernorm.wgsl",
    source: shaders::LAYERNORM,
    entry: "layernorm_forward",
    bindings: BINDINGS.split_at(7).0,
};
const BACKWARD: Kernel = Kernel { file: "layernorm.wgsl", source: shaders::LAYERNORM, entry: "layernorm_backward", bindings: BINDINGS };

/// PyTorch's default, used by every model in grokgpu.
pub const EPS: f32 = 1e-5;

/// Threads of one workgroup (see layernorm.wgsl).
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    runs: u32,
    rows: u32,
    dim: u32,
    tiles: u32,
    eps: f32,
    accumulate_x: u32,
    accumulate_gamma: u32,
    accumulate_beta: u32,
    column_groups: u32,
    row_groups: u32,
    stride: u32,
    offset: u32,
}

/// Runs, normalized rows per run and their width; x holds `stride` rows per normalized
/// row, the one at `offset` (1 and 0 unless one position is normalized).
#[derive(Clone, Copy)]
struct Dims {
    runs: usize,
    rows: usize,
    dim: usize,
    stride: usize,
    offset: usize,
}

impl Dims {
    /// Of an input x: [R, …, d] normalized whole, or [R, …, T, d] at position `index`.
    fn of(shape: &[usize], index: Option<usize>) -> Dims {
        let axes = shape.len() - 1 - index.is_some() as usize;
        assert!(axes >= 1, "layernorm input must be [R, …, d] (or [R, …, T, d] at a position), got {shape:?}");
        let (runs, dim) = (shape[0], shape[shape.len() - 1]);
        let (stride, offset) = index.map_or((1, 0), |i| (shape[axes], i));
        assert!(offset < stride, "layernorm position {offset} out of range for {shape:?}");
        Dims { runs, rows: shape[1..axes].iter().product(), dim, stride, offset }
    }

    /// Columns per workgroup of the dγ/dβ jobs: coalesced loads, and ≥ 8 row splits.
    fn col_tile(self) -> usize {
        self.dim.next_power_of_two().min(32)
    }

    /// Workgroups of the row kernels (ROW_THREADS threads per row).
    fn row_groups(self) -> usize {
        (self.runs * self.rows).div_ceil(WG / row_threads(self.dim))
    }

    fn params(self, eps: f32, accumulate: [bool; 3]) -> Params {
        Params {
            runs: self.runs as u32,
            rows: self.rows as u32,
            dim: self.dim as u32,
            tiles: self.dim.div_ceil(self.col_tile()) as u32,
            eps,
            accumulate_x: accumulate[0] as u32,
            accumulate_gamma: accumulate[1] as u32,
            accumulate_beta: accumulate[2] as u32,
            column_groups: 0,
            row_groups: 0,
            stride: self.stride as u32,
            offset: self.offset as u32,
        }
    }
}

/// (x − mean)·rstd·γ + β over the last axis; x [R, …, d], γ and β [R, d].
pub fn layernorm(tape: &mut Tape, x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor {
    record(tape, x, None, gamma, beta)
}

/// [`layernorm`] of x[…, index, :] for x [R, …, T, d]: the result is [R, …, d], as
/// `select` along the position axis followed by `layernorm` would give, in one dispatch
/// each way (backward writes the zeros of the other positions itself).
pub fn layernorm_at(tape: &mut Tape, x: Tensor, index: usize, gamma: Tensor, beta: Tensor) -> Tensor {
    record(tape, x, Some(index), gamma, beta)
}

fn record(tape: &mut Tape, x: Tensor, index: Option<usize>, gamma: Tensor, beta: Tensor) -> Tensor {
    let mut shape = tape.shape(x).to_vec();
    let dims = Dims::of(&shape, index);
    if index.is_some() {
        shape.remove(shape.len() - 2);
    }
    for p in [gamma, beta] {
        let s = tape.shape(p);
        assert!(
            s[0] == dims.runs && s.iter().product::<usize>() == dims.runs * dims.dim,
            "layernorm γ and β must be [R, d] = [{}, {}], got {s:?}",
            dims.runs,
            dims.dim
        );
    }
    let out = tape.output("layernorm", &shape, &[x, gamma, beta]);
    let mean = tape.gpu.buffer("layernorm mean", dims.runs * dims.rows);
    let rstd = tape.gpu.buffer("layernorm rstd", dims.runs * dims.rows);
    let gpu = tape.gpu;
    let uniform = gpu.uniform(FORWARD.entry, &dims.params(EPS, [false; 3]));
    let threads = [("ROW_THREADS", row_threads(dims.dim) as f64)];
    let buffers = [&uniform, tape.buf(x), tape.buf(gamma), tape.buf(beta), tape.buf(out), &mean, &rstd];
    let d = gpu.dispatch(&FORWARD, &threads, &buffers, flat_grid(dims.row_groups() * WG, WG));
    tape.record(Op::LayerNorm { eps: EPS, index }, &[x, gamma, beta], out, vec![mean, rstd], vec![d]);
    out
}

/// Gradient rules: dγ and dβ from column jobs and dx from row jobs, in one launch.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::LayerNorm { eps, index } = node.op else { unreachable!("layernorm::backward got {:?}", node.op) };
    let [x, gamma, beta] = node.inputs[..] else { unreachable!("layernorm has three inputs") };
    let [mean, rstd] = &node.saved[..] else { unreachable!("layernorm saves mean and rstd") };
    let dims = Dims::of(tape.shape(x), index);
    let gpu = tape.gpu;
    let (xb, gammab) = (tape.buf(x).clone(), tape.buf(gamma).clone());
    let (dx, dgamma, dbeta) = (tape.grad_target(x), tape.grad_target(gamma), tape.grad_target(beta));
    let params_wanted = dgamma.is_some() || dbeta.is_some();
    if dx.is_none() && !params_wanted {
        return vec![];
    }
    // What is not wanted is bound to a scratch buffer that no job (or only a discarded
    // column sum, for a frozen γ or β beside a trainable one) writes.
    let scratch = |g: Option<(Buffer, bool)>, len: usize| g.unwrap_or_else(|| (gpu.buffer("layernorm unused grad", len), false));
    let row_groups = if dx.is_some() { dims.row_groups() } else { 0 };
    let (dx, acc_x) = scratch(dx, 1);
    let ((dgamma, acc_gamma), (dbeta, acc_beta)) = (scratch(dgamma, dims.runs * dims.dim), scratch(dbeta, dims.runs * dims.dim));
    let mut params = dims.params(eps, [acc_x, acc_gamma, acc_beta]);
    params.column_groups = if params_wanted { params.tiles * dims.runs as u32 } else { 0 };
    params.row_groups = row_groups as u32;
    let uniform = gpu.uniform(BACKWARD.entry, &params);
    let constants = [("ROW_THREADS", row_threads(dims.dim) as f64), ("COL_TILE", dims.col_tile() as f64)];
    let buffers = [&uniform, &xb, &gammab, dout, mean, rstd, &dx, &dgamma, &dbeta];
    let groups = params.column_groups as usize + row_groups;
    vec![gpu.dispatch(&BACKWARD, &constants, &buffers, flat_grid(groups * WG, WG))]
}
