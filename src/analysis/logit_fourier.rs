//! Nanda et al.'s key-frequency directions in logit space (docs/analyses.md § 6), shared by the
//! excluded / restricted losses and the circuit competition (§ 5).
//!
//! Logits L [p², p] over the full grid in dataset order (pair x·p + y). For `add`,
//! u_k = vec(c_k⊗c_k − s_k⊗s_k)/√2 and v_k = vec(s_k⊗c_k + c_k⊗s_k)/√2, which are
//! √2/p·cos(w_k(x+y)) and √2/p·sin(w_k(x+y)) with w_k = 2πk/p; for `sub` the same in x − y.
//! Π_k L = u_k(u_kᵀL) + v_k(v_kᵀL), column by column. Other tasks have no such directions
//! over the natural grid and are not analyzed.

use std::f64::consts::{PI, SQRT_2};

/// Which combination of the operands the directions follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairPhase {
    /// x + y (`add`).
    Sum,
    /// x − y (`sub`).
    Difference,
}

impl PairPhase {
    /// The phase for `task`, None where § 6 does not apply.
    pub fn for_task(task: &str) -> Option<PairPhase> {
        match task {
            "add" => Some(PairPhase::Sum),
            "sub" => Some(PairPhase::Difference),
            _ => None,
        }
    }

    /// (x ± y) mod p.
    fn of(self, x: usize, y: usize, p: usize) -> usize {
        match self {
            PairPhase::Sum => (x + y) % p,
            PairPhase::Difference => (x + p - y) % p,
        }
    }
}

/// (u_k, v_k) over the p² pairs: unit vectors, orthogonal for 1 ≤ k ≤ (p − 1)/2.
pub fn directions(p: usize, phase: PairPhase, k: usize) -> (Vec<f64>, Vec<f64>) {
    let scale = SQRT_2 / p as f64;
    (0..p * p)
        .map(|pair| {
            let angle = 2.0 * PI * ((k * phase.of(pair / p, pair % p, p)) % p) as f64 / p as f64;
            (scale * angle.cos(), scale * angle.sin())
        })
        .unzip()
}

/// Σ_{k ∈ key} Π_k L for logits L [p², p] (row x·p + y).
pub fn key_part(logits: &[f64], p: usize, phase: PairPhase, key: &[usize]) -> Vec<f64> {
    assert_eq!(logits.len(), p * p * p, "key_part: logits must be [p², p]");
    let mut out = vec![0.0; logits.len()];
    for &k in key {
        let (u, v) = directions(p, phase, k);
        let (mut a, mut b) = (vec![0.0; p], vec![0.0; p]);
        for (pair, row) in logits.chunks(p).enumerate() {
            for c in 0..p {
                a[c] += u[pair] * row[c];
                b[c] += v[pair] * row[c];
            }
        }
        for (pair, row) in out.chunks_mut(p).enumerate() {
            for c in 0..p {
                row[c] += u[pair] * a[c] + v[pair] * b[c];
            }
        }
    }
    out
}

/// The mean of each class's logit over all pairs, [p].
pub fn class_means(logits: &[f64], classes: usize) -> Vec<f64> {
    let rows = logits.len() / classes;
    let mut mean = vec![0.0; classes];
    for row in logits.chunks(classes) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= rows as f64);
    mean
}

/// Ideal Fourier logits for tests: λ·Σ_{k ∈ key} cos(w_k(x ± y − c)), [p², p].
#[cfg(test)]
pub fn ideal_logits(p: usize, phase: PairPhase, key: &[usize], lambda: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(p * p * p);
    for pair in 0..p * p {
        let s = phase.of(pair / p, pair % p, p);
        for c in 0..p {
            let value: f64 = key.iter().map(|&k| (2.0 * PI * ((k * ((s + p - c) % p)) % p) as f64 / p as f64).cos()).sum();
            out.push(lambda * value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn directions_are_orthonormal_and_match_the_tensor_products() {
        let p = 13;
        let c = |k: usize, t: usize| (2.0 * PI * (k * t % p) as f64 / p as f64).cos() / (p as f64 / 2.0).sqrt();
        let s = |k: usize, t: usize| (2.0 * PI * (k * t % p) as f64 / p as f64).sin() / (p as f64 / 2.0).sqrt();
        for phase in [PairPhase::Sum, PairPhase::Difference] {
            let (u3, v3) = directions(p, phase, 3);
            let (u5, v5) = directions(p, phase, 5);
            for (a, b, want) in [(&u3, &u3, 1.0), (&v3, &v3, 1.0), (&u3, &v3, 0.0), (&u3, &u5, 0.0), (&v3, &v5, 0.0), (&u3, &v5, 0.0)] {
                // Tolerance 1e-12: sums of 169 products in f64.
                assert!((dot(a, b) - want).abs() < 1e-12, "{phase:?}");
            }
            for pair in 0..p * p {
                let (x, y) = (pair / p, pair % p);
                let (want_u, want_v) = match phase {
                    PairPhase::Sum => (c(3, x) * c(3, y) - s(3, x) * s(3, y), s(3, x) * c(3, y) + c(3, x) * s(3, y)),
                    PairPhase::Difference => (c(3, x) * c(3, y) + s(3, x) * s(3, y), s(3, x) * c(3, y) - c(3, x) * s(3, y)),
                };
                assert!((u3[pair] - want_u / SQRT_2).abs() < 1e-14 && (v3[pair] - want_v / SQRT_2).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn ideal_logits_lie_in_their_key_directions() {
        let (p, key) = (17, [2, 7]);
        let logits = ideal_logits(p, PairPhase::Sum, &key, 3.0);
        let part = key_part(&logits, p, PairPhase::Sum, &key);
        let err = part.iter().zip(&logits).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-11, "{err}");
        let other = key_part(&logits, p, PairPhase::Sum, &[4]);
        assert!(other.iter().all(|v| v.abs() < 1e-11));
        assert!(class_means(&logits, p).iter().all(|m| m.abs() < 1e-12));
    }

    #[test]
    fn projection_is_idempotent_on_random_logits() {
        let p = 11;
        let mut rng = Rng::new(4);
        let logits: Vec<f64> = (0..p * p * p).map(|_| rng.normal()).collect();
        let once = key_part(&logits, p, PairPhase::Difference, &[1, 4]);
        let twice = key_part(&once, p, PairPhase::Difference, &[1, 4]);
        let err = once.iter().zip(&twice).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-12, "{err}");
    }
}
