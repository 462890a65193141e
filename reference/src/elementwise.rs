//! Elementwise ops: add, scale, ReLU and GELU (erf form), each with its backward, and the error
//! function GELU needs (Rust's std has none).
//!
//! add and scale have trivial backwards: d(a + b) passes dy to both inputs; d(s·x) = s·dy.

use std::f64::consts::PI;

/// a + b elementwise; a, b [n] → [n].
pub fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    assert_eq!(a.len(), b.len(), "add: lengths differ");
    a.iter().zip(b).map(|(a, b)| a + b).collect()
}

/// s·x elementwise; x [n] → [n].
pub fn scale(x: &[f64], s: f64) -> Vec<f64> {
    x.iter().map(|x| s * x).collect()
}

/// max(x, 0); x [n] → [n].
pub fn relu(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&x| x.max(0.0)).collect()
}

/// Backward of [`relu`]: dx = dy where x > 0, else 0 (PyTorch's choice at exactly 0).
/// x, dy [n] → dx [n].
pub fn relu_backward(x: &[f64], dy: &[f64]) -> Vec<f64> {
    assert_eq!(x.len(), dy.len(), "relu_backward: lengths differ");
    x.iter()
        .zip(dy)
        .map(|(&x, &g)| if x > 0.0 { g } else { 0.0 })
        .collect()
}

/// Exact (erf) GELU, PyTorch's default: 0.5·x·(1 + erf(x/√2)); x [n] → [n].
pub fn gelu(x: &[f64]) -> Vec<f64> {
    x.iter()
        .map(|&x| 0.5 * x * (1.0 + erf(x / 2f64.sqrt())))
        .collect()
}

/// Backward of [`gelu`]: gelu'(x) = Φ(x) + x·φ(x) with Φ the normal CDF, φ its density.
/// x, dy [n] → dx [n].
pub fn gelu_backward(x: &[f64], dy: &[f64]) -> Vec<f64> {
    assert_eq!(x.len(), dy.len(), "gelu_backward: lengths differ");
    x.iter()
        .zip(dy)
        .map(|(&x, &g)| {
            let cdf = 0.5 * (1.0 + erf(x / 2f64.sqrt()));
            let density = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
            g * (cdf + x * density)
        })
        .collect()
}

/// The error function erf(x) = (2/√π)∫₀ˣ e^{−t²} dt, accurate to about 1e-16 absolute.
///
/// For |x| < 2 it sums erf(x) = (2/√π)·e^{−x²}·Σₙ 2ⁿx^{2n+1}/(1·3·…·(2n+1)), whose terms are all
/// positive, so nothing cancels. For |x| ≥ 2 it takes 1 − erfc(x) with erfc from its continued
/// fraction (Abramowitz & Stegun 7.1.14), which converges quickly there and gives the small
/// difference from 1 to full relative precision.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    let magnitude = if a < 2.0 {
        erf_series(a)
    } else {
        1.0 - erfc_continued_fraction(a)
    };
    magnitude.copysign(x)
}

/// The positive-term series for erf(a), a ≥ 0; used for a < 2 where it needs ≲ 50 terms.
fn erf_series(a: f64) -> f64 {
    let two_a2 = 2.0 * a * a;
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    while term > 1e-17 * sum {
        n += 1.0;
        term *= two_a2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-a * a).exp() * sum
}

/// erfc(a) for a ≥ 2 from e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated
/// from the tail up. 100 levels reach the f64 limit already at a = 2 (about 60 are needed).
fn erfc_continued_fraction(a: f64) -> f64 {
    let mut f = a;
    for k in (1..=100).rev() {
        f = a + 0.5 * k as f64 / f;
    }
    (-a * a).exp() / PI.sqrt() / f
}

