//! Every op, one family per file, forward beside backward. `Op` names them all; the
//! gradient rules are dispatched from `tensor::backward`.

pub mod attention;
pub mod cross_entropy;
pub mod elementwise;
pub mod linear;
pub mod matmul;
pub mod embedding;
pub mod layernorm;
pub mod reduce;
pub mod select;
pub mod softmax;

use crate::tensor::gemm;

/// A recorded op with the static facts its backward needs.
#[derive(Clone, Debug)]
pub enum Op {
    /// out = a + alpha·b
    AddScaled { alpha: f32 },
    /// out = alpha·a
    Scale { alpha: f32 },
    Relu,
    Gelu,
    /// Fused loss over logits [R, N, C]; its forward writes dlogits.
    CrossEntropy { kind: cross_entropy::LossKind },
    /// Per-run mean loss and accuracy [R, 2] from a `CrossEntropy`'s rows.
    LossMetrics,
    /// Fused causal self-attention over qkv [R, N, T, 3d].
    Attention { heads: usize },
    /// op(A)·op(B), see `matmul`
    Matmul { layout: gemm::Layout },
    /// act(x·Wᵀ + b) + residual; inputs x, W, then b and residual when present
    Linear { act: gemm::Activation, has_bias: bool, has_residual: bool },
    /// Σ over `axis`
    Sum { axis: usize },
    /// mean over `axis`
    Mean { axis: usize },
    /// softmax over the last axis
    Softmax,
    /// inputs x, γ, β; saves mean (of x minus the row's first element) and rstd per row;
    /// with `index`, normalizes only x[…, index, :] of x [R, …, T, d]
    LayerNorm { eps: f32, index: Option<usize> },
    /// inputs table, tokens
    Embedding,
    /// inputs table, pos, tokens: table[tok] + pos[t]
    EmbeddingWithPositions,
    /// x[…, index, …] along `axis`
    Select { axis: usize, index: usize },
}
