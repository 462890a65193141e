//! The O(n²) discrete Fourier transform in f64: the oracle for the GPU FFT.
//!
//! Forward X_k = Σ_t x_t·e^{−2πi·kt/n}; inverse x_t = (1/n)·Σ_k X_k·e^{+2πi·kt/n} (numpy's
//! convention). Every angle is 2π·r/n with r = k·t mod n reduced in integers first: the float
//! product k·t·(2π/n) would lose the angle's low bits for large k·t.

use std::f64::consts::PI;
use std::ops::{Add, Mul};

/// A complex number (re, im).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub fn new(re: f64, im: f64) -> Self {
        Complex { re, im }
    }

    /// |z|².
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }

    pub fn conj(self) -> Self {
        Complex::new(self.re, -self.im)
    }
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
}

/// e^{sign·2πi·(k·t mod n)/n}.
fn twiddle(k: usize, t: usize, n: usize, sign: f64) -> Complex {
    let r = ((k as u128 * t as u128) % n as u128) as f64;
    let angle = sign * 2.0 * PI * r / n as f64;
    Complex::new(angle.cos(), angle.sin())
}

/// The sum Σ_t x_t·e^{sign·2πi·kt/n} for every k, unscaled.
fn transform(x: &[Complex], sign: f64) -> Vec<Complex> {
    let n = x.len();
    (0..n)
        .map(|k| (0..n).fold(Complex::default(), |acc, t| acc + x[t] * twiddle(k, t, n, sign)))
        .collect()
}

/// Forward DFT. x [n] → X [n].
pub fn dft(x: &[Complex]) -> Vec<Complex> {
    transform(x, -1.0)
}

/// Inverse DFT, scaled by 1/n so that idft(dft(x)) = x. X [n] → x [n].
pub fn idft(x: &[Complex]) -> Vec<Complex> {
    let n = x.len() as f64;
    transform(x, 1.0).into_iter().map(|z| Complex::new(z.re / n, z.im / n)).collect()
}

/// Applies a 1-D transform along both axes of x [rows, cols]: each row, then each column.
fn along_both_axes(x: &[Complex], rows: usize, cols: usize, f: fn(&[Complex]) -> Vec<Complex>) -> Vec<Complex> {
    assert_eq!(x.len(), rows * cols, "2-D transform: x must be [rows, cols]");
    let mut y: Vec<Complex> = x.chunks(cols).flat_map(f).collect();
    for c in 0..cols {
        let column: Vec<Complex> = (0..rows).map(|r| y[r * cols + c]).collect();
        for (r, z) in f(&column).into_iter().enumerate() {
            y[r * cols + c] = z;
        }
    }
    y
}

/// 2-D forward DFT: X[a, b] = Σ_{r,c} x[r, c]·e^{−2πi(ar/rows + bc/cols)}.
/// x [rows, cols] → X [rows, cols].
pub fn dft2d(x: &[Complex], rows: usize, cols: usize) -> Vec<Complex> {
    along_both_axes(x, rows, cols, dft)
}

/// 2-D inverse DFT, scaled by 1/(rows·cols). X [rows, cols] → x [rows, cols].
pub fn idft2d(x: &[Complex], rows: usize, cols: usize) -> Vec<Complex> {
    along_both_axes(x, rows, cols, idft)
}

/// Forward DFT of a real signal, keeping the n/2 + 1 non-redundant bins (numpy's rfft): the
/// rest follow from X_{n−k} = conj(X_k). x [n] → X [n/2 + 1].
pub fn dft_real(x: &[f64]) -> Vec<Complex> {
    let full = dft(&x.iter().map(|&v| Complex::new(v, 0.0)).collect::<Vec<_>>());
    full[..x.len() / 2 + 1].to_vec()
}

