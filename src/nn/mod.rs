//! The models: their specs and parameter layout, initialization, the forward pass on a
//! tape, and the optimizers.

pub mod flat;
pub mod forward;
pub mod init;
pub mod optimizer;
pub mod spec;

pub use flat::FlatLayout;
