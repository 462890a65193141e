//! LayerNorm over the last axis with per-run γ, β (PyTorch's `nn.LayerNorm`: biased
//! variance, eps 1e-5).
//!
//! Dispatches: forward 1 (saves per row the mean of x − x₀, x₀ the row's first element,
//! and rstd; the shift keeps x − mean accurate when a row's offset dwarfs its spread);
//! backward 2 — one row kernel for
//! dx and one column kernel for dγ and dβ together, which do not depend on each other.
//! Both reductions run in a fixed order (see layernorm.wgsl), so gradients are
//! reproducible bit for bit.

use super::softmax::row_threads;
use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "layernorm.wgsl",
        source: shaders::LAYERNORM,
        entry,
        bindings: &[
            Access::Uniform,
            Access::Read,
            Access::Read,
            Access::Read,
            Access::ReadWrite,
            Access::ReadWrite,
            Access::ReadWrite,
        ],
    }
}

const FORWARD: Kernel = kernel("layernorm_forward");
const BACKWARD_INPUT: Kernel = kernel("layernorm_backward_input");
const BACKWARD_PARAMS: Kernel = kernel("layernorm_backward_params");

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
}

/// Runs, rows per run and the normalized width of a [R, …, d] input.
#[derive(Clone, Copy)]
struct Dims {
    runs: usize,
    rows: usize,
    dim: usize,
}

impl Dims {
    fn of(shape: &[usize]) -> Dims {
        assert!(shape.len() >= 2, "layernorm input must be [R, …, d], got {shape:?}");
        let (runs, dim) = (shape[0], shape[shape.len() - 1]);
        Dims { runs, rows: shape[1..shape.len() - 1].iter().product(), dim }
    }

    /// Columns per workgroup of the dγ/dβ kernel: coalesced loads, and ≥ 8 row splits.
    fn col_tile(self) -> usize {
        self.dim.next_power_of_two().min(32)
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
        }
    }
}

/// A launch of a row kernel (forward, dx) over all R·rows rows.
fn row_launch(gpu: &Gpu, k: &Kernel, dims: Dims, params: &Params, buffers: [&Buffer; 6]) -> Dispatch {
    let uniform = gpu.uniform(k.entry, params);
    let threads = row_threads(dims.dim);
    let workgroups = (dims.runs * dims.rows).div_ceil(WG / threads);
    let [a, b, c, d, e, f] = buffers;
    gpu.dispatch(k, &[("ROW_THREADS", threads as f64)], &[&uniform, a, b, c, d, e, f], flat_grid(workgroups * WG, WG))
}

/// (x − mean)·rstd·γ + β over the last axis; x [R, …, d], γ and β [R, d].
pub fn layernorm(tape: &mut Tape, x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor {
    let shape = tape.shape(x).to_vec();
    let dims = Dims::of(&shape);
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
    let params = dims.params(EPS, [false; 3]);
    let buffers = [tape.buf(x), tape.buf(gamma), tape.buf(beta), tape.buf(out), &mean, &rstd];
    let d = row_launch(tape.gpu, &FORWARD, dims, &params, buffers);
    tape.record(Op::LayerNorm { eps: EPS }, &[x, gamma, beta], out, vec![mean, rstd], vec![d]);
    out
}

/// Gradient rules: dx from the row kernel, dγ and dβ from the column kernel.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::LayerNorm { eps } = node.op else { unreachable!("layernorm::backward got {:?}", node.op) };
    let [x, gamma, beta] = node.inputs[..] else { unreachable!("layernorm has three inputs") };
    let [mean, rstd] = &node.saved[..] else { unreachable!("layernorm saves mean and rstd") };
    let dims = Dims::of(tape.shape(x));
    let gpu = tape.gpu;
    let (xb, gammab) = (tape.buf(x).clone(), tape.buf(gamma).clone());
    let mut dispatches = vec![];
    if let Some((dx, acc)) = tape.grad_target(x) {
        let params = dims.params(eps, [acc, false, false]);
        dispatches.push(row_launch(gpu, &BACKWARD_INPUT, dims, &params, [&xb, &gammab, dout, mean, rstd, &dx]));
    }
    let (dgamma, dbeta) = (tape.grad_target(gamma), tape.grad_target(beta));
    if dgamma.is_some() || dbeta.is_some() {
        // A frozen γ or β still needs a binding; its sums go to a scratch buffer.
        let target = |g: Option<(Buffer, bool)>| {
            g.unwrap_or_else(|| (gpu.buffer("layernorm unused grad", dims.runs * dims.dim), false))
        };
        let ((dgamma, acc_gamma), (dbeta, acc_beta)) = (target(dgamma), target(dbeta));
        let params = dims.params(eps, [false, acc_gamma, acc_beta]);
        let uniform = gpu.uniform(BACKWARD_PARAMS.entry, &params);
        let workgroups = [params.tiles, dims.runs as u32, 1];
        let tile = [("COL_TILE", dims.col_tile() as f64)];
        dispatches.push(gpu.dispatch(
            &BACKWARD_PARAMS,
            &tile,
            &[&uniform, &xb, dout, mean, rstd, &dgamma, &dbeta],
            workgroups,
        ));
    }
    dispatches
}
