//! Training dynamics (docs/analyses.md § 10; seed 003, seed 001): weight norms, how far and how
//! fast the first MLP layer W1 moves, where the loss gradient pushes each of its neurons,
//! feature agreement between neurons, softmax collapse, and seed 003's three-stage labels.
//!
//! W1 is the first MLP layer (`fc1.weight` [h, in], one row per hidden neuron). Seed 003's
//! "w_norm" is ‖W1‖: 6.5 at initialization on its model (PyTorch's default init of a 128×256
//! layer gives √(128·256/(3·16²)) = 6.53), rising while features grow, then settling.

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

fn distance(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "shapes differ");
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// `w1_delta_rate` = ‖W1(s) − W1(s_prev)‖ / ((s − s_prev)·‖W1(s_prev)‖): W1's relative motion
/// per update, averaged over the interval, so it does not depend on how often checkpoints are
/// written (a per-checkpoint difference grows with the interval).
pub fn w1_delta_rate(w1: &[f64], w1_prev: &[f64], updates: u64) -> f64 {
    distance(w1, w1_prev) / (updates as f64 * norm(w1_prev))
}

/// `laziness` = ‖W1(s) − W1(0)‖/‖W1(0)‖: how far the hidden layer has left its initialization.
pub fn laziness(w1: &[f64], w1_init: &[f64]) -> f64 {
    distance(w1, w1_init) / norm(w1_init)
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

/// `grad_cosine_unit` = mean over neurons j of cos(−∂L/∂w_j, w_j), w_j the j-th row of W1
/// (neurons without weight or gradient skipped): whether the loss pushes each neuron further
/// along the feature it already has. Seed 003's stage II has each neuron climb its own energy
/// E(w_j) independently, its weight growing along its gradient (> 0.6, and ‖W1‖ rising); at
/// initialization the gradient carries no label structure and the cosine sits near or below 0.
pub fn grad_cosine_unit(grad_w1: &Matrix, w1: &Matrix) -> f64 {
    assert_eq!((grad_w1.rows, grad_w1.cols), (w1.rows, w1.cols), "grad_cosine_unit: shapes differ");
    let cosines: Vec<f64> = (0..w1.rows)
        .filter_map(|j| {
            let (g, w) = (grad_w1.row(j), w1.row(j));
            let denominator = norm(g) * norm(w);
            (denominator > 0.0).then(|| -g.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / denominator)
        })
        .collect();
    cosines.iter().sum::<f64>() / cosines.len() as f64
}

/// `grad_cosine_pairwise` = mean pairwise cosine between the rows of ∂L/∂W1: agreement of
/// different neurons' gradients. Near 0 throughout on tian-mlp (|·| < 0.01); it turns from
/// negative to positive at grokking there.
pub fn grad_cosine_pairwise(grad_w1: &Matrix) -> f64 {
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

/// Stage I: W1 moves less than this share of its norm per update.
pub const LAZY_RATE: f64 = 1e-3;
/// Train accuracy at which the training set counts as fitted (seed 003's "accuracy ≥ 95%").
pub const FITTED_ACC: f64 = 0.95;
/// Stage II: neurons grow along their own features (seed 003's grad_cosine_sim > 0.6).
pub const ALIGNED_GRAD_COSINE: f64 = 0.6;
/// Generalization is complete (stage III over) at this validation accuracy.
pub const GENERALIZED_ACC: f64 = 0.99;

/// Tian's three stages as seed 003 reads them off the metrics (*heuristic*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// I, lazy learning: the hidden layer is frozen, the top layer fits the train set.
    Lazy,
    /// II, independent feature learning: each neuron grows along its own feature.
    Independent,
    /// III, interactive feature learning: the train set is fitted, generalization is not done.
    Interactive,
    /// After stage III: train set fitted and generalization complete.
    Converged,
    /// No rule applies (between stages).
    Unlabelled,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Lazy => "I",
            Stage::Independent => "II",
            Stage::Interactive => "III",
            Stage::Converged => "converged",
            Stage::Unlabelled => "-",
        }
    }
}

/// What the stage rules read at one checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageInputs {
    /// `w1_delta_rate` since the previous checkpoint; 0 at the first checkpoint of a run
    /// (step 0: the hidden layer has not moved yet); NaN when unknown.
    pub w1_delta_rate: f64,
    /// Seed 003's rules read "accuracy" as train accuracy: its worked example puts the
    /// II → III transition where train accuracy reaches 1 and test accuracy is 0.49.
    pub train_acc: f64,
    pub val_acc: f64,
    pub grad_cosine_unit: f64,
}

