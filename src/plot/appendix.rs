//! Seed 000's appendix figures: A1 the embedding's constellation in a key-frequency plane at
//! a few checkpoints, A2 the tokens' phase against their index, A3 the spectral bands over
//! training, A4 the dominant frequency over training, A7 W_E's 2D power spectrum. A1, A2 and
//! A7 read W_E from the checkpoints; A3 and A4 read analysis.jsonl.

use std::path::Path;

use serde_json::Value;

use super::data::Run;
use super::frame;
use super::heatmap::Heatmap;
use super::lines::{Line, Panel};
use super::style::{ordered_color, BLUE, GREY, VERMILLION};
use super::{canvas, canvas_size, figure, Made};
use crate::analysis::alignment::power_2d;
use crate::analysis::phase::key_plane_coordinates;
use crate::analysis::spectrum::TokenOrder;
use crate::analysis::Matrix;
use crate::rundir::{read_checkpoint, RunDir, CHECKPOINT_DIR};
use crate::Result;

/// Checkpoints A1 and A2 draw: initialization, memorization, half way to grokking, grokking
/// and the last one (those that exist, without repeats).
const SNAPSHOTS: usize = 5;

/// The run's checkpoints, (step, path), ascending (none when the directory cannot be read).
fn checkpoints(run: &Run) -> Vec<(u64, std::path::PathBuf)> {
    RunDir::open(&run.dir).and_then(|(dir, _)| dir.checkpoints()).unwrap_or_default()
}

/// The checkpoint steps closest to initialization, memorization, half way to grokking,
/// grokking and the end.
fn snapshot_steps(run: &Run, steps: &[u64]) -> Vec<u64> {
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else { return vec![] };
    let e = run.events();
    let mut wanted = vec![first];
    wanted.extend(e.memorization_step);
    if let (Some(m), Some(g)) = (e.memorization_step, e.grok_step) {
        wanted.push((m + g) / 2);
    }
    wanted.extend(e.grok_step);
    wanted.push(last);
    let mut picked: Vec<u64> = wanted.iter().map(|&w| *steps.iter().min_by_key(|&&s| s.abs_diff(w)).expect("non-empty")).collect();
    picked.sort_unstable();
    picked.dedup();
    picked.truncate(SNAPSHOTS);
    picked
}

/// W_E (the p number rows of `embed.weight`) of a checkpoint, in the task's token order.
fn embedding(path: &Path, p: usize, order: TokenOrder) -> Option<Matrix> {
    let ckpt = read_checkpoint(path).ok()?;
    let (_, shape, values) = ckpt.params.iter().find(|(n, _, _)| n == "embed.weight")?;
    let d = *shape.get(1)?;
    (values.len() >= p * d).then(|| order.apply(&Matrix::from_f32(p, d, &values[..p * d])))
}

/// What A1 and A2 need: p, the token order, the plotted frequency (the strongest key
/// frequency of the last checkpoint) and W_E at the snapshot steps.
struct Snapshots {
    k: usize,
    embeddings: Vec<(u64, Matrix)>,
}

fn snapshots(run: &Run) -> std::result::Result<Snapshots, String> {
    let p = run.p().ok_or("config.json holds no p")? as usize;
    let task = run.config.get("task").and_then(Value::as_str).ok_or("config.json holds no task")?;
    let order = TokenOrder::for_task(task, p);
    let k = *run.key_freqs().first().ok_or("analysis.jsonl holds no key_freqs_final (run `grokgpu analyze`)")?;
    let all = checkpoints(run);
    let steps: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    let embeddings: Vec<(u64, Matrix)> = snapshot_steps(run, &steps)
        .into_iter()
        .filter_map(|s| all.iter().find(|(step, _)| *step == s).and_then(|(_, path)| embedding(path, p, order)).map(|w| (s, w)))
        .collect();
    if embeddings.is_empty() {
        return Err(format!("no readable checkpoint with embed.weight in {}", run.dir.join(CHECKPOINT_DIR).display()));
    }
    Ok(Snapshots { k, embeddings })
}

/// A1: the tokens in the frequency-k plane at each snapshot, joined in the order k·t mod n
/// (an ideal embedding is a regular polygon there).
pub fn constellation(run: &Run, path: &Path) -> Result<Made> {
    let s = match snapshots(run) {
        Ok(s) => s,
        Err(why) => return Ok(Made::Skipped(why)),
    };
    let panels: Vec<Panel> = s
        .embeddings
        .iter()
        .enumerate()
        .filter_map(|(i, (step, w))| {
            let coords = key_plane_coordinates(w, s.k)?;
            let n = coords.len();
            let mut ring: Vec<(f64, f64)> = match modular_inverse(s.k, n) {
                Some(inverse) => (0..n).map(|j| coords[(j * inverse) % n]).collect(),
                None => coords.clone(),
            };
            ring.push(ring[0]);
            Some(
                Panel::new(format!("step {step}"), format!("W_E in the k = {} plane: cos direction", s.k), "sin direction")
                    .line(Line::new("tokens, joined in the order k·t mod n", ring, ordered_color(i, s.embeddings.len())))
                    .line(Line::new("", coords, GREY).dots()),
            )
        })
        .collect();
    if panels.is_empty() {
        return Ok(Made::Skipped(format!("W_E's frequency-{} plane is degenerate at every snapshot", s.k)));
    }
    figure(path, &format!("Constellation of W_E in its key-frequency plane (k = {})", s.k), &run.subtitle(), &panels, 2)
}

