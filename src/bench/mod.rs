//! Microbenchmarks behind `grokgpu bench`, one file per target.

pub mod analyze;
pub mod fft;
pub mod matmul;
pub mod step;
