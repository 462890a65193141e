//! Synthetic run directories for the plotting tests: a run that memorizes by step ~300 and
//! groks at ~1500, with metrics.jsonl, an analysis.jsonl holding every field of
//! docs/analyses.md (some of them null, as NaN and ±∞ are written), interventions/phase.json, and
//! a weight-decay multi-run whose grokking step goes as 1/λ.

use std::f64::consts::LN_2;
use std::fs;
use std::path::Path;

use serde_json::{json, Value};

pub const P: usize = 23;
pub const K: usize = (P - 1) / 2;
pub const KEYS: [usize; 2] = [3, 7];
pub const LAST_STEP: u64 = 3000;

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Deterministic noise in [−1, 1] from two integers.
fn noise(a: u64, b: u64) -> f64 {
    let mut h = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 29;
    (h % 2_000_001) as f64 / 1_000_000.0 - 1.0
}

fn write_lines(path: &Path, rows: &[Value]) {
    let text: String = rows.iter().map(|r| r.to_string() + "\n").collect();
    fs::write(path, text).unwrap();
}

fn config(weight_decay: f64, seed: u64) -> Value {
    json!({
        "task": "add", "p": P, "train_frac": 0.3, "seed": seed, "data_seed": seed, "model": "transformer",
        "layers": 2, "d_model": 32, "heads": 4, "d_mlp": 64, "optimizer": "adamw", "lr": 1e-3,
        "weight_decay": weight_decay, "steps": LAST_STEP, "eval_every": 10, "ckpt_every": 50,
    })
}

/// metrics.jsonl of a run that memorizes at ~300 steps and groks at `grok` (never, past the
/// last step).
fn metrics(grok: f64) -> Vec<Value> {
    (0..=LAST_STEP)
        .step_by(10)
        .map(|s| {
            let x = s as f64;
            let (mem, gen) = (sig((x - 200.0) / 40.0), sig((x - grok) / (0.08 * grok)));
            json!({
                "step": s,
                "train_loss": 3.1 * (-x / 120.0).exp() + 0.01,
                "train_acc": 0.04 + 0.96 * mem,
                "val_loss": 3.1 + 2.0 * mem - 5.05 * gen,
                "val_acc": 0.02 + 0.98 * gen,
                "lr": 1e-3,
                "weight_norm": 40.0 - 20.0 * gen,
                "elapsed_s": x * 0.01,
            })
        })
        .collect()
}

/// Energies E_0..E_K: flat with noise, turning to the key frequencies as `g` goes 0 → 1.
fn power(step: u64, g: f64, salt: u64) -> Vec<f64> {
    (0..=K)
        .map(|k| {
            let flat = 1.0 + 0.3 * noise(step + salt, k as u64);
            let key = if KEYS.contains(&k) { 25.0 } else { 0.05 };
            if k == 0 {
                0.5 * flat
            } else {
                (1.0 - g) * flat + g * key
            }
        })
        .collect()
}

/// n_eff and Gini of the normalized spectrum q (docs/analyses.md § 2).
fn sparsity(e: &[f64]) -> (f64, f64) {
    let total: f64 = e[1..].iter().sum();
    let mut q: Vec<f64> = e[1..].iter().map(|v| v / total).collect();
    let n_eff = 1.0 / q.iter().map(|v| v * v).sum::<f64>();
    q.sort_by(f64::total_cmp);
    let n = q.len() as f64;
    let gini = q.iter().enumerate().map(|(i, v)| (2.0 * (i + 1) as f64 - n - 1.0) * v).sum::<f64>() / n;
    (n_eff, gini)
}

