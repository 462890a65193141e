//! W_E's (and W_U's) token-axis spectrum over training: where the energy sits (key
//! frequencies, the rest, the mean) and the whole normalized spectrum as a heatmap.

use std::path::Path;

use super::canvas;
use super::data::Run;
use super::frame;
use super::heatmap::Heatmap;
use super::lines::{Line, Panel};
use super::style::{BLACK, BLUE, VERMILLION};
use super::{canvas_size, figure, Made};
use crate::Result;

/// Shares of the energy E_0..E_K (k ∈ key, other k ≥ 1, k = 0) of each checkpoint.
fn shares(power: &[(u64, Vec<f64>)], keys: &[usize]) -> [Vec<(f64, f64)>; 3] {
    let mut out: [Vec<(f64, f64)>; 3] = Default::default();
    for (step, e) in power {
        let total: f64 = e.iter().sum();
        if e.len() < 2 || !total.is_finite() || total <= 0.0 {
            continue;
        }
        let key: f64 = keys.iter().filter_map(|&k| e.get(k)).sum();
        let s = *step as f64;
        out[0].push((s, key / total));
        out[1].push((s, (total - e[0] - key) / total));
        out[2].push((s, e[0] / total));
    }
    out
}

fn share_panel(run: &Run, field: &str, matrix: &str, keys: &[usize]) -> Panel {
    let [key, other, dc] = shares(&run.vectors(field), keys);
    let key_list = keys.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
    Panel::new(format!("{matrix}: energy by frequency (key k ∈ {{{key_list}}} from the last checkpoint's W_E)"), "step", "share of ‖W‖²")
        .log_steps()
        .y_range(0.0, 1.02)
        .line(Line::new("key frequencies", key, BLUE))
        .line(Line::new("other k ≥ 1", other, VERMILLION))
        .line(Line::new("k = 0 (token mean)", dc, BLACK).dashed())
        .band(run.grokking_band())
}

/// Energy in the key frequencies against the rest (W_E, W_U), and the ℓ1/ℓ2 sparsity of the
/// columns in the Fourier and token bases (seed 000 finding 3).
pub fn fourier_projection(run: &Run, path: &Path) -> Result<Made> {
    let l1l2 = ["l1l2_fourier", "l1l2_spatial", "wu_l1l2_fourier", "wu_l1l2_spatial"];
    if let Err(why) = run.need(&[&["we_power", "wu_power"][..], &l1l2].concat()) {
        return Ok(Made::Skipped(why));
    }
    let keys = run.key_freqs();
    let mut panels = vec![];
    if !keys.is_empty() {
        panels.push(share_panel(run, "we_power", "W_E", &keys));
        if !run.vectors("wu_power").is_empty() {
            panels.push(share_panel(run, "wu_power", "W_U", &keys));
        }
    }
    if run.need(&l1l2).is_ok() {
        let lines = [("W_E, Fourier basis", "l1l2_fourier", BLUE, false), ("W_E, token basis", "l1l2_spatial", VERMILLION, false), ("W_U, Fourier basis", "wu_l1l2_fourier", BLUE, true), ("W_U, token basis", "wu_l1l2_spatial", VERMILLION, true)];
        let mut panel = Panel::new("Column sparsity ℓ1/ℓ2 (lower = sparser)", "step", "ℓ1/ℓ2").log_steps().band(run.grokking_band());
        for (label, field, color, dashed) in lines {
            let series = run.series(field);
            if !series.is_empty() {
                let line = Line::new(label, series, color);
                panel = panel.line(if dashed { line.dashed() } else { line });
            }
        }
        panels.push(panel);
    }
    if panels.is_empty() {
        return Ok(Made::Skipped("no key_freqs to split the spectrum by, and no l1l2_* values".to_string()));
    }
    figure(path, "Fourier projection: energy in the key frequencies", &run.subtitle(), &panels, 1)
}

/// q_k = E_k / Σ_{k≥1} E_k of each checkpoint (k = 1..K), for the heatmap.
fn normalized(power: &[(u64, Vec<f64>)]) -> Vec<Vec<f64>> {
    power
        .iter()
        .map(|(_, e)| {
            let rest: f64 = e.iter().skip(1).sum();
            e.iter().skip(1).map(|v| if rest > 0.0 { v / rest } else { f64::NAN }).collect()
        })
        .collect()
}

fn spectrum_heatmap(power: &[(u64, Vec<f64>)], matrix: &str) -> Heatmap {
    let k_max = power.iter().map(|(_, e)| e.len().saturating_sub(1)).max().unwrap_or(0);
    Heatmap {
        title: format!("{matrix}: normalized spectrum q_k (k = 0 left out)"),
        x_label: "checkpoint step".to_string(),
        y_label: "frequency k".to_string(),
        columns: power.iter().map(|(s, _)| *s as f64).collect(),
        rows: (1..=k_max).map(|k| k.to_string()).collect(),
        values: normalized(power),
        value_label: "q_k = E_k / Σ E_k".to_string(),
        sequential: true,
    }
}

/// Heatmaps checkpoints × k of the normalized spectra of W_E (and W_U).
pub fn power_spectrum_evolution(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["we_power", "wu_power"]) {
        return Ok(Made::Skipped(why));
    }
    let maps: Vec<Heatmap> = [("we_power", "W_E"), ("wu_power", "W_U")]
        .iter()
        .map(|(field, matrix)| spectrum_heatmap(&run.vectors(field), matrix))
        .filter(Heatmap::has_data)
        .collect();
    heatmaps(path, "Power spectrum evolution", &run.subtitle(), &maps)
}

/// Draws `maps` one above the other under a title block; skipped when none has data.
pub fn heatmaps(path: &Path, title: &str, subtitle: &str, maps: &[Heatmap]) -> Result<Made> {
    if maps.is_empty() {
        return Ok(Made::Skipped("every value is null or missing".to_string()));
    }
    canvas::render(path, canvas_size(maps.len(), 1), |root| {
        let body = frame::header(root, title, subtitle)?;
        for (map, area) in maps.iter().zip(body.split_evenly((maps.len(), 1))) {
            map.draw(&area)?;
        }
        Ok(())
    })?;
    Ok(Made::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_the_energy() {
        let power = vec![(10, vec![1.0, 2.0, 3.0, 4.0]), (20, vec![0.0; 4])];
        let [key, other, dc] = shares(&power, &[3]);
        assert_eq!((key, other, dc), (vec![(10.0, 0.4)], vec![(10.0, 0.5)], vec![(10.0, 0.1)]));
        assert_eq!(normalized(&power[..1]), vec![vec![2.0 / 9.0, 3.0 / 9.0, 4.0 / 9.0]]);
    }
}