/// Seed 003's rules with its thresholds, first match wins (*heuristic*):
/// I if train_acc < 0.95 and w1_delta_rate < 1e-3 per update; II if train_acc < 0.95 and
/// grad_cosine_unit > 0.6; III if train_acc ≥ 0.95 and val_acc < 0.99; converged if
/// train_acc ≥ 0.95 and val_acc ≥ 0.99; otherwise unlabelled. The seed ends stage III with
/// grad_norm > 0.1, a scale that depends on the model and the loss (tian-mlp's gradient norm is
/// 0.005 while it groks), so the end of stage III is read from validation accuracy.
pub fn stage_label(m: &StageInputs) -> Stage {
    let fitted = m.train_acc >= FITTED_ACC;
    if !fitted && m.w1_delta_rate < LAZY_RATE {
        Stage::Lazy
    } else if !fitted && m.grad_cosine_unit > ALIGNED_GRAD_COSINE {
        Stage::Independent
    } else if fitted && m.val_acc < GENERALIZED_ACC {
        Stage::Interactive
    } else if fitted {
        Stage::Converged
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
        // ‖(3, 4)‖ = 5 over 10 updates, relative to ‖(4, 5)‖.
        assert!((w1_delta_rate(&[1.0, 1.0], &[4.0, 5.0], 10) - 0.5 / 41f64.sqrt()).abs() < 1e-15);
        assert_eq!(laziness(&[1.0, 1.0], &[4.0, 5.0]), 5.0 / 41f64.sqrt());
        assert_eq!(laziness(&[4.0, 5.0], &[4.0, 5.0]), 0.0);
    }

    #[test]
    fn gradient_agreement_and_feature_diversity() {
        // Identical gradient rows: pairwise cosine 1. Rows ±v: pairs (+,+), (−,−) agree, the
        // mixed ones oppose: 4 neurons (2+, 2−) give (2·1 − 4·1)/6 = −1/3; |cos| = 1 throughout.
        let same = Matrix::from_fn(5, 3, |_, j| (j + 1) as f64);
        assert!((grad_cosine_pairwise(&same) - 1.0).abs() < 1e-15);
        assert!(feature_diversity(&same).abs() < 1e-15);
        let signed = Matrix::from_fn(4, 3, |i, j| if i < 2 { 1.0 } else { -1.0 } * (j + 1) as f64);
        assert!((grad_cosine_pairwise(&signed) + 1.0 / 3.0).abs() < 1e-15);
        assert!(feature_diversity(&signed).abs() < 1e-15);
        // Orthogonal rows (and a dead one, skipped): full diversity.
        let orthogonal = Matrix::from_fn(4, 4, |i, j| if i == j && i < 3 { 2.0 } else { 0.0 });
        assert!((feature_diversity(&orthogonal) - 1.0).abs() < 1e-15);
        // Random rows in R^64: E|cos| = √(2/(π·64)) ≈ 0.0997.
        let mut rng = Rng::new(1);
        let random = Matrix::from_fn(64, 64, |_, _| rng.normal());
        assert!((feature_diversity(&random) - (1.0 - 0.0997)).abs() < 0.01, "{}", feature_diversity(&random));
        assert!(grad_cosine_pairwise(&random).abs() < 0.01);
    }

    #[test]
    fn unit_cosine_reads_each_neuron_against_its_own_weight() {
        // Neuron 0's descent direction is its weight (cos 1), neuron 1's the opposite (−1),
        // neuron 2's orthogonal (0), neuron 3 has no gradient (skipped): mean 0.
        let w = Matrix::new(4, 2, vec![1.0, 0.0, 0.0, 2.0, 1.0, 1.0, 3.0, 0.0]);
        let g = Matrix::new(4, 2, vec![-5.0, 0.0, 0.0, 1.0, 1.0, -1.0, 0.0, 0.0]);
        assert!(grad_cosine_unit(&g, &w).abs() < 1e-15);
        let growing = Matrix::new(2, 2, vec![-1.0, 0.0, 0.0, -3.0]);
        assert!((grad_cosine_unit(&growing, &Matrix::new(2, 2, vec![2.0, 0.0, 0.0, 1.0])) - 1.0).abs() < 1e-15);
        // A gradient unrelated to random weights: near 0.
        let mut rng = Rng::new(2);
        let (a, b) = (Matrix::from_fn(128, 256, |_, _| rng.normal()), Matrix::from_fn(128, 256, |_, _| rng.normal()));
        assert!(grad_cosine_unit(&a, &b).abs() < 0.02, "{}", grad_cosine_unit(&a, &b));
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
        let base = StageInputs { w1_delta_rate: 5e-3, train_acc: 0.3, val_acc: 0.0, grad_cosine_unit: 0.8 };
        assert_eq!(stage_label(&StageInputs { w1_delta_rate: 0.0, ..base }), Stage::Lazy);
        assert_eq!(stage_label(&StageInputs { w1_delta_rate: 5e-4, ..base }), Stage::Lazy);
        assert_eq!(stage_label(&base), Stage::Independent);
        assert_eq!(stage_label(&StageInputs { grad_cosine_unit: 0.4, ..base }), Stage::Unlabelled);
        assert_eq!(stage_label(&StageInputs { w1_delta_rate: f64::NAN, grad_cosine_unit: 0.4, ..base }), Stage::Unlabelled);
        let fitted = StageInputs { train_acc: 1.0, ..base };
        assert_eq!(stage_label(&fitted), Stage::Interactive);
        assert_eq!(stage_label(&StageInputs { w1_delta_rate: 1e-4, grad_cosine_unit: -0.3, ..fitted }), Stage::Interactive);
        assert_eq!(stage_label(&StageInputs { val_acc: 0.995, ..fitted }), Stage::Converged);
        assert_eq!(Stage::Interactive.label(), "III");
    }
}
