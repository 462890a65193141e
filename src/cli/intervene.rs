//! `grokgpu intervene`: edit one checkpoint's embedding and compare train / validation
//! accuracy and loss before and after.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use grokgpu::analyze::intervene::{intervene, Evaluation, Intervention, PhaseMode};
use grokgpu::gpu::Gpu;
use grokgpu::Result;

#[derive(Subcommand)]
pub enum InterveneCommand {
    /// Replace the phases of W_E's token spectrum (docs/analyses.md § 4).
    Phase {
        #[command(flatten)]
        target: Target,
        /// literal: phases 2πkj/p with magnitudes kept; in-plane: token angles inside each key
        /// plane set to σ·2πkt/p + their mean.
        #[arg(long, default_value = "literal")]
        mode: PhaseMode,
    },
    /// Remove frequencies from W_E's token spectrum.
    AblateFreq {
        #[command(flatten)]
        target: Target,
        /// Frequencies to remove, comma-separated (1..=K).
        #[arg(long, value_delimiter = ',', required = true)]
        k: Vec<usize>,
    },
}

#[derive(Args)]
pub struct Target {
    /// The run directory.
    #[arg(long)]
    pub run_dir: PathBuf,
    /// The checkpoint's step.
    #[arg(long)]
    pub step: u64,
}

fn line(label: &str, e: &Evaluation) -> String {
    format!(
        "{label:<7} train acc {:.4} · train loss {:.4e} · val acc {:.4} · val loss {:.4e}",
        e.train.accuracy, e.train.loss, e.val.accuracy, e.val.loss
    )
}

pub fn run(command: InterveneCommand) -> Result<()> {
    let (target, intervention) = match command {
        InterveneCommand::Phase { target, mode } => (target, Intervention::Phase(mode)),
        InterveneCommand::AblateFreq { target, k } => (target, Intervention::AblateFreq(k)),
    };
    let gpu = Gpu::open(false)?;
    let report = intervene(&gpu, &target.run_dir, target.step, &intervention)?;
    println!("{} at step {} · key frequencies {:?} · ‖ΔW_E‖/‖W_E‖ = {:.4}", intervention.name(), report.step, report.key_freqs, report.embedding_change);
    println!("{}", line("before", &report.before));
    println!("{}", line("after", &report.after));
    println!("saved {}", report.file.display());
    Ok(())
}
