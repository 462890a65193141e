//! `grokgpu analyze`: every analysis of docs/analyses.md over a run's checkpoints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use grokgpu::analyze::{analyze, AnalyzeOptions, Family, Observer};
use grokgpu::gpu::Gpu;
use grokgpu::Result;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args)]
pub struct AnalyzeArgs {
    /// A run directory, or a multi-run directory (sweep.json: every run is analyzed).
    #[arg(long)]
    pub run_dir: PathBuf,
    /// Analyze every N-th checkpoint (the last one always).
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Only these analyses, comma-separated: spectrum, sparsity, alignment, phase, neurons,
    /// circuits, excluded, attribution, fsd, geometry, dynamics.
    #[arg(long)]
    pub only: Option<String>,
    /// Print the time per checkpoint of each analysis family.
    #[arg(long)]
    pub timings: bool,
    /// Checkpoints per GPU batch.
    #[arg(long, default_value_t = grokgpu::analyze::run::DEFAULT_BATCH)]
    pub batch: usize,
}

/// Checkpoints between two progress lines when stderr is not a terminal (a log file).
const LINE_EVERY: usize = 10;

/// A progress bar on a terminal; otherwise a line per run and one every [`LINE_EVERY`]
/// checkpoints, so a log shows the work moving. Warnings on stderr.
struct Progress {
    bar: std::cell::RefCell<Option<ProgressBar>>,
    /// (checkpoints done, checkpoints to do) of the current run, for the plain lines.
    count: std::cell::Cell<(usize, usize)>,
}

impl Observer for Progress {
    fn run_started(&self, dir: &Path, checkpoints: usize) {
        if !std::io::stderr().is_terminal() {
            println!("analyzing {}: {checkpoints} checkpoints", dir.display());
            self.count.set((0, checkpoints));
            return;
        }
        let bar = ProgressBar::new(checkpoints as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} checkpoints · {per_sec} · ETA {eta} · {msg}")
                .expect("the progress template is valid")
                .progress_chars("█▉ "),
        );
        bar.set_message(dir.display().to_string());
        *self.bar.borrow_mut() = Some(bar);
    }

    fn advanced(&self, checkpoints: usize) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.inc(checkpoints as u64);
            return;
        }
        let (done, total) = self.count.get();
        let now = done + checkpoints;
        if now / LINE_EVERY > done / LINE_EVERY || now == total {
            println!("  {now}/{total} checkpoints");
        }
        self.count.set((now, total));
    }

    fn warn(&self, message: &str) {
        match &*self.bar.borrow() {
            Some(bar) => bar.suspend(|| eprintln!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }

    fn run_finished(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let only = match &args.only {
        Some(list) => Family::parse_list(list)?,
        None => Family::ALL.to_vec(),
    };
    let options = AnalyzeOptions { every: args.every, only, batch: args.batch };
    let gpu = Gpu::open(false)?;
    grokgpu::tensor::gemm::tune::enable();
    let progress = Progress { bar: std::cell::RefCell::new(None), count: std::cell::Cell::new((0, 0)) };
    for report in analyze(&gpu, &args.run_dir, &options, &progress)? {
        let events = &report.summary.events;
        let step = |s: Option<u64>| s.map_or("—".to_string(), |s| s.to_string());
        let keys = if report.key_final.is_empty() { String::new() } else { format!(" · key frequencies {:?}", report.key_final) };
        println!(
            "{}: {} checkpoints analyzed{keys} · memorization step {} · grok step {}",
            report.dir.display(),
            report.analyzed,
            step(events.memorization_step),
            step(events.grok_step)
        );
        if !report.unreadable.is_empty() {
            eprintln!("warning: {} unreadable checkpoint(s) skipped: {}", report.unreadable.len(), report.unreadable.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
        }
        if args.timings {
            print!("{}", report.timings.table());
        }
    }
    Ok(())
}
