//! Seed 003's training dynamics: the five stage metrics of the first MLP layer W1 over
//! training, with Tian's stages I / II / III (and convergence) as tinted bands.

use std::path::Path;

use plotters::style::RGBColor;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION};
use super::{figure, Made};
use crate::analysis::dynamics::{ALIGNED_GRAD_COSINE, LAZY_RATE};
use crate::Result;

/// A linear step axis, on which the stage bands show how long each stage lasts.
const STEP: &str = "step (linear scale)";

/// Colour and legend label of each stage label that gets a band.
fn stage_style(label: &str) -> Option<(RGBColor, &'static str)> {
    match label {
        "I" => Some((SKY, "stage I (lazy)")),
        "II" => Some((GREEN, "stage II (independent features)")),
        "III" => Some((ORANGE, "stage III (interactive features)")),
        "converged" => Some((PURPLE, "converged")),
        _ => None,
    }
}

/// (from, to, label) of each run of equal stage labels: a run reaches the next run's first
/// step (the last one ends at its own last checkpoint).
pub fn stage_intervals(stages: &[(u64, String)]) -> Vec<(f64, f64, String)> {
    let mut out: Vec<(f64, f64, String)> = Vec::new();
    for (i, (step, label)) in stages.iter().enumerate() {
        let end = stages.get(i + 1).map_or(*step as f64, |(next, _)| *next as f64);
        match out.last_mut() {
            Some(last) if last.2 == *label => last.1 = end,
            _ => out.push((*step as f64, end, label.clone())),
        }
    }
    out
}

/// The stage bands; `legend` names them (the first panel only, so the others stay legible).
fn with_stages(panel: Panel, intervals: &[(f64, f64, String)], legend: bool) -> Panel {
    intervals.iter().fold(panel, |p, (from, to, label)| match stage_style(label) {
        Some((color, name)) => p.tint(*from, *to, color, if legend { name } else { "" }),
        None => p,
    })
}

/// ‖W1‖, its relative motion per update, the per-neuron gradient cosine, the gradient norm and
/// the feature diversity, above the accuracy, each with the stage bands.
pub fn dynamics(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["w1_norm", "grad_cosine_unit", "stage"]) {
        return Ok(Made::Skipped(why));
    }
    let stages: Vec<(u64, String)> = run.values("stage").into_iter().filter_map(|(s, v)| Some((s, v.as_str()?.to_string()))).collect();
    let intervals = stage_intervals(&stages);
    let panels = [
        Panel::new("‖W1‖ (seed 003's w_norm)", STEP, "‖W1‖_F").line(Line::new("‖W1‖", run.series("w1_norm"), BLUE)),
        Panel::new("W1's motion per update", STEP, "‖ΔW1‖ / (Δstep·‖W1‖), log scale")
            .log_y()
            .line(Line::new("w1_delta_rate", run.series("w1_delta_rate"), BLUE))
            .level(LAZY_RATE, format!("stage I below {LAZY_RATE:e}"), GREY),
        Panel::new("Gradient direction per neuron", STEP, "cosine")
            .line(Line::new("cos(−∂L/∂w_j, w_j), mean over neurons", run.series("grad_cosine_unit"), BLUE))
            .line(Line::new("pairwise cosine of neurons' gradients", run.series("grad_cosine_pairwise"), VERMILLION).dashed())
            .level(ALIGNED_GRAD_COSINE, format!("stage II above {ALIGNED_GRAD_COSINE}"), GREY),
        Panel::new("Gradient norm", STEP, "‖∂L/∂θ‖, log scale").log_y().line(Line::new("grad_norm", run.series("grad_norm"), BLUE)),
        Panel::new("Feature diversity of W1", STEP, "1 − mean |cos| between rows").line(Line::new("feature_diversity", run.series("feature_diversity"), BLUE)),
        Panel::new("Accuracy", STEP, "accuracy")
            .y_range(0.0, 1.02)
            .line(Line::new("train", run.series("train_acc"), BLUE))
            .line(Line::new("validation", run.series("val_acc"), VERMILLION))
            .level(0.95, "train 0.95: end of stages I–II", GREEN)
            .level(0.99, "validation 0.99: end of stage III", ORANGE),
    ];
    let panels: Vec<Panel> = panels.into_iter().enumerate().map(|(i, p)| with_stages(p, &intervals, i == 0)).collect();
    figure(path, "Training dynamics of W1 and Tian's three stages (seed 003)", &run.subtitle(), &panels, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_equal_labels_become_intervals_reaching_the_next_run() {
        let s = |v: &[(u64, &str)]| v.iter().map(|&(a, b)| (a, b.to_string())).collect::<Vec<_>>();
        let got = stage_intervals(&s(&[(0, "I"), (10, "II"), (20, "II"), (30, "III"), (40, "converged")]));
        let want = vec![(0.0, 10.0, "I".to_string()), (10.0, 30.0, "II".to_string()), (30.0, 40.0, "III".to_string()), (40.0, 40.0, "converged".to_string())];
        assert_eq!(got, want);
        assert!(stage_intervals(&[]).is_empty());
    }
}