fn analysis() -> Vec<Value> {
    (0..=LAST_STEP)
        .step_by(50)
        .map(|s| {
            let x = s as f64;
            let g = sig((x - 1000.0) / 200.0);
            let (we, wu) = (power(s, g, 0), power(s, g * 0.8, 77));
            let (n_eff, gini) = sparsity(&we);
            let (_, wu_gini) = sparsity(&wu);
            let total: f64 = we[1..].iter().sum();
            let key_share = KEYS.iter().map(|&k| we[k]).sum::<f64>() / total;
            let mut q: Vec<f64> = we[1..].iter().map(|v| v / total).collect();
            q.sort_by(|a, b| b.total_cmp(a));
            let mem = 3.0 * sig((x - 300.0) / 80.0) - 3.2 * g;
            let alg = 0.2 + 5.0 * g;
            let fsd = 0.98 * sig((x - 900.0) / 150.0);
            let margin = 8.0 * g;
            let attr_keep: Vec<f64> = (0..=K).map(|k| if KEYS.contains(&k) { 0.5 * margin } else { 0.1 * noise(s, k as u64) }).collect();
            let attr_ablate: Vec<f64> = (0..=K).map(|k| if KEYS.contains(&k) { margin - 0.55 * margin } else { margin - 0.05 * noise(s, k as u64 + 50).abs() }).collect();
            let entropy: Vec<Vec<f64>> = (0..2).map(|l| (0..4).map(|h| 4f64.ln() * (1.0 - 0.7 * g * (h + 1 + l) as f64 / 5.0)).collect()).collect();
            let mut record = json!({
                "step": s,
                "token_order": "natural",
                "we_power": we,
                "wu_power": wu,
                "dc_frac": we[0] / we.iter().sum::<f64>(),
                "key_freqs": if g > 0.5 { json!(KEYS) } else { json!([1 + (s as usize / 50) % K]) },
                "key_freqs_final": KEYS,
                "n_eff": n_eff,
                "gini": gini,
                "wu_gini": wu_gini,
                "l1l2_fourier": 6.0 - 4.5 * g,
                "l1l2_spatial": 4.0 + 0.2 * noise(s, 1),
                "wu_l1l2_fourier": 6.5 - 3.5 * g,
                "wu_l1l2_spatial": 4.2 + 0.2 * noise(s, 2),
                "align_1d_key": key_share,
                "align_1d_top8": q[..8].iter().sum::<f64>(),
                "align_2d": 0.3 + 0.5 * g,
                "align_2d_z": 1.0 + 30.0 * g + noise(s, 3),
                "phase_r2": if s < 500 { Value::Null } else { json!(0.1 + 0.3 * g) },
                "token_phase_coherence": [0.75 * (1.0 - g) + 0.98 * g, 0.7 * (1.0 - g) + 0.95 * g + 0.02 * noise(s, 4)],
                "alpha_alg": alg,
                "alpha_mem": mem,
                "circuit_ratio": if mem > 0.0 { json!(alg / mem) } else { Value::Null },
                "excluded_loss": 0.4 + 2.8 * g,
                "restricted_loss": 3.0 - 2.95 * g,
                "attr_keep": attr_keep,
                "attr_ablate": attr_ablate,
                "fsd": fsd,
                "fsd_p": (0.5 * (1.0 - fsd)).max(0.001),
                "geom.readout.pca_pr": 30.0 - 25.0 * g,
                "geom.readout.centroid_pca_pr": 12.0 - 10.0 * g,
                "pca_pr_we": 20.0 - 15.0 * g,
                "geom.readout.twonn_id": 8.0 - 6.0 * g + 0.3 * noise(s, 5),
                "twonn_id_we": 6.0 - 4.0 * g,
                "betti1_persistence": 1.0 + 5.0 * g,
                "attn_entropy": entropy,
                "weight_norm": 40.0 - 20.0 * g,
                "laziness": LN_2 * g,
            });
            // Geometry of the representations, bands and seed 003's dynamics (one json! per
            // half: the macro's recursion limit).
            let more = json!({
                "geom.readout.centroid_plane_h1_persistence": 0.1 + 0.7 * g,
                "geom.readout.centroid_plane_beta1": if g > 0.5 { 1 } else { 0 },
                "band_low": 0.3 + 0.4 * g,
                "band_high": 0.7 - 0.4 * g,
                "dominant_freq": if g > 0.5 { KEYS[0] } else { 1 + (s as usize / 50) % K },
                "w1_norm": 6.5 + 30.0 * sig((x - 200.0) / 60.0) - 8.0 * g,
                "w1_delta_rate": 0.02 * (-x / 400.0).exp() + 5e-4,
                "grad_cosine_unit": 0.9 - 1.0 * (-x / 100.0).exp(),
                "grad_cosine_pairwise": 0.004 * (g - 0.5),
                "grad_norm": 0.1 * (-x / 500.0).exp() + 0.005,
                "feature_diversity": 0.93 - 0.02 * sig((x - 200.0) / 60.0) + 0.01 * g,
                "stage": if s == 0 { "I" } else if x < 300.0 { "II" } else if g < 0.99 { "III" } else { "converged" },
            });
            record.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
            record
        })
        .collect()
}

/// A run directory with `parts` of: "metrics", "analysis", "interventions".
pub fn run_dir(dir: &Path, parts: &[&str]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("config.json"), config(1.0, 0).to_string()).unwrap();
    if parts.contains(&"metrics") {
        write_lines(&dir.join("metrics.jsonl"), &metrics(1500.0));
    }
    if parts.contains(&"analysis") {
        write_lines(&dir.join("analysis.jsonl"), &analysis());
    }
    if parts.contains(&"interventions") {
        fs::create_dir_all(dir.join("interventions")).unwrap();
        let side = |train_acc: f64, val_acc: f64, train_loss: f64, val_loss: f64| json!({"train_acc": train_acc, "val_acc": val_acc, "train_loss": train_loss, "val_loss": val_loss});
        let result = json!({
            "step": LAST_STEP,
            "literal": {"before": side(1.0, 0.995, 0.01, 0.03), "after": side(0.012, 0.009, 6.9, 7.1)},
            "in_plane": {"before": side(1.0, 0.995, 0.01, 0.03), "after": side(0.97, 0.93, 0.12, 0.35)},
        });
        fs::write(dir.join("interventions/phase.json"), result.to_string()).unwrap();
    }
}

/// A multi-run over weight decay {0.1, 0.3, 1, 3} × seeds {0, 1}; grokking at 1500/λ
/// steps, so λ = 0.1 never groks within the run.
pub fn sweep_dir(dir: &Path) {
    let mut runs = vec![];
    for wd in [0.1, 0.3, 1.0, 3.0] {
        for seed in [0u64, 1] {
            let name = format!("weight_decay={wd},seed={seed}");
            let run = dir.join(&name);
            fs::create_dir_all(&run).unwrap();
            fs::write(run.join("config.json"), config(wd, seed).to_string()).unwrap();
            write_lines(&run.join("metrics.jsonl"), &metrics(1500.0 / wd * (1.0 + 0.1 * seed as f64)));
            runs.push(json!({"dir": name, "settings": {"weight_decay": wd, "seed": seed}}));
        }
    }
    fs::write(dir.join("sweep.json"), json!({"varying": ["weight_decay", "seed"], "runs": runs}).to_string()).unwrap();
}
