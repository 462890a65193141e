//! grokgpu-reference: a plain f64 CPU implementation of every grokgpu op, its gradient, the two
//! models, the optimizers and the DFT. It is the oracle the GPU kernels are tested against, so it
//! favours the obvious loop over the fast one.
//!
//! Conventions: tensors are row-major `&[f64]` with explicit dimensions; a leading batch count
//! stands for the GPU's run axis (the reference just loops over it). Each op's forward and
//! backward sit side by side in one file, and each file's tests check the backward against
//! central finite differences.

pub mod attention;
pub mod cross_entropy;
pub mod dft;
pub mod elementwise;
pub mod embedding;
pub mod finite_diff;
pub mod grad_filters;
pub mod layernorm;
pub mod matmul;
pub mod mlp;
pub mod optim;
pub mod params;
pub mod reduce;
pub mod softmax;
pub mod train;
pub mod transformer;

#[cfg(test)]
mod test_util;
