//! Everything of `grokgpu train` around the GPU step: settings (config, presets, command
//! line, multi-run expansion) and the run directory (checkpoints, metrics).

pub mod args;
pub mod config;
mod device_data;
mod eval;
pub mod metrics;
mod minibatch;
mod model;
mod norms;
pub mod presets;
mod progress;
mod quicklook;
pub mod rundir;
pub mod run;
mod state;
pub mod sweep;
pub mod trainer;

pub use config::RunConfig;
pub use rundir::RunDir;
