//! `grokgpu analyze` over one run or a multi-run: which checkpoints still need which
//! families, batches through the GPU half (`gather.rs`) and the CPU half (`record.rs`, on
//! every core), analysis.jsonl and the summary.
//!
//! Incremental: a checkpoint's record lists the families it holds, so a re-run computes only
//! the missing ones (new checkpoints, or families not asked for before). The key-set
//! families (alignment, phase, circuits, excluded) depend on `key_freqs_final`, the W_E key
//! rule at the last checkpoint: when a new last checkpoint changes that set, they are
//! recomputed for every recorded checkpoint so the file never mixes key sets.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::context::RunContext;
use super::families::Family;
use super::gather::{Gathered, Gatherer, Loaded};
use super::record::{record, Reference};
use super::store::{Record, Store};
use super::summary_files::write_summary;
use super::timings::Timings;
use super::weights::w1_name;
use crate::analysis::dft::CpuDft;
use super::model_probe::bytes_per_model;
use crate::analysis::spectrum::{key_freqs, TokenSpectrum};
use crate::analysis::summary::Summary;
use crate::analysis::Matrix;
use crate::gpu::Gpu;
use crate::rundir::sweep_file::SweepFile;
use crate::rundir::{run_id, RunLock, ANALYSIS_FILE, SWEEP_FILE};
use crate::{bail, Result};

/// Checkpoints one GPU batch holds by default.
pub const DEFAULT_BATCH: usize = 8;
/// analysis.jsonl is rewritten after this many checkpoints or this long, whichever comes
/// first, so an interrupted analysis keeps most of its work.
const SAVE_EVERY_CHECKPOINTS: usize = 10;
const SAVE_EVERY: Duration = Duration::from_secs(60);
/// Host memory the activations of one batch may take; bounds `--batch` on large models.
const BATCH_HOST_BYTES: u64 = 2 << 30;

#[derive(Clone, Debug, PartialEq)]
pub struct AnalyzeOptions {
    /// Analyze every N-th checkpoint (and always the last).
    pub every: usize,
    /// The families to compute.
    pub only: Vec<Family>,
    /// Checkpoints per GPU batch (the model probe's run axis R).
    pub batch: usize,
}

impl Default for AnalyzeOptions {
    fn default() -> AnalyzeOptions {
        AnalyzeOptions { every: 1, only: Family::ALL.to_vec(), batch: DEFAULT_BATCH }
    }
}

/// What the command line shows while it works.
pub trait Observer {
    /// A run starts; `checkpoints` need work.
    fn run_started(&self, dir: &Path, checkpoints: usize);
    fn advanced(&self, checkpoints: usize);
    /// A problem that does not stop the analysis (an unreadable checkpoint).
    fn warn(&self, message: &str);
    fn run_finished(&self);
}

/// One run's outcome.
pub struct RunReport {
    pub dir: PathBuf,
    /// Checkpoints analyzed now (others were up to date).
    pub analyzed: usize,
    /// Checkpoint files that could not be read.
    pub unreadable: Vec<PathBuf>,
    pub key_final: Vec<usize>,
    pub timings: Timings,
    pub summary: Summary,
}

/// Analyzes the run in `path`, or every run of the multi-run there (sweep.json).
pub fn analyze(gpu: &Gpu, path: &Path, options: &AnalyzeOptions, observer: &dyn Observer) -> Result<Vec<RunReport>> {
    if options.every == 0 {
        bail!("--every must be at least 1");
    }
    if options.batch == 0 {
        bail!("--batch must be at least 1");
    }
    if options.only.is_empty() {
        bail!("no analysis selected");
    }
    if path.join(SWEEP_FILE).exists() {
        let sweep = SweepFile::read(path)?;
        sweep.finished_dirs(path).iter().map(|dir| analyze_run(gpu, dir, options, observer)).collect()
    } else {
        Ok(vec![analyze_run(gpu, path, options, observer)?])
    }
}

