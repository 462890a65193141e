//! grokgpu: a GPU compute engine for grokking research.
//!
//! Layers, bottom up: `gpu` (device, buffers, kernels, programs), `tensor` (ops with
//! their gradients and the tape that traces them into a replayable program), `fft`,
//! `config`, `rundir`, `nn`, `data`, `train`, `analysis`, `analyze`, `plot`.

pub mod analysis;
pub mod analyze;
pub mod bench;
pub mod choice;
pub mod config;
pub mod data;
pub mod error;
pub mod export;
pub mod fft;
pub mod gpu;
pub mod io;
pub mod nn;
pub mod plot;
pub mod rng;
pub mod rundir;
pub mod tensor;
pub mod train;

pub use error::{Error, Result};
