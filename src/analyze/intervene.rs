//! `grokgpu intervene`: edit one checkpoint's embedding and measure what the model loses
//! (seed 000 Table 2). `phase` applies one of docs/analyses.md § 4's phase interventions;
//! `ablate-freq` removes frequencies from W_E's token spectrum (its components W_E^(k) of
//! § 7). Both models are evaluated on every pair on the GPU, split by dataset.safetensors'
//! train mask; the report is printed and saved to interventions/<name>_step_<step>.json.

use crate::rundir::{run_id, RunLock, RUN_ID_KEY};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::context::RunContext;
use crate::analysis::attribution::frequency_components;
use crate::analysis::dft::CpuDft;
use super::model_probe::{ModelProbe, Readout};
use crate::analysis::phase::{intervene_in_plane, intervene_literal};
use crate::analysis::spectrum::{key_freqs, TokenSpectrum};
use crate::analysis::Matrix;
use crate::gpu::Gpu;
use crate::io::write_atomic;
use crate::rundir::INTERVENTIONS_DIR;
use crate::tensor::ops::cross_entropy::LossKind;
use crate::{bail, choice_enum, Error, Result};

choice_enum!(
    /// Which phase intervention (docs/analyses.md § 4).
    PhaseMode, "phase mode", {
        /// Phases set to 2πkj/p, magnitudes kept.
        Literal = "literal",
        /// Token angles set to σ·2πkt/p + their mean inside each key plane.
        InPlane = "in-plane",
    }
);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intervention {
    Phase(PhaseMode),
    /// Remove these frequencies k ≥ 1 of W_E.
    AblateFreq(Vec<usize>),
}

impl Intervention {
    /// The file-name stem: `phase_literal`, `phase_in_plane`, `ablate_freq_14_35`.
    pub fn name(&self) -> String {
        match self {
            Intervention::Phase(mode) => format!("phase_{}", mode.as_str().replace('-', "_")),
            Intervention::AblateFreq(ks) => format!("ablate_freq_{}", ks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join("_")),
        }
    }
}

/// Loss and accuracy over one set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SetScores {
    pub loss: f64,
    pub accuracy: f64,
}

/// A model's scores on the train and validation pairs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub train: SetScores,
    pub val: SetScores,
}

pub struct InterventionReport {
    pub step: u64,
    pub intervention: Intervention,
    /// The key frequencies of the checkpoint's W_E (what the in-plane mode rotates).
    pub key_freqs: Vec<usize>,
    pub before: Evaluation,
    pub after: Evaluation,
    /// ‖W_E' − W_E‖/‖W_E‖.
    pub embedding_change: f64,
    /// Where the report was saved.
    pub file: PathBuf,
}

/// The run's loss of one row, in f64: softmax or stablemax cross-entropy.
fn row_loss(kind: LossKind, row: &[f32], target: usize) -> f64 {
    match kind {
        LossKind::Ce => {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            max + row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() - row[target] as f64
        }
        LossKind::Stablemax => {
            let s = |x: f64| if x >= 0.0 { x + 1.0 } else { 1.0 / (1.0 - x) };
            row.iter().map(|&v| s(v as f64)).sum::<f64>().ln() - s(row[target] as f64).ln()
        }
    }
}

fn set_scores(ctx: &RunContext, logits: &[f32], kind: LossKind, train: bool) -> SetScores {
    let classes = ctx.spec.classes();
    let (mut loss, mut correct, mut count) = (0.0, 0usize, 0usize);
    for (r, row) in logits.chunks(classes).enumerate().filter(|(r, _)| ctx.train_mask[*r] == train) {
        let target = ctx.data.targets[r] as usize;
        loss += row_loss(kind, row, target);
        let best = row.iter().enumerate().fold(0, |b, (c, &v)| if v > row[b] { c } else { b });
        correct += (best == target) as usize;
        count += 1;
    }
    SetScores { loss: loss / count as f64, accuracy: correct as f64 / count as f64 }
}

/// W_E without its frequency-k components (token order respected).
fn ablate(w_e: &Matrix, ctx: &RunContext, ks: &[usize]) -> Result<Matrix> {
    let ordered = ctx.order.apply(w_e);
    let parts = frequency_components(&TokenSpectrum::of(&CpuDft, &ordered));
    let k_max = parts.len() - 1;
    let mut out = ordered;
    for &k in ks {
        if k == 0 || k > k_max {
            bail!("--k {k} is not a frequency of W_E (1..={k_max})");
        }
        out.data.iter_mut().zip(&parts[k].data).for_each(|(w, c)| *w -= c);
    }
    Ok(ctx.order.scatter(&out, w_e))
}

