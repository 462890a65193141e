//! `grokgpu plot`: PNG figures of a run directory (metrics.jsonl, analysis.jsonl,
//! interventions/*.json) in DIR/plots/, and overlays across the runs of a multi-run.
//!
//! | File | Shows | Reads |
//! |---|---|---|
//! | `training_curves.png` | train/val loss (log, left) and accuracy (right) vs step, memorization → grokking shaded, a divergence marked | metrics |
//! | `accuracy.png` | train/val accuracy, memorization, grokking and a divergence marked | metrics |
//! | `loss.png` | train/val cross-entropy, log–log, the same marks | metrics |
//! | `gini_ipr_2d.png` | n_eff (seed 000's IPR) and Gini of W_E's spectrum, n_eff peak marked; accuracy beneath | `n_eff`, `gini`, `wu_gini` |
//! | `f_alignment_2d.png` | 1D (key, top 8) and 2D alignment; the 2D alignment's permutation z-score | `align_1d_key`, `align_1d_top8`, `align_2d`, `align_2d_z` |
//! | `fourier_projection_2d.png` | share of W_E's (and W_U's) energy in the key frequencies, the other k ≥ 1 and k = 0; ℓ1/ℓ2 in the Fourier and token bases | `we_power`, `wu_power`, `key_freqs(_final)`, `l1l2_*` |
//! | `phase_coherence_2d.png` | token phase coherence R_k per key frequency (1/√p marked); literal phase R² | `token_phase_coherence`, `phase_r2` |
//! | `phase_intervention.png` | train/val accuracy and loss before and after each phase intervention | `interventions/*.json` |
//! | `circuit_competition_detailed.png` | α_alg and α_mem; their ratio with the crossover marked; excluded and restricted loss | `alpha_alg`, `alpha_mem`, `circuit_ratio`, `excluded_loss`, `restricted_loss` |
//! | `spectral_attribution_heatmap.png` | checkpoints × k of the ablate-k and keep-only-k margins | `attr_ablate`, `attr_keep` |
//! | `fsd.png` | FSD with its ceiling step and val accuracy; its permutation p-value | `fsd`, `fsd_p` |
//! | `intrinsic_dimension.png` | participation ratio and TwoNN dimension of W_E, W_U and the hidden representations (and their class centroids); the longest H1 bar and β₁ of the centroids (in their leading plane and in full) and of the cloud | `pca_pr_*`, `twonn_id_*`, `geom.*` |
//! | `dynamics.png` | seed 003's stage metrics of W1 (‖W1‖, motion per update, per-neuron gradient cosine, gradient norm, feature diversity) and accuracy, Tian's stages as bands | `w1_norm`, `w1_delta_rate`, `grad_cosine_unit`, `grad_norm`, `feature_diversity`, `stage` |
//! | `attention_entropy.png` | last-query attention entropy per head, one panel per layer, ln 4 marked | `attn_entropy` |
//! | `power_spectrum_evolution.png` | checkpoints × k of W_E's (and W_U's) normalized spectrum q_k | `we_power`, `wu_power` |
//! | `a1_constellation.png` | seed 000's A1: W_E's tokens in the strongest key frequency's plane at initialization, memorization, half way, grokking and the end | checkpoints, `key_freqs_final` |
//! | `a2_phase_vs_token.png` | A2: each token's angle in that plane against k·t mod n at those steps | checkpoints, `key_freqs_final` |
//! | `a3_band_evolution.png` | A3: W_E's spectral share at k ≤ 5 and above | `band_low`, `band_high` |
//! | `a4_dominant_frequency.png` | A4: W_E's dominant frequency, the final key set marked | `dominant_freq`, `key_freqs_final` |
//! | `a7_power_spectrum_2d.png` | A7: log |F2[k, m]|² of the last checkpoint's W_E over (token, hidden) | checkpoints |
//!
//! A multi-run directory (sweep.json) gets every run's figures in the run's own plots/, and
//! in its own plots/: `overlay_val_acc.png`, `overlay_train_acc.png`, `overlay_val_loss.png`
//! and `grok_step_vs_<setting>.png` for each setting that varies (seeds excepted).
//! Step axes on a log scale plot log10(step + 1), so step 0 shows (`axis::Scale::LogStep`).
//! A figure without its data is skipped with one line saying why; so is every figure of the
//! Fourier analyses on a run whose task is not arithmetic mod p (the S₅ tasks).

