//! Frequency alignment, 1D and 2D (docs/analyses.md § 3, seed 000 finding 2).
//!
//! The 1D measures read the normalized token spectrum q. The 2D measure transforms W_E over
//! (token, hidden); hidden units have no order, so its value depends on the arbitrary column
//! order and is reported together with a z-score against random column orders (*proposed*:
//! no public code fixes this definition).

use super::dft::{full_power_2d, Complex, Dft};
use super::matrix::Matrix;
use super::rng::Rng;

/// Null draws for `align_2d_z`.
pub const ALIGN_2D_PERMUTATIONS: usize = 200;

/// `align_1d_key` = Σ_{k ∈ key} q_k (`q[i]` is q_{i+1}).
pub fn align_1d_key(q: &[f64], key: &[usize]) -> f64 {
    key.iter().map(|&k| q[k - 1]).sum()
}

/// `align_1d_top8` = the sum of the 8 largest q_k.
pub fn align_1d_top8(q: &[f64]) -> f64 {
    let mut sorted = q.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted.iter().take(8).sum()
}

/// The share of the k ≠ 0 rows' energy in the `top` largest bins of one grid's |F2|²,
/// from its half spectrum [n, d/2 + 1].
fn top_bin_share(half: &[Complex], n: usize, d: usize, top: usize) -> f64 {
    let mut power: Vec<f64> =
        (1..n).flat_map(|a| (0..d).map(move |b| (a, b))).map(|(a, b)| full_power_2d(half, n, d, a, b)).collect();
    let total: f64 = power.iter().sum();
    let top = top.min(power.len());
    if top == 0 {
        return 0.0;
    }
    power.select_nth_unstable_by(top - 1, |a, b| b.total_cmp(a));
    power[..top].iter().sum::<f64>() / total
}

/// `align_2d`: with F2 the 2D DFT of W [n, d] over (token, hidden), the energy in the
/// 2·`key_count` largest bins of |F2|² among rows k ≠ 0, over the energy of all k ≠ 0 rows.
/// (Conjugate bins count separately, so a single plane wave fills 2 bins.)
pub fn align_2d(dft: &dyn Dft, w: &Matrix, key_count: usize) -> f64 {
    let half = dft.real_forward_2d(&w.data, 1, w.rows, w.cols);
    top_bin_share(&half, w.rows, w.cols, 2 * key_count)
}

/// `align_2d` and its standing against random hidden-unit orders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Align2d {
    pub align_2d: f64,
    /// (align_2d − mean null)/(sample std of null); ±inf or NaN if the null has no spread.
    pub align_2d_z: f64,
    pub null_mean: f64,
    pub null_std: f64,
}

/// `align_2d` and `align_2d_z` (*proposed*): the null is `permutations` seeded random column
/// permutations of W, all transformed in one batched call with the original.
pub fn align_2d_z(dft: &dyn Dft, w: &Matrix, key_count: usize, permutations: usize, seed: u64) -> Align2d {
    let (n, d) = (w.rows, w.cols);
    let mut rng = Rng::new(seed);
    let mut grids = w.data.clone();
    for _ in 0..permutations {
        let order = rng.permutation(d);
        for t in 0..n {
            grids.extend(order.iter().map(|&j| w.at(t, j)));
        }
    }
    let spectra = dft.real_forward_2d(&grids, permutations + 1, n, d);
    let shares: Vec<f64> =
        spectra.chunks(n * (d / 2 + 1)).map(|half| top_bin_share(half, n, d, 2 * key_count)).collect();
    let null = &shares[1..];
    let null_mean = null.iter().sum::<f64>() / null.len() as f64;
    let null_var = null.iter().map(|s| (s - null_mean).powi(2)).sum::<f64>() / (null.len() as f64 - 1.0);
    let null_std = null_var.sqrt();
    Align2d { align_2d: shares[0], align_2d_z: (shares[0] - null_mean) / null_std, null_mean, null_std }
}

