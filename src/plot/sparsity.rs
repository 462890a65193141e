//! Seed 000 finding 1: the spectrum of W_E sparsifies (n_eff, Gini) before grokking.

use std::path::Path;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLUE, GREY, ORANGE, VERMILLION};
use super::training::accuracy_panel;
use super::{figure, Made};
use crate::analysis::events::half_fall_step;
use crate::Result;

/// n_eff (left) and Gini (right) of W_E's normalized spectrum, with the n_eff peak, above
/// the accuracy they are meant to precede.
pub fn gini_ipr(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["n_eff", "gini"]) {
        return Ok(Made::Skipped(why));
    }
    let n_eff = run.series("n_eff");
    let mut sparsity = Panel::new("Spectral sparsity of W_E", "step", "n_eff = 1/Σq² (IPR)")
        .log_steps()
        .right_axis("Gini coefficient of q", false, Some((0.0, 1.02)))
        .line(Line::new("n_eff (effective number of frequencies)", n_eff.clone(), BLUE))
        .line(Line::new("Gini of W_E", run.series("gini"), VERMILLION).right())
        .band(run.grokking_band());
    let wu_gini = run.series("wu_gini");
    if !wu_gini.is_empty() {
        sparsity = sparsity.line(Line::new("Gini of W_U", wu_gini, ORANGE).dashed().right());
    }
    if let Some(step) = half_fall_step(&n_eff.iter().map(|&(s, v)| (s as u64, v)).collect::<Vec<_>>()) {
        sparsity = sparsity.mark(step as f64, format!("n_eff half fall (step {step})"), GREY);
    }
    figure(path, "Sparsity of the embedding spectrum: n_eff (IPR) and Gini", &run.subtitle(), &[sparsity, accuracy_panel(run)], 1)
}
