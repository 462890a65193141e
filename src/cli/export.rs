//! `grokgpu export`: a run's checkpoints in another tool's format.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use grokgpu::export::{export, ExportOptions, Exported, Format, Steps};
use grokgpu::gpu::Gpu;
use grokgpu::Result;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args)]
pub struct ExportArgs {
    /// The run directory.
    #[arg(long)]
    pub run_dir: PathBuf,
    /// The checkpoint's step (default: the latest checkpoint).
    #[arg(long, conflicts_with = "all")]
    pub step: Option<u64>,
    /// Every checkpoint of the run.
    #[arg(long)]
    pub all: bool,
    /// transformer-lens: TransformerLens 3.x's HookedTransformer (config JSON + state_dict).
    #[arg(long)]
    pub format: Format,
    /// Output folder: step_XXXXXXXX.safetensors and step_XXXXXXXX.json per checkpoint.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write grokgpu's own logits on every pair (step_XXXXXXXX.logits.safetensors,
    /// computed on the GPU), which tools/load_transformer_lens.py compares against.
    #[arg(long)]
    pub logits: bool,
    /// Replace the files of an earlier export in the output folder.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &ExportArgs) -> Result<()> {
    let steps = match (args.step, args.all) {
        (Some(step), _) => Steps::One(step),
        (None, true) => Steps::All,
        (None, false) => Steps::Last,
    };
    let gpu = if args.logits { Some(Gpu::open(false)?) } else { None };
    let options = ExportOptions { format: args.format, steps, out: args.out.clone(), force: args.force, logits: gpu.as_ref() };
    let mut bar: Option<ProgressBar> = None;
    let mut on_exported = |_: &Exported, total: usize| {
        if total < 2 || !std::io::stderr().is_terminal() {
            return;
        }
        bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} checkpoints · {per_sec} · ETA {eta}")
                    .expect("the progress template is valid")
                    .progress_chars("█▉ "),
            );
            bar
        })
        .inc(1);
    };
    let written = export(&args.run_dir, &options, &mut on_exported)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let last = written.last().expect("an export writes at least one checkpoint");
    let what = if written.len() == 1 { format!("step {}", last.step) } else { format!("{} checkpoints (steps {}–{})", written.len(), written[0].step, last.step) };
    println!("exported {what} of {} to {} ({})", args.run_dir.display(), args.out.display(), args.format);
    println!("  {}", last.state_dict.display());
    println!("  {}", last.config.display());
    if let Some(logits) = &last.logits {
        println!("  {}", logits.display());
    }
    println!("check it with: python3 tools/load_transformer_lens.py {}", last.config.display());
    Ok(())
}