pub mod axis;
pub mod bars;
pub mod canvas;
pub mod data;
pub mod frame;
pub mod heatmap;
pub mod legend;
pub mod lines;
pub mod style;

mod alignment;
mod appendix;
mod attribution;
mod circuits;
mod dynamics;
mod fsd;
mod geometry;
mod overlay;
pub(crate) mod phase;
mod sparsity;
mod spectrum;
mod training;
pub mod wd_fork;

use std::path::{Path, PathBuf};

use data::Run;
use lines::Panel;

use crate::rundir::sweep_file::SweepFile;
use crate::rundir::{PLOTS_DIR, SWEEP_FILE};
use crate::{Error, Result};

/// What became of one figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Written(PathBuf),
    Skipped { file: PathBuf, reason: String },
    Failed { file: PathBuf, error: String },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Written(p) => write!(f, "wrote {}", p.display()),
            Outcome::Skipped { file, reason } => write!(f, "skipped {}: {reason}", file.display()),
            Outcome::Failed { file, error } => write!(f, "failed {}: {error}", file.display()),
        }
    }
}

/// A figure function's result: drawn, or the reason it was not.
pub enum Made {
    Written,
    Skipped(String),
}

type FigureFn = fn(&Run, &Path) -> Result<Made>;

/// What a figure draws: anything a run has, or the Fourier analyses of Z_p (docs/analyses.md
/// §§ 1–8), which a task that is not arithmetic mod p does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Any,
    Fourier,
}

/// Every per-run figure, in the order they are drawn.
pub const FIGURES: &[(&str, FigureFn, Basis)] = &[
    ("training_curves.png", training::training_curves, Basis::Any),
    ("accuracy.png", training::accuracy, Basis::Any),
    ("loss.png", training::loss, Basis::Any),
    ("gini_ipr_2d.png", sparsity::gini_ipr, Basis::Fourier),
    ("f_alignment_2d.png", alignment::alignment, Basis::Fourier),
    ("fourier_projection_2d.png", spectrum::fourier_projection, Basis::Fourier),
    ("phase_coherence_2d.png", phase::phase_coherence, Basis::Fourier),
    ("phase_intervention.png", phase::phase_intervention, Basis::Fourier),
    ("circuit_competition_detailed.png", circuits::circuit_competition, Basis::Fourier),
    ("spectral_attribution_heatmap.png", attribution::attribution_heatmap, Basis::Fourier),
    ("fsd.png", fsd::fsd, Basis::Fourier),
    ("intrinsic_dimension.png", geometry::intrinsic_dimension, Basis::Any),
    ("attention_entropy.png", geometry::attention_entropy, Basis::Any),
    ("dynamics.png", dynamics::dynamics, Basis::Any),
    ("power_spectrum_evolution.png", spectrum::power_spectrum_evolution, Basis::Fourier),
    ("a1_constellation.png", appendix::constellation, Basis::Fourier),
    ("a2_phase_vs_token.png", appendix::phase_vs_token, Basis::Fourier),
    ("a3_band_evolution.png", appendix::band_evolution, Basis::Fourier),
    ("a4_dominant_frequency.png", appendix::dominant_frequency, Basis::Fourier),
    ("a7_power_spectrum_2d.png", appendix::power_spectrum_2d, Basis::Fourier),
];

