//! The spectral transform the analyses consume, behind a trait so that the batched GPU FFT
//! (`crate::fft`) and this CPU transform are interchangeable.
//!
//! Both transforms are forward, X_k = Σ_t x_t·e^{−2πi·kt/n}, of real input, keeping the
//! non-redundant bins k = 0..=n/2 (numpy's rfft / rfft2 layout, the same as the GPU FFT's
//! `Transform::RealForward`). Everything downstream reads these arrays, so a GPU
//! implementation that fills them for many checkpoints in one call plugs in unchanged.

use std::f64::consts::PI;

/// A complex number (re, im) in f64.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }

    /// r·e^{iθ}.
    pub fn polar(r: f64, theta: f64) -> Complex {
        Complex::new(r * theta.cos(), r * theta.sin())
    }

    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }

    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }

    pub fn conj(self) -> Complex {
        Complex::new(self.re, -self.im)
    }

    fn mul_add(self, a: Complex, b: Complex) -> Complex {
        Complex::new(
            self.re + a.re * b.re - a.im * b.im,
            self.im + a.re * b.im + a.im * b.re,
        )
    }
}

/// Bins kept of an n-point real transform: k = 0..=n/2.
pub fn half_bins(n: usize) -> usize {
    n / 2 + 1
}

/// A real-input forward DFT over batches of matrices and grids.
pub trait Dft {
    /// Along the middle axis of `batch` real matrices x [batch, n, d] stored back to back:
    /// X[b, k, j] = Σ_t x[b, t, j]·e^{−2πi·kt/n} for k = 0..=n/2, out [batch, n/2 + 1, d].
    fn real_forward_tokens(&self, x: &[f64], batch: usize, n: usize, d: usize) -> Vec<Complex>;

    /// Over both axes of `grids` real grids x [grids, rows, cols]:
    /// X[g, a, b] = Σ_{r,c} x[g, r, c]·e^{−2πi(a·r/rows + b·c/cols)} for b = 0..=cols/2,
    /// out [grids, rows, cols/2 + 1].
    fn real_forward_2d(&self, x: &[f64], grids: usize, rows: usize, cols: usize) -> Vec<Complex>;

    /// |X[b, k, j]|² of [`Dft::real_forward_tokens`]: what the energy analyses consume. A GPU
    /// implementation may produce it directly without reading the complex bins back.
    fn power_along_tokens(&self, x: &[f64], batch: usize, n: usize, d: usize) -> Vec<f64> {
        power(&self.real_forward_tokens(x, batch, n, d))
    }
}

/// |z|² of every bin.
pub fn power(bins: &[Complex]) -> Vec<f64> {
    bins.iter().map(|z| z.norm_sqr()).collect()
}

/// |X[a, b]|² of a real grid's full 2-D spectrum, read from its half spectrum
/// [rows, cols/2 + 1] through X[a, b] = conj X[−a, −b].
pub fn full_power_2d(half: &[Complex], rows: usize, cols: usize, a: usize, b: usize) -> f64 {
    let width = half_bins(cols);
    if b < width {
        half[a * width + b].norm_sqr()
    } else {
        half[((rows - a) % rows) * width + (cols - b)].norm_sqr()
    }
}

/// The direct O(n²) transform on the CPU, with exact twiddles: every angle is 2π·r/n with
/// r = k·t mod n reduced in integers.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuDft;

fn twiddles(n: usize) -> Vec<Complex> {
    (0..n).map(|r| Complex::polar(1.0, -2.0 * PI * r as f64 / n as f64)).collect()
}

/// Bins 0..bins of the transform of x[t·stride] (complex input), t = 0..n.
fn complex_line(x: &[Complex], n: usize, stride: usize, tw: &[Complex], out: &mut [Complex]) {
    for (k, o) in out.iter_mut().enumerate() {
        let mut acc = Complex::default();
        for t in 0..n {
            acc = acc.mul_add(x[t * stride], tw[(k * t) % n]);
        }
        *o = acc;
    }
}

impl Dft for CpuDft {
    fn real_forward_tokens(&self, x: &[f64], batch: usize, n: usize, d: usize) -> Vec<Complex> {
        assert_eq!(x.len(), batch * n * d, "real_forward_tokens: x must be [batch, n, d]");
        let tw = twiddles(n);
        let bins = half_bins(n);
        let mut out = vec![Complex::default(); batch * bins * d];
        for b in 0..batch {
            let matrix = &x[b * n * d..(b + 1) * n * d];
            for k in 0..bins {
                let row = &mut out[(b * bins + k) * d..(b * bins + k + 1) * d];
                for t in 0..n {
                    let w = tw[(k * t) % n];
                    for (o, &v) in row.iter_mut().zip(&matrix[t * d..(t + 1) * d]) {
                        o.re += v * w.re;
                        o.im += v * w.im;
                    }
                }
            }
        }
        out
    }

