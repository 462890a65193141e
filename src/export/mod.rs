//! `grokgpu export`: a run's checkpoints in another tool's format, so that a checkpoint series
//! trained here can be studied with that tool.
//!
//! Formats: `transformer-lens` (TransformerLens 3.x's `HookedTransformer`,
//! [`transformer_lens`]). For each chosen checkpoint `checkpoints/step_XXXXXXXX.safetensors`
//! the output folder gets, under the same stem:
//! - `step_XXXXXXXX.safetensors`: the model's state_dict in the tool's names and shapes;
//! - `step_XXXXXXXX.json`: the config that builds the model, the token ids and the readout;
//! - with `logits`, `step_XXXXXXXX.logits.safetensors`: grokgpu's own logits on every pair of
//!   the run's dataset, computed on the GPU by the analyses' model probe (`tokens` [N, 4] I64,
//!   `logits` [N, p] F32, `train_mask` [N] U8), for checking the export against the tool.

pub mod transformer_lens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::analysis::model_probe::{ModelProbe, Readout};
use crate::analyze::context::RunContext;
use crate::data::tokens;
use crate::gpu::Gpu;
use crate::io::safetensors::{self, Tensor, TensorData};
use crate::io::write_atomic;
use crate::nn::spec::{ModelSpec, TransformerSpec, TRANSFORMER_SEQ};
use crate::rundir::sweep_file::SweepFile;
use crate::rundir::SWEEP_FILE;
use crate::{bail, choice_enum, Error, Result};

choice_enum!(
    /// What an export is for.
    Format, "export format", {
        /// TransformerLens 3.x's HookedTransformer.
        TransformerLens = "transformer-lens",
    }
);

/// Which checkpoints to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Steps {
    /// The latest checkpoint.
    Last,
    One(u64),
    All,
}

pub struct ExportOptions<'g> {
    pub format: Format,
    pub steps: Steps,
    pub out: PathBuf,
    /// Replace files of an earlier export.
    pub force: bool,
    /// Also write grokgpu's logits on every pair, computed on this GPU.
    pub logits: Option<&'g Gpu>,
}

/// The files written for one checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    pub step: u64,
    pub state_dict: PathBuf,
    pub config: PathBuf,
    pub logits: Option<PathBuf>,
}

/// The output files of the checkpoint file `checkpoint`, named after it.
fn output_files(out: &Path, checkpoint: &Path, step: u64, with_logits: bool) -> Exported {
    let stem = checkpoint.file_stem().expect("checkpoint files are named step_N.safetensors").to_string_lossy();
    Exported {
        step,
        state_dict: out.join(format!("{stem}.safetensors")),
        config: out.join(format!("{stem}.json")),
        logits: with_logits.then(|| out.join(format!("{stem}.logits.safetensors"))),
    }
}

/// Indices into `ctx.checkpoints` of the chosen steps.
fn chosen(ctx: &RunContext, steps: Steps) -> Result<Vec<usize>> {
    let all = &ctx.checkpoints;
    Ok(match steps {
        Steps::Last => vec![all.len() - 1],
        Steps::All => (0..all.len()).collect(),
        Steps::One(step) => match ctx.index_of(step) {
            Some(i) => vec![i],
            None => bail!("no checkpoint at step {step} in {} (it has {} from step {} to {})", ctx.dir.path.display(), all.len(), all[0].0, all[all.len() - 1].0),
        },
    })
}

/// The export's description of the model and its inputs (the `.json` file).
fn description(ctx: &RunContext, spec: &TransformerSpec, files: &Exported) -> serde_json::Value {
    let p = ctx.cfg.p;
    let name = |path: &Path| path.file_name().map(|n| n.to_string_lossy().into_owned());
    json!({
        "format": Format::TransformerLens.as_str(),
        "requires": "transformer-lens>=3,<4 (HookedTransformer)",
        "run_dir": ctx.dir.path.display().to_string(),
        "step": files.step,
        "task": ctx.cfg.task.as_str(),
        "p": p,
        "state_dict": name(&files.state_dict),
        "grokgpu_logits": files.logits.as_deref().and_then(name),
        "hooked_transformer_config": transformer_lens::hooked_transformer_config(spec),
        "tokens": {
            "sequence": ["x", "op", "y", "="],
            "numbers": (0..p).collect::<Vec<u32>>(),
            "op": tokens::op_token(p),
            "eq": tokens::eq_token(p),
        },
        "readout_position": TRANSFORMER_SEQ - 1,
        "readout": "logits[:, readout_position, :] over the answers 0..p-1 (d_vocab_out = p)",
    })
}

