//! grokgpu-reference: a plain f64 CPU implementation of every grokgpu op and its gradient.

pub mod dft;
pub mod elementwise;
pub mod finite_diff;

#[cfg(test)]
mod test_util;
