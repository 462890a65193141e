//! Token-axis spectra of W_E and W_U (docs/analyses.md § Conventions and § 1): folded energy E_k,
//! normalized spectrum q_k, DC fraction, dominant and key frequencies, low/high bands, and
//! the discrete-log token order used for `mul` and `div`.

use super::dft::{half_bins, Complex, Dft};
use super::matrix::Matrix;
use serde_json::{json, Map, Value};

/// Key frequencies: those with q_k ≥ KEY_FRACTION·max q …
pub const KEY_FRACTION: f64 = 0.1;
/// … at most this many, the largest by q.
pub const MAX_KEY_FREQS: usize = 8;
/// The low band (seed 000) is k = 1..=LOW_BAND_MAX.
pub const LOW_BAND_MAX: usize = 5;

/// Which order the token axis is read in before the DFT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenOrder {
    /// Tokens 0..p−1 as they are (length p): `add`, `sub` and the polynomial tasks.
    Natural,
    /// Tokens g^0, g^1, …, g^{p−2} mod p with token 0 dropped (length p − 1): `mul`, `div`,
    /// whose structure is periodic in the discrete logarithm.
    DiscreteLog { generator: usize },
}

impl TokenOrder {
    /// The order docs/analyses.md prescribes for `task` at modulus p.
    pub fn for_task(task: &str, p: usize) -> TokenOrder {
        match task {
            "mul" | "div" => TokenOrder::DiscreteLog { generator: smallest_primitive_root(p) },
            _ => TokenOrder::Natural,
        }
    }

    /// The `token_order` field.
    pub fn name(&self) -> &'static str {
        match self {
            TokenOrder::Natural => "natural",
            TokenOrder::DiscreteLog { .. } => "discrete_log",
        }
    }

    /// The token read at each position of the transformed axis.
    pub fn tokens(&self, p: usize) -> Vec<usize> {
        match *self {
            TokenOrder::Natural => (0..p).collect(),
            TokenOrder::DiscreteLog { generator } => {
                let mut t = 1;
                (0..p - 1)
                    .map(|_| {
                        let current = t;
                        t = t * generator % p;
                        current
                    })
                    .collect()
            }
        }
    }

    /// The rows of W (p token rows) in this order: [n, d] with n = p or p − 1.
    pub fn apply(&self, w: &Matrix) -> Matrix {
        let tokens = self.tokens(w.rows);
        let mut data = Vec::with_capacity(tokens.len() * w.cols);
        for &t in &tokens {
            data.extend_from_slice(w.row(t));
        }
        Matrix::new(tokens.len(), w.cols, data)
    }

    /// The inverse of [`TokenOrder::apply`]: `reordered`'s rows put back at their tokens,
    /// tokens the order drops (0 for the discrete log) taken from `original`.
    pub fn scatter(&self, reordered: &Matrix, original: &Matrix) -> Matrix {
        let mut out = original.clone();
        for (i, t) in self.tokens(original.rows).into_iter().enumerate() {
            out.data[t * out.cols..(t + 1) * out.cols].copy_from_slice(reordered.row(i));
        }
        out
    }
}

fn pow_mod(base: usize, mut exp: usize, m: usize) -> usize {
    let (mut result, mut b) = (1 % m, base % m);
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * b % m;
        }
        b = b * b % m;
        exp >>= 1;
    }
    result
}

fn prime_factors(mut n: usize) -> Vec<usize> {
    let mut factors = Vec::new();
    let mut f = 2;
    while f * f <= n {
        if n.is_multiple_of(f) {
            factors.push(f);
            while n.is_multiple_of(f) {
                n /= f;
            }
        }
        f += 1;
    }
    if n > 1 {
        factors.push(n);
    }
    factors
}

/// The smallest generator of the multiplicative group mod the prime p (5 for 97, 3 for 113).
pub fn smallest_primitive_root(p: usize) -> usize {
    assert!(p >= 2, "primitive root of {p}");
    let factors = prime_factors(p - 1);
    (1..p)
        .find(|&g| factors.iter().all(|&q| pow_mod(g, (p - 1) / q, p) != 1))
        .expect("a prime has a primitive root")
}

/// The complex token-axis spectrum of one matrix: F[k, j] for k = 0..=n/2, [n/2 + 1, d].
#[derive(Clone, Debug)]
pub struct TokenSpectrum {
    pub n: usize,
    pub d: usize,
    pub bins: Vec<Complex>,
}

impl TokenSpectrum {
    /// The spectrum of W [n, d] (already in its token order).
    pub fn of(dft: &dyn Dft, w: &Matrix) -> TokenSpectrum {
        TokenSpectrum::of_batch(dft, std::slice::from_ref(w)).remove(0)
    }