/// Inverse of [`dft_real`] for a length-n signal (numpy's irfft): the spectrum is extended by
/// Hermitian symmetry and the real part of its inverse returned, so the imaginary parts of the
/// DC bin (and of the Nyquist bin, for even n) are ignored. X [n/2 + 1] → x [n].
pub fn idft_real(spectrum: &[Complex], n: usize) -> Vec<f64> {
    assert_eq!(spectrum.len(), n / 2 + 1, "idft_real: spectrum must have n/2 + 1 bins");
    let full: Vec<Complex> = (0..n).map(|k| if k < spectrum.len() { spectrum[k] } else { spectrum[n - k].conj() }).collect();
    idft(&full).into_iter().map(|z| z.re).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Rng;

    fn real(x: &[f64]) -> Vec<Complex> {
        x.iter().map(|&v| Complex::new(v, 0.0)).collect()
    }

    fn random_complex(n: usize, rng: &mut Rng) -> Vec<Complex> {
        (0..n).map(|_| Complex::new(rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))).collect()
    }

    fn max_diff(a: &[Complex], b: &[Complex]) -> f64 {
        a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x.re - y.re).abs()).max((x.im - y.im).abs()))
    }

    /// The spectrum with `peaks` at the given bins and zero elsewhere.
    fn spectrum(n: usize, peaks: &[(usize, Complex)]) -> Vec<Complex> {
        let mut s = vec![Complex::default(); n];
        for &(k, z) in peaks {
            s[k] = z;
        }
        s
    }

    #[test]
    fn cosine_and_sine_give_their_textbook_spectra() {
        // cos(2πft/n) → n/2 at bins f and n − f; sin(2πft/n) → −i·n/2 at f and +i·n/2 at n − f
        // (the sign pins the e^{−2πi…} convention). n = 12 and the non-power-of-two n = 15.
        for (n, f) in [(12, 3), (15, 4)] {
            let h = n as f64 / 2.0;
            let cos: Vec<f64> = (0..n).map(|t| (2.0 * PI * (f * t) as f64 / n as f64).cos()).collect();
            let sin: Vec<f64> = (0..n).map(|t| (2.0 * PI * (f * t) as f64 / n as f64).sin()).collect();
            let want_cos = spectrum(n, &[(f, Complex::new(h, 0.0)), (n - f, Complex::new(h, 0.0))]);
            let want_sin = spectrum(n, &[(f, Complex::new(0.0, -h)), (n - f, Complex::new(0.0, h))]);
            // Tolerance 1e-12: n terms of rounding error ~1e-16 each.
            assert!(max_diff(&dft(&real(&cos)), &want_cos) < 1e-12, "cos n={n}");
            assert!(max_diff(&dft(&real(&sin)), &want_sin) < 1e-12, "sin n={n}");
        }
    }

    #[test]
    fn inverse_undoes_forward() {
        let mut rng = Rng::new(31);
        for n in [1, 2, 7, 16, 30] {
            let x = random_complex(n, &mut rng);
            // Tolerance 1e-13: two O(n²) sums of unit-scale terms.
            assert!(max_diff(&idft(&dft(&x)), &x) < 1e-13, "n={n}");
        }
    }

    #[test]
    fn parseval() {
        // Σ|x|² = (1/n)·Σ|X|².
        let mut rng = Rng::new(32);
        let x = random_complex(23, &mut rng);
        let energy: f64 = x.iter().map(|z| z.norm_sqr()).sum();
        let spectral: f64 = dft(&x).iter().map(|z| z.norm_sqr()).sum::<f64>() / 23.0;
        assert!((energy - spectral).abs() < 1e-12 * energy, "{energy} vs {spectral}");
    }

    #[test]
    fn two_dimensional_plane_wave() {
        // x[r, c] = cos(2π(a·r/R + b·c/C)) → R·C/2 at (a, b) and at (R − a, C − b), zero elsewhere.
        let (rows, cols, a, b) = (6, 5, 2, 1);
        let x: Vec<Complex> = (0..rows * cols)
            .map(|i| {
                let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                Complex::new((2.0 * PI * (a as f64 * r / rows as f64 + b as f64 * c / cols as f64)).cos(), 0.0)
            })
            .collect();
        let peak = Complex::new((rows * cols) as f64 / 2.0, 0.0);
        let want = spectrum(rows * cols, &[(a * cols + b, peak), ((rows - a) * cols + cols - b, peak)]);
        let got = dft2d(&x, rows, cols);
        assert!(max_diff(&got, &want) < 1e-12, "{got:?}");
        assert!(max_diff(&idft2d(&got, rows, cols), &x) < 1e-13);
    }

    #[test]
    fn real_helpers_match_the_complex_transform() {
        let mut rng = Rng::new(33);
        for n in [8, 9] {
            let x = rng.vec(n);
            let half = dft_real(&x);
            assert_eq!(half.len(), n / 2 + 1);
            assert!(max_diff(&half, &dft(&real(&x))[..n / 2 + 1]) < 1e-15);
            let back = idft_real(&half, n);
            let err = back.iter().zip(&x).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(err < 1e-13, "n={n}: {err}");
        }
    }

    #[test]
    fn large_index_products_are_reduced_exactly() {
        // An impulse at t = n − 1 has X_k = e^{−2πi·k(n−1)/n} = e^{+2πi·k/n}: every k·t is
        // large, yet each bin must equal the small-angle value to rounding.
        let n = 3001;
        let mut x = vec![Complex::default(); n];
        x[n - 1] = Complex::new(1.0, 0.0);
        let got = dft(&x);
        for k in [1, 1000, 2999] {
            let angle = 2.0 * PI * k as f64 / n as f64;
            let want = Complex::new(angle.cos(), angle.sin());
            // Tolerance 1e-14: a float product 2π·k·t/n would be off by ~1e-12 here.
            assert!(max_diff(&[got[k]], &[want]) < 1e-14, "k={k}");
        }
    }
}
