//! grokgpu: a GPU compute engine for grokking research.
//!
//! Layers, bottom up: `gpu` (device, buffers, kernels, programs), `tensor` (ops with
//! their gradients and the tape that traces them into a replayable program), `fft`,
//! `nn`, `data`, `train`, `analysis`, `plot`.

pub mod analysis;
pub mod error;
pub mod gpu;
pub mod nn;
pub mod tensor;

pub use error::{Error, Result};
