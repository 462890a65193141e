//! Seed 000 finding 5 and Nanda et al.: the algorithmic and memorizing parts of the logits
//! compete; their ratio crosses 1 before grokking; the excluded loss rises.

use std::path::Path;

use super::data::Run;
use super::lines::{visible, Line, Panel};
use super::style::{BLACK, BLUE, GREEN, GREY, VERMILLION};
use super::{figure, Made};
use crate::Result;

pub fn circuit_competition(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["alpha_alg", "alpha_mem", "circuit_ratio", "excluded_loss", "restricted_loss"]) {
        return Ok(Made::Skipped(why));
    }
    let band = run.grokking_band();
    let crossover = run.events().precursors.into_iter().find(|p| p.name == "circuit_crossover").and_then(|p| p.step);
    let margins = Panel::new("Logit margins of the two circuits", "step", "margin (logits)")
        .log_steps()
        .line(Line::new("α_alg: key-frequency logits, train margin", run.series("alpha_alg"), BLUE))
        .line(Line::new("α_mem: rest, train − val margin", run.series("alpha_mem"), VERMILLION))
        .level(0.0, "", GREY)
        .band(band);
    let ratio_series = run.series("circuit_ratio");
    let log = !ratio_series.is_empty() && ratio_series.iter().all(|&(_, r)| visible(r, true));
    let mut ratio = Panel::new("Circuit ratio α_alg / α_mem (gaps: α_mem ≤ 0)", "step", if log { "α_alg / α_mem (log scale)" } else { "α_alg / α_mem" })
        .log_steps()
        .right_axis("validation accuracy", false, Some((0.0, 1.02)))
        .line(Line::new("α_alg / α_mem", ratio_series, BLUE))
        .line(Line::new("validation accuracy", run.series("val_acc"), GREEN).dashed().right())
        .level(1.0, "ratio = 1", GREY)
        .band(band);
    if log {
        ratio = ratio.log_y();
    }
    if let Some(step) = crossover {
        ratio = ratio.mark(step as f64, format!("crossover: ratio ≥ 1 from step {step} on"), BLACK);
    }
    let mut losses = Panel::new("Nanda et al.'s excluded and restricted loss", "step", "cross-entropy (log scale)")
        .log_steps()
        .log_y()
        .line(Line::new("excluded loss (key directions removed, train)", run.series("excluded_loss"), VERMILLION))
        .line(Line::new("restricted loss (key directions only)", run.series("restricted_loss"), BLUE))
        .line(Line::new("train loss", run.series("train_loss"), GREY).dashed())
        .band(band);
    if let Some(p) = run.p() {
        losses = losses.level((p as f64).ln(), format!("chance, ln p = {:.2}", (p as f64).ln()), BLACK);
    }
    figure(path, "Circuit competition: algorithmic vs memorizing logits", &run.subtitle(), &[margins, ratio, losses], 1)
}
