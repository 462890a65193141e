//! The CPU half of a checkpoint's analysis: from what `gather.rs` collected to the fields of
//! its analysis.jsonl record (docs/analyses.md names), one family at a time.

use serde_json::{json, Map, Value};

use super::context::RunContext;
use super::families::Family;
use super::gather::Gathered;
use super::timings::Timings;
use super::weights::{unembed_name, w1_name};
use crate::analysis::alignment::{align_1d_key, align_1d_top8};
use crate::analysis::circuits::circuit_competition;
use crate::analysis::dynamics::{feature_diversity, grad_cosine_pairwise, grad_cosine_unit, laziness, softmax_collapse, stage_label, w1_delta_rate, StageInputs, WeightNorms};
use crate::analysis::excluded::excluded_losses;
use crate::analysis::fsd_components::components_fsd;
use crate::analysis::geometry::{betti1_persistence, pca_pr, twonn_checked};
use super::model_probe::Activations;
use crate::analysis::neurons::neuron_clusters;
use crate::analysis::phase::{phase_r2, token_phase_coherence};
use crate::analysis::representation::{attention_entropy, RepresentationGeometry};
use crate::analysis::sparsity::Sparsity;
use crate::analysis::spectrum::SpectrumMetrics;
use crate::analysis::Matrix;
use crate::nn::spec::{ModelSpec, TRANSFORMER_SEQ};

/// Seed of FSD's null permutations (the same null at every checkpoint).
pub const FSD_SEED: u64 = 0xF5D;

/// What every checkpoint of a run is compared with.
pub struct Reference {
    /// `key_freqs_final`: the W_E key rule at the run's last checkpoint.
    pub key_final: Vec<usize>,
    /// W1 at the first checkpoint (step 0), for `laziness`.
    pub w1_init: Option<Matrix>,
}

type Record = Map<String, Value>;

fn put(record: &mut Record, name: &str, value: Value) {
    record.insert(name.to_string(), value);
}

/// Share of `rows` whose argmax (ties to the lowest class) is the target.
fn accuracy(logits: &[f32], classes: usize, targets: &[u32], rows: impl Iterator<Item = usize>) -> f64 {
    let (mut correct, mut count) = (0usize, 0usize);
    for r in rows {
        let row = &logits[r * classes..(r + 1) * classes];
        let best = row.iter().enumerate().fold(0, |b, (c, &v)| if v > row[b] { c } else { b });
        correct += (best == targets[r] as usize) as usize;
        count += 1;
    }
    correct as f64 / count as f64
}

