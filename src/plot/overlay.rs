//! Multi-runs: every run's curves on one chart, and the grokking step against each numeric
//! setting the sweep varies (seed 004's Δt ∝ 1/λ for weight decay).

use std::path::Path;

use serde_json::Value;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{ordered_color, BLACK, GREY};
use super::{figure, outcome, Made, Outcome};
use crate::train::sweep::{SweepFile, SweepRun};
use crate::Result;

/// The sweep.json entry of `run`.
fn entry<'a>(sweep: &'a SweepFile, run: &Run) -> Option<&'a SweepRun> {
    sweep.runs.iter().find(|r| run.dir.ends_with(&r.dir))
}

/// Legend label of each run: its settings, "weight_decay=0.1, seed=0".
fn label(sweep: &SweepFile, run: &Run) -> String {
    entry(sweep, run).map_or_else(|| run.name(), |r| r.settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
}

fn overlay(sweep: &SweepFile, runs: &[Run], field: &str, title: &str, y_label: &str, log_y: bool, path: &Path) -> Result<Made> {
    if runs.iter().all(|r| r.series(field).is_empty()) {
        return Ok(Made::Skipped(format!("no run holds values of {field}")));
    }
    let mut panel = Panel::new("", "step (log scale)", y_label).log_x();
    panel = if log_y { panel.log_y() } else { panel.y_range(0.0, 1.02) };
    for (i, run) in runs.iter().enumerate() {
        panel = panel.line(Line::new(label(sweep, run), run.series(field), ordered_color(i, runs.len())));
    }
    let subtitle = format!("{} runs · varying {}", runs.len(), sweep.varying.join(", "));
    figure(path, title, &subtitle, &[panel], 1)
}

/// Grok step of each run against `key`; runs that never grokked sit at their last step as
/// grey dots. For weight decay, the fit grok_step = C/λ of seed 004.
fn grok_vs(sweep: &SweepFile, runs: &[Run], key: &str, path: &Path) -> Result<Made> {
    let mut grokked = vec![];
    let mut not = vec![];
    for run in runs {
        let setting = entry(sweep, run).and_then(|r| r.settings.get(key)).and_then(Value::as_f64);
        let Some(x) = setting else { continue };
        match run.events().grok_step {
            Some(g) => grokked.push((x, g as f64)),
            None => {
                if let Some(&(last, _)) = run.series("val_acc").last() {
                    not.push((x, last));
                }
            }
        }
    }
    if grokked.is_empty() && not.is_empty() {
        return Ok(Made::Skipped(format!("no run has both a {key} setting and validation accuracy")));
    }
    let log_x = grokked.iter().chain(&not).all(|&(x, _)| x > 0.0);
    let log_y = grokked.iter().chain(&not).all(|&(_, y)| y > 0.0);
    let mut panel = Panel::new("", if log_x { format!("{key} (log scale)") } else { key.to_string() }, if log_y { "grok step (val acc ≥ 90%, log scale)" } else { "grok step (val acc ≥ 90%)" })
        .line(Line::new("grokked", grokked.clone(), ordered_color(0, 2)).dots())
        .line(Line::new("not grokked (at its last step)", not, GREY).dots());
    if log_x {
        panel = panel.log_x();
    }
    if log_y {
        panel = panel.log_y();
    }
    if key == "weight_decay" && grokked.len() >= 2 && log_x {
        // Least squares of ln t = ln C − ln λ: C is the geometric mean of t·λ.
        let c = (grokked.iter().map(|&(l, t)| (t * l).ln()).sum::<f64>() / grokked.len() as f64).exp();
        let (lo, hi) = grokked.iter().fold((f64::MAX, f64::MIN), |(a, b), &(l, _)| (a.min(l), b.max(l)));
        let fit: Vec<(f64, f64)> = (0..=50).map(|i| lo * (hi / lo).powf(i as f64 / 50.0)).map(|l| (l, c / l)).collect();
        panel = panel.line(Line::new(format!("fit: grok step = C/λ, C = {c:.3}"), fit, BLACK).dashed());
    }
    figure(path, &format!("Grokking step vs {key}"), &format!("{} runs", runs.len()), &[panel], 1)
}

/// The overlays of a multi-run into `out` (the multi-run's plots/).
pub fn plot_overlays(sweep: &SweepFile, runs: &[Run], out: &Path, note: &mut dyn FnMut(Outcome)) {
    let curves = [
        ("overlay_val_acc.png", "val_acc", "Validation accuracy of every run", "validation accuracy", false),
        ("overlay_train_acc.png", "train_acc", "Train accuracy of every run", "train accuracy", false),
        ("overlay_val_loss.png", "val_loss", "Validation loss of every run", "validation loss (log scale)", true),
    ];
    for (file, field, title, y_label, log_y) in curves {
        let path = out.join(file);
        note(outcome(path.clone(), overlay(sweep, runs, field, title, y_label, log_y, &path)));
    }
    for key in sweep.varying.iter().filter(|k| k.as_str() != "seed") {
        let path = out.join(format!("grok_step_vs_{key}.png"));
        note(outcome(path.clone(), grok_vs(sweep, runs, key, &path)));
    }
}
