//! grokgpu-reference: a plain f64 CPU implementation of every grokgpu op and its gradient.

pub mod elementwise;
pub mod finite_diff;
pub mod matmul;

#[cfg(test)]
mod test_util;
