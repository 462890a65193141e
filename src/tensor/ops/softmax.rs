//! Softmax over the last axis: forward (max-subtracted) and backward
//! dx = y·(dy − Σ y·dy), one dispatch each.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "softmax.wgsl",
        source: shaders::SOFTMAX,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::Read, Access::ReadWrite],
    }
}

const SOFTMAX_FORWARD: Kernel = kernel("softmax_forward");
const SOFTMAX_BACKWARD: Kernel = kernel("softmax_backward");

/// Threads of one workgroup (see softmax.wgsl).
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    accumulate: u32,
    _pad: u32,
}

/// Threads sharing one row of `cols`: about four columns each, a power of two ≤ 256,
/// so short rows waste no threads and long rows still spread over a workgroup.
pub(crate) fn row_threads(cols: usize) -> usize {
    cols.div_ceil(4).next_power_of_two().min(WG)
}

/// One row-parallel launch: out = f(a, b) row by row over [rows, cols].
fn launch(
    gpu: &Gpu,
    k: &Kernel,
    a: &Buffer,
    b: &Buffer,
    out: &Buffer,
    (rows, cols): (usize, usize),
    accumulate: bool,
) -> Dispatch {
    let params = Params { rows: rows as u32, cols: cols as u32, accumulate: accumulate as u32, _pad: 0 };
    let uniform = gpu.uniform(k.entry, &params);
    let threads = row_threads(cols);
    let workgroups = rows.div_ceil(WG / threads);
    gpu.dispatch(k, &[("ROW_THREADS", threads as f64)], &[&uniform, a, b, out], flat_grid(workgroups * WG, WG))
}

/// (rows, cols) of `shape` seen as a matrix over its last axis.
fn rows_cols(shape: &[usize]) -> (usize, usize) {
    let cols = *shape.last().expect("softmax of a scalar");
    (shape.iter().product::<usize>() / cols.max(1), cols)
}

/// Softmax over the last axis; same shape out.
pub fn softmax(tape: &mut Tape, x: Tensor) -> Tensor {
    let shape = tape.shape(x).to_vec();
    let out = tape.output("softmax", &shape, &[x]);
    let d = launch(tape.gpu, &SOFTMAX_FORWARD, tape.buf(x), tape.buf(x), tape.buf(out), rows_cols(&shape), false);
    tape.record(Op::Softmax, &[x], out, vec![], vec![d]);
    out
}

/// Gradient rule: dx = y·(dy − Σ_cols y·dy), from the saved output y.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    assert!(matches!(node.op, Op::Softmax), "softmax::backward got {:?}", node.op);
    let x = node.inputs[0];
    let matrix = rows_cols(tape.shape(x));
    let y = tape.buf(node.output).clone();
    let Some((grad, acc)) = tape.grad_target(x) else { return vec![] };
    vec![launch(tape.gpu, &SOFTMAX_BACKWARD, &y, dout, &grad, matrix, acc)]
}