/// The fields of the families `g` asks for, plus `step` and `key_freqs_final`.
pub fn record(g: &Gathered, ctx: &RunContext, reference: &Reference, timings: &mut Timings) -> Record {
    let mut r = Record::new();
    put(&mut r, "step", json!(g.weights.step));
    put(&mut r, "key_freqs_final", json!(reference.key_final));
    let key = &reference.key_final;
    let logits64: Option<Vec<f64>> = g.acts.as_ref().map(|a| a.logits.iter().map(|&v| v as f64).collect());
    for &family in &g.families {
        timings.time(family.as_str(), || match family {
            Family::Spectrum => {
                let metrics = SpectrumMetrics { token_order: ctx.order, we: g.we_spectrum.folded(), wu: g.wu_spectrum.folded() };
                metrics.insert_into(&mut r);
            }
            Family::Sparsity => {
                Sparsity::of(&g.we, &g.we_spectrum).insert_into(&mut r, "");
                Sparsity::of(&g.wu, &g.wu_spectrum).insert_into(&mut r, "wu_");
            }
            Family::Alignment => {
                let q = g.we_spectrum.folded().q();
                put(&mut r, "align_1d_key", json!(align_1d_key(&q, key)));
                put(&mut r, "align_1d_top8", json!(align_1d_top8(&q)));
                if let Some(a) = g.align_2d {
                    put(&mut r, "align_2d", json!(a.align_2d));
                    put(&mut r, "align_2d_z", json!(a.align_2d_z));
                }
            }
            Family::Phase => {
                put(&mut r, "phase_r2", json!(phase_r2(&g.we_spectrum)));
                let coherence: Vec<f64> = key.iter().map(|&k| token_phase_coherence(&g.we, k).r).collect();
                let mean = coherence.iter().sum::<f64>() / coherence.len() as f64;
                put(&mut r, "token_phase_coherence", json!(coherence));
                put(&mut r, "token_phase_coherence_mean", json!(mean));
            }
            Family::Neurons => {
                if let Some(energy) = &g.neuron_energy {
                    let clusters = neuron_clusters(energy);
                    let clustered = clusters.freq.iter().filter(|&&f| f >= 0).count() as f64 / clusters.freq.len() as f64;
                    put(&mut r, "neuron_freq", json!(clusters.freq));
                    put(&mut r, "neuron_key_freqs", json!(clusters.key_freqs));
                    put(&mut r, "neuron_clustered_frac", json!(clustered));
                }
            }
            Family::Circuits => {
                if let (Some(logits), Some(phase)) = (&logits64, ctx.pair_phase) {
                    let c = circuit_competition(logits, ctx.p, &ctx.data.targets, &ctx.train_mask, phase, key);
                    put(&mut r, "circuit_ratio", json!(c.ratio));
                    put(&mut r, "circuit_ratio_infinite", json!(c.ratio.is_none()));
                    put(&mut r, "alpha_alg", json!(c.alpha_alg));
                    put(&mut r, "alpha_mem", json!(c.alpha_mem));
                }
            }
            Family::Excluded => {
                if let (Some(logits), Some(phase)) = (&logits64, ctx.pair_phase) {
                    let e = excluded_losses(logits, ctx.p, &ctx.data.targets, &ctx.train_mask, phase, key);
                    put(&mut r, "excluded_loss", json!(e.excluded_loss));
                    put(&mut r, "restricted_loss", json!(e.restricted_loss));
                    put(&mut r, "full_loss", json!(e.full_loss));
                }
            }
            Family::Attribution => {
                if let Some(a) = &g.attribution {
                    a.insert_into(&mut r);
                }
            }
            Family::Fsd => {
                if let Some(components) = &g.fsd_components {
                    let f = components_fsd(components, FSD_SEED);
                    put(&mut r, "fsd", json!(f.fsd));
                    put(&mut r, "fsd_p", json!(f.fsd_p));
                    put(&mut r, "fsd_components", json!(components.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()));
                }
            }
            Family::Geometry => geometry(g, ctx, &mut r),
            Family::Dynamics => dynamics(g, ctx, reference, &mut r),
        });
    }
    r
}

fn geometry(g: &Gathered, ctx: &RunContext, r: &mut Record) {
    let w_e = g.weights.w_e(ctx.p);
    let w_u = g.weights.matrix(unembed_name(&ctx.spec));
    for (suffix, w) in [("we", &w_e), ("wu", &w_u)] {
        put(r, &format!("pca_pr_{suffix}"), json!(pca_pr(w)));
        let twonn = twonn_checked(w);
        put(r, &format!("twonn_id_{suffix}"), json!(twonn.id));
        put(r, &format!("twonn_null_{suffix}"), json!(twonn.null_reason));
    }
    put(r, "betti1_persistence", json!(betti1_persistence(&w_e).longest_ratio));
    let Some(acts) = &g.acts else { return };
    let rows = ctx.data.rows();
    let classes = ctx.spec.classes();
    for (name, points) in hidden_representations(acts) {
        RepresentationGeometry::of(points, points.len() / rows, &ctx.data.targets, classes).insert_into(r, &name);
    }
    if let ModelSpec::Transformer(t) = &ctx.spec {
        if !acts.attention_probs.is_empty() {
            let entropy: Vec<Vec<f64>> = acts.attention_probs.iter().map(|probs| attention_entropy(probs, t.heads, TRANSFORMER_SEQ)).collect();
            let all: Vec<f64> = entropy.iter().flatten().copied().collect();
            put(r, "attn_entropy_mean", json!(all.iter().sum::<f64>() / all.len() as f64));
            put(r, "attn_entropy", json!(entropy));
        }
    }
}

