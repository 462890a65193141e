//! One file per subcommand.

pub mod analyze;
pub mod bench;
pub mod devices;
pub mod experiment;
pub mod export;
pub mod fork;
pub mod intervene;
pub mod plot;
pub mod report;
pub mod summarize;
pub mod train;
pub mod tune;
