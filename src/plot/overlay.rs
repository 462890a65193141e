//! Multi-runs: every run's curves on one chart, and the grokking step against each setting
//! the sweep varies (seed 004's Δt ∝ 1/λ for weight decay).

use std::path::Path;

use serde_json::Value;

use super::data::Run;
use super::lines::{Line, Panel};
use plotters::style::RGBColor;

use super::axis::tick_label;
use super::style::{ordered_color, BLACK, BLUE, GREY};
use super::{figure, outcome, Made, Outcome};
use crate::config::setting::value_text;
use crate::rundir::sweep_file::{SweepFile, SweepRun};
use crate::Result;

/// The sweep.json entry of `run`.
fn entry<'a>(sweep: &'a SweepFile, run: &Run) -> Option<&'a SweepRun> {
    sweep.runs.iter().find(|r| run.dir.ends_with(&r.dir))
}

/// Legend label of each run: its settings in sweep order, "weight_decay=0.1, seed=0".
fn label(sweep: &SweepFile, run: &Run) -> String {
    let Some(entry) = entry(sweep, run) else { return run.name() };
    let value = |v: &Value| v.as_f64().map_or_else(|| value_text(v), tick_label);
    sweep.varying.iter().filter_map(|k| Some(format!("{k}={}", value(entry.settings.get(k)?)))).collect::<Vec<_>>().join(", ")
}

/// `run`'s value of the setting `key`, as sweep.json lists it.
fn setting<'a>(sweep: &'a SweepFile, run: &Run, key: &str) -> Option<&'a Value> {
    entry(sweep, run).and_then(|e| e.settings.get(key))
}

/// The distinct values of `key` over `runs`: ascending numbers, or names in the order met.
fn distinct_values(sweep: &SweepFile, runs: &[Run], key: &str) -> Vec<Value> {
    let mut values: Vec<Value> = vec![];
    for v in runs.iter().filter_map(|r| setting(sweep, r, key)) {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
    if values.iter().all(Value::is_number) {
        values.sort_by(|a, b| a.as_f64().unwrap_or(0.0).total_cmp(&b.as_f64().unwrap_or(0.0)));
    }
    values
}

/// Colour by the rank of the run's value of the first varying setting other than the seed
/// (by the run's place when only seeds vary); dashed for every seed but the first.
fn styles(sweep: &SweepFile, runs: &[Run]) -> Vec<(RGBColor, bool)> {
    let key = sweep.varying.iter().find(|k| k.as_str() != "seed");
    let values = key.map_or_else(Vec::new, |k| distinct_values(sweep, runs, k));
    let seed = |run: &Run| setting(sweep, run, "seed").and_then(Value::as_f64);
    let first_seed = runs.iter().filter_map(seed).reduce(f64::min);
    runs.iter()
        .enumerate()
        .map(|(i, run)| {
            let color = match key.and_then(|k| setting(sweep, run, k)) {
                Some(v) => ordered_color(values.iter().position(|x| x == v).unwrap_or(0), values.len()),
                None => ordered_color(i, runs.len()),
            };
            (color, key.is_some() && seed(run) != first_seed)
        })
        .collect()
}

fn overlay(sweep: &SweepFile, runs: &[Run], field: &str, title: &str, y_label: &str, log_y: bool, path: &Path) -> Result<Made> {
    if runs.iter().all(|r| r.series(field).is_empty()) {
        return Ok(Made::Skipped(format!("no run holds values of {field}")));
    }
    let mut panel = Panel::new("", "step", y_label).log_steps();
    panel = if log_y { panel.log_y() } else { panel.y_range(0.0, 1.02) };
    for (run, (color, dashed)) in runs.iter().zip(styles(sweep, runs)) {
        let line = Line::new(label(sweep, run), run.series(field), color);
        panel = panel.line(if dashed { line.dashed() } else { line });
    }
    let subtitle = format!("{} runs · varying {}", runs.len(), sweep.varying.join(", "));
    figure(path, title, &subtitle, &[panel], 1)
}

/// Grok step of each run against `key`; runs that never grokked sit at their last step as
/// grey dots, listed as such. A numeric setting is a number axis (log scale when positive);
/// any other (a task, a model, "none" among ranks) is one position per value. For weight
/// decay, the fit grok_step = C/λ of seed 004.
fn grok_vs(sweep: &SweepFile, runs: &[Run], key: &str, path: &Path) -> Result<Made> {
    let values = distinct_values(sweep, runs, key);
    let numeric = values.iter().all(Value::is_number);
    let x_of = |v: &Value| if numeric { v.as_f64() } else { values.iter().position(|x| x == v).map(|i| i as f64) };
    let mut grokked = vec![];
    let mut never = vec![];
    for run in runs {
        let Some(x) = setting(sweep, run, key).and_then(x_of) else { continue };
        match run.events().grok_step {
            Some(g) => grokked.push((x, g as f64)),
            None => {
                if let Some(&(last, _)) = run.series("val_acc").last() {
                    never.push((x, last));
                }
            }
        }
    }
    if grokked.is_empty() && never.is_empty() {
        return Ok(Made::Skipped(format!("no run has both a {key} setting and validation accuracy")));
    }
    let log_x = numeric && grokked.iter().chain(&never).all(|&(x, _)| x > 0.0);
    let log_y = grokked.iter().chain(&never).all(|&(_, y)| y > 0.0);
    let never_label = format!("never grokked ({} run(s), drawn at their last step)", never.len());
    let mut panel = Panel::new("", if log_x { format!("{key} (log scale)") } else { key.to_string() }, if log_y { "grok step (val acc ≥ 90%, log scale)" } else { "grok step (val acc ≥ 90%)" })
        .line(Line::new(format!("grokked ({} run(s))", grokked.len()), grokked.clone(), BLUE).dots())
        .line(Line::new(never_label, never, GREY).dots());
    if !numeric {
        panel = panel.categories(values.iter().map(value_text).collect());
    }
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
        panel = panel.line(Line::new(format!("fit: grok step = C/λ, C = {}", tick_label(c)), fit, BLACK).dashed());
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