/// Plots `dir`: a single run, or a multi-run (its runs, then the overlays). Errors only when
/// `dir` holds no run; each figure's own failure is an [`Outcome`].
pub fn plot_dir(dir: &Path, report: &mut dyn FnMut(&Outcome)) -> Result<Vec<Outcome>> {
    let mut outcomes = vec![];
    let mut note = |o: Outcome| {
        report(&o);
        outcomes.push(o);
    };
    if dir.join(SWEEP_FILE).is_file() {
        let sweep = SweepFile::read(dir)?;
        let mut runs = vec![];
        for run_dir in sweep.dirs(dir) {
            match Run::load(&run_dir) {
                Ok(run) => {
                    plot_run(&run, &mut note)?;
                    runs.push(run);
                }
                Err(e) => note(Outcome::Skipped { file: run_dir.join(PLOTS_DIR), reason: e.to_string() }),
            }
        }
        overlay::plot_overlays(&sweep, &runs, &plots_dir(dir)?, &mut note);
    } else {
        plot_run(&Run::load(dir)?, &mut note)?;
    }
    Ok(outcomes)
}

/// Every figure of [`FIGURES`] for one run, into its plots/.
pub fn plot_run(run: &Run, note: &mut dyn FnMut(Outcome)) -> Result<()> {
    for w in &run.warnings {
        eprintln!("warning: {}: {w}", run.dir.display());
    }
    let out = plots_dir(&run.dir)?;
    let not_modular = run.not_modular();
    for (file, make, basis) in FIGURES {
        let made = match (basis, &not_modular) {
            (Basis::Fourier, Some(why)) => Ok(Made::Skipped(format!("a Fourier figure of Z_p, and {why}"))),
            _ => make(run, &out.join(file)),
        };
        note(outcome(out.join(file), made));
    }
    Ok(())
}

fn plots_dir(dir: &Path) -> Result<PathBuf> {
    let out = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&out).map_err(|e| Error::msg(format!("cannot create {}: {e}", out.display())))?;
    Ok(out)
}

fn outcome(file: PathBuf, made: Result<Made>) -> Outcome {
    match made {
        Ok(Made::Written) => Outcome::Written(file),
        Ok(Made::Skipped(reason)) => Outcome::Skipped { file, reason },
        Err(e) => Outcome::Failed { file, error: e.to_string() },
    }
}

/// Draws `panels` under a title block, in `cols` columns; skipped when no panel has data.
pub fn figure(path: &Path, title: &str, subtitle: &str, panels: &[Panel], cols: usize) -> Result<Made> {
    if !panels.iter().any(Panel::has_data) {
        return Ok(Made::Skipped("every value is null or missing".to_string()));
    }
    let panels = align(panels);
    let cols = cols.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(cols);
    canvas::render(path, canvas_size(rows, cols), |root| {
        let body = frame::header(root, title, subtitle)?;
        for (panel, area) in panels.iter().zip(body.split_evenly((rows, cols))) {
            panel.draw(&area)?;
        }
        Ok(())
    })?;
    Ok(Made::Written)
}

/// `panels` lined up: one x range, the union of their data's, and the same right margin.
fn align(panels: &[Panel]) -> Vec<Panel> {
    let union = panels.iter().filter_map(Panel::data_x_range).reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let same_scale = panels.windows(2).all(|w| w[0].x_scale == w[1].x_scale);
    let right_gutter = panels.iter().any(|p| p.y2.is_some());
    panels.iter().map(|p| Panel { x_range: if same_scale { union } else { p.x_range }, right_gutter, ..p.clone() }).collect()
}

/// Width and height of a figure of rows × cols panels (at least 1600×1000).
pub fn canvas_size(rows: usize, cols: usize) -> (u32, u32) {
    let width = if cols > 1 { 1800 } else { 1600 };
    let panel_height = if rows == 1 { 904 } else { 620 };
    (width, 96 + panel_height * rows as u32)
}
