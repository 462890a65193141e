//! Model-level building blocks: the flat parameter layout and the optimizers.

pub mod flat;
pub mod optimizer;

pub use flat::FlatLayout;
