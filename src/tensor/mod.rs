//! Tensors on the GPU and reverse-mode autodiff by tracing.
//!
//! A model is written once against a [`Tape`]: each op allocates its output, records
//! its forward dispatch and remembers what its backward needs. `Tape::backward` then
//! emits the gradient dispatches in reverse order. The result is two static
//! [`Program`](crate::gpu::Program)s that a training step replays with no allocation.
//!
//! Every shape carries the leading run axis R (independent models trained in the same
//! dispatches). Each op's forward and backward live side by side in `ops/`; the one
//! place that lists every gradient rule is [`backward`].

mod backward;
pub mod gemm;
pub mod ops;
mod tape;

pub use ops::Op;
pub use tape::{Deferred, Node, Tape, Tensor};
