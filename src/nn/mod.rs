//! The models: their specs and parameter layout, initialization, the forward pass on a
//! tape, the gradient filters and the optimizers.

pub mod flat;
pub mod forward;
pub mod grad_filters;
pub mod init;
pub mod optimizer;
pub mod spec;

pub use flat::FlatLayout;
