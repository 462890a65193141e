//! grokgpu-reference: a plain f64 CPU implementation of every grokgpu op and its gradient.

pub mod elementwise;
pub mod embedding;
pub mod finite_diff;
pub mod layernorm;
pub mod reduce;
pub mod softmax;

#[cfg(test)]
mod test_util;