    /// Spectra of many same-shaped matrices (checkpoints) through one transform call.
    pub fn of_batch(dft: &dyn Dft, ws: &[Matrix]) -> Vec<TokenSpectrum> {
        let Some(first) = ws.first() else { return Vec::new() };
        let (n, d) = (first.rows, first.cols);
        assert!(ws.iter().all(|w| w.rows == n && w.cols == d), "of_batch: shapes differ");
        let x: Vec<f64> = ws.iter().flat_map(|w| w.data.iter().copied()).collect();
        let all = dft.real_forward_tokens(&x, ws.len(), n, d);
        all.chunks(half_bins(n) * d).map(|bins| TokenSpectrum { n, d, bins: bins.to_vec() }).collect()
    }

    /// Bins kept, n/2 + 1.
    pub fn bin_count(&self) -> usize {
        half_bins(self.n)
    }

    pub fn at(&self, k: usize, j: usize) -> Complex {
        self.bins[k * self.d + j]
    }

    /// |F[k, j]|², [n/2 + 1, d].
    pub fn power(&self) -> Vec<f64> {
        super::dft::power(&self.bins)
    }

    pub fn folded(&self) -> FoldedEnergy {
        FoldedEnergy::from_power(&self.power(), self.n, self.d)
    }
}

/// How many times bin k stands in the full spectrum: once for k = 0 and, for even n, for
/// k = n/2; twice (k and n − k) otherwise.
pub fn fold_weight(k: usize, n: usize) -> f64 {
    if k == 0 || 2 * k == n {
        1.0
    } else {
        2.0
    }
}

/// Folded energy E_k, k = 0..=K (K = ⌊n/2⌋): E_k = fold_weight(k)·Σ_j |F[k, j]|²/n, so that
/// Σ_k E_k = ‖W‖²_F (Parseval).
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedEnergy {
    pub n: usize,
    pub energy: Vec<f64>,
}

impl FoldedEnergy {
    /// From |F[k, j]|² [n/2 + 1, d]: the form the batched GPU transform delivers.
    pub fn from_power(power: &[f64], n: usize, d: usize) -> FoldedEnergy {
        assert_eq!(power.len(), half_bins(n) * d, "from_power: power must be [n/2 + 1, d]");
        let energy = power
            .chunks(d)
            .enumerate()
            .map(|(k, row)| fold_weight(k, n) * row.iter().sum::<f64>() / n as f64)
            .collect();
        FoldedEnergy { n, energy }
    }

    /// One per checkpoint from power [batch, n/2 + 1, d].
    pub fn batch_from_power(power: &[f64], batch: usize, n: usize, d: usize) -> Vec<FoldedEnergy> {
        assert_eq!(power.len(), batch * half_bins(n) * d, "batch_from_power: shape");
        power.chunks(half_bins(n) * d).map(|p| FoldedEnergy::from_power(p, n, d)).collect()
    }

    /// K, the highest frequency.
    pub fn k_max(&self) -> usize {
        self.energy.len() - 1
    }

    /// Σ_{k=0..K} E_k = ‖W‖²_F.
    pub fn total(&self) -> f64 {
        self.energy.iter().sum()
    }

    /// `dc_frac` = E_0/‖W‖².
    pub fn dc_frac(&self) -> f64 {
        self.energy[0] / self.total()
    }

    /// q_k = E_k / Σ_{k≥1} E_k; element i holds q_{i+1} (k = 1..=K).
    pub fn q(&self) -> Vec<f64> {
        let ac: f64 = self.energy[1..].iter().sum();
        self.energy[1..].iter().map(|e| e / ac).collect()
    }

    /// `dominant_freq` = argmax_{k≥1} E_k (the lowest k on ties).
    pub fn dominant_freq(&self) -> usize {
        argmax(&self.energy[1..]) + 1
    }

    /// `band_low` = Σ_{k ≤ 5} q_k.
    pub fn band_low(&self) -> f64 {
        self.q().iter().take(LOW_BAND_MAX).sum()
    }

    /// `band_high` = 1 − band_low.
    pub fn band_high(&self) -> f64 {
        1.0 - self.band_low()
    }
}

