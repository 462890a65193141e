//! Training dynamics (docs/analyses.md § 10; seed 003, seed 001): weight norms, how far and how
//! fast the first MLP layer W1 moves, gradient and feature agreement between its neurons,
//! softmax collapse, and seed 003's three-stage labels.
//!
//! W1 is the first MLP layer (`fc1.weight` [h, in], one row per hidden neuron).

use super::matrix::Matrix;
use serde_json::{json, Map, Value};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `weight_norm` per tensor and global (L2 over every parameter).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightNorms {
    pub per_tensor: Vec<(String, f64)>,
    pub global: f64,
}

impl WeightNorms {
    pub fn of(tensors: &[(&str, &[f64])]) -> WeightNorms {
        let per_tensor: Vec<(String, f64)> = tensors.iter().map(|(name, v)| (name.to_string(), norm(v))).collect();
        let global = per_tensor.iter().map(|(_, n)| n * n).sum::<f64>().sqrt();
        WeightNorms { per_tensor, global }
    }

    /// Writes `weight_norm` (global) and `weight_norm.<tensor name>`.
    pub fn insert_into(&self, record: &mut Map<String, Value>) {
        record.insert("weight_norm".to_string(), json!(self.global));
        for (name, n) in &self.per_tensor {
            record.insert(format!("weight_norm.{name}"), json!(n));
        }
    }
}

/// `w1_delta_norm` = ‖W1(s) − W1(s_prev)‖.
pub fn w1_delta_norm(w1: &[f64], w1_prev: &[f64]) -> f64 {
    assert_eq!(w1.len(), w1_prev.len(), "w1_delta_norm: shapes differ");
    w1.iter().zip(w1_prev).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
}

/// `laziness` = ‖W1(s) − W1(0)‖/‖W1(0)‖: how far the hidden layer has left its initialization.
pub fn laziness(w1: &[f64], w1_init: &[f64]) -> f64 {
    w1_delta_norm(w1, w1_init) / norm(w1_init)
}

/// Mean of f(cos) over all pairs of rows, skipping all-zero rows; NaN with fewer than two.
fn mean_pairwise_cosine(rows: &Matrix, f: impl Fn(f64) -> f64) -> f64 {
    let norms: Vec<f64> = (0..rows.rows).map(|r| norm(rows.row(r))).collect();
    let live: Vec<usize> = (0..rows.rows).filter(|&r| norms[r] > 0.0).collect();
    let (mut sum, mut pairs) = (0.0, 0usize);
    for (i, &a) in live.iter().enumerate() {
        for &b in &live[i + 1..] {
            let dot: f64 = rows.row(a).iter().zip(rows.row(b)).map(|(x, y)| x * y).sum();
            sum += f(dot / (norms[a] * norms[b]));
            pairs += 1;
        }
    }
    sum / pairs as f64
}

/// `grad_cosine_unit` = mean pairwise cosine between the rows of ∂L/∂W1 (full train batch):
/// high when every neuron climbs the same way (seed 003's stage II).
pub fn grad_cosine_unit(grad_w1: &Matrix) -> f64 {
    mean_pairwise_cosine(grad_w1, |c| c)
}

/// `feature_diversity` = 1 − mean pairwise |cos| between the rows of W1.
pub fn feature_diversity(w1: &Matrix) -> f64 {
    1.0 - mean_pairwise_cosine(w1, f64::abs)
}

/// `softmax_collapse`: the fraction of rows of `logits` [n, classes] (the train pairs) whose
/// softmax denominator Σ_c exp(l_c − max l) is exactly 1 in f32, summed in class order: every
/// other class has vanished below half an ulp of 1, so its gradient is gone.
pub fn softmax_collapse(logits: &[f32], classes: usize) -> f64 {
    assert_eq!(logits.len() % classes, 0, "softmax_collapse: logits must be [n, classes]");
    let rows = logits.len() / classes;
    let collapsed = logits
        .chunks(classes)
        .filter(|row| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            row.iter().fold(0.0f32, |s, &l| s + (l - max).exp()) == 1.0
        })
        .count();
    collapsed as f64 / rows as f64
}

/// Seed 003's thresholds.
pub const LAZY_W1_DELTA: f64 = 1e-3;
pub const SATURATED_ACC: f64 = 0.95;
pub const ALIGNED_GRAD_COSINE: f64 = 0.6;
pub const ACTIVE_GRAD_NORM: f64 = 0.1;

/// Tian's three stages as seed 003 reads them off the metrics (*heuristic*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// I, lazy learning: the hidden layer is frozen, the top layer memorizes.
    Lazy,
    /// II, independent feature learning: neurons climb the same energy independently.
    Independent,
    /// III, interactive feature learning: generalized, yet the gradient still works.
    Interactive,
    /// No rule applies.
    Unlabelled,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Lazy => "I",
            Stage::Independent => "II",
            Stage::Interactive => "III",
            Stage::Unlabelled => "-",
        }
    }
}

/// What the stage rules read at one checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageInputs {
    pub w1_delta_norm: f64,
    /// Validation accuracy: seed 003's worked example places the II → III transition where
    /// train accuracy is already 1 and test accuracy starts rising.
    pub val_acc: f64,
    pub grad_cosine_unit: f64,
    /// Global gradient norm.
    pub grad_norm: f64,
}

