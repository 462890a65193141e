//! Spectral sparsity (docs/analyses.md § 2, seed 000's IPR and Gini): how few frequencies carry
//! the energy, and how sparse each column is in the Fourier basis versus the token basis.

use super::matrix::Matrix;
use super::spectrum::TokenSpectrum;
use serde_json::{json, Map, Value};

/// `n_eff` = 1/Σ q_k²: the effective number of frequencies (seed 000's "IPR"), 1..K.
pub fn n_eff(q: &[f64]) -> f64 {
    1.0 / q.iter().map(|v| v * v).sum::<f64>()
}

/// `gini` of q: with x = q sorted ascending and n = len, G = Σ_i (2i − n − 1)·x_i / (n·Σx),
/// i = 1..n. 0 for a flat spectrum, (n − 1)/n for a single frequency.
pub fn gini(q: &[f64]) -> f64 {
    let mut x = q.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let weighted: f64 = x.iter().enumerate().map(|(i, v)| (2.0 * (i + 1) as f64 - n - 1.0) * v).sum();
    weighted / (n * x.iter().sum::<f64>())
}

/// ‖v‖₁/‖v‖₂ per column, averaged with weights ‖v‖² (all-zero columns weigh nothing).
fn energy_weighted_l1l2(columns: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (l1, l2_sq) in columns {
        if l2_sq > 0.0 {
            num += l2_sq * l1 / l2_sq.sqrt();
            den += l2_sq;
        }
    }
    num / den
}

/// `l1l2_fourier`: each column's coefficients in the orthonormal real Fourier basis on Z_n
/// (1/√n, cos and sin at k = 1..⌊(n−1)/2⌋ scaled by 1/√(n/2), and (−1)^t/√n for even n),
/// read from the spectrum: F[0]/√n, Re F[k]/√(n/2), −Im F[k]/√(n/2), F[n/2]/√n.
pub fn l1l2_fourier(spectrum: &TokenSpectrum) -> f64 {
    let n = spectrum.n as f64;
    let bins = spectrum.bin_count();
    energy_weighted_l1l2((0..spectrum.d).map(|j| {
        let (mut l1, mut l2_sq) = (0.0, 0.0);
        for k in 0..bins {
            let f = spectrum.at(k, j);
            let coefficients = if k == 0 || 2 * k == spectrum.n {
                [f.re / n.sqrt(), 0.0]
            } else {
                let scale = (n / 2.0).sqrt();
                [f.re / scale, -f.im / scale]
            };
            for c in coefficients {
                l1 += c.abs();
                l2_sq += c * c;
            }
        }
        (l1, l2_sq)
    }))
}

/// `l1l2_spatial`: the same ratio in the token basis (the columns as they are).
pub fn l1l2_spatial(w: &Matrix) -> f64 {
    energy_weighted_l1l2((0..w.cols).map(|j| {
        (0..w.rows).fold((0.0, 0.0), |(l1, l2), t| {
            let v = w.at(t, j);
            (l1 + v.abs(), l2 + v * v)
        })
    }))
}

/// The § 2 fields of one matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sparsity {
    pub n_eff: f64,
    pub gini: f64,
    pub l1l2_fourier: f64,
    pub l1l2_spatial: f64,
}

impl Sparsity {
    /// W [n, d] in its token order and its spectrum.
    pub fn of(w: &Matrix, spectrum: &TokenSpectrum) -> Sparsity {
        let q = spectrum.folded().q();
        Sparsity {
            n_eff: n_eff(&q),
            gini: gini(&q),
            l1l2_fourier: l1l2_fourier(spectrum),
            l1l2_spatial: l1l2_spatial(w),
        }
    }

