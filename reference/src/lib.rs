//! grokgpu-reference: a plain f64 CPU implementation of every grokgpu op and its gradient.

pub mod attention;
pub mod cross_entropy;
pub mod elementwise;
pub mod finite_diff;
pub mod optim;
pub mod softmax;

#[cfg(test)]
mod test_util;
