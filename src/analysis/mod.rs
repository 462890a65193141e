//! Checkpoint analyses (ANALYSES.md), each a family of pure functions over host arrays.

pub mod alignment;
pub mod dft;
pub mod dynamics;
pub mod fsd;
pub mod geometry;
pub mod grid;
pub mod matrix;
pub mod neurons;
pub mod phase;
pub mod rng;
pub mod sparsity;
pub mod spectrum;

pub use dft::{Complex, CpuDft, Dft};
pub use matrix::Matrix;