/// The families of `asked` that apply to the run's task: a task that is not arithmetic mod p
/// leaves out the Fourier families, saying so in one line (an error when nothing is left).
fn applicable(ctx: &RunContext, asked: &[Family], observer: &dyn Observer) -> Result<Vec<Family>> {
    let Some(not_modular) = ctx.cfg.task.not_modular() else { return Ok(asked.to_vec()) };
    let (skipped, kept): (Vec<Family>, Vec<Family>) = asked.iter().partition(|f| f.uses_fourier_basis());
    let names = skipped.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ");
    let why = format!("they are built on the Fourier basis of Z_p and {not_modular}");
    if kept.is_empty() {
        bail!("{}: no analysis applies: {names} do not, as {why}", ctx.dir.path.display());
    }
    if !skipped.is_empty() {
        observer.warn(&format!("{}: skipping {names}: {why}", ctx.dir.path.display()));
    }
    Ok(kept)
}

/// The last readable checkpoint's index, its key frequencies (computed in f64), and the
/// files passed over on the way. A task that is not mod p has no key frequencies.
fn final_keys(ctx: &RunContext, observer: &dyn Observer) -> Result<(Vec<usize>, Vec<PathBuf>)> {
    if !ctx.cfg.task.is_modular() {
        return Ok((vec![], vec![]));
    }
    let mut unreadable = Vec::new();
    for index in (0..ctx.checkpoints.len()).rev() {
        match ctx.read(index) {
            Ok(w) => {
                let spectrum = TokenSpectrum::of(&CpuDft, &ctx.order.apply(&w.w_e(ctx.p)));
                return Ok((key_freqs(&spectrum.folded().q()), unreadable));
            }
            Err(e) => {
                observer.warn(&e.to_string());
                unreadable.push(ctx.checkpoints[index].1.clone());
            }
        }
    }
    bail!("no checkpoint of {} can be read", ctx.dir.path.display())
}

/// The work: (checkpoint index, families missing), ascending by step.
fn work_list(ctx: &RunContext, store: &Store, options: &AnalyzeOptions) -> Vec<(usize, Vec<Family>)> {
    let last = ctx.checkpoints.len() - 1;
    (0..=last)
        .filter(|&i| i % options.every == 0 || i == last || store.records.contains_key(&ctx.checkpoints[i].0))
        .filter_map(|i| {
            let done = store.analyzed(ctx.checkpoints[i].0);
            let missing: Vec<Family> = options.only.iter().copied().filter(|f| !done.contains(f)).collect();
            (!missing.is_empty()).then_some((i, missing))
        })
        .collect()
}

/// Records of a batch, the CPU half spread over the machine's cores (each checkpoint on
/// one thread, so the results do not depend on the split).
fn records(gathered: &[Gathered], ctx: &RunContext, reference: &Reference, timings: &mut Timings) -> Vec<Record> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, gathered.len().max(1));
    let per_thread = gathered.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = gathered
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    let mut t = Timings::default();
                    let out: Vec<Record> = part.iter().map(|g| record(g, ctx, reference, &mut t)).collect();
                    (out, t)
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                let (out, t) = h.join().expect("an analysis thread panicked");
                timings.merge(&t);
                out
            })
            .collect()
    })
}

/// W1 of the checkpoint at `index`, if it reads.
fn w1_at(ctx: &RunContext, index: usize) -> Option<Matrix> {
    let name = w1_name(&ctx.spec)?;
    ctx.read(index).ok().map(|w| w.matrix(name))
}

/// Checkpoints per GPU batch: the asked number, but no more than there is work, and no more
/// than the device can bind (every model's parameters in one buffer) or the host should hold
/// at once (each checkpoint's activations over every example).
fn batch_size(gpu: &Gpu, ctx: &RunContext, asked: usize, work: usize, observer: &dyn Observer) -> usize {
    let per_model = bytes_per_model(&ctx.spec, ctx.data.rows());
    let params: u64 = ctx.spec.param_shapes().iter().map(|(_, s)| s.iter().product::<usize>() as u64).sum();
    let by_device = gpu.limits.max_storage_buffer_binding_size / (4 * params).max(1);
    let by_host = BATCH_HOST_BYTES / per_model.max(1);
    let cap = by_device.min(by_host).max(1) as usize;
    if asked > cap && work > cap {
        observer.warn(&format!(
            "--batch {asked} would need {} MiB; analyzing {cap} checkpoints at a time (the limit is {} MiB of host memory and {} MiB per GPU buffer)",
            (asked as u64 * per_model) >> 20,
            BATCH_HOST_BYTES >> 20,
            gpu.limits.max_storage_buffer_binding_size >> 20
        ));
    }
    asked.min(cap).min(work.max(1))
}

