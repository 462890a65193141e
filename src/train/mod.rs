//! Everything of `grokgpu train` around the GPU step: settings (config, presets, command
//! line, multi-run expansion) and the run directory (checkpoints, metrics).

pub mod args;
pub mod config;
pub mod metrics;
pub mod presets;
pub mod rundir;
pub mod sweep;

pub use config::RunConfig;
pub use rundir::RunDir;
