//! Circuit competition (docs/analyses.md § 5, seed 000 finding 5; *proposed*): how much of the
//! correct-class margin the key-frequency (algorithmic) part of the logits carries on the
//! train set, against how much more the rest (memorizing) part carries on train than on
//! validation pairs.
//!
//! L_alg = Σ_{k ∈ key} Π_k L + the per-class mean of L; L_mem = L − L_alg. Margin of X over a
//! set S: mean over pairs in S of X[c*] − mean_c X[c]. α_alg = m_alg(train),
//! α_mem = m_mem(train) − m_mem(val), `circuit_ratio` = α_alg/α_mem, +∞ when α_mem ≤ 0.

use super::logit_fourier::{class_means, key_part, PairPhase};

/// The § 5 fields of one checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Circuits {
    pub alpha_alg: f64,
    pub alpha_mem: f64,
    /// α_alg/α_mem; None stands for +∞ (α_mem ≤ 0: nothing is memorized).
    pub ratio: Option<f64>,
}

/// Mean over the rows where `select` holds of X[row, target] − mean_c X[row, c]; NaN for no rows.
pub fn mean_margin(x: &[f64], classes: usize, targets: &[u32], select: impl Fn(usize) -> bool) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (row, values) in x.chunks(classes).enumerate() {
        if select(row) {
            let mean = values.iter().sum::<f64>() / classes as f64;
            sum += values[targets[row] as usize] - mean;
            count += 1;
        }
    }
    sum / count as f64
}

/// Circuit competition of logits [p², p] (pairs in dataset order) with each pair's target
/// class and train membership.
pub fn circuit_competition(logits: &[f64], p: usize, targets: &[u32], train: &[bool], phase: PairPhase, key: &[usize]) -> Circuits {
    let mut alg = key_part(logits, p, phase, key);
    let means = class_means(logits, p);
    for row in alg.chunks_mut(p) {
        row.iter_mut().zip(&means).for_each(|(a, m)| *a += m);
    }
    let mem: Vec<f64> = logits.iter().zip(&alg).map(|(l, a)| l - a).collect();
    let alpha_alg = mean_margin(&alg, p, targets, |r| train[r]);
    let alpha_mem = mean_margin(&mem, p, targets, |r| train[r]) - mean_margin(&mem, p, targets, |r| !train[r]);
    let ratio = (alpha_mem > 0.0).then(|| alpha_alg / alpha_mem);
    Circuits { alpha_alg, alpha_mem, ratio }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::logit_fourier::ideal_logits;
    use crate::analysis::rng::Rng;

    fn task(p: usize, phase: PairPhase) -> (Vec<u32>, Vec<bool>) {
        let mut rng = Rng::new(9);
        let targets = (0..p * p)
            .map(|pair| match phase {
                PairPhase::Sum => ((pair / p + pair % p) % p) as u32,
                PairPhase::Difference => ((pair / p + p - pair % p) % p) as u32,
            })
            .collect();
        let train = (0..p * p).map(|_| rng.uniform() < 0.5).collect();
        (targets, train)
    }

    #[test]
    fn ideal_fourier_logits_memorize_nothing() {
        let p = 23;
        for phase in [PairPhase::Sum, PairPhase::Difference] {
            let (targets, train) = task(p, phase);
            let key = [3, 8, 10];
            let c = circuit_competition(&ideal_logits(p, phase, &key, 2.0), p, &targets, &train, phase, &key);
            // Tolerance 1e-10: α_mem is the margin of a projection residual that is zero up
            // to f64 rounding of p³ sums.
            assert!(c.alpha_mem.abs() < 1e-10, "{phase:?}: α_mem = {}", c.alpha_mem);
            // The correct class sits at cos 0 = 1 for every key k: margin λ·|key|.
            assert!((c.alpha_alg - 6.0).abs() < 1e-10, "α_alg = {}", c.alpha_alg);
        }
    }

    #[test]
    fn a_lookup_table_on_the_train_pairs_is_memorization() {
        // Logits that put +5 on the correct class of train pairs only: no key structure to
        // speak of, a large train-minus-val margin in the rest.
        let p = 19;
        let (targets, train) = task(p, PairPhase::Sum);
        let mut logits = vec![0.0; p * p * p];
        for pair in 0..p * p {
            if train[pair] {
                logits[pair * p + targets[pair] as usize] = 5.0;
            }
        }
        let c = circuit_competition(&logits, p, &targets, &train, PairPhase::Sum, &[1, 2]);
        assert!(c.alpha_mem > 3.0, "{c:?}");
        assert!(c.ratio.unwrap() < 0.2, "{c:?}");
    }

    #[test]
    fn non_positive_memorization_is_an_infinite_ratio() {
        let p = 11;
        let (targets, train) = task(p, PairPhase::Sum);
        let c = circuit_competition(&vec![0.0; p * p * p], p, &targets, &train, PairPhase::Sum, &[1]);
        assert_eq!((c.alpha_alg, c.alpha_mem, c.ratio), (0.0, 0.0, None));
    }
}