/// Analyzes one run directory.
pub fn analyze_run(gpu: &Gpu, path: &Path, options: &AnalyzeOptions, observer: &dyn Observer) -> Result<RunReport> {
    let ctx = RunContext::open(path)?;
    let _lock = RunLock::acquire(&ctx.dir.path)?;
    let run_id = run_id(&ctx.dir.path)?;
    gpu.pin_choices(&ctx.kernels);
    let (key_final, mut unreadable) = final_keys(&ctx, observer)?;
    let w1_init = if ctx.checkpoints[0].0 == 0 { w1_at(&ctx, 0) } else { None };
    let reference = Reference { key_final: key_final.clone(), w1_init };

    let store_path = ctx.dir.path.join(ANALYSIS_FILE);
    let (mut store, dropped) = Store::load(&store_path)?;
    for line in dropped {
        observer.warn(&format!("{line} is not a record; it will be recomputed"));
    }
    let foreign = store.drop_other_runs(&run_id);
    if foreign > 0 {
        observer.warn(&format!("{foreign} record(s) of {} carry no run_id or another run's (another config.json or dataset); recomputing them", store_path.display()));
    }
    store.retain(|step| ctx.index_of(step).is_some());
    store.invalidate_keys(&key_final);
    let options = &AnalyzeOptions { only: applicable(&ctx, &options.only, observer)?, ..options.clone() };
    let work = work_list(&ctx, &store, options);

    let batch = batch_size(gpu, &ctx, options.batch, work.len(), observer);
    observer.run_started(&ctx.dir.path, work.len());
    let mut gatherer = Gatherer::new(gpu, batch);
    let mut timings = Timings::default();
    let mut analyzed = 0;
    let (mut saved, mut unsaved) = (Instant::now(), 0);
    let mut previous: Option<(usize, Option<Matrix>)> = None;
    for batch in work.chunks(batch) {
        let mut loaded = Vec::new();
        for (index, families) in batch {
            let weights = match ctx.read(*index) {
                Ok(w) => w,
                Err(e) => {
                    observer.warn(&e.to_string());
                    unreadable.push(ctx.checkpoints[*index].1.clone());
                    continue;
                }
            };
            let w1 = w1_name(&ctx.spec).map(|n| weights.matrix(n));
            let w1_prev = match (&previous, index.checked_sub(1)) {
                (Some((i, w)), Some(prev)) if *i == prev => w.clone(),
                (_, Some(prev)) if families.contains(&Family::Dynamics) => w1_at(&ctx, prev),
                _ => None,
            }
            .map(|w| (ctx.checkpoints[index - 1].0, w));
            previous = Some((*index, w1));
            loaded.push(Loaded { weights, families: families.clone(), w1_prev });
        }
        if loaded.is_empty() {
            observer.advanced(batch.len());
            continue;
        }
        let count = loaded.len();
        let gathered = gatherer.gather(&ctx, loaded, &key_final, &mut timings);
        for (g, r) in gathered.iter().zip(records(&gathered, &ctx, &reference, &mut timings)) {
            store.merge(r, &g.families, &run_id);
        }
        analyzed += count;
        timings.checkpoints += count;
        observer.advanced(batch.len());
        unsaved += count;
        if unsaved >= SAVE_EVERY_CHECKPOINTS || saved.elapsed() > SAVE_EVERY {
            store.write(&store_path)?;
            (saved, unsaved) = (Instant::now(), 0);
        }
    }
    store.write(&store_path)?;
    let summary = write_summary(&ctx.dir, &store, &key_final)?;
    observer.run_finished();
    unreadable.sort();
    unreadable.dedup();
    Ok(RunReport { dir: ctx.dir.path.clone(), analyzed, unreadable, key_final, timings, summary })
}
