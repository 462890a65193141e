//! Sum and mean along one axis (forward: a deterministic tree reduction; backward: a
//! broadcast), and `column_sums`, the raw per-batch column reduction that bias
//! gradients reuse. One dispatch each way.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "reduce.wgsl",
        source: shaders::REDUCE,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::ReadWrite],
    }
}

const REDUCE_AXIS: Kernel = kernel("reduce_axis");
const BROADCAST_AXIS: Kernel = kernel("broadcast_axis");

/// Threads of one workgroup (see reduce.wgsl).
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    tiles: u32,
    accumulate: u32,
    alpha: f32,
    _pad: [u32; 2],
}

/// (outer, len, inner) of `shape` around `axis`: element (o, a, i) sits at (o·len + a)·inner + i.
pub(crate) fn split_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    assert!(axis < shape.len(), "axis {axis} out of range for shape {shape:?}");
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

/// Inner indices per workgroup: 1 for a contiguous axis (a per-row tree), else enough
/// consecutive columns for coalesced loads, at most 32 so ≥ 8 splits share the rows.
fn inner_tile(inner: usize) -> usize {
    inner.next_power_of_two().min(32)
}

/// out[o, i] (+)= alpha · Σ_a x[o, a, i] for x viewed as [outer, len, inner]. The order
/// of additions depends only on the shape, so the result is reproducible bit for bit.
pub fn reduce_axis(
    gpu: &Gpu,
    x: &Buffer,
    (outer, len, inner): (usize, usize, usize),
    alpha: f32,
    out: &Buffer,
    accumulate: bool,
) -> Dispatch {
    assert!(x.len >= outer * len * inner && out.len >= outer * inner, "reduce_axis: buffers smaller than the shape");
    let tile = inner_tile(inner);
    let tiles = inner.div_ceil(tile);
    let params = Params {
        outer: outer as u32,
        len: len as u32,
        inner: inner as u32,
        tiles: tiles as u32,
        accumulate: accumulate as u32,
        alpha,
        _pad: [0; 2],
    };
    let uniform = gpu.uniform("reduce_axis", &params);
    gpu.dispatch(&REDUCE_AXIS, &[("INNER_TILE", tile as f64)], &[&uniform, x, out], flat_grid(outer * tiles * WG, WG))
}

/// Per batch b and column c: out[b, c] (+)= Σ_r x[b, r, c] (x is [batch, rows, cols]),
/// e.g. a Linear bias gradient with batch = R and rows = the examples.
pub fn column_sums(
    gpu: &Gpu,
    x: &Buffer,
    batch: usize,
    rows: usize,
    cols: usize,
    out: &Buffer,
    accumulate: bool,
) -> Dispatch {
    reduce_axis(gpu, x, (batch, rows, cols), 1.0, out, accumulate)
}

/// out[o, a, i] (+)= alpha · src[o, i], the backward of `reduce_axis`.
fn broadcast_axis(
    gpu: &Gpu,
    src: &Buffer,
    (outer, len, inner): (usize, usize, usize),
    alpha: f32,
    out: &Buffer,
    accumulate: bool,
) -> Dispatch {
    let params = Params {
        outer: outer as u32,
        len: len as u32,
        inner: inner as u32,
        tiles: 0,
        accumulate: accumulate as u32,
        alpha,
        _pad: [0; 2],
    };
    let uniform = gpu.uniform("broadcast_axis", &params);
    gpu.dispatch(&BROADCAST_AXIS, &[], &[&uniform, src, out], flat_grid(outer * len * inner, WG))
}

fn reduce(tape: &mut Tape, x: Tensor, axis: usize, mean: bool) -> Tensor {
    let shape = tape.shape(x).to_vec();
    assert!(axis >= 1, "reducing over the run axis would mix independent runs");
    let view = split_axis(&shape, axis);
    let mut out_shape = shape.clone();
    out_shape.remove(axis);
    let out = tape.output(if mean { "mean" } else { "sum" }, &out_shape, &[x]);
    let alpha = if mean { 1.0 / view.1 as f32 } else { 1.0 };
    let d = reduce_axis(tape.gpu, tape.buf(x), view, alpha, tape.buf(out), false);
    let op = if mean { Op::Mean { axis } } else { Op::Sum { axis } };
    tape.record(op, &[x], out, vec![], vec![d]);
    out
}

/// Σ over `axis` (≥ 1): [R, …, n, …] → [R, …, …].
pub fn sum(tape: &mut Tape, x: Tensor, axis: usize) -> Tensor {
    reduce(tape, x, axis, false)
}

/// Mean over `axis` (≥ 1): [R, …, n, …] → [R, …, …].
pub fn mean(tape: &mut Tape, x: Tensor, axis: usize) -> Tensor {
    reduce(tape, x, axis, true)
}

/// Gradient rules for this file's ops: dx = dy broadcast along the axis (÷ len for a mean).
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let x = node.inputs[0];
    let (axis, mean) = match node.op {
        Op::Sum { axis } => (axis, false),
        Op::Mean { axis } => (axis, true),
        _ => unreachable!("reduce::backward got {:?}", node.op),
    };
    let view = split_axis(tape.shape(x), axis);
    let alpha = if mean { 1.0 / view.1 as f32 } else { 1.0 };
    let Some((grad, acc)) = tape.grad_target(x) else { return vec![] };
    vec![broadcast_axis(tape.gpu, dout, view, alpha, &grad, acc)]
}
