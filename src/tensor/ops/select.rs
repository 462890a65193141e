//! Taking one index along an axis, e.g. h[:, :, T−1, :] of [R, N, T, d] → [R, N, d]
//! (the Transformer reads its prediction at the last position). One dispatch each way.

use super::reduce::split_axis;
use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "select.wgsl",
        source: shaders::SELECT,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::ReadWrite],
    }
}

const FORWARD: Kernel = kernel("select_forward");
const BACKWARD: Kernel = kernel("select_backward");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    index: u32,
    accumulate: u32,
    _pad: [u32; 3],
}

fn params((outer, len, inner): (usize, usize, usize), index: usize, accumulate: bool) -> Params {
    Params {
        outer: outer as u32,
        len: len as u32,
        inner: inner as u32,
        index: index as u32,
        accumulate: accumulate as u32,
        _pad: [0; 3],
    }
}

/// One launch of `k` with one invocation per item.
fn launch(gpu: &Gpu, k: &Kernel, params: &Params, src: &Buffer, out: &Buffer, items: usize) -> Dispatch {
    let uniform = gpu.uniform(k.entry, params);
    gpu.dispatch(k, &[], &[&uniform, src, out], flat_grid(items, 256))
}

/// x[…, index, …] along `axis` (≥ 1): the axis is dropped from the shape.
pub fn select(tape: &mut Tape, x: Tensor, axis: usize, index: usize) -> Tensor {
    assert!(axis >= 1, "selecting along the run axis would mix independent runs");
    let shape = tape.shape(x).to_vec();
    let view = split_axis(&shape, axis);
    assert!(index < view.1, "select index {index} out of range for axis {axis} of {shape:?}");
    let mut out_shape = shape;
    out_shape.remove(axis);
    let out = tape.output("select", &out_shape, &[x]);
    let (outer, _, inner) = view;
    let d = launch(tape.gpu, &FORWARD, &params(view, index, false), tape.buf(x), tape.buf(out), outer * inner);
    tape.record(Op::Select { axis, index }, &[x], out, vec![], vec![d]);
    out
}

/// Gradient rule: dy goes to the selected index, zeros elsewhere (when overwriting).
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::Select { axis, index } = node.op else { unreachable!("select::backward got {:?}", node.op) };
    let x = node.inputs[0];
    let view = split_axis(tape.shape(x), axis);
    let Some((grad, acc)) = tape.grad_target(x) else { return vec![] };
    // Every element of dx is visited: the unselected ones are zeroed when overwriting.
    let (outer, len, inner) = view;
    vec![launch(tape.gpu, &BACKWARD, &params(view, index, acc), dout, &grad, outer * len * inner)]
}
