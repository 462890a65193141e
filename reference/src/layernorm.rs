//! LayerNorm over the last axis with biased variance (PyTorch's `nn.LayerNorm`).

/// y = (x − mean)·rstd·γ + β per row, rstd = 1/sqrt(var + eps), var the biased (1/dim) variance.
/// x [rows, dim], γ, β [dim] → (y [rows, dim], mean [rows], rstd [rows]).
pub fn layernorm_forward(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    rows: usize,
    dim: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    assert_eq!(x.len(), rows * dim, "layernorm_forward: x must be [rows, dim]");
    assert_eq!(gamma.len(), dim, "layernorm_forward: gamma must be [dim]");
    assert_eq!(beta.len(), dim, "layernorm_forward: beta must be [dim]");
    let (mut y, mut means, mut rstds) = (Vec::with_capacity(x.len()), vec![], vec![]);
    for row in x.chunks(dim) {
        let mean = row.iter().sum::<f64>() / dim as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / dim as f64;
        let rstd = 1.0 / (var + eps).sqrt();
        y.extend((0..dim).map(|j| (row[j] - mean) * rstd * gamma[j] + beta[j]));
        means.push(mean);
        rstds.push(rstd);
    }
    (y, means, rstds)
}

/// Backward of [`layernorm_forward`], recomputing mean and rstd from x.
/// With x̂ = (x − mean)·rstd and g = dy·γ: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
/// dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
/// x, dy [rows, dim], γ [dim] → (dx [rows, dim], dγ [dim], dβ [dim]).
pub fn layernorm_backward(
    x: &[f64],
    gamma: &[f64],
    dy: &[f64],
    rows: usize,
    dim: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    assert_eq!(dy.len(), rows * dim, "layernorm_backward: dy must be [rows, dim]");
    let zeros = vec![0.0; dim];
    let (_, means, rstds) = layernorm_forward(x, gamma, &zeros, rows, dim, eps);
    let (mut dx, mut dgamma, mut dbeta) = (Vec::with_capacity(x.len()), vec![0.0; dim], vec![0.0; dim]);
    for r in 0..rows {
        let (row, dy) = (&x[r * dim..(r + 1) * dim], &dy[r * dim..(r + 1) * dim]);
        let xhat: Vec<f64> = row.iter().map(|v| (v - means[r]) * rstds[r]).collect();
        let g: Vec<f64> = dy.iter().zip(gamma).map(|(d, w)| d * w).collect();
        let mean_g = g.iter().sum::<f64>() / dim as f64;
        let mean_gx = g.iter().zip(&xhat).map(|(g, x)| g * x).sum::<f64>() / dim as f64;
        dx.extend((0..dim).map(|j| rstds[r] * (g[j] - mean_g - xhat[j] * mean_gx)));
        for j in 0..dim {
            dgamma[j] += dy[j] * xhat[j];
            dbeta[j] += dy[j];
        }
    }
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, dot, Rng};

    #[test]
    fn hand_example() {
        // Row (1, 2, 3, 6): mean 3, biased var (4 + 1 + 0 + 9)/4 = 3.5; eps = 0 gives
        // y = (−2, −1, 0, 3)/√3.5, then γ = 2, β = 1 maps it to 2y + 1.
        let (y, mean, rstd) = layernorm_forward(&[1.0, 2.0, 3.0, 6.0], &[2.0; 4], &[1.0; 4], 1, 4, 0.0);
        let s = 3.5f64.sqrt();
        let want = [1.0 - 4.0 / s, 1.0 - 2.0 / s, 1.0, 1.0 + 6.0 / s];
        assert_all_close("y", &y, &want, 1e-15);
        assert_eq!(mean, vec![3.0]);
        assert!((rstd[0] - 1.0 / s).abs() < 1e-15);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(6);
        let (rows, dim, eps) = (3, 6, 1e-5);
        let (x, gamma, beta, r) = (rng.vec(rows * dim), rng.vec(dim), rng.vec(dim), rng.vec(rows * dim));
        let (dx, dgamma, dbeta) = layernorm_backward(&x, &gamma, &r, rows, dim, eps);
        let loss = |x: &[f64], g: &[f64], b: &[f64]| dot(&r, &layernorm_forward(x, g, b, rows, dim, eps).0);
        let h = 1e-6;
        // Tolerance 1e-7·scale: rstd of a row of U(−1, 1) values is ~2, so third derivatives
        // reach ~10 and rounding ~1e-10; a wrong term would be off by O(1).
        assert_grad_close("dx", &dx, &central_diff_grad(|x| loss(x, &gamma, &beta), &x, h), 1e-7);
        assert_grad_close("dgamma", &dgamma, &central_diff_grad(|g| loss(&x, g, &beta), &gamma, h), 1e-7);
        assert_grad_close("dbeta", &dbeta, &central_diff_grad(|b| loss(&x, &gamma, b), &beta, h), 1e-7);
    }
}
