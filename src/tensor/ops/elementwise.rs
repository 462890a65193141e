//! Elementwise ops (add, scale, relu, gelu): forward and backward.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "elementwise.wgsl",
        source: shaders::ELEMENTWISE,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::Read, Access::ReadWrite],
    }
}

const ADD_SCALED: Kernel = kernel("add_scaled");
const SCALE: Kernel = kernel("scale");
const RELU_FORWARD: Kernel = kernel("relu_forward");
const RELU_BACKWARD: Kernel = kernel("relu_backward");
const GELU_FORWARD: Kernel = kernel("gelu_forward");
const GELU_BACKWARD: Kernel = kernel("gelu_backward");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    accumulate: u32,
    alpha: f32,
    _pad: u32,
}

/// One elementwise launch over `n` items: out (+)= f(a, b).
fn launch(tape: &Tape, k: &Kernel, [a, b, out]: [&Buffer; 3], n: usize, alpha: f32, accumulate: bool) -> Dispatch {
    let params = Params { n: n as u32, accumulate: accumulate as u32, alpha, _pad: 0 };
    let uniform = tape.gpu.uniform(k.entry, &params);
    tape.gpu.dispatch(k, &[], &[&uniform, a, b, out], flat_grid(n, 256))
}

fn numel(tape: &Tape, t: Tensor) -> usize {
    tape.shape(t).iter().product()
}

/// a + alpha·b (same shapes).
pub fn add_scaled(tape: &mut Tape, a: Tensor, b: Tensor, alpha: f32) -> Tensor {
    assert_eq!(tape.shape(a), tape.shape(b), "add: shapes differ");
    let shape = tape.shape(a).to_vec();
    let out = tape.output("add", &shape, &[a, b]);
    let d = launch(tape, &ADD_SCALED, [tape.buf(a), tape.buf(b), tape.buf(out)], numel(tape, a), alpha, false);
    tape.record(Op::AddScaled { alpha }, &[a, b], out, vec![], vec![d]);
    out
}

pub fn add(tape: &mut Tape, a: Tensor, b: Tensor) -> Tensor {
    add_scaled(tape, a, b, 1.0)
}

pub fn scale(tape: &mut Tape, a: Tensor, alpha: f32) -> Tensor {
    let shape = tape.shape(a).to_vec();
    let out = tape.output("scale", &shape, &[a]);
    let d = launch(tape, &SCALE, [tape.buf(a), tape.buf(a), tape.buf(out)], numel(tape, a), alpha, false);
    tape.record(Op::Scale { alpha }, &[a], out, vec![], vec![d]);
    out
}

pub fn relu(tape: &mut Tape, a: Tensor) -> Tensor {
    let shape = tape.shape(a).to_vec();
    let out = tape.output("relu", &shape, &[a]);
    let d = launch(tape, &RELU_FORWARD, [tape.buf(a), tape.buf(a), tape.buf(out)], numel(tape, a), 0.0, false);
    tape.record(Op::Relu, &[a], out, vec![], vec![d]);
    out
}

pub fn gelu(tape: &mut Tape, a: Tensor) -> Tensor {
    let shape = tape.shape(a).to_vec();
    let out = tape.output("gelu", &shape, &[a]);
    let d = launch(tape, &GELU_FORWARD, [tape.buf(a), tape.buf(a), tape.buf(out)], numel(tape, a), 0.0, false);
    tape.record(Op::Gelu, &[a], out, vec![], vec![d]);
    out
}

/// d(input) (+)= alpha·dout, the backward of every linear elementwise op.
pub fn accumulate_scaled(tape: &mut Tape, input: Tensor, dout: &Buffer, alpha: f32) -> Option<Dispatch> {
    let n = numel(tape, input);
    let (grad, acc) = tape.grad_target(input)?;
    Some(launch(tape, &SCALE, [dout, dout, &grad], n, alpha, acc))
}

/// Gradient rules for this file's ops.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let x = node.inputs[0];
    let n = numel(tape, x);
    match node.op {
        Op::AddScaled { alpha } => [
            accumulate_scaled(tape, node.inputs[0], dout, 1.0),
            accumulate_scaled(tape, node.inputs[1], dout, alpha),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Op::Scale { alpha } => accumulate_scaled(tape, x, dout, alpha).into_iter().collect(),
        Op::Relu => {
            let y = tape.buf(node.output).clone();
            let Some((grad, acc)) = tape.grad_target(x) else { return vec![] };
            vec![launch(tape, &RELU_BACKWARD, [&y, dout, &grad], n, 0.0, acc)]
        }
        Op::Gelu => {
            let xb = tape.buf(x).clone();
            let Some((grad, acc)) = tape.grad_target(x) else { return vec![] };
            vec![launch(tape, &GELU_BACKWARD, [&xb, dout, &grad], n, 0.0, acc)]
        }
        _ => unreachable!("elementwise::backward got {:?}", node.op),
    }
}
