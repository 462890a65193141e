//! A plan's constant tables, computed on the CPU in f64 and rounded once to f32: twiddles,
//! the Bluestein chirp and the spectrum of its chirp filter.
//!
//! Every angle is 2π·r/n with r reduced modulo n in integers first, so no angle loses bits
//! to a large float product; f64 then leaves each entry within half an f32 ulp.

use std::f64::consts::PI;

/// A complex number in f64 as (re, im).
pub(crate) type C64 = [f64; 2];

/// e^{−2πi·r/n}.
pub(crate) fn root(r: u64, n: u64) -> C64 {
    let angle = -2.0 * PI * (r % n) as f64 / n as f64;
    [angle.cos(), angle.sin()]
}

fn mul(a: C64, b: C64) -> C64 {
    [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]]
}

fn conj(a: C64) -> C64 {
    [a[0], -a[1]]
}

/// e^{−2πi·k/n} for k < n/2: the twiddles of every radix-2 stage of an n-point FFT.
pub(crate) fn twiddles(n: usize) -> Vec<C64> {
    (0..n / 2).map(|k| root(k as u64, n as u64)).collect()
}

/// e^{−2πi·k/n} for k < n: the four-step twiddles e^{−2πi·t1·k2/n}, indexed by t1·k2 mod n.
pub(crate) fn roots(n: usize) -> Vec<C64> {
    (0..n).map(|k| root(k as u64, n as u64)).collect()
}

/// The Bluestein chirp w_t = e^{−πi·t²/n} for t < n, as e^{−2πi·(t² mod 2n)/2n}.
pub(crate) fn chirp(n: usize) -> Vec<C64> {
    let modulus = 2 * n as u64;
    (0..n as u64).map(|t| root(t * t % modulus, modulus)).collect()
}

/// FFT_m(b)/m for the chirp filter b_j = conj(w_j) at j and at m − j (j < n), zero between.
/// Convolving with b turns the DFT into a product of chirps: X_k = w_k·Σ_t x_t·w_t·b_{k−t}.
pub(crate) fn chirp_filter_spectrum(n: usize, m: usize) -> Vec<C64> {
    assert!(m >= 2 * n - 1, "Bluestein needs m ≥ 2n − 1");
    let w = chirp(n);
    let mut b = vec![[0.0; 2]; m];
    for (j, &wj) in w.iter().enumerate() {
        b[j] = conj(wj);
        b[(m - j) % m] = conj(wj);
    }
    let scale = 1.0 / m as f64;
    fft(&b).into_iter().map(|z| [z[0] * scale, z[1] * scale]).collect()
}

/// Forward radix-2 FFT in f64 (n a power of two), for the tables only.
pub(crate) fn fft(x: &[C64]) -> Vec<C64> {
    let n = x.len();
    assert!(n.is_power_of_two(), "f64 table FFT takes powers of two");
    let bits = n.trailing_zeros();
    let mut a: Vec<C64> = (0..n).map(|i| x[if bits == 0 { 0 } else { i.reverse_bits() >> (usize::BITS - bits) }]).collect();
    let mut len = 2;
    while len <= n {
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let w = root((k * (n / len)) as u64, n as u64);
                let u = a[start + k];
                let v = mul(a[start + k + len / 2], w);
                a[start + k] = [u[0] + v[0], u[1] + v[1]];
                a[start + k + len / 2] = [u[0] - v[0], u[1] - v[1]];
            }
        }
        len *= 2;
    }
    a
}

/// The tables of one plan laid end to end, as they are uploaded: f32 (re, im) pairs.
#[derive(Default)]
pub(crate) struct TableBuilder {
    data: Vec<f32>,
}

impl TableBuilder {
    /// Appends `table` and returns its offset in complex entries.
    pub(crate) fn push(&mut self, table: &[C64]) -> u32 {
        let offset = self.data.len() / 2;
        self.data.extend(table.iter().flat_map(|z| [z[0] as f32, z[1] as f32]));
        offset as u32
    }

    /// The uploaded form; never empty, since a binding of `array<vec2<f32>>` needs one entry.
    pub(crate) fn finish(mut self) -> Vec<f32> {
        if self.data.is_empty() {
            self.data.extend([0.0, 0.0]);
        }
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dft(x: &[C64]) -> Vec<C64> {
        let n = x.len() as u64;
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold([0.0, 0.0], |acc, (t, &v)| {
                    let p = mul(v, root(k * t as u64, n));
                    [acc[0] + p[0], acc[1] + p[1]]
                })
            })
            .collect()
    }

    fn max_diff(a: &[C64], b: &[C64]) -> f64 {
        a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x[0] - y[0]).abs()).max((x[1] - y[1]).abs()))
    }

    fn sample(n: usize) -> Vec<C64> {
        (0..n).map(|i| [((i * 7 + 3) % 11) as f64 - 5.0, ((i * 5 + 1) % 13) as f64 - 6.0]).collect()
    }

    #[test]
    fn f64_fft_matches_the_dft() {
        for n in [1, 2, 4, 8, 64] {
            let x = sample(n);
            // Tolerance 1e-12: entries up to 6, n ≤ 64 terms of f64 rounding.
            assert!(max_diff(&fft(&x), &dft(&x)) < 1e-12, "n={n}");
        }
    }

    #[test]
    fn chirp_angle_is_reduced_exactly() {
        // w_t = e^{−πi·t²/n}; for t = n − 1 the reduced index (n−1)² mod 2n must give the same
        // value as the unreduced formula evaluated in high precision (here: small n, exact).
        let n = 97;
        let w = chirp(n);
        for t in [0usize, 1, 5, 96] {
            let angle = -PI * (t * t) as f64 / n as f64;
            assert!((w[t][0] - angle.cos()).abs() < 1e-13 && (w[t][1] - angle.sin()).abs() < 1e-13, "t={t}");
        }
    }

    #[test]
    fn bluestein_in_f64_is_the_dft() {
        // The plan's tables, used the way the shader uses them, reproduce the DFT: a check of
        // the algebra independent of the GPU.
        for n in [3usize, 5, 12, 97] {
            let m = (2 * n - 1).next_power_of_two();
            let x = sample(n);
            let w = chirp(n);
            let filter = chirp_filter_spectrum(n, m);
            let mut a = vec![[0.0; 2]; m];
            for t in 0..n {
                a[t] = mul(x[t], w[t]);
            }
            let spectrum: Vec<C64> = fft(&a).iter().zip(&filter).map(|(&v, &f)| conj(mul(v, f))).collect();
            let conv = fft(&spectrum);
            let got: Vec<C64> = (0..n).map(|k| mul(conj(conv[k]), w[k])).collect();
            // Tolerance 1e-11: entries up to 6·n in magnitude, O(log m) f64 roundings each.
            assert!(max_diff(&got, &dft(&x)) < 1e-11, "n={n}");
        }
    }
}