/// |F2[k, m]|² of W's 2D DFT over (token, hidden), k = 0..=n/2 (rows) and m = 0..=d/2
/// (columns): W is real, so the other half mirrors these. A direct O(n·d·(n + d)) transform in
/// f64, for one matrix at a time (seed 000's Figure A7).
pub fn power_2d(w: &Matrix) -> Matrix {
    let (n, d) = (w.rows, w.cols);
    let (rows, cols) = (n / 2 + 1, d / 2 + 1);
    // Along the hidden axis first: G[t][m] = Σ_j W[t, j]·e^{−2πi·mj/d}.
    let g: Vec<Vec<(f64, f64)>> = (0..n)
        .map(|t| {
            (0..cols)
                .map(|m| {
                    w.row(t).iter().enumerate().fold((0.0, 0.0), |(re, im), (j, &v)| {
                        let a = -2.0 * std::f64::consts::PI * ((m * j) % d) as f64 / d as f64;
                        (re + v * a.cos(), im + v * a.sin())
                    })
                })
                .collect()
        })
        .collect();
    Matrix::from_fn(rows, cols, |k, m| {
        let (re, im) = (0..n).fold((0.0, 0.0), |(re, im), t| {
            let a = -2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
            let (gr, gi) = g[t][m];
            (re + gr * a.cos() - gi * a.sin(), im + gr * a.sin() + gi * a.cos())
        });
        re * re + im * im
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_2d_of_a_plane_wave_is_one_bin() {
        // W[t, j] = cos(2π(3t/11 + 2j/8)): all energy at (k, m) = (3, 2) among the kept bins,
        // |F2|² = (11·8/2)² (the mirrored half holds the other conjugate).
        let w = Matrix::from_fn(11, 8, |t, j| (2.0 * std::f64::consts::PI * (3.0 * t as f64 / 11.0 + 2.0 * j as f64 / 8.0)).cos());
        let p = power_2d(&w);
        assert_eq!((p.rows, p.cols), (6, 5));
        for k in 0..6 {
            for m in 0..5 {
                let want = if (k, m) == (3, 2) { 44.0 * 44.0 } else { 0.0 };
                assert!((p.at(k, m) - want).abs() < 1e-9, "({k}, {m}): {}", p.at(k, m));
            }
        }
    }
    use crate::analysis::dft::CpuDft;
    use crate::analysis::spectrum::{key_freqs, TokenSpectrum};
    use std::f64::consts::PI;

    #[test]
    fn one_dimensional_sums() {
        let q = [0.05, 0.3, 0.02, 0.2, 0.1, 0.01, 0.04, 0.06, 0.03, 0.07, 0.08, 0.04];
        assert!((align_1d_key(&q, &[2, 4]) - 0.5).abs() < 1e-15);
        // Eight largest: 0.3 0.2 0.1 0.08 0.07 0.06 0.05 0.04.
        assert!((align_1d_top8(&q) - 0.9).abs() < 1e-12, "{}", align_1d_top8(&q));
        assert!((align_1d_top8(&q[..3]) - 0.37).abs() < 1e-15, "fewer than 8 frequencies: all");
    }

    #[test]
    fn plane_wave_is_fully_aligned_and_far_above_its_null() {
        // W[t, j] = cos(2πk(t + j)/p), d = p: all k ≠ 0 energy in bins (k, k) and (−k, −k).
        let (p, k) = (97, 5);
        let w = Matrix::from_fn(p, p, |t, j| (2.0 * PI * (k * (t + j) % p) as f64 / p as f64).cos());
        let key = key_freqs(&TokenSpectrum::of(&CpuDft, &w).folded().q());
        assert_eq!(key, vec![k]);
        let a = align_2d_z(&CpuDft, &w, key.len(), ALIGN_2D_PERMUTATIONS, 1);
        // Tolerance 1e-12: the other bins hold rounding only.
        assert!((a.align_2d - 1.0).abs() < 1e-12, "align_2d {}", a.align_2d);
        assert!((a.align_2d - align_2d(&CpuDft, &w, 1)).abs() < 1e-15);
        assert!(a.null_mean < 0.2, "permuted columns spread the hidden spectrum: {}", a.null_mean);
        assert!(a.align_2d_z > 50.0, "z {}", a.align_2d_z);
        // The token spectrum ignores the column order, so 1D alignment is the same for all draws.
        assert!((align_1d_key(&TokenSpectrum::of(&CpuDft, &w).folded().q(), &key) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn gaussian_embedding_sits_inside_its_null() {
        let mut rng = Rng::new(21);
        let w = Matrix::from_fn(31, 24, |_, _| rng.normal());
        let a = align_2d_z(&CpuDft, &w, 3, ALIGN_2D_PERMUTATIONS, 2);
        // A column order of i.i.d. data is itself a random draw from the null.
        assert!(a.align_2d_z.abs() < 3.5, "z {}", a.align_2d_z);
        assert!(a.align_2d > 0.0 && a.align_2d < 0.2, "{}", a.align_2d);
    }
}
