//! The training log: loss and accuracy over steps (metrics.jsonl).

use std::path::Path;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLACK, BLUE, GREY, PURPLE, VERMILLION};
use super::{figure, Made};
use crate::Result;

/// Loss (log, left axis) and accuracy (right axis) on one chart, the region between
/// memorization and grokking shaded.
pub fn training_curves(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["train_loss", "val_loss", "train_acc", "val_acc"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = Panel::new("", "step", "cross-entropy loss (log scale)")
        .log_steps()
        .log_y()
        .right_axis("accuracy", false, Some((0.0, 1.02)))
        .line(Line::new("train loss", run.series("train_loss"), BLUE))
        .line(Line::new("validation loss", run.series("val_loss"), VERMILLION))
        .line(Line::new("train accuracy", run.series("train_acc"), BLUE).dashed().right())
        .line(Line::new("validation accuracy", run.series("val_acc"), VERMILLION).dashed().right())
        .band(run.grokking_band());
    let panel = with_divergence(run, panel);
    figure(path, "Training curves: loss and accuracy", &run.subtitle(), &[panel], 1)
}

/// Accuracy over steps with the memorization and grokking steps marked.
pub fn accuracy(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["train_acc", "val_acc"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = with_events(
        run,
        Panel::new("", "step", "accuracy")
            .log_steps()
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
        Panel::new("", "step", "cross-entropy loss (log scale)")
            .log_steps()
            .log_y()
            .line(Line::new("train loss", run.series("train_loss"), BLUE))
            .line(Line::new("validation loss", run.series("val_loss"), VERMILLION)),
    );
    figure(path, "Loss", &run.subtitle(), &[panel], 1)
}

/// `panel` with the step where the run diverged marked, if it did.
fn with_divergence(run: &Run, panel: Panel) -> Panel {
    match run.divergence_step() {
        Some(s) => panel.mark(s as f64, format!("diverged: loss or weight norm not finite, training stopped (step {s})"), PURPLE),
        None => panel,
    }
}

/// `panel` with the memorization → grokking band, both events and a divergence marked.
pub fn with_events(run: &Run, panel: Panel) -> Panel {
    let events = run.events();
    let mut panel = with_divergence(run, panel.band(run.grokking_band()));
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
    Panel::new("Accuracy", "step", "accuracy")
        .log_steps()
        .y_range(0.0, 1.02)
        .line(Line::new("train", run.series("train_acc"), BLUE))
        .line(Line::new("validation", run.series("val_acc"), VERMILLION))
        .band(run.grokking_band())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;
    use crate::rundir::METRICS_FILE;

    #[test]
    fn a_diverged_run_is_marked_where_it_stopped() {
        let dir = test_dir("plot_training_divergence");
        let log = "{\"step\":0,\"train_loss\":4.0,\"val_loss\":4.0,\"weight_norm\":5.0,\"train_acc\":0.0,\"val_acc\":0.0}\n{\"step\":30,\"train_loss\":null,\"val_loss\":null,\"weight_norm\":null,\"train_acc\":0.0,\"val_acc\":0.0}\n";
        std::fs::write(dir.join(METRICS_FILE), log).unwrap();
        let run = Run::load(&dir).unwrap();
        let panel = with_events(&run, Panel::new("", "step", "accuracy"));
        let marks: Vec<(f64, &str)> = panel.marks.iter().map(|m| (m.x, m.label.as_str())).collect();
        assert_eq!(marks, [(30.0, "diverged: loss or weight norm not finite, training stopped (step 30)")]);
        training_curves(&run, &dir.join("curves.png")).unwrap();
        assert!(dir.join("curves.png").is_file());
    }
}
