//! Softmax over the last axis and its backward.

/// Row-wise softmax, computed as exp(x − max) / Σ exp(x − max) so large logits cannot overflow.
/// x [rows, cols] → y [rows, cols].
pub fn softmax(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    assert_eq!(x.len(), rows * cols, "softmax: x must be [rows, cols]");
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks(cols) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let exps: Vec<f64> = row.iter().map(|&v| (v - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        y.extend(exps.iter().map(|e| e / sum));
    }
    y
}

/// Backward of [`softmax`] from its output: dx = y ⊙ (dy − Σ_cols y·dy), the Jacobian
/// diag(y) − y·yᵀ applied to dy. y, dy [rows, cols] → dx [rows, cols].
pub fn softmax_backward(y: &[f64], dy: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    assert_eq!(y.len(), rows * cols, "softmax_backward: y must be [rows, cols]");
    assert_eq!(dy.len(), rows * cols, "softmax_backward: dy must be [rows, cols]");
    let mut dx = Vec::with_capacity(y.len());
    for (y, dy) in y.chunks(cols).zip(dy.chunks(cols)) {
        let inner: f64 = y.iter().zip(dy).map(|(y, g)| y * g).sum();
        dx.extend(y.iter().zip(dy).map(|(y, g)| y * (g - inner)));
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, dot, Rng};

    #[test]
    fn hand_values_and_overflow_safety() {
        // softmax(0, ln 2, ln 3) = (1, 2, 3)/6; a shift by 1000 must change nothing.
        let x = [0.0, 2f64.ln(), 3f64.ln(), 1000.0, 1000.0 + 2f64.ln(), 1000.0 + 3f64.ln()];
        let want = [1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0];
        let y = softmax(&x, 2, 3);
        // Tolerance 1e-15: exact up to rounding; the shifted row loses ~1e-13 of its logits.
        assert_all_close("row 0", &y[..3], &want, 1e-15);
        assert_all_close("row 1", &y[3..], &want, 1e-13);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(5);
        let (rows, cols) = (3, 5);
        let x: Vec<f64> = rng.vec(rows * cols).iter().map(|v| 4.0 * v).collect();
        let r = rng.vec(rows * cols);
        let y = softmax(&x, rows, cols);
        let numeric = central_diff_grad(|x| dot(&r, &softmax(x, rows, cols)), &x, 1e-6);
        // Tolerance 1e-8·scale: smooth, bounded second derivatives; error ≈ 1e-10.
        assert_grad_close("softmax", &softmax_backward(&y, &r, rows, cols), &numeric, 1e-8);
    }
}
