//! One file per subcommand.

pub mod analyze;
pub mod bench;
pub mod devices;
pub mod export;
pub mod intervene;
pub mod plot;
pub mod train;
pub mod tune;
