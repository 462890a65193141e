//! The one place that lists every gradient rule: each op's backward lives beside its
//! forward in `ops/`, and this match sends each recorded node to it.

use super::ops::{self, Op};
use super::{Node, Tape};
use crate::gpu::{Buffer, Dispatch};

/// Emits the dispatches that propagate `dout` (the gradient of `node.output`) to the
/// node's inputs.
pub(crate) fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    match node.op {
        Op::AddScaled { .. } | Op::Scale { .. } | Op::Relu | Op::Gelu => {
            ops::elementwise::backward(tape, node, dout)
        }
        Op::CrossEntropy { .. } | Op::LossMetrics => ops::cross_entropy::backward(tape, node, dout),
        Op::Attention { .. } => ops::attention::backward(tape, node, dout),
        Op::Matmul { .. } => ops::matmul::backward(tape, node, dout),
        Op::Linear { .. } => ops::linear::backward(tape, node, dout),
        Op::Sum { .. } | Op::Mean { .. } => ops::reduce::backward(tape, node, dout),
        Op::Softmax => ops::softmax::backward(tape, node, dout),
        Op::LayerNorm { .. } => ops::layernorm::backward(tape, node, dout),
        Op::Embedding | Op::EmbeddingWithPositions => ops::embedding::backward(tape, node, dout),
        Op::Select { .. } => ops::select::backward(tape, node, dout),
    }
}