#[cfg(test)]
// Expected values are kept to the digits mpmath printed, beyond f64, so they can be checked.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, dot, Rng};

    #[test]
    fn erf_matches_high_precision_values() {
        // (x, erf x) from mpmath at 30 digits.
        let known = [
            (1e-10, 1.1283791670955125739e-10),
            (0.1, 0.1124629160182848922),
            (0.5, 0.52049987781304653768),
            (-0.7, -0.67780119383741847298),
            (1.0, 0.84270079294971486934),
            (1.5, 0.96610514647531072707),
            (1.999999, 0.99532224435192604605),
            (2.0, 0.99532226501895273416),
            (2.5, 0.99959304798255504106),
            (3.0, 0.99997790950300141456),
            (4.0, 0.99999998458274209972),
            (5.0, 0.99999999999846254021),
            (30.0, 1.0),
            (f64::INFINITY, 1.0),
        ];
        for (x, want) in known {
            // Tolerance 1e-15 absolute: a few ulps of erf near 1.
            assert!(
                (erf(x) - want).abs() <= 1e-15,
                "erf({x}) = {} vs {want}",
                erf(x)
            );
        }
        assert_eq!(erf(0.0), 0.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn erf_tail_keeps_relative_precision() {
        // 1 − erf(3) = erfc(3) = 2.2090496998585441373e-5 (mpmath): the continued fraction must
        // keep it to ~1e-11 relative, far better than a series for erf would.
        let tail = 1.0 - erf(3.0);
        assert!(
            (tail / 2.2090496998585441373e-5 - 1.0).abs() < 1e-10,
            "{tail}"
        );
    }

    #[test]
    fn erf_derivative_is_the_gaussian() {
        // d/dx erf = (2/√π)e^{−x²}, also across the switch between the two methods at |x| = 2.
        for x in [-2.5, -2.0, -1.0, 0.0, 0.3, 1.9999, 2.0, 2.0001, 3.5] {
            let numeric = central_diff_grad(|v| erf(v[0]), &[x], 1e-6)[0];
            let exact = 2.0 / PI.sqrt() * (-x * x).exp();
            // Tolerance 1e-9: central-difference error for h = 1e-6 is ~1e-10 here.
            assert!(
                (numeric - exact).abs() < 1e-9,
                "x={x}: {numeric} vs {exact}"
            );
        }
    }

    #[test]
    fn add_scale_relu_values() {
        assert_eq!(add(&[1.0, -2.0], &[0.5, 2.0]), vec![1.5, 0.0]);
        assert_eq!(scale(&[1.0, -2.0], -3.0), vec![-3.0, 6.0]);
        assert_eq!(relu(&[-1.0, 0.0, 2.5]), vec![0.0, 0.0, 2.5]);
        assert_eq!(
            relu_backward(&[-1.0, 0.0, 2.5], &[7.0, 7.0, 7.0]),
            vec![0.0, 0.0, 7.0]
        );
    }

    #[test]
    fn gelu_values() {
        // gelu(1) = 0.5·(1 + erf(1/√2)) = 0.84134474606854294859 (normal CDF at 1, mpmath);
        // gelu(−1) = gelu(1) − 1 since Φ(−1) = 1 − Φ(1).
        let y = gelu(&[1.0, -1.0, 0.0]);
        assert_all_close(
            "gelu",
            &y,
            &[0.84134474606854294859, 0.84134474606854294859 - 1.0, 0.0],
            1e-15,
        );
    }

    #[test]
    fn relu_and_gelu_backward_match_finite_differences() {
        let mut rng = Rng::new(3);
        // Scale inputs to [-3, 3) and keep them away from ReLU's kink, where differences fail.
        let x: Vec<f64> = rng
            .vec(40)
            .iter()
            .map(|v| 3.0 * v)
            .filter(|v| v.abs() > 1e-3)
            .collect();
        let r = rng.vec(x.len());
        let h = 1e-6;
        // Tolerance 1e-8·scale: piecewise-linear / smooth functions, error ≈ 1e-10.
        let numeric = central_diff_grad(|x| dot(&r, &relu(x)), &x, h);
        assert_grad_close("relu", &relu_backward(&x, &r), &numeric, 1e-8);
        let numeric = central_diff_grad(|x| dot(&r, &gelu(x)), &x, h);
        assert_grad_close("gelu", &gelu_backward(&x, &r), &numeric, 1e-8);
    }
}
