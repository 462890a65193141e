//! Nanda et al.'s excluded and restricted losses (docs/analyses.md § 6), for `add` and `sub`.
//!
//! With L_r = Σ_{k ∈ key} Π_k L (the logits inside the key-frequency directions):
//! `excluded_loss` = cross-entropy over the train pairs of L − L_r (what the model would
//! lose without its key frequencies); `restricted_loss` = cross-entropy over all pairs of
//! L_r + the per-class mean of L − L_r (what the key frequencies alone achieve).
//! Cross-entropies are softmax cross-entropies accumulated in f64.

use super::logit_fourier::{class_means, key_part, PairPhase};

/// Mean softmax cross-entropy of logits [rows, classes] over the rows where `select` holds.
pub fn cross_entropy(logits: &[f64], classes: usize, targets: &[u32], select: impl Fn(usize) -> bool) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (row, values) in logits.chunks(classes).enumerate() {
        if select(row) {
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            sum += log_sum - values[targets[row] as usize];
            count += 1;
        }
    }
    sum / count as f64
}

/// The § 6 fields of one checkpoint, with the unmodified losses for comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExcludedLosses {
    pub excluded_loss: f64,
    pub restricted_loss: f64,
    /// Cross-entropy of L over the train pairs (what `excluded_loss` compares with).
    pub train_loss: f64,
    /// Cross-entropy of L over all pairs (what `restricted_loss` compares with).
    pub full_loss: f64,
}

/// § 6 for logits [p², p] (dataset order), targets and train membership per pair.
pub fn excluded_losses(logits: &[f64], p: usize, targets: &[u32], train: &[bool], phase: PairPhase, key: &[usize]) -> ExcludedLosses {
    let kept = key_part(logits, p, phase, key);
    let excluded: Vec<f64> = logits.iter().zip(&kept).map(|(l, r)| l - r).collect();
    let rest_means = class_means(&excluded, p);
    let mut restricted = kept;
    for row in restricted.chunks_mut(p) {
        row.iter_mut().zip(&rest_means).for_each(|(r, m)| *r += m);
    }
    ExcludedLosses {
        excluded_loss: cross_entropy(&excluded, p, targets, |r| train[r]),
        restricted_loss: cross_entropy(&restricted, p, targets, |_| true),
        train_loss: cross_entropy(logits, p, targets, |r| train[r]),
        full_loss: cross_entropy(logits, p, targets, |_| true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::logit_fourier::ideal_logits;

    #[test]
    fn ideal_fourier_logits_lose_everything_without_their_key_and_nothing_with_it() {
        let p = 97;
        let key = [14, 35, 41];
        let logits = ideal_logits(p, PairPhase::Sum, &key, 4.0);
        let targets: Vec<u32> = (0..p * p).map(|pair| ((pair / p + pair % p) % p) as u32).collect();
        let train: Vec<bool> = (0..p * p).map(|pair| pair % 3 != 0).collect();
        let e = excluded_losses(&logits, p, &targets, &train, PairPhase::Sum, &key);
        // Tolerance 1e-9: the excluded logits are zero up to rounding, so their loss is
        // ln p = 4.575 exactly; the restricted logits equal the full ones.
        assert!((e.excluded_loss - (p as f64).ln()).abs() < 1e-9, "excluded {}", e.excluded_loss);
        assert!((e.excluded_loss - 4.575).abs() < 1e-3);
        assert!((e.restricted_loss - e.full_loss).abs() < 1e-9, "{} vs {}", e.restricted_loss, e.full_loss);
        assert!(e.full_loss < 1.0, "the ideal logits classify: {}", e.full_loss);
    }

    #[test]
    fn cross_entropy_of_uniform_and_confident_rows() {
        let uniform = vec![1.5; 8];
        assert!((cross_entropy(&uniform, 4, &[0, 3], |_| true) - 4f64.ln()).abs() < 1e-15);
        let confident = [0.0, 50.0, 0.0];
        assert!(cross_entropy(&confident, 3, &[1], |_| true) < 1e-20);
        assert!(cross_entropy(&confident, 3, &[1], |_| false).is_nan());
    }
}
