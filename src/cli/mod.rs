//! One file per subcommand.

pub mod devices;
