//! Seed 004: the frequency synchronization degree of the circuit's components, which
//! saturates before grokking.

use std::path::Path;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLACK, BLUE, GREY, VERMILLION};
use super::{figure, Made};
use crate::Result;

pub fn fsd(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["fsd", "fsd_p"]) {
        return Ok(Made::Skipped(why));
    }
    let series = run.series("fsd");
    let ceiling = run.events().precursors.into_iter().find(|p| p.name == "fsd_ceiling").and_then(|p| p.step);
    let mut sync = Panel::new("Frequency synchronization degree", "step", "FSD (null-normalized)")
        .log_steps()
        .right_axis("validation accuracy", false, Some((0.0, 1.02)))
        .line(Line::new("FSD", series.clone(), BLUE))
        .line(Line::new("validation accuracy", run.series("val_acc"), VERMILLION).dashed().right())
        .level(0.0, "", GREY)
        .band(run.grokking_band());
    if let Some(&(_, last)) = series.last() {
        sync = sync.level(0.95 * last, format!("95% of the final FSD ({:.2})", 0.95 * last), GREY);
    }
    if let Some(step) = ceiling {
        sync = sync.mark(step as f64, format!("FSD ceiling (step {step})"), BLACK);
    }
    let p = Panel::new("Permutation p-value of the synchronization", "step", "p-value (log scale)")
        .log_steps()
        .log_y()
        .line(Line::new("fsd_p", run.series("fsd_p"), BLUE))
        .level(0.05, "p = 0.05", GREY)
        .band(run.grokking_band());
    figure(path, "FSD: synchronization of the Fourier circuit", &run.subtitle(), &[sync, p], 1)
}
