//! Fused causal multi-head self-attention on the packed qkv projection, for the short
//! sequences of modular arithmetic (T ≤ 8): one forward and one backward dispatch.
//!
//! qkv [R, N, T, 3d]: q in columns 0..d, k in d..2d, v in 2d..3d; head h owns columns
//! h·dh..(h+1)·dh of each, dh = d/H. Query t attends to keys u ≤ t with scores
//! q_t·k_u/√dh → softmax → out [R, N, T, d] (head h in columns h·dh..). The forward saves
//! the probabilities [R, N, H, T, T] for backward and for the attention-entropy analysis.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const FORWARD: Kernel = Kernel {
    file: "attention.wgsl",
    source: shaders::ATTENTION,
    entry: "attention_forward",
    bindings: &[Access::Uniform, Access::Read, Access::ReadWrite, Access::ReadWrite],
};

const BACKWARD: Kernel = Kernel {
    file: "attention.wgsl",
    source: shaders::ATTENTION,
    entry: "attention_backward",
    bindings: &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite],
};

/// The kernels keep one sample's H·T·T scores in workgroup memory of this many floats.
const MAX_SCORES: usize = 1024;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    samples: u32,
    seq: u32,
    d: u32,
    heads: u32,
    scale: f32,
    accumulate: u32,
    _pad: [u32; 2],
}

/// Sizes read off a qkv shape [R, …, T, 3d]: every axis before T is a batch of samples.
struct Dims {
    samples: usize,
    seq: usize,
    d: usize,
}

fn dims(shape: &[usize], heads: usize) -> Dims {
    assert!(shape.len() >= 3, "attention: qkv must be [R, …, T, 3d], got {shape:?}");
    let (batch, last) = shape.split_at(shape.len() - 2);
    let (seq, width) = (last[0], last[1]);
    assert!(width % 3 == 0, "attention: the last axis of qkv must be 3d, got {width}");
    let d = width / 3;
    assert!(heads > 0 && d % heads == 0, "attention: d = {d} must split into {heads} heads");
    assert!(heads * seq * seq <= MAX_SCORES, "attention: H·T·T = {} exceeds {MAX_SCORES}", heads * seq * seq);
    Dims { samples: batch.iter().product(), seq, d }
}

fn params(dims: &Dims, heads: usize, accumulate: bool) -> Params {
    Params {
        samples: dims.samples as u32,
        seq: dims.seq as u32,
        d: dims.d as u32,
        heads: heads as u32,
        scale: (1.0 / ((dims.d / heads) as f64).sqrt()) as f32,
        accumulate: accumulate as u32,
        _pad: [0; 2],
    }
}

/// The attention op's two results.
#[derive(Clone, Copy, Debug)]
pub struct Attention {
    /// [R, …, T, d]
    pub out: Tensor,
    /// Softmax weights [R, …, H, T, T]; probs[.., h, t, u] is query t's weight on key u,
    /// exactly 0 for u > t. Carries no gradient.
    pub probs: Tensor,
}

/// Causal self-attention of qkv [R, …, T, 3d] with `heads` heads.
pub fn attention(tape: &mut Tape, qkv: Tensor, heads: usize) -> Attention {
    let shape = tape.shape(qkv).to_vec();
    let dims = dims(&shape, heads);
    let batch = &shape[..shape.len() - 2];
    let out_shape = [batch, &[dims.seq, dims.d]].concat();
    let probs_shape = [batch, &[heads, dims.seq, dims.seq]].concat();
    let out = tape.output("attention", &out_shape, &[qkv]);
    let probs_buf = tape.gpu.buffer("attention probs", probs_shape.iter().product());
    let probs = tape.input(probs_buf.clone(), &probs_shape);
    let uniform = tape.gpu.uniform(FORWARD.entry, &params(&dims, heads, false));
    let d = tape.gpu.dispatch(&FORWARD, &[], &[&uniform, tape.buf(qkv), tape.buf(out), &probs_buf], flat_grid(dims.samples, 1));
    tape.record(Op::Attention { heads }, &[qkv], out, vec![probs_buf], vec![d]);
    Attention { out, probs }
}

/// dqkv from dout and the saved probabilities, in one dispatch.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::Attention { heads } = node.op else { unreachable!("attention::backward got {:?}", node.op) };
    let qkv = node.inputs[0];
    let dims = dims(tape.shape(qkv), heads);
    let qkv_buf = tape.buf(qkv).clone();
    let Some((grad, accumulate)) = tape.grad_target(qkv) else { return vec![] };
    let uniform = tape.gpu.uniform(BACKWARD.entry, &params(&dims, heads, accumulate));
    let probs = &node.saved[0];
    vec![tape.gpu.dispatch(&BACKWARD, &[], &[&uniform, &qkv_buf, probs, dout, &grad], flat_grid(dims.samples, 1))]
}
