//! `grokgpu analyze` and `grokgpu intervene` over run directories: every analysis of
//! ANALYSES.md per checkpoint, written to analysis.jsonl with summary.json / summary.md,
//! and the embedding interventions.
//!
//! A batch of checkpoints goes through two halves: on the GPU ([`gather`]) the token
//! spectra, the model probe over all pairs (logits, activations, attention, the train
//! gradient), the grid transforms and the attribution variants; on the CPU ([`record`],
//! one thread per core) the pure functions of `crate::analysis` that turn them into the
//! record's fields. [`run`] decides what is missing and writes the files.

pub mod across_runs;
pub mod context;
pub mod families;
pub mod gather;
pub mod intervene;
pub mod record;
pub mod run;
pub mod store;
pub mod summary_files;
pub mod timings;
pub mod weights;
pub mod wd_fork;

pub use families::Family;
pub use run::{analyze, AnalyzeOptions, Observer, RunReport};
