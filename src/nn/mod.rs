//! The models: their specs and parameter layout, initialization, the forward pass on a
//! tape, and the optimizers.

pub mod flat;
pub mod forward;
pub mod init;
//! The models: their specs and parameter layout, the forward pass on a tape, the optimizers,
//! and the gradient filters that run in front of them.

pub mod flat;
pub mod forward;
pub mod grad_filters;
pub mod optimizer;
pub mod spec;

pub use flat::FlatLayout;
