//! Batched matrix products in the three layouts the GPU kernels provide (A·B, Aᵀ·B, A·Bᵀ), so
//! that no backward pass needs a transpose, and the PyTorch-style linear layer built on them.

/// C = A·B per batch. A [batch, m, k], B [batch, k, n] → C [batch, m, n].
pub fn matmul(a: &[f64], b: &[f64], batch: usize, m: usize, k: usize, n: usize) -> Vec<f64> {
    assert_eq!(a.len(), batch * m * k, "matmul: A must be [batch, m, k]");
    assert_eq!(b.len(), batch * k * n, "matmul: B must be [batch, k, n]");
    let mut c = vec![0.0; batch * m * n];
    for z in 0..batch {
        let (a, b) = (&a[z * m * k..], &b[z * k * n..]);
        for i in 0..m {
            for j in 0..n {
                c[(z * m + i) * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
    }
    c
}

/// C = Aᵀ·B per batch. A [batch, k, m], B [batch, k, n] → C [batch, m, n].
pub fn matmul_at_b(a: &[f64], b: &[f64], batch: usize, m: usize, k: usize, n: usize) -> Vec<f64> {
    assert_eq!(
        a.len(),
        batch * k * m,
        "matmul_at_b: A must be [batch, k, m]"
    );
    assert_eq!(
        b.len(),
        batch * k * n,
        "matmul_at_b: B must be [batch, k, n]"
    );
    let mut c = vec![0.0; batch * m * n];
    for z in 0..batch {
        let (a, b) = (&a[z * k * m..], &b[z * k * n..]);
        for i in 0..m {
            for j in 0..n {
                c[(z * m + i) * n + j] = (0..k).map(|l| a[l * m + i] * b[l * n + j]).sum();
            }
        }
    }
    c
}

/// C = A·Bᵀ per batch. A [batch, m, k], B [batch, n, k] → C [batch, m, n].
pub fn matmul_a_bt(a: &[f64], b: &[f64], batch: usize, m: usize, k: usize, n: usize) -> Vec<f64> {
    assert_eq!(
        a.len(),
        batch * m * k,
        "matmul_a_bt: A must be [batch, m, k]"
    );
    assert_eq!(
        b.len(),
        batch * n * k,
        "matmul_a_bt: B must be [batch, n, k]"
    );
    let mut c = vec![0.0; batch * m * n];
    for z in 0..batch {
        let (a, b) = (&a[z * m * k..], &b[z * n * k..]);
        for i in 0..m {
            for j in 0..n {
                c[(z * m + i) * n + j] = (0..k).map(|l| a[i * k + l] * b[j * k + l]).sum();
            }
        }
    }
    c
}

/// PyTorch `Linear`: y = x·Wᵀ + b. x [rows, in_dim], W [out_dim, in_dim], b [out_dim]
/// → y [rows, out_dim].
pub fn linear_forward(
    x: &[f64],
    w: &[f64],
    bias: Option<&[f64]>,
    rows: usize,
    in_dim: usize,
    out_dim: usize,
) -> Vec<f64> {
    let mut y = matmul_a_bt(x, w, 1, rows, in_dim, out_dim);
    if let Some(b) = bias {
        assert_eq!(b.len(), out_dim, "linear_forward: bias must be [out_dim]");
        for row in y.chunks_mut(out_dim) {
            row.iter_mut().zip(b).for_each(|(y, b)| *y += b);
        }
    }
    y
}

/// Backward of [`linear_forward`]. x [rows, in_dim], W [out_dim, in_dim], dy [rows, out_dim]
/// → (dx = dy·W [rows, in_dim], dW = dyᵀ·x [out_dim, in_dim], db = Σ_rows dy [out_dim]).
/// db is returned whether or not the layer has a bias; a bias-free caller ignores it.
pub fn linear_backward(
    x: &[f64],
    w: &[f64],
    dy: &[f64],
    rows: usize,
    in_dim: usize,
    out_dim: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let dx = matmul(dy, w, 1, rows, out_dim, in_dim);
    let dw = matmul_at_b(dy, x, 1, out_dim, rows, in_dim);
    let mut db = vec![0.0; out_dim];
    for row in dy.chunks(out_dim) {
        db.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, dot, Rng};

    /// Transposes each [rows, cols] matrix of a batch.
    fn transpose(x: &[f64], batch: usize, rows: usize, cols: usize) -> Vec<f64> {
        let mut t = vec![0.0; x.len()];
        for z in 0..batch {
            for i in 0..rows {
                for j in 0..cols {
                    t[(z * cols + j) * rows + i] = x[(z * rows + i) * cols + j];
                }
            }
        }
        t
    }

    #[test]
    fn matmul_hand_example() {
        // [[1,2,3],[4,5,6]] · [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]; second batch = 2·first.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
        let b = [
            7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        ];
        let c = matmul(&a, &b, 2, 2, 3, 2);
        assert_eq!(
            c,
            vec![58.0, 64.0, 139.0, 154.0, 116.0, 128.0, 278.0, 308.0]
        );
    }

    #[test]
    fn transposed_variants_match_explicit_transposes() {
        let mut rng = Rng::new(1);
        let (batch, m, k, n) = (3, 4, 5, 2);
        let a = rng.vec(batch * m * k);
        let b = rng.vec(batch * k * n);
        let want = matmul(&a, &b, batch, m, k, n);
        let at = transpose(&a, batch, m, k);
        let bt = transpose(&b, batch, k, n);
        // Same products summed in the same order: equal up to rounding (1e-14).
        assert_all_close("AᵀB", &matmul_at_b(&at, &b, batch, m, k, n), &want, 1e-14);
        assert_all_close("ABᵀ", &matmul_a_bt(&a, &bt, batch, m, k, n), &want, 1e-14);
    }

    #[test]
    fn linear_forward_hand_example() {
        // x = [1, 2], W = [[1, 0], [3, -1], [0.5, 0.5]], b = [0, 1, -1] → [1, 2, 0.5].
        let y = linear_forward(
            &[1.0, 2.0],
            &[1.0, 0.0, 3.0, -1.0, 0.5, 0.5],
            Some(&[0.0, 1.0, -1.0]),
            1,
            2,
            3,
        );
        assert_eq!(y, vec![1.0, 2.0, 0.5]);
    }

    #[test]
    fn linear_backward_matches_finite_differences() {
        let mut rng = Rng::new(2);
        let (rows, i, o) = (3, 4, 5);
        let (x, w, b, r) = (
            rng.vec(rows * i),
            rng.vec(o * i),
            rng.vec(o),
            rng.vec(rows * o),
        );
        let (dx, dw, db) = linear_backward(&x, &w, &r, rows, i, o);
        let loss =
            |x: &[f64], w: &[f64], b: &[f64]| dot(&r, &linear_forward(x, w, Some(b), rows, i, o));
        let h = 1e-6;
        // Tolerance 1e-8·scale: the loss is bilinear, so only rounding (~1e-10) remains.
        assert_grad_close(
            "dx",
            &dx,
            &central_diff_grad(|x| loss(x, &w, &b), &x, h),
            1e-8,
        );
        assert_grad_close(
            "dw",
            &dw,
            &central_diff_grad(|w| loss(&x, w, &b), &w, h),
            1e-8,
        );
        assert_grad_close(
            "db",
            &db,
            &central_diff_grad(|b| loss(&x, &w, b), &b, h),
            1e-8,
        );
    }
}
