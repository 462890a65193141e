//! Central finite differences: the independent check of every analytic gradient in this crate.

/// Gradient of the scalar function `f` at `x` (length n) by central differences,
/// g_i = (f(x + h·e_i) − f(x − h·e_i)) / 2h; returns length n.
/// The truncation error is O(h²·f''') and the rounding error O(ε·|f| / h), so h ≈ 1e-6 leaves
/// about 1e-10 of error for functions of unit scale in f64.
pub fn central_diff_grad(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            probe[i] = x[i] + h;
            let plus = f(&probe);
            probe[i] = x[i] - h;
            let minus = f(&probe);
            probe[i] = x[i];
            (plus - minus) / (2.0 * h)
        })
        .collect()
}

/// Largest |a_i − b_i| over two equal-length slices (0 for empty slices).
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "max_abs_diff: lengths differ");
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_of_a_known_function() {
        // f(x) = x0³ + sin(x0·x1): ∇f = (3x0² + x1·cos(x0·x1), x0·cos(x0·x1)).
        let f = |x: &[f64]| x[0].powi(3) + (x[0] * x[1]).sin();
        let x = [0.7, -1.3];
        let g = central_diff_grad(f, &x, 1e-6);
        let c = (x[0] * x[1]).cos();
        let want = [3.0 * x[0] * x[0] + x[1] * c, x[0] * c];
        // Tolerance: truncation h²·f'''/6 ≈ 1e-12 plus rounding ≈ 1e-10.
        assert!(max_abs_diff(&g, &want) < 1e-8, "{g:?} vs {want:?}");
    }

    #[test]
    fn max_abs_diff_finds_the_largest_gap() {
        assert_eq!(max_abs_diff(&[1.0, 2.0, 3.0], &[1.5, 2.0, 1.0]), 2.0);
    }
}
