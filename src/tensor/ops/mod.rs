//! Every op, one family per file, forward beside backward. `Op` names them all; the
//! gradient rules are dispatched from `tensor::backward`.

pub mod elementwise;
pub mod embedding;
pub mod layernorm;
pub mod reduce;
pub mod select;
pub mod softmax;

/// A recorded op with the static facts its backward needs.
#[derive(Clone, Debug)]
pub enum Op {
    /// out = a + alpha·b
    AddScaled { alpha: f32 },
    /// out = alpha·a
    Scale { alpha: f32 },
    Relu,
    Gelu,
    /// Σ over `axis`
    Sum { axis: usize },
    /// mean over `axis`
    Mean { axis: usize },
    /// softmax over the last axis
    Softmax,
    /// inputs x, γ, β; saves mean (of x minus the row's first element) and rstd per row
    LayerNorm { eps: f32 },
    /// inputs table, tokens
    Embedding,
    /// inputs table, pos, tokens: table[tok] + pos[t]
    EmbeddingWithPositions,
    /// x[…, index, …] along `axis`
    Select { axis: usize, index: usize },
}
