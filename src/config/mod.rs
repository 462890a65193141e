//! A run's settings: `RunConfig` (config.json), the choices it is made of, the presets,
//! the one rule for which settings may differ between runs, and the expansion of a preset,
//! its overrides, seeds and sweeps into the list of runs to train.

pub mod choices;
pub mod plan;
pub mod presets;
mod run_config;
pub mod setting;
pub mod shard;
pub mod sweep;
pub mod vary;

pub use choices::{Act, BatchSize, CkptDtype, GrokfastEma, GrokfastMa, Init, Loss, Model, Norm, Optimizer, Variant};
pub use plan::{run_configs, Overrides, RunPlan};
pub use shard::Shard;
pub use run_config::{ForkOrigin, RunConfig, GROKGPU_VERSION};
