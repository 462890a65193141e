//! The run directory (docs/runs.md): every file name a run or a multi-run uses, with its reader
//! and writer. Training, analysis and plotting reach run files through this module only.

mod checkpoints;
pub mod identity;
mod kernels;
pub mod lock;
pub mod metrics;
mod run_dir;
pub mod state;
pub mod summary;
pub mod sweep_file;

pub use checkpoints::{read_checkpoint, Checkpoint};
pub use identity::{run_id, RUN_ID_KEY};
pub use kernels::{read_kernels, write_kernels};
pub use lock::{RunLock, LOCK_FILE};
pub use run_dir::{remove_run_files, run_files, Dataset, RunDir};

/// Every resolved setting of the run (`RunConfig` serialized).
pub const CONFIG_FILE: &str = "config.json";
/// The task's full table and the run's exact train/validation split.
pub const DATASET_FILE: &str = "dataset.safetensors";
/// One record per evaluation.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Weights, optimizer moments, filter state and step of the latest checkpoint, for --resume.
pub const STATE_FILE: &str = "state.safetensors";
/// checkpoints/step_XXXXXXXX.safetensors.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// The matmul variant the run launched for each product shape; --resume and analysis reuse them.
pub const KERNELS_FILE: &str = "kernels.json";
/// One record per analyzed checkpoint (`grokgpu analyze`).
pub const ANALYSIS_FILE: &str = "analysis.jsonl";
/// The run's summary, as data and as a table.
pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_MD: &str = "summary.md";
/// `grokgpu report`: the paper kit as Markdown, its tables as LaTeX (all, and one file each).
pub const REPORT_MD: &str = "report.md";
pub const REPORT_TEX: &str = "report.tex";
pub const REPORT_TABLES_DIR: &str = "tables";
/// The figures of `grokgpu plot`.
pub const PLOTS_DIR: &str = "plots";
/// The results of `grokgpu intervene`.
pub const INTERVENTIONS_DIR: &str = "interventions";
/// A multi-run's listing of its runs, in the output directory.
pub const SWEEP_FILE: &str = "sweep.json";
/// Statistics across runs (`grokgpu summarize`), as data and as tables.
pub const SUMMARY_RUNS_JSON: &str = "summary_runs.json";
pub const SUMMARY_RUNS_MD: &str = "summary_runs.md";
/// An experiment's results (`grokgpu experiment`), as data and as a table.
pub const EXPERIMENT_JSON: &str = "experiment.json";
pub const EXPERIMENT_MD: &str = "experiment.md";
/// The figure of the weight-decay fork experiment: Δt against 1/λ.
pub const WD_FORK_FIGURE: &str = "delta_t_vs_inverse_lambda.png";

/// Files and folders a run owns; `--force` removes exactly these.
const RUN_ENTRIES: &[&str] = &[
    CONFIG_FILE,
    DATASET_FILE,
    METRICS_FILE,
    STATE_FILE,
    KERNELS_FILE,
    CHECKPOINT_DIR,
    ANALYSIS_FILE,
    SUMMARY_JSON,
    SUMMARY_MD,
    PLOTS_DIR,
    INTERVENTIONS_DIR,
    REPORT_MD,
    REPORT_TEX,
    REPORT_TABLES_DIR,
];