/// The j with k·j ≡ 1 mod n, so that token j·k⁻¹ sits at position j of the polygon.
fn modular_inverse(k: usize, n: usize) -> Option<usize> {
    (1..n).find(|&j| (k * j) % n == 1)
}

/// A2: each token's angle in the frequency-k plane against k·t mod n, at each snapshot (an
/// ideal embedding lies on a line of slope ±2π/n).
pub fn phase_vs_token(run: &Run, path: &Path) -> Result<Made> {
    let s = match snapshots(run) {
        Ok(s) => s,
        Err(why) => return Ok(Made::Skipped(why)),
    };
    let mut panel = Panel::new("", format!("k·t mod n (k = {})", s.k), "token angle θ_t in the plane (radians)").y_range(-3.3, 3.3);
    for (i, (step, w)) in s.embeddings.iter().enumerate() {
        if let Some(coords) = key_plane_coordinates(w, s.k) {
            let n = coords.len();
            let points: Vec<(f64, f64)> = coords.iter().enumerate().map(|(t, &(a, b))| (((s.k * t) % n) as f64, b.atan2(a))).collect();
            let mut sorted = points;
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            panel = panel.line(Line::new(format!("step {step}"), sorted, ordered_color(i, s.embeddings.len())).dots());
        }
    }
    figure(path, "Phase against token: θ_t in the key-frequency plane", &run.subtitle(), &[panel], 1)
}

/// A3: the share of W_E's spectrum at k ≤ 5 and above over training.
pub fn band_evolution(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["band_low", "band_high"]) {
        return Ok(Made::Skipped(why));
    }
    let panel = Panel::new("", "step (linear scale)", "share of q (k ≥ 1)")
        .y_range(0.0, 1.02)
        .band(run.grokking_band())
        .line(Line::new("low band, k ≤ 5", run.series("band_low"), BLUE))
        .line(Line::new("high band, k > 5", run.series("band_high"), VERMILLION));
    figure(path, "Spectral band evolution of W_E", &run.subtitle(), &[panel], 1)
}

/// A4: W_E's dominant frequency at each checkpoint, with the last checkpoint's key set.
pub fn dominant_frequency(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["dominant_freq"]) {
        return Ok(Made::Skipped(why));
    }
    let mut panel = Panel::new("", "step (linear scale)", "frequency k").band(run.grokking_band()).line(Line::new("dominant frequency argmax E_k", run.series("dominant_freq"), BLUE).dots());
    for (i, k) in run.key_freqs().into_iter().enumerate() {
        panel = panel.level(k as f64, if i == 0 { "key frequencies of the last checkpoint".to_string() } else { String::new() }, GREY);
    }
    figure(path, "Dominant frequency of W_E over training", &run.subtitle(), &[panel], 1)
}

/// A7: log10 |F2[k, m]|² of the last checkpoint's W_E over (token, hidden).
pub fn power_spectrum_2d(run: &Run, path: &Path) -> Result<Made> {
    let Some(p) = run.p() else { return Ok(Made::Skipped("config.json holds no p".to_string())) };
    let task = run.config.get("task").and_then(Value::as_str).unwrap_or("add");
    let Some((step, last)) = checkpoints(run).pop() else {
        return Ok(Made::Skipped(format!("no checkpoints in {}", run.dir.join(CHECKPOINT_DIR).display())));
    };
    let Some(w) = embedding(&last, p as usize, TokenOrder::for_task(task, p as usize)) else {
        return Ok(Made::Skipped(format!("{} holds no readable embed.weight", last.display())));
    };
    let power = power_2d(&w);
    let floor = power.data.iter().copied().fold(0.0, f64::max) * 1e-12;
    let map = Heatmap {
        title: format!("W_E at step {step}: hidden frequency m along x, token frequency k up"),
        x_label: "hidden-axis frequency m".to_string(),
        y_label: "token frequency k".to_string(),
        columns: (0..power.cols).map(|m| m as f64).collect(),
        rows: (0..power.rows).map(|k| k.to_string()).collect(),
        values: (0..power.cols).map(|m| (0..power.rows).map(|k| (power.at(k, m) + floor).log10()).collect()).collect(),
        value_label: "log10 |F2[k, m]|²".to_string(),
        sequential: true,
    };
    canvas::render(path, canvas_size(1, 1), |root| {
        let body = frame::header(root, "2D power spectral density of W_E (token × hidden)", &run.subtitle())?;
        map.draw(&body)
    })?;
    Ok(Made::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_places_tokens_in_polygon_order() {
        assert_eq!(modular_inverse(3, 7), Some(5));
        assert_eq!(modular_inverse(2, 8), None);
    }
}