/// The hidden representations whose geometry is recorded, by field name: the residual stream
/// at the last position after each block (`resid<i>`), each MLP block's post-activation there
/// (`mlp<i>`; the MLP model's is its hidden layer, which is also its readout's input) and the
/// readout's input (`readout`).
fn hidden_representations(acts: &Activations) -> Vec<(String, &[f32])> {
    let mut reps: Vec<(String, &[f32])> = acts.residuals.iter().enumerate().map(|(i, v)| (format!("resid{i}"), v.as_slice())).collect();
    if !acts.residuals.is_empty() {
        reps.extend(acts.mlp_post.iter().enumerate().map(|(i, v)| (format!("mlp{i}"), v.as_slice())));
    }
    reps.push(("readout".to_string(), acts.readout_input.as_slice()));
    reps
}

fn dynamics(g: &Gathered, ctx: &RunContext, reference: &Reference, r: &mut Record) {
    let wide: Vec<(String, Vec<f64>)> = g.weights.tensors.iter().map(|(n, _, v)| (n.clone(), v.iter().map(|&x| x as f64).collect())).collect();
    let views: Vec<(&str, &[f64])> = wide.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    WeightNorms::of(&views).insert_into(r);
    let Some(name) = w1_name(&ctx.spec) else { return };
    let w1 = g.weights.matrix(name);
    put(r, "w1_norm", json!(w1.frobenius_sq().sqrt()));
    let step = g.weights.step;
    let rate = match &g.w1_prev {
        Some((prev_step, prev)) if *prev_step < step => Some(w1_delta_rate(&w1.data, &prev.data, step - prev_step)),
        _ => None,
    };
    put(r, "w1_delta_rate", json!(rate));
    if let Some(init) = &reference.w1_init {
        put(r, "laziness", json!(laziness(&w1.data, &init.data)));
    }
    put(r, "feature_diversity", json!(feature_diversity(&w1)));
    let (Some(acts), Some(gradient)) = (&g.acts, &g.gradient) else { return };
    let offset: usize = g.weights.tensors.iter().take_while(|(n, _, _)| n != name).map(|(_, _, v)| v.len()).sum();
    let grad_w1 = Matrix::new(w1.rows, w1.cols, gradient[offset..offset + w1.data.len()].to_vec());
    let grad_cosine = grad_cosine_unit(&grad_w1, &w1);
    put(r, "grad_cosine_unit", json!(grad_cosine));
    put(r, "grad_cosine_pairwise", json!(grad_cosine_pairwise(&grad_w1)));
    put(r, "grad_norm", json!(gradient.iter().map(|v| v * v).sum::<f64>().sqrt()));
    let classes = ctx.spec.classes();
    let train_logits: Vec<f32> = ctx.data.train_rows.iter().flat_map(|&row| acts.logits[row * classes..(row + 1) * classes].to_vec()).collect();
    put(r, "softmax_collapse", json!(softmax_collapse(&train_logits, classes)));
    let train_acc = accuracy(&acts.logits, classes, &ctx.data.targets, ctx.data.train_rows.iter().copied());
    let val_acc = accuracy(&acts.logits, classes, &ctx.data.targets, (0..ctx.data.rows()).filter(|&row| !ctx.train_mask[row]));
    // The first checkpoint of a run (step 0) is the hidden layer before it has moved.
    let first = ctx.checkpoints.first().map(|c| c.0) == Some(step);
    let w1_delta_rate = rate.unwrap_or(if first { 0.0 } else { f64::NAN });
    let stage = stage_label(&StageInputs { w1_delta_rate, train_acc, val_acc, grad_cosine_unit: grad_cosine });
    put(r, "stage", json!(stage.label()));
}
