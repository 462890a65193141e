//! Phase structure of the embedding (docs/analyses.md § 4): the literal linear-phase R² of seed 000,
//! the per-frequency token phase coherence, and the two phase interventions.
//!
//! All functions take W already in its token order ([`TokenOrder::apply`]), so t is the
//! position on the transformed axis of length n (p, or p − 1 for the discrete log), except the
//! interventions, which take W_E in token order and put the result back.

use super::dft::{Complex, Dft};
use super::matrix::Matrix;
use super::spectrum::{fold_weight, TokenOrder, TokenSpectrum};
use std::f64::consts::PI;

/// A bin takes part in the phase fit if |F| ≥ this fraction of the column's largest |F|.
pub const PHASE_MAGNITUDE_FLOOR: f64 = 1e-3;
/// Runs shorter than this give no fit.
pub const PHASE_MIN_RUN: usize = 3;

/// Weighted least-squares line through a column's unwrapped phases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseFit {
    pub r2: f64,
    pub slope: f64,
    pub intercept: f64,
    /// The frequencies fitted, first..=last.
    pub first: usize,
    pub last: usize,
}

/// numpy's `unwrap`: removes jumps larger than π between neighbours by multiples of 2π.
fn unwrap(phases: &[f64]) -> Vec<f64> {
    let mut out = phases.to_vec();
    let mut correction = 0.0;
    for i in 1..phases.len() {
        let d = phases[i] - phases[i - 1];
        let mut dd = (d + PI).rem_euclid(2.0 * PI) - PI;
        if dd == -PI && d > 0.0 {
            dd = PI;
        }
        if d.abs() >= PI {
            correction += dd - d;
        }
        out[i] = phases[i] + correction;
    }
    out
}

