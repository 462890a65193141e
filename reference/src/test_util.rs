//! Shared test helpers: a seeded generator for test inputs and the gradient-check assertion.

use crate::finite_diff::max_abs_diff;

/// SplitMix64: tiny, seeded and good enough to make test inputs that are not special.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    /// `n` values uniform in [-1, 1).
    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform(-1.0, 1.0)).collect()
    }

    /// Uniform integer in 0..n.
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % n as u64) as u32
    }

    /// `len` integers, each uniform in 0..n.
    pub fn indices(&mut self, len: usize, n: u32) -> Vec<u32> {
        (0..len).map(|_| self.below(n)).collect()
    }
}

/// Dot product, used to turn a tensor-valued op into the scalar `Σ r ⊙ op(x)` whose gradient with
/// respect to x is exactly the op's backward applied to dy = r.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Asserts max |analytic − numeric| ≤ rel_tol · max(1, max |numeric|), printing the worst entry.
pub fn assert_grad_close(what: &str, analytic: &[f64], numeric: &[f64], rel_tol: f64) {
    assert_eq!(analytic.len(), numeric.len(), "{what}: length");
    let scale = numeric.iter().fold(1.0f64, |s, g| s.max(g.abs()));
    let diff = max_abs_diff(analytic, numeric);
    let worst = (0..analytic.len())
        .max_by(|&i, &j| {
            let di = (analytic[i] - numeric[i]).abs();
            let dj = (analytic[j] - numeric[j]).abs();
            di.total_cmp(&dj)
        })
        .unwrap_or(0);
    assert!(
        diff <= rel_tol * scale,
        "{what}: max abs diff {diff:e} > {rel_tol:e} * scale {scale:e} \
         (worst index {worst}: analytic {}, numeric {})",
        analytic[worst],
        numeric[worst]
    );
}

/// Asserts every |a_i − b_i| ≤ tol.
pub fn assert_all_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    let diff = max_abs_diff(a, b);
    assert!(
        diff <= tol,
        "{what}: max abs diff {diff:e} > {tol:e}\n  got  {a:?}\n  want {b:?}"
    );
}