/// Seed 003's rules, first match wins (*heuristic*; the seed states them as observations):
/// I if w1_delta_norm < 1e-3; II if val_acc < 0.95 and grad_cosine_unit > 0.6; III if
/// val_acc ≥ 0.95 and grad_norm > 0.1; otherwise unlabelled.
pub fn stage_label(m: &StageInputs) -> Stage {
    if m.w1_delta_norm < LAZY_W1_DELTA {
        Stage::Lazy
    } else if m.val_acc < SATURATED_ACC && m.grad_cosine_unit > ALIGNED_GRAD_COSINE {
        Stage::Independent
    } else if m.val_acc >= SATURATED_ACC && m.grad_norm > ACTIVE_GRAD_NORM {
        Stage::Interactive
    } else {
        Stage::Unlabelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;

    #[test]
    fn norms_and_deltas() {
        let (a, b) = ([3.0, 4.0], [1.0, 2.0, 2.0]);
        let norms = WeightNorms::of(&[("embed.weight", &a), ("fc1.weight", &b)]);
        assert_eq!(norms.per_tensor, vec![("embed.weight".to_string(), 5.0), ("fc1.weight".to_string(), 3.0)]);
        assert!((norms.global - 34f64.sqrt()).abs() < 1e-15);
        let mut record = Map::new();
        norms.insert_into(&mut record);
        assert_eq!(record["weight_norm.fc1.weight"], 3.0);
        assert_eq!(w1_delta_norm(&[1.0, 1.0], &[4.0, 5.0]), 5.0);
        assert_eq!(laziness(&[1.0, 1.0], &[4.0, 5.0]), 5.0 / 41f64.sqrt());
        assert_eq!(laziness(&[4.0, 5.0], &[4.0, 5.0]), 0.0);
    }

    #[test]
    fn gradient_agreement_and_feature_diversity() {
        // Identical gradient rows: cosine 1. Rows ±v: pairs (+,+), (−,−) agree, the mixed
        // ones oppose: 4 neurons (2+, 2−) give (2·1 − 4·1)/6 = −1/3; |cos| = 1 throughout.
        let same = Matrix::from_fn(5, 3, |_, j| (j + 1) as f64);
        assert!((grad_cosine_unit(&same) - 1.0).abs() < 1e-15);
        assert!(feature_diversity(&same).abs() < 1e-15);
        let signed = Matrix::from_fn(4, 3, |i, j| if i < 2 { 1.0 } else { -1.0 } * (j + 1) as f64);
        assert!((grad_cosine_unit(&signed) + 1.0 / 3.0).abs() < 1e-15);
        assert!(feature_diversity(&signed).abs() < 1e-15);
        // Orthogonal rows (and a dead one, skipped): full diversity.
        let orthogonal = Matrix::from_fn(4, 4, |i, j| if i == j && i < 3 { 2.0 } else { 0.0 });
        assert!((feature_diversity(&orthogonal) - 1.0).abs() < 1e-15);
        // Random rows in R^64: E|cos| = √(2/(π·64)) ≈ 0.0997.
        let mut rng = Rng::new(1);
        let random = Matrix::from_fn(64, 64, |_, _| rng.normal());
        assert!((feature_diversity(&random) - (1.0 - 0.0997)).abs() < 0.01, "{}", feature_diversity(&random));
        assert!(grad_cosine_unit(&random).abs() < 0.01);
    }

    #[test]
    fn softmax_collapse_counts_rows_whose_denominator_is_one() {
        let classes = 97;
        let row = |margin: f32, at: usize| -> Vec<f32> {
            (0..classes).map(|c| if c == at { margin } else { 0.0 }).collect()
        };
        // Margin 100: exp(−100) vanishes. Margin 10: exp(−10)·96 ≈ 4e-3 does not.
        let logits: Vec<f32> = [row(100.0, 3), row(10.0, 3), row(100.0, 50), row(5.0, 0)].concat();
        assert_eq!(softmax_collapse(&logits, classes), 0.5);
        // Margin 17: each exp(−17) ≈ 4.1e-8 is below half an ulp of 1 (2⁻²⁴ ≈ 6e-8), so
        // after the 1 they vanish one by one; summed before it, 96 of them (4e-6) do not.
        assert_eq!(softmax_collapse(&row(17.0, 0), classes), 1.0);
        assert_eq!(softmax_collapse(&row(17.0, classes - 1), classes), 0.0);
    }

    #[test]
    fn stage_rules() {
        let base = StageInputs { w1_delta_norm: 0.5, val_acc: 0.3, grad_cosine_unit: 0.8, grad_norm: 1.0 };
        assert_eq!(stage_label(&StageInputs { w1_delta_norm: 5e-4, ..base }), Stage::Lazy);
        assert_eq!(stage_label(&base), Stage::Independent);
        assert_eq!(stage_label(&StageInputs { val_acc: 0.97, ..base }), Stage::Interactive);
        assert_eq!(stage_label(&StageInputs { grad_cosine_unit: 0.2, ..base }), Stage::Unlabelled);
        assert_eq!(stage_label(&StageInputs { val_acc: 0.97, grad_norm: 0.05, ..base }), Stage::Unlabelled);
        assert_eq!(Stage::Interactive.label(), "III");
    }
}