    fn real_forward_2d(&self, x: &[f64], grids: usize, rows: usize, cols: usize) -> Vec<Complex> {
        assert_eq!(x.len(), grids * rows * cols, "real_forward_2d: x must be [grids, rows, cols]");
        let width = half_bins(cols);
        // Rows first (real → half spectrum), then each kept column along the rows.
        let row_tw = twiddles(cols);
        let mut half_rows = vec![Complex::default(); grids * rows * width];
        for (r, out) in half_rows.chunks_mut(width).enumerate() {
            let line = &x[r * cols..(r + 1) * cols];
            for (b, o) in out.iter_mut().enumerate() {
                let mut acc = Complex::default();
                for (c, &v) in line.iter().enumerate() {
                    let w = row_tw[(b * c) % cols];
                    acc.re += v * w.re;
                    acc.im += v * w.im;
                }
                *o = acc;
            }
        }
        let col_tw = twiddles(rows);
        let mut out = vec![Complex::default(); grids * rows * width];
        let mut column = vec![Complex::default(); rows];
        for g in 0..grids {
            let grid = &half_rows[g * rows * width..(g + 1) * rows * width];
            for b in 0..width {
                complex_line(&grid[b..], rows, width, &col_tw, &mut column);
                for (a, z) in column.iter().enumerate() {
                    out[(g * rows + a) * width + b] = *z;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;
    use grokgpu_reference::dft as reference;

    fn max_diff(a: &[Complex], b: &[reference::Complex]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x.re - y.re).abs()).max((x.im - y.im).abs()))
    }

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal()).collect()
    }

    #[test]
    fn token_axis_matches_the_reference_dft_column_by_column() {
        // Odd and even lengths, batch 2 (two checkpoints in one call).
        for (n, d) in [(97, 3), (96, 5), (1, 2)] {
            let x = random(2 * n * d, 7);
            let got = CpuDft.real_forward_tokens(&x, 2, n, d);
            let bins = half_bins(n);
            for b in 0..2 {
                for j in 0..d {
                    let column: Vec<f64> = (0..n).map(|t| x[(b * n + t) * d + j]).collect();
                    let want = reference::dft_real(&column);
                    let ours: Vec<Complex> = (0..bins).map(|k| got[(b * bins + k) * d + j]).collect();
                    // Tolerance 1e-11: n ≤ 97 terms of unit-variance values, f64 rounding.
                    assert!(max_diff(&ours, &want) < 1e-11, "n={n} b={b} j={j}");
                }
            }
        }
    }

    #[test]
    fn grid_transform_matches_the_reference_2d_dft() {
        for (rows, cols) in [(13, 13), (7, 10), (6, 9)] {
            let x = random(2 * rows * cols, 8);
            let got = CpuDft.real_forward_2d(&x, 2, rows, cols);
            let width = half_bins(cols);
            for g in 0..2 {
                let grid: Vec<reference::Complex> = x[g * rows * cols..(g + 1) * rows * cols]
                    .iter()
                    .map(|&v| reference::Complex::new(v, 0.0))
                    .collect();
                let want = reference::dft2d(&grid, rows, cols);
                let half: Vec<reference::Complex> =
                    (0..rows * width).map(|i| want[(i / width) * cols + i % width]).collect();
                let ours = &got[g * rows * width..(g + 1) * rows * width];
                // Tolerance 1e-11: sums of ≤ 130 unit-variance terms.
                assert!(max_diff(ours, &half) < 1e-11, "{rows}×{cols} grid {g}");
                for a in 0..rows {
                    for b in 0..cols {
                        let full = want[a * cols + b].norm_sqr();
                        let mirrored = full_power_2d(ours, rows, cols, a, b);
                        assert!((full - mirrored).abs() < 1e-9 * (1.0 + full), "({a},{b})");
                    }
                }
            }
        }
    }

    #[test]
    fn power_is_the_squared_modulus_of_the_bins() {
        let x = random(11 * 4, 9);
        let bins = CpuDft.real_forward_tokens(&x, 1, 11, 4);
        let p = CpuDft.power_along_tokens(&x, 1, 11, 4);
        for (z, q) in bins.iter().zip(&p) {
            assert_eq!(z.re * z.re + z.im * z.im, *q);
        }
    }
}