    /// Writes `n_eff`, `gini`, `l1l2_fourier`, `l1l2_spatial` behind `prefix` ("" for W_E,
    /// "wu_" for W_U).
    pub fn insert_into(&self, record: &mut Map<String, Value>, prefix: &str) {
        for (name, value) in [
            ("n_eff", self.n_eff),
            ("gini", self.gini),
            ("l1l2_fourier", self.l1l2_fourier),
            ("l1l2_spatial", self.l1l2_spatial),
        ] {
            record.insert(format!("{prefix}{name}"), json!(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;
    use std::f64::consts::PI;

    fn sparsity(w: &Matrix) -> Sparsity {
        Sparsity::of(w, &TokenSpectrum::of(&CpuDft, w))
    }

    #[test]
    fn pure_cosine_at_97() {
        let w = Matrix::from_fn(97, 3, |t, j| (j + 1) as f64 * (2.0 * PI * (7 * t % 97) as f64 / 97.0).cos());
        let s = sparsity(&w);
        // Tolerances 1e-12: exact in exact arithmetic, leakage is rounding only.
        assert!((s.n_eff - 1.0).abs() < 1e-12, "n_eff {}", s.n_eff);
        assert!((s.gini - 47.0 / 48.0).abs() < 1e-12, "gini {}", s.gini);
        assert!((s.l1l2_fourier - 1.0).abs() < 1e-12, "l1l2_fourier {}", s.l1l2_fourier);
        // Σ_t |cos(2πt/97)| / √(97/2) = 8.86747493…; 1e-6 pins the stated ≈ 8.867.
        assert!((s.l1l2_spatial - 8.867_474_934_8).abs() < 1e-6, "l1l2_spatial {}", s.l1l2_spatial);
    }

    #[test]
    fn gaussian_embedding_at_113() {
        // E_k has 2·128 χ² degrees of freedom: cv² = 1/128, n_eff = 56/(1 + 1/128) ≈ 55.6,
        // gini ≈ cv/√π ≈ 0.05. Tolerances cover one draw's spread (n_eff ±0.1, gini ±0.006).
        let mut rng = Rng::new(113);
        let w = Matrix::from_fn(113, 128, |_, _| rng.normal());
        let s = sparsity(&w);
        assert!((s.n_eff - 55.6).abs() < 0.3, "n_eff {}", s.n_eff);
        assert!((s.gini - 0.05).abs() < 0.015, "gini {}", s.gini);
        // A Gaussian column is equally dense in both bases: E|x|/√E x² = √(2/π) for each.
        let want = (2.0 / PI).sqrt() * 113f64.sqrt();
        assert!((s.l1l2_fourier / want - 1.0).abs() < 0.02, "l1l2_fourier {}", s.l1l2_fourier);
        assert!((s.l1l2_spatial / want - 1.0).abs() < 0.02, "l1l2_spatial {}", s.l1l2_spatial);
    }

    #[test]
    fn gini_and_n_eff_of_flat_and_two_level_spectra() {
        let flat = vec![1.0 / 10.0; 10];
        assert!((n_eff(&flat) - 10.0).abs() < 1e-12);
        assert!(gini(&flat).abs() < 1e-15);
        // Half the mass on one of four: Σ(2i−n−1)x_i = (−3−1+1)/6 + 3/2 = 1, G = 1/4.
        let two_level = [1.0 / 6.0, 0.5, 1.0 / 6.0, 1.0 / 6.0];
        assert!((gini(&two_level) - 0.25).abs() < 1e-15, "{}", gini(&two_level));
        assert!((n_eff(&two_level) - 1.0 / (0.25 + 3.0 / 36.0)).abs() < 1e-12);
    }

    #[test]
    fn fourier_ratio_counts_cos_and_sin_parts_and_the_nyquist_vector() {
        // Even n = 8: a column cos(2πt/8) + sin(2πt/8) + (−1)^t has coefficients
        // (√4, √4, √8)·… → ℓ1/ℓ2 = (2 + 2 + √8)/√(4 + 4 + 8).
        let w = Matrix::from_fn(8, 1, |t, _| {
            let a = 2.0 * PI * t as f64 / 8.0;
            a.cos() + a.sin() + if t % 2 == 0 { 1.0 } else { -1.0 }
        });
        let got = l1l2_fourier(&TokenSpectrum::of(&CpuDft, &w));
        let want = (2.0 + 2.0 + 8f64.sqrt()) / 16f64.sqrt();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // Zero columns carry no weight.
        let padded = Matrix::from_fn(8, 2, |t, j| if j == 0 { w.at(t, 0) } else { 0.0 });
        assert!((l1l2_fourier(&TokenSpectrum::of(&CpuDft, &padded)) - want).abs() < 1e-12);
    }

    #[test]
    fn record_prefix() {
        let mut rng = Rng::new(4);
        let w = Matrix::from_fn(11, 3, |_, _| rng.normal());
        let mut record = Map::new();
        sparsity(&w).insert_into(&mut record, "wu_");
        assert!(record.contains_key("wu_n_eff") && record.contains_key("wu_l1l2_spatial"));
    }
}
