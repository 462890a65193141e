//! The figure of `grokgpu experiment wd-fork`: the delay Δt from the fork to grokking
//! against 1/λ, with the fit Δt = C/λ (a line through the origin when seed 004's law
//! holds), and the forks that never grokked drawn at the delay they were trained to.

use std::path::Path;

use serde_json::Value;

use super::axis::tick_label;
use super::lines::{Line, Panel};
use super::style::{BLACK, BLUE, GREY};
use super::{figure, outcome, Made, Outcome};
use crate::rundir::{EXPERIMENT_JSON, WD_FORK_FIGURE};
use crate::{Error, Result};

fn draw(dir: &Path, path: &Path) -> Result<Made> {
    let file = dir.join(EXPERIMENT_JSON);
    let text = std::fs::read_to_string(&file).map_err(|e| Error::msg(format!("cannot read {}: {e}", file.display())))?;
    let e: Value = serde_json::from_str(&text).map_err(|err| Error::msg(format!("{}: {err}", file.display())))?;
    let fork_step = e["fork_step"].as_u64().unwrap_or(0);
    let runs = e["runs"].as_array().cloned().unwrap_or_default();
    let inverse = |r: &Value| r["lambda"].as_f64().filter(|&l| l > 0.0).map(|l| 1.0 / l);
    let grokked: Vec<(f64, f64)> = runs.iter().filter_map(|r| Some((inverse(r)?, r["delta_t"].as_f64()?))).collect();
    let never: Vec<(f64, f64)> =
        runs.iter().filter(|r| r["delta_t"].is_null()).filter_map(|r| Some((inverse(r)?, r["last_step"].as_u64()?.saturating_sub(fork_step) as f64))).collect();
    let mut panel = Panel::new("", "1/λ (inverse weight decay)", format!("Δt = grok step − {fork_step} (fork step)"))
        .line(Line::new(format!("forks that grokked ({})", grokked.len()), grokked.clone(), BLUE).dots());
    if !never.is_empty() {
        panel = panel.line(Line::new(format!("never grokked ({}), at the Δt trained to", never.len()), never.clone(), GREY).dots());
    }
    let mut subtitle = format!("{} forks of {} at step {fork_step}", runs.len(), e["parent"].as_str().unwrap_or("?"));
    if let Some(c) = e["fit_inverse"]["c"].as_f64() {
        let r2 = e["fit_inverse"]["r2"].as_f64().unwrap_or(f64::NAN);
        let top = grokked.iter().chain(&never).map(|p| p.0).fold(0.0, f64::max);
        let fit = (0..=40).map(|i| top * i as f64 / 40.0).map(|x| (x, c * x)).collect();
        panel = panel.line(Line::new(format!("fit Δt = C/λ, C = {}, R² = {r2:.3}", tick_label(c)), fit, BLACK).dashed());
        if let Some(a) = e["fit_power"]["a"].as_f64() {
            subtitle += &format!(" · free exponent: Δt ∝ λ^−{a:.2}");
        }
    }
    figure(path, "Delay to grokking after a weight-decay fork", &subtitle, &[panel], 1)
}

/// Draws the experiment's figure from `dir`'s experiment.json.
pub fn wd_fork_figure(dir: &Path) -> Outcome {
    let path = dir.join(WD_FORK_FIGURE);
    outcome(path.clone(), draw(dir, &path))
}
