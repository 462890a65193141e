//! The training log: loss and accuracy over steps (metrics.jsonl).

use std::path::Path;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLACK, BLUE, GREY, VERMILLION};
use super::{figure, Made};
use crate::Result;

const STEP_LOG: &str = "step (log scale)";

/// Loss (log, left axis) and accuracy (right axis) on one chart, the region between
/// memorization and grokking shaded.
pub fn training_curves(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["train_loss", "val_loss", "train_acc", "val_acc"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = Panel::new("", STEP_LOG, "cross-entropy loss (log scale)")
        .log_x()
        .log_y()
        .right_axis("accuracy", false, Some((0.0, 1.02)))
        .line(Line::new("train loss", run.series("train_loss"), BLUE))
        .line(Line::new("validation loss", run.series("val_loss"), VERMILLION))
        .line(Line::new("train accuracy", run.series("train_acc"), BLUE).dashed().right())
        .line(Line::new("validation accuracy", run.series("val_acc"), VERMILLION).dashed().right())
        .band(run.grokking_band());
    figure(path, "Training curves: loss and accuracy", &run.subtitle(), &[panel], 1)
}

/// Accuracy over steps with the memorization and grokking steps marked.
pub fn accuracy(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["train_acc", "val_acc"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = with_events(
        run,
        Panel::new("", STEP_LOG, "accuracy")
            .log_x()
            .y_range(0.0, 1.02)
            .line(Line::new("train accuracy", run.series("train_acc"), BLUE))
            .line(Line::new("validation accuracy", run.series("val_acc"), VERMILLION)),
    );
    figure(path, "Accuracy", &run.subtitle(), &[panel], 1)
}

/// Cross-entropy on log–log axes.
pub fn loss(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["train_loss", "val_loss"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = with_events(
        run,
        Panel::new("", STEP_LOG, "cross-entropy loss (log scale)")
            .log_x()
            .log_y()
            .line(Line::new("train loss", run.series("train_loss"), BLUE))
            .line(Line::new("validation loss", run.series("val_loss"), VERMILLION)),
    );
    figure(path, "Loss", &run.subtitle(), &[panel], 1)
}

/// `panel` with the memorization → grokking band and both events marked.
pub fn with_events(run: &Run, panel: Panel) -> Panel {
    let events = run.events();
    let mut panel = panel.band(run.grokking_band());
    if let Some(m) = events.memorization_step {
        panel = panel.mark(m as f64, format!("memorization, train acc ≥ 99% (step {m})"), GREY);
    }
    if let Some(g) = events.grok_step {
        panel = panel.mark(g as f64, format!("grokking, val acc ≥ 90% (step {g})"), BLACK);
    }
    panel
}

/// The accuracy panel placed under an analysis panel, for its timing.
pub fn accuracy_panel(run: &Run) -> Panel {
    Panel::new("Accuracy", STEP_LOG, "accuracy")
        .log_x()
        .y_range(0.0, 1.02)
        .line(Line::new("train", run.series("train_acc"), BLUE))
        .line(Line::new("validation", run.series("val_acc"), VERMILLION))
        .band(run.grokking_band())
}