/// The longest run (first on ties) of consecutive indices where `keep` holds.
fn longest_run(keep: &[bool]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = None;
    for i in 0..=keep.len() {
        match (i < keep.len() && keep[i], start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if best.is_none_or(|(a, b)| i - s > b + 1 - a) {
                    best = Some((s, i - 1));
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

/// The § 4 literal fit for column j: over the longest run of ≥ 3 consecutive frequencies
/// k ≥ 1 with |F[k, j]| ≥ 1e-3·max_k |F[k, j]|, unwrap arg F along k and fit a line in k
/// weighted by |F|². None when no such run exists. A phase constant along the run (RMS
/// deviation below 1e-9 rad) is a perfect fit, R² = 1.
pub fn column_phase_fit(spectrum: &TokenSpectrum, j: usize) -> Option<PhaseFit> {
    let bins: Vec<Complex> = (1..spectrum.bin_count()).map(|k| spectrum.at(k, j)).collect();
    let max = bins.iter().map(|z| z.abs()).fold(0.0, f64::max);
    if max == 0.0 {
        return None;
    }
    let keep: Vec<bool> = bins.iter().map(|z| z.abs() >= PHASE_MAGNITUDE_FLOOR * max).collect();
    let (a, b) = longest_run(&keep)?;
    if b + 1 - a < PHASE_MIN_RUN {
        return None;
    }
    let run = &bins[a..=b];
    let phase = unwrap(&run.iter().map(|z| z.arg()).collect::<Vec<_>>());
    let weight: Vec<f64> = run.iter().map(|z| z.norm_sqr()).collect();
    let k: Vec<f64> = (a..=b).map(|i| (i + 1) as f64).collect();
    let sw: f64 = weight.iter().sum();
    let mean = |v: &[f64]| v.iter().zip(&weight).map(|(x, w)| x * w).sum::<f64>() / sw;
    let (k_mean, phase_mean) = (mean(&k), mean(&phase));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..run.len() {
        let (dx, dy) = (k[i] - k_mean, phase[i] - phase_mean);
        sxx += weight[i] * dx * dx;
        sxy += weight[i] * dx * dy;
        syy += weight[i] * dy * dy;
    }
    let slope = sxy / sxx;
    let r2 = if syy <= 1e-18 * sw { 1.0 } else { sxy * sxy / (sxx * syy) };
    Some(PhaseFit { r2, slope, intercept: phase_mean - slope * k_mean, first: a + 1, last: b + 1 })
}

/// ‖column j‖², from the spectrum by Parseval.
fn column_energy(spectrum: &TokenSpectrum, j: usize) -> f64 {
    (0..spectrum.bin_count()).map(|k| fold_weight(k, spectrum.n) * spectrum.at(k, j).norm_sqr()).sum::<f64>()
        / spectrum.n as f64
}

/// `phase_r2` (literal, seed 000): the column fits' R² averaged with weights ‖column‖²
/// over the columns that have a fit; NaN when none has (a single cosine has no run of 3).
pub fn phase_r2(spectrum: &TokenSpectrum) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..spectrum.d {
        if let Some(fit) = column_phase_fit(spectrum, j) {
            let e = column_energy(spectrum, j);
            num += e * fit.r2;
            den += e;
        }
    }
    if den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// The plane of frequency k in R^d: span{C_k, S_k}, C_k = Σ_t W[t]·c_k(t),
/// S_k = Σ_t W[t]·s_k(t), with an orthonormal basis (u1 along C_k).
struct Plane {
    u1: Vec<f64>,
    u2: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// None when C_k and S_k do not span a plane (parallel to within 1e-6 rad, or one is zero,
/// e.g. k = n/2 where s_k ≡ 0).
fn plane(w: &Matrix, k: usize) -> Option<Plane> {
    let n = w.rows;
    let scale = (n as f64 / 2.0).sqrt();
    let (mut c, mut s) = (vec![0.0; w.cols], vec![0.0; w.cols]);
    for t in 0..n {
        let angle = 2.0 * PI * ((k * t) % n) as f64 / n as f64;
        let (ct, st) = (angle.cos() / scale, angle.sin() / scale);
        for (j, v) in w.row(t).iter().enumerate() {
            c[j] += v * ct;
            s[j] += v * st;
        }
    }
    let (cc, ss, cs) = (dot(&c, &c), dot(&s, &s), dot(&c, &s));
    if cc * ss == 0.0 || cc * ss - cs * cs <= 1e-12 * cc * ss {
        return None;
    }
    let u1: Vec<f64> = c.iter().map(|v| v / cc.sqrt()).collect();
    let along = dot(&s, &u1);
    let mut u2: Vec<f64> = s.iter().zip(&u1).map(|(v, u)| v - along * u).collect();
    let norm = dot(&u2, &u2).sqrt();
    u2.iter_mut().for_each(|v| *v /= norm);
    Some(Plane { u1, u2 })
}

/// Coordinates (a_t, b_t) of W[t] − μ in the plane.
fn plane_coordinates(w: &Matrix, mean: &[f64], plane: &Plane) -> Vec<(f64, f64)> {
    (0..w.rows)
        .map(|t| {
            let centred: Vec<f64> = w.row(t).iter().zip(mean).map(|(v, m)| v - m).collect();
            (dot(&centred, &plane.u1), dot(&centred, &plane.u2))
        })
        .collect()
}

/// Phase coherence of the tokens in one frequency plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coherence {
    pub k: usize,
    /// R_k = |mean_t e^{iψ_t}|, 1 for an ideal embedding; NaN when the plane is degenerate.
    pub r: f64,
    /// The winding direction σ ∈ {+1, −1} that maximizes R_k. The basis (u1 along C_k, u2
    /// from S_k) orients the plane with the frequency-k motion, so σ is +1 for any clean
    /// circle; −1 only wins when other frequencies dominate the angles.
    pub sigma: f64,
    /// The circular mean of ψ_t.
    pub mean_phase: f64,
}

fn coherence_of(coordinates: &[(f64, f64)], k: usize, n: usize) -> Coherence {
    let best = [1.0, -1.0]
        .into_iter()
        .map(|sigma| {
            let sum = coordinates.iter().enumerate().fold(Complex::default(), |acc, (t, &(a, b))| {
                let psi = b.atan2(a) - sigma * 2.0 * PI * ((k * t) % n) as f64 / n as f64;
                Complex::new(acc.re + psi.cos(), acc.im + psi.sin())
            });
            (sigma, Complex::new(sum.re / n as f64, sum.im / n as f64))
        })
        .fold(None, |best: Option<(f64, Complex)>, cur| match best {
            Some(b) if b.1.abs() >= cur.1.abs() => Some(b),
            _ => Some(cur),
        })
        .expect("two signs");
    Coherence { k, r: best.1.abs(), sigma: best.0, mean_phase: best.1.arg() }
}

/// `token_phase_coherence` at frequency k (recommended): θ_t = atan2(⟨W[t]−μ, u2⟩,
/// ⟨W[t]−μ, u1⟩), ψ_t = θ_t − σ·2πkt/n, R_k = max_σ |mean_t e^{iψ_t}|. Ideal ⇒ 1; tokens
/// whose angles in a fixed plane are unrelated to t ⇒ about 1/√n. The plane is chosen from
/// W's own frequency-k coefficients, so a random W is not at 1/√n: its frequency-k part is
/// always coherent and competes with the rest projected into the plane, R ≈ 0.75–0.8 for a
/// Gaussian W with d ≈ p (see the tests); compare a checkpoint with that baseline.
pub fn token_phase_coherence(w: &Matrix, k: usize) -> Coherence {
    match plane(w, k) {
        Some(plane) => coherence_of(&plane_coordinates(w, &w.mean_row(), &plane), k, w.rows),
        None => Coherence { k, r: f64::NAN, sigma: f64::NAN, mean_phase: f64::NAN },
    }
}

/// The tokens' coordinates (a_t, b_t) in W's frequency-k plane (the plane of
/// `token_phase_coherence`, centred on the mean row), or None when the plane is degenerate. An
/// ideal embedding puts token t at angle σ·2πkt/n + φ: a regular n-gon visited in the order kt.
pub fn key_plane_coordinates(w: &Matrix, k: usize) -> Option<Vec<(f64, f64)>> {
    plane(w, k).map(|plane| plane_coordinates(w, &w.mean_row(), &plane))
}

/// Intervention (a), literal: keep |F[k, j]|, set its phase to 2πkj/n (k ≥ 1; the conjugate
/// bins follow, k = 0 is kept), inverse DFT. Takes and returns W_E [p, d] in token order.
pub fn intervene_literal(dft: &dyn Dft, w_e: &Matrix, order: TokenOrder) -> Matrix {
    let w = order.apply(w_e);
    let spectrum = TokenSpectrum::of(dft, &w);
    let n = w.rows;
    let mut out = Matrix::from_fn(n, w.cols, |_, _| 0.0);
    for j in 0..w.cols {
        for k in 0..spectrum.bin_count() {
            let f = spectrum.at(k, j);
            let bin = if k == 0 { f } else { Complex::polar(f.abs(), 2.0 * PI * ((k * j) % n) as f64 / n as f64) };
            let weight = fold_weight(k, n) / n as f64;
            for t in 0..n {
                let angle = 2.0 * PI * ((k * t) % n) as f64 / n as f64;
                // Re(F·e^{+iωt}), doubled for the mirrored bin n − k.
                out.data[t * w.cols + j] += weight * (bin.re * angle.cos() - bin.im * angle.sin());
            }
        }
    }
    order.scatter(&out, w_e)
}

/// Intervention (b), in-plane: inside each key frequency's plane, replace θ_t by
/// σ·2πkt/n + circular-mean(ψ), keeping each token's radius in the plane and its
/// out-of-plane part. Key planes are processed in the given order, each from the current W;
/// degenerate planes are left alone. Takes and returns W_E [p, d] in token order.
pub fn intervene_in_plane(w_e: &Matrix, order: TokenOrder, key: &[usize]) -> Matrix {
    let mut w = order.apply(w_e);
    let n = w.rows;
    for &k in key {
        let Some(plane) = plane(&w, k) else { continue };
        let mean = w.mean_row();
        let coordinates = plane_coordinates(&w, &mean, &plane);
        let coherence = coherence_of(&coordinates, k, n);
        for (t, &(a, b)) in coordinates.iter().enumerate() {
            let radius = a.hypot(b);
            let theta = coherence.sigma * 2.0 * PI * ((k * t) % n) as f64 / n as f64 + coherence.mean_phase;
            let (da, db) = (radius * theta.cos() - a, radius * theta.sin() - b);
            for (j, v) in w.data[t * w.cols..(t + 1) * w.cols].iter_mut().enumerate() {
                *v += da * plane.u1[j] + db * plane.u2[j];
            }
        }
    }
    order.scatter(&w, w_e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;

    fn spectrum(w: &Matrix) -> TokenSpectrum {
        TokenSpectrum::of(&CpuDft, w)
    }

    /// Σ_{k=1..9} cos(2πk(t − shift)/p)/k: phases −2πk·shift/p along k.
    fn shifted_sawtooth(p: usize, shifts: &[usize]) -> Matrix {
        Matrix::from_fn(p, shifts.len(), |t, j| {
            (1..=9)
                .map(|k| (2.0 * PI * (k * ((t + p - shifts[j]) % p)) as f64 / p as f64).cos() / k as f64)
                .sum()
        })
    }

    /// An ideal embedding: each key frequency on its own circle (orthonormal plane), plus a
    /// constant offset in the remaining directions.
    fn ideal(n: usize, d: usize, keys: &[(usize, f64)], seed: u64) -> Matrix {
        let mut rng = Rng::new(seed);
        let basis = orthonormal(d, 2 * keys.len() + 1, &mut rng);
        Matrix::from_fn(n, d, |t, j| {
            let mut v = 3.0 * basis[2 * keys.len()][j];
            for (i, &(k, radius)) in keys.iter().enumerate() {
                let angle = 2.0 * PI * ((k * t) % n) as f64 / n as f64 + 0.3 * i as f64;
                v += radius * (angle.cos() * basis[2 * i][j] + angle.sin() * basis[2 * i + 1][j]);
            }
            v
        })
    }

    fn orthonormal(d: usize, count: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
        let mut basis: Vec<Vec<f64>> = Vec::new();
        while basis.len() < count {
            let mut v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            for b in &basis {
                let along = dot(&v, b);
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= along * y);
            }
            let norm = dot(&v, &v).sqrt();
            basis.push(v.iter().map(|x| x / norm).collect());
        }
        basis
    }

    fn max_abs_diff(a: &Matrix, b: &Matrix) -> f64 {
        a.data.iter().zip(&b.data).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
    }

    #[test]
    fn linear_phase_sawtooth_fits_exactly() {
        let w = shifted_sawtooth(97, &[11]);
        let fit = column_phase_fit(&spectrum(&w), 0).expect("a run of 9");
        assert_eq!((fit.first, fit.last), (1, 9));
        // Tolerance 1e-12: phases are exact to rounding.
        assert!((fit.r2 - 1.0).abs() < 1e-12, "R² {}", fit.r2);
        assert!((fit.slope + 2.0 * PI * 11.0 / 97.0).abs() < 1e-12, "slope {}", fit.slope);
        assert!((phase_r2(&spectrum(&w)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn single_cosine_and_zero_columns_have_no_fit() {
        let cosine = Matrix::from_fn(97, 2, |t, _| (2.0 * PI * (7 * t % 97) as f64 / 97.0).cos());
        assert!(phase_r2(&spectrum(&cosine)).is_nan(), "no run of 3: NaN, not 1");
        let zero = Matrix::from_fn(97, 2, |_, _| 0.0);
        assert!(phase_r2(&spectrum(&zero)).is_nan());
    }

    #[test]
    fn phase_r2_weights_columns_by_energy() {
        // A perfect column, a Gaussian column at 4× the amplitude, a single cosine (no fit).
        let mut rng = Rng::new(5);
        let saw = shifted_sawtooth(53, &[20]);
        let w = Matrix::from_fn(53, 3, |t, j| match j {
            0 => saw.at(t, 0),
            1 => 4.0 * rng.normal(),
            _ => (2.0 * PI * (3 * t % 53) as f64 / 53.0).cos(),
        });
        let s = spectrum(&w);
        let fits: Vec<Option<PhaseFit>> = (0..3).map(|j| column_phase_fit(&s, j)).collect();
        assert!(fits[2].is_none());
        let noisy = fits[1].expect("Gaussian columns have every bin").r2;
        assert!(noisy < 0.5, "random phases are not linear: {noisy}");
        let energy = w.column_energies();
        let want = (energy[0] * 1.0 + energy[1] * noisy) / (energy[0] + energy[1]);
        assert!((phase_r2(&s) - want).abs() < 1e-12, "{} vs {want}", phase_r2(&s));
        // Slopes past π per step alias, yet stay linear.
        let aliased = shifted_sawtooth(97, &[60, 3]);
        assert!((phase_r2(&spectrum(&aliased)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn unwrap_matches_numpy() {
        // numpy.unwrap([0, 3, -3, 2.5, -2]) = [0, 3, 3.2832, 2.5, 4.2832].
        let got = unwrap(&[0.0, 3.0, -3.0, 2.5, -2.0]);
        let want = [0.0, 3.0, 2.0 * PI - 3.0, 2.5, 2.0 * PI - 2.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
    }

    #[test]
    fn ideal_embedding_is_coherent_in_either_winding() {
        let w = ideal(97, 16, &[(4, 2.0), (17, 1.0)], 3);
        for k in [4, 17] {
            let c = token_phase_coherence(&w, k);
            // Tolerance 1e-12: exact up to rounding.
            assert!((c.r - 1.0).abs() < 1e-12, "k={k}: R {}", c.r);
        }
        // Winding backwards (t → −t) flips S_k and with it u2, so the plane's own basis
        // still sees a forward winding.
        let backwards = Matrix::from_fn(97, 16, |t, j| w.at((97 - t) % 97, j));
        let c = token_phase_coherence(&backwards, 4);
        assert!((c.r - 1.0).abs() < 1e-12 && c.sigma == 1.0, "{c:?}");
        // A frequency the embedding does not use has no coherent plane.
        assert!(token_phase_coherence(&w, 9).r < 0.5);
        assert!(token_phase_coherence(&Matrix::from_fn(96, 3, |t, _| t as f64), 48).r.is_nan());
    }

    #[test]
    fn unrelated_angles_give_about_one_over_root_n() {
        // Tokens on a circle at i.i.d. uniform angles: R_k·√n is the larger of two Rayleigh
        // variables (E ≈ 1.1). Averaged over k = 1..48 and 4 seeds; bounds ±30%.
        let n = 97;
        let mut total = 0.0;
        for seed in 0..4 {
            let mut rng = Rng::new(100 + seed);
            let angles: Vec<f64> = (0..n).map(|_| 2.0 * PI * rng.uniform()).collect();
            let w = Matrix::from_fn(n, 2, |t, j| if j == 0 { angles[t].cos() } else { angles[t].sin() });
            total += (1..=48).map(|k| token_phase_coherence(&w, k).r).sum::<f64>() / 48.0;
        }
        let scaled = total / 4.0 * (n as f64).sqrt();
        assert!((0.75..1.45).contains(&scaled), "mean R·√n = {scaled}");
    }

    #[test]
    fn gaussian_embedding_is_far_above_one_over_root_n() {
        // The self-selected plane: mean R_k over k = 1..48 at p = 97 grows with d (measured
        // 0.117, 0.240, 0.480, 0.780 for d = 2, 8, 32, 128); 1/√97 = 0.10.
        let mut rng = Rng::new(5);
        let mut means = Vec::new();
        for d in [2, 8, 32, 128] {
            let w = Matrix::from_fn(97, d, |_, _| rng.normal());
            means.push((1..=48).map(|k| token_phase_coherence(&w, k).r).sum::<f64>() / 48.0);
        }
        assert!(means.windows(2).all(|m| m[0] < m[1]), "{means:?}");
        assert!(means[0] < 0.2 && means[3] > 0.6, "{means:?}");
    }

    #[test]
    fn in_plane_intervention_leaves_an_ideal_embedding_unchanged() {
        let w = ideal(97, 16, &[(4, 2.0), (17, 1.0)], 3);
        let out = intervene_in_plane(&w, TokenOrder::Natural, &[4, 17]);
        // Tolerance 1e-12: the replaced angles equal the old ones to rounding.
        assert!(max_abs_diff(&out, &w) < 1e-12, "{}", max_abs_diff(&out, &w));
    }

    /// A circle at frequency k in coordinates 0, 1 with per-token angle and radius jitter,
    /// constant elsewhere.
    fn jittered_circle(n: usize, d: usize, k: usize, radius_jitter: f64, seed: u64) -> Matrix {
        let mut rng = Rng::new(seed);
        let jitter: Vec<(f64, f64)> =
            (0..n).map(|_| (0.8 * rng.normal(), 1.0 + radius_jitter * rng.uniform())).collect();
        Matrix::from_fn(n, d, |t, j| {
            let angle = 2.0 * PI * ((k * t) % n) as f64 / n as f64 + jitter[t].0;
            match j {
                0 => jitter[t].1 * angle.cos(),
                1 => jitter[t].1 * angle.sin(),
                _ => 0.5 * j as f64,
            }
        })
    }

    #[test]
    fn in_plane_intervention_rephases_a_jittered_circle() {
        // Each token keeps its distance from the old mean inside the plane and its
        // out-of-plane part. Jitter moved the mean off the circle's centre, so the new points
        // have uneven radii about their own mean: R rises to near 1, not exactly 1.
        let (n, k) = (61, 5);
        for radius_jitter in [0.0, 0.3] {
            let w = jittered_circle(n, 6, k, radius_jitter, 8);
            let before = token_phase_coherence(&w, k).r;
            let out = intervene_in_plane(&w, TokenOrder::Natural, &[k]);
            let after = token_phase_coherence(&out, k).r;
            assert!(before < 0.9 && after > 0.999, "{before} → {after}");
            let mean = w.mean_row();
            for t in 0..n {
                let (a, b) = (w.row(t), out.row(t));
                let radius = |v: &[f64]| (v[0] - mean[0]).hypot(v[1] - mean[1]);
                // Tolerance 1e-12: exact up to rounding.
                assert!((radius(a) - radius(b)).abs() < 1e-12, "t={t}: radius");
                assert!(a[2..].iter().zip(&b[2..]).all(|(x, y)| (x - y).abs() < 1e-12), "t={t}: out of plane");
            }
        }
    }

    #[test]
    fn literal_intervention_keeps_magnitudes_and_sets_linear_phases() {
        let mut rng = Rng::new(9);
        let p = 31;
        let w_e = Matrix::from_fn(p, 5, |_, _| rng.normal());
        for order in [TokenOrder::Natural, TokenOrder::for_task("div", p)] {
            let out = intervene_literal(&CpuDft, &w_e, order);
            let (before, after) = (spectrum(&order.apply(&w_e)), spectrum(&order.apply(&out)));
            let n = before.n;
            for j in 0..5 {
                for k in 0..before.bin_count() {
                    let (b, a) = (before.at(k, j), after.at(k, j));
                    // Tolerance 1e-11: a forward/inverse round trip of n ≤ 31 terms.
                    assert!((a.abs() - b.abs()).abs() < 1e-11, "{order:?} |F[{k},{j}]|");
                    if k > 0 && 2 * k != n {
                        let want = Complex::polar(b.abs(), 2.0 * PI * ((k * j) % n) as f64 / n as f64);
                        assert!((a.re - want.re).abs() < 1e-11 && (a.im - want.im).abs() < 1e-11);
                    }
                }
            }
            let again = intervene_literal(&CpuDft, &out, order);
            assert!(max_abs_diff(&again, &out) < 1e-11, "idempotent");
            if order != TokenOrder::Natural {
                assert_eq!(out.row(0), w_e.row(0), "token 0 is outside the discrete-log axis");
            }
        }
    }
}