/// Applies `intervention` to the checkpoint at `step` of the run in `path`.
pub fn intervene(gpu: &Gpu, path: &Path, step: u64, intervention: &Intervention) -> Result<InterventionReport> {
    let ctx = RunContext::open(path)?;
    if let Some(not_modular) = ctx.cfg.task.not_modular() {
        bail!("{}: interventions edit W_E's spectrum over Z_p, and {not_modular}", ctx.dir.path.display());
    }
    let _lock = RunLock::acquire(&ctx.dir.path)?;
    gpu.pin_choices(&ctx.kernels);
    let Some(index) = ctx.index_of(step) else {
        let (first, last) = (ctx.checkpoints[0].0, ctx.checkpoints[ctx.checkpoints.len() - 1].0);
        bail!("no checkpoint at step {step} in {} (it has {} from step {first} to {last})", ctx.dir.path.display(), ctx.checkpoints.len());
    };
    let weights = ctx.read(index)?;
    let w_e = weights.w_e(ctx.p);
    let key = key_freqs(&TokenSpectrum::of(&CpuDft, &ctx.order.apply(&w_e)).folded().q());
    let edited = match intervention {
        Intervention::Phase(PhaseMode::Literal) => intervene_literal(&CpuDft, &w_e, ctx.order),
        Intervention::Phase(PhaseMode::InPlane) => intervene_in_plane(&w_e, ctx.order, &key),
        Intervention::AblateFreq(ks) => ablate(&w_e, &ctx, ks)?,
    };
    let change = edited.data.iter().zip(&w_e.data).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt() / w_e.frobenius_sq().sqrt();

    let probe = ModelProbe::new(gpu, &ctx.spec, 2, &ctx.data, Readout::Logits, None);
    let (before, after) = (weights.flat(), weights.flat_with_embedding(&edited));
    probe.load(&[&before, &after]);
    let acts = probe.forward(&ctx.data);
    let kind = ctx.cfg.loss_kind();
    let evaluate = |logits: &[f32]| Evaluation { train: set_scores(&ctx, logits, kind, true), val: set_scores(&ctx, logits, kind, false) };
    let (before, after) = (evaluate(&acts[0].logits), evaluate(&acts[1].logits));

    let folder = ctx.dir.path.join(INTERVENTIONS_DIR);
    std::fs::create_dir_all(&folder).map_err(|e| Error::msg(format!("cannot create {}: {e}", folder.display())))?;
    let file = folder.join(format!("{}_step_{step:08}.json", intervention.name()));
    let scores = |e: &Evaluation| {
        json!({"train_loss": e.train.loss, "train_acc": e.train.accuracy, "val_loss": e.val.loss, "val_acc": e.val.accuracy})
    };
    let detail = match intervention {
        Intervention::Phase(mode) => json!({"kind": "phase", "mode": mode.as_str()}),
        Intervention::AblateFreq(ks) => json!({"kind": "ablate-freq", "k": ks}),
    };
    let report = json!({
        RUN_ID_KEY: run_id(&ctx.dir.path)?,
        "step": step,
        "intervention": detail,
        "key_freqs": key,
        "token_order": ctx.order.name(),
        "loss": ctx.cfg.loss.as_str(),
        "embedding_change": change,
        "before": scores(&before),
        "after": scores(&after),
    });
    write_atomic(&file, (serde_json::to_string_pretty(&report)? + "\n").as_bytes())?;
    Ok(InterventionReport { step, intervention: intervention.clone(), key_freqs: key, before, after, embedding_change: change, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_of_a_row() {
        let row = [2.0f32, 0.0, -1.0];
        let ce = row_loss(LossKind::Ce, &row, 0);
        let want = -(2f64.exp() / (2f64.exp() + 1.0 + (-1f64).exp())).ln();
        assert!((ce - want).abs() < 1e-12);
        // stablemax: s = (3, 1, 1/2), p_0 = 3/4.5.
        assert!((row_loss(LossKind::Stablemax, &row, 0) + (3.0f64 / 4.5).ln()).abs() < 1e-12);
        assert_eq!(Intervention::Phase(PhaseMode::InPlane).name(), "phase_in_plane");
        assert_eq!(Intervention::AblateFreq(vec![14, 35]).name(), "ablate_freq_14_35");
    }
}
