//! Every op, one family per file, forward beside backward. `Op` names them all; the
//! gradient rules are dispatched from `tensor::backward`.

pub mod elementwise;
pub mod linear;
pub mod matmul;

/// A recorded op with the static facts its backward needs.
#[derive(Clone, Debug)]
pub enum Op {
    /// out = a + alpha·b
    AddScaled { alpha: f32 },
    /// out = alpha·a
    Scale { alpha: f32 },
    Relu,
    Gelu,
    /// op(A)·op(B), see `matmul`
    Matmul { variant: matmul::Variant },
    /// act(x·Wᵀ + b) + residual; inputs x, W, then b and residual when present
    Linear { act: matmul::Activation, has_bias: bool, has_residual: bool },
}