/// grokgpu's logits of one checkpoint (`flat`, in layout order) on every pair of the run,
/// as a safetensors file.
fn write_logits(probe: &ModelProbe, adapter: String, ctx: &RunContext, flat: &[f32], step: u64, path: &Path) -> Result<()> {
    probe.load(&[flat]);
    let logits = probe.forward(&ctx.data).swap_remove(0).logits;
    let rows = ctx.data.rows();
    let tensors = [
        Tensor::new("tokens", &[rows, TRANSFORMER_SEQ], TensorData::I64(ctx.data.tokens.iter().map(|&t| i64::from(t)).collect())),
        Tensor::new("logits", &[rows, ctx.p], TensorData::F32(logits)),
        Tensor::new("train_mask", &[rows], TensorData::U8(ctx.train_mask.iter().map(|&m| u8::from(m)).collect())),
    ];
    let metadata = BTreeMap::from([("step".to_string(), step.to_string()), ("adapter".to_string(), adapter)]);
    safetensors::write(path, &tensors, &metadata)
}

/// Exports the chosen checkpoints of the run in `run`; `on_exported` hears of each as it is
/// written, with the number to write. Nothing is written when the model cannot be exported
/// or, without `force`, when a file of the export already exists; an unreadable checkpoint
/// stops the export with its file named.
pub fn export(run: &Path, options: &ExportOptions, on_exported: &mut dyn FnMut(&Exported, usize)) -> Result<Vec<Exported>> {
    if run.join(SWEEP_FILE).exists() {
        let dirs = SweepFile::read(run)?.dirs(run);
        let example = dirs.first().map_or(String::new(), |d| format!(", e.g. --run-dir {}", d.display()));
        bail!("{} holds a multi-run ({SWEEP_FILE}) of {} runs; export one run at a time{example}", run.display(), dirs.len());
    }
    let ctx = RunContext::open(run)?;
    let spec = match &ctx.spec {
        ModelSpec::Transformer(t) => t,
        ModelSpec::Mlp(_) => {
            let (_, last) = &ctx.checkpoints[ctx.checkpoints.len() - 1];
            bail!("TransformerLens has no model like grokgpu's MLP (model = mlp); use the plain checkpoint instead, e.g. {} (PyTorch state_dict names; tools/load_checkpoint.py)", last.display());
        }
    };
    if let Some((option, why)) = transformer_lens::inexpressible(spec) {
        bail!("cannot export {option} to TransformerLens: {why}");
    }
    let indices = chosen(&ctx, options.steps)?;
    let plan: Vec<(usize, Exported)> = indices
        .into_iter()
        .map(|i| {
            let (step, file) = &ctx.checkpoints[i];
            (i, output_files(&options.out, file, *step, options.logits.is_some()))
        })
        .collect();
    if !options.force {
        let existing = plan.iter().flat_map(|(_, f)| [Some(&f.state_dict), Some(&f.config), f.logits.as_ref()]).flatten().find(|p| p.exists());
        if let Some(path) = existing {
            bail!("{} already exists; use --force to replace the files of an earlier export", path.display());
        }
    }
    std::fs::create_dir_all(&options.out).map_err(|e| Error::msg(format!("cannot create {}: {e}", options.out.display())))?;
    let probe = options.logits.map(|gpu| (ModelProbe::new(gpu, &ctx.spec, 1, &ctx.data, Readout::Logits, None), gpu.adapter_name()));
    let total = plan.len();
    let mut written = Vec::with_capacity(total);
    for (index, files) in plan {
        let weights = ctx.read(index)?;
        let metadata = BTreeMap::from([("step".to_string(), files.step.to_string()), ("format".to_string(), options.format.as_str().to_string())]);
        safetensors::write(&files.state_dict, &transformer_lens::state_dict(spec, &weights.tensors), &metadata)?;
        if let (Some((probe, adapter)), Some(path)) = (&probe, &files.logits) {
            write_logits(probe, adapter.clone(), &ctx, &weights.flat(), files.step, path)?;
        }
        write_atomic(&files.config, (serde_json::to_string_pretty(&description(&ctx, spec, &files))? + "\n").as_bytes())?;
        on_exported(&files, total);
        written.push(files);
    }
    Ok(written)
}