fn argmax(v: &[f64]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

/// Key frequencies (W_E rule): {k ≥ 1 : q_k ≥ 0.1·max q}, the 8 largest by q if more,
/// returned in ascending k. `q[i]` is q_{i+1}.
pub fn key_freqs(q: &[f64]) -> Vec<usize> {
    let max = q.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut keys: Vec<usize> = (0..q.len()).filter(|&i| q[i] >= KEY_FRACTION * max).collect();
    keys.sort_by(|&a, &b| q[b].total_cmp(&q[a]).then(a.cmp(&b)));
    keys.truncate(MAX_KEY_FREQS);
    let mut freqs: Vec<usize> = keys.into_iter().map(|i| i + 1).collect();
    freqs.sort_unstable();
    freqs
}

/// The § 1 fields of one checkpoint.
#[derive(Clone, Debug)]
pub struct SpectrumMetrics {
    pub token_order: TokenOrder,
    pub we: FoldedEnergy,
    pub wu: FoldedEnergy,
}

impl SpectrumMetrics {
    /// W_E = the p number rows of `embed.weight`, W_U = `unembed.weight`, both [p, d].
    pub fn of(dft: &dyn Dft, w_e: &Matrix, w_u: &Matrix, order: TokenOrder) -> SpectrumMetrics {
        let spectra = TokenSpectrum::of_batch(dft, &[order.apply(w_e), order.apply(w_u)]);
        SpectrumMetrics { token_order: order, we: spectra[0].folded(), wu: spectra[1].folded() }
    }

    /// Writes `token_order` (with `token_order_generator` for the discrete log), `we_power`, `wu_power`, `dc_frac`, `dominant_freq`,
    /// `key_freqs` (this checkpoint's W_E rule), `band_low`, `band_high`.
    pub fn insert_into(&self, record: &mut Map<String, Value>) {
        let fields = [
            ("token_order", json!(self.token_order.name())),
            ("we_power", json!(self.we.energy)),
            ("wu_power", json!(self.wu.energy)),
            ("dc_frac", json!(self.we.dc_frac())),
            ("dominant_freq", json!(self.we.dominant_freq())),
            ("key_freqs", json!(key_freqs(&self.we.q()))),
            ("band_low", json!(self.we.band_low())),
            ("band_high", json!(self.we.band_high())),
        ];
        for (name, value) in fields {
            record.insert(name.to_string(), value);
        }
        if let TokenOrder::DiscreteLog { generator } = self.token_order {
            record.insert("token_order_generator".to_string(), json!(generator));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;
    use std::f64::consts::PI;

    fn gaussian(rows: usize, cols: usize, seed: u64) -> Matrix {
        let mut rng = Rng::new(seed);
        Matrix::from_fn(rows, cols, |_, _| rng.normal())
    }

    fn cosine(p: usize, d: usize, k: usize) -> Matrix {
        Matrix::from_fn(p, d, |t, _| (2.0 * PI * (k * t % p) as f64 / p as f64).cos())
    }

    #[test]
    fn pure_cosine_has_all_its_energy_at_its_frequency() {
        let folded = TokenSpectrum::of(&CpuDft, &cosine(97, 5, 7)).folded();
        let q = folded.q();
        assert_eq!(q.len(), 48);
        // Tolerance 1e-12: leakage is pure f64 rounding.
        assert!((q[6] - 1.0).abs() < 1e-12, "q_7 = {}", q[6]);
        assert!(folded.dc_frac().abs() < 1e-12);
        assert_eq!(folded.dominant_freq(), 7);
        assert_eq!(key_freqs(&q), vec![7]);
    }

    #[test]
    fn parseval_holds_in_both_token_orders() {
        let w = gaussian(113, 16, 1);
        for order in [TokenOrder::Natural, TokenOrder::for_task("div", 113)] {
            let reordered = order.apply(&w);
            let folded = TokenSpectrum::of(&CpuDft, &reordered).folded();
            let want = reordered.frobenius_sq();
            // Tolerance 1e-12 relative: sums of 113·16 squares in f64.
            assert!((folded.total() - want).abs() < 1e-12 * want, "{order:?}: {} vs {want}", folded.total());
        }
    }

    #[test]
    fn smallest_primitive_roots() {
        assert_eq!(smallest_primitive_root(97), 5);
        assert_eq!(smallest_primitive_root(113), 3);
        assert_eq!(smallest_primitive_root(7), 3);
        assert_eq!(smallest_primitive_root(53), 2);
        assert_eq!(smallest_primitive_root(2), 1);
        let mut seen = TokenOrder::DiscreteLog { generator: 5 }.tokens(97);
        seen.sort_unstable();
        assert_eq!(seen, (1..97).collect::<Vec<_>>(), "g = 5 generates Z_97^*");
    }

    #[test]
    fn discrete_log_order_reveals_multiplicative_structure() {
        // W[g^i mod p] = cos(2π·3i/96): periodic in the discrete log, not in t.
        let (p, n) = (97, 96);
        let order = TokenOrder::for_task("mul", p);
        assert_eq!(order, TokenOrder::DiscreteLog { generator: 5 });
        let mut w = Matrix::from_fn(p, 4, |_, _| 0.0);
        for (i, t) in order.tokens(p).into_iter().enumerate() {
            for j in 0..4 {
                w.data[t * 4 + j] = (2.0 * PI * (3 * i) as f64 / n as f64).cos() * (j + 1) as f64;
            }
        }
        let logged = TokenSpectrum::of(&CpuDft, &order.apply(&w)).folded();
        assert_eq!(logged.k_max(), 48);
        assert!((logged.q()[2] - 1.0).abs() < 1e-12, "q_3 = {}", logged.q()[2]);
        let natural = TokenSpectrum::of(&CpuDft, &w).folded();
        assert!(natural.q().iter().all(|&q| q < 0.5), "natural order spreads it");
        assert_eq!(order.scatter(&order.apply(&w), &w), w);
    }

    #[test]
    fn even_length_nyquist_bin_is_counted_once() {
        // (−1)^i along the discrete-log axis: all energy in bin N/2 = 48, E_48 = ‖W‖².
        let order = TokenOrder::for_task("div", 97);
        let w = Matrix::from_fn(96, 3, |i, j| if i % 2 == 0 { 1.0 + j as f64 } else { -1.0 - j as f64 });
        let folded = TokenSpectrum::of(&CpuDft, &w).folded();
        let want = w.frobenius_sq();
        assert!((folded.energy[48] - want).abs() < 1e-12 * want, "{} vs {want}", folded.energy[48]);
        assert_eq!(key_freqs(&folded.q()), vec![48]);
        assert_eq!(order.name(), "discrete_log");
    }

    #[test]
    fn bands_split_the_normalized_spectrum_at_five() {
        // Equal-amplitude cosines at k = 3 and k = 10 plus an offset (DC is excluded from q).
        let w = Matrix::from_fn(97, 2, |t, _| {
            let a = 2.0 * PI * t as f64 / 97.0;
            2.0 + (3.0 * a).cos() + (10.0 * a).cos()
        });
        let folded = TokenSpectrum::of(&CpuDft, &w).folded();
        assert!((folded.band_low() - 0.5).abs() < 1e-12, "{}", folded.band_low());
        assert!((folded.band_high() - 0.5).abs() < 1e-12);
        let want_dc = 4.0 * 97.0 * 2.0 / w.frobenius_sq();
        assert!((folded.dc_frac() - want_dc).abs() < 1e-12, "{} vs {want_dc}", folded.dc_frac());
    }

    #[test]
    fn key_rule_keeps_at_most_eight_above_a_tenth_of_the_peak() {
        let mut q = vec![0.0; 20];
        let entries = [
            (20, 1.0), (18, 0.9), (16, 0.8), (14, 0.7), (12, 0.6), (10, 0.5),
            (8, 0.4), (6, 0.3), (4, 0.2), (2, 0.15), (1, 0.1), (3, 0.0999),
        ];
        for (k, v) in entries {
            q[k - 1] = v;
        }
        // Ten qualify (q ≥ 0.1; 0.0999 does not): the eight largest, ascending in k.
        assert_eq!(key_freqs(&q), vec![6, 8, 10, 12, 14, 16, 18, 20]);
        assert_eq!(key_freqs(&[0.5, 0.06, 0.3, 0.049]), vec![1, 2, 3]);
    }

    #[test]
    fn batched_power_equals_one_at_a_time() {
        let (a, b) = (gaussian(31, 6, 2), gaussian(31, 6, 3));
        let x: Vec<f64> = a.data.iter().chain(&b.data).copied().collect();
        let batched = FoldedEnergy::batch_from_power(&CpuDft.power_along_tokens(&x, 2, 31, 6), 2, 31, 6);
        assert_eq!(batched[0], TokenSpectrum::of(&CpuDft, &a).folded());
        assert_eq!(batched[1], TokenSpectrum::of(&CpuDft, &b).folded());
    }

    #[test]
    fn record_fields() {
        let (w_e, w_u) = (cosine(97, 4, 7), gaussian(97, 4, 5));
        let metrics = SpectrumMetrics::of(&CpuDft, &w_e, &w_u, TokenOrder::Natural);
        let mut record = Map::new();
        metrics.insert_into(&mut record);
        assert_eq!(record["token_order"], "natural");
        assert_eq!(record["we_power"].as_array().unwrap().len(), 49);
        assert_eq!(record["dominant_freq"], 7);
        assert_eq!(record["key_freqs"], json!([7]));
        assert!(!record.contains_key("token_order_generator"));
    }
}
