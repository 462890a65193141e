//! Eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations (exact to
//! rounding, O(n³) per sweep; meant for n up to a few hundred, such as a Gram matrix of class
//! centroids).

use super::matrix::Matrix;

/// Sweeps stop once the off-diagonal mass is below this share of the total.
const OFF_DIAGONAL_TOLERANCE: f64 = 1e-24;
const MAX_SWEEPS: usize = 64;

/// Eigenvalues, descending, and their unit eigenvectors as the columns of an n×n matrix.
pub fn symmetric_eigen(a: &Matrix) -> (Vec<f64>, Matrix) {
    let n = a.rows;
    assert_eq!(a.cols, n, "symmetric_eigen: a square matrix");
    let mut m = a.data.clone();
    let mut v: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect();
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..MAX_SWEEPS {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| m[i * n + j].powi(2)).sum();
        if off <= OFF_DIAGONAL_TOLERANCE * total {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation that zeroes m[p][q] (Golub & Van Loan, symmetric Schur).
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let vectors = Matrix::from_fn(n, n, |r, c| v[r * n + order[c]]);
    (values, vectors)
}

/// The rows' coordinates in their top two principal directions, [rows, 2] (from the Gram
/// matrix of the centred rows, so the cost depends on the row count, not the width), and the
/// share of the variance that plane holds.
pub fn principal_plane(x: &Matrix) -> (Matrix, f64) {
    let n = x.rows;
    let mean = x.mean_row();
    let centred = Matrix::from_fn(n, x.cols, |r, c| x.at(r, c) - mean[c]);
    let gram = Matrix::from_fn(n, n, |i, j| centred.row(i).iter().zip(centred.row(j)).map(|(a, b)| a * b).sum());
    let (values, vectors) = symmetric_eigen(&gram);
    let total: f64 = values.iter().filter(|v| **v > 0.0).sum();
    let plane = Matrix::from_fn(n, 2.min(n), |r, c| vectors.at(r, c) * values[c].max(0.0).sqrt());
    let share = if total > 0.0 { values.iter().take(2).map(|v| v.max(0.0)).sum::<f64>() / total } else { 0.0 };
    (plane, share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;

    #[test]
    fn jacobi_reconstructs_a_random_symmetric_matrix() {
        let mut rng = Rng::new(4);
        let b = Matrix::from_fn(30, 30, |_, _| rng.normal());
        let a = Matrix::from_fn(30, 30, |i, j| b.at(i, j) + b.at(j, i));
        let (values, vectors) = symmetric_eigen(&a);
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
        // A = V·diag(λ)·Vᵀ and VᵀV = I, to 1e-10 of |A| (measured ~1e-14).
        for i in 0..30 {
            for j in 0..30 {
                let back: f64 = (0..30).map(|k| vectors.at(i, k) * values[k] * vectors.at(j, k)).sum();
                let dot: f64 = (0..30).map(|k| vectors.at(k, i) * vectors.at(k, j)).sum();
                assert!((back - a.at(i, j)).abs() < 1e-10, "A[{i}][{j}]");
                assert!((dot - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn the_principal_plane_of_a_tilted_circle_is_the_circle() {
        // A circle of radius 3 in the plane spanned by (1, 1, 0, 0)/√2 and (0, 0, 1, 0), plus a
        // small spread along the 4th axis: the plane holds all but that spread.
        let points = Matrix::from_fn(40, 4, |t, j| {
            let a = 2.0 * std::f64::consts::PI * t as f64 / 40.0;
            match j {
                0 | 1 => 3.0 * a.cos() / 2f64.sqrt(),
                2 => 3.0 * a.sin(),
                _ => 0.01 * if t % 2 == 0 { 1.0 } else { -1.0 },
            }
        });
        let (plane, share) = principal_plane(&points);
        assert!((share - 1.0).abs() < 1e-4, "{share}");
        for t in 0..40 {
            let r = (plane.at(t, 0).powi(2) + plane.at(t, 1).powi(2)).sqrt();
            assert!((r - 3.0).abs() < 1e-3, "radius {r} at {t}");
        }
    }
}
