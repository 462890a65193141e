//! Sum and mean over one axis of a row-major tensor, and their backwards (a broadcast).

/// Splits `shape` around `axis` into (outer, len, inner): the element at (o, a, i) sits at
/// (o·len + a)·inner + i.
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    assert!(axis < shape.len(), "axis {axis} out of range for shape {shape:?}");
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// Σ over `axis`. x of `shape` → `shape` with `axis` removed (row-major).
pub fn sum_axis(x: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
    let (outer, len, inner) = split(shape, axis);
    assert_eq!(x.len(), outer * len * inner, "sum_axis: x does not match shape");
    let mut y = vec![0.0; outer * inner];
    for o in 0..outer {
        for a in 0..len {
            for i in 0..inner {
                y[o * inner + i] += x[(o * len + a) * inner + i];
            }
        }
    }
    y
}

/// Backward of [`sum_axis`]: every input element receives the dy of its output, so dy (the
/// reduced shape) is broadcast back along `axis` → dx of `shape`.
pub fn sum_axis_backward(dy: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
    let (outer, len, inner) = split(shape, axis);
    assert_eq!(dy.len(), outer * inner, "sum_axis_backward: dy does not match the reduced shape");
    let mut dx = vec![0.0; outer * len * inner];
    for o in 0..outer {
        for a in 0..len {
            for i in 0..inner {
                dx[(o * len + a) * inner + i] = dy[o * inner + i];
            }
        }
    }
    dx
}

/// Mean over `axis`. x of `shape` → `shape` with `axis` removed.
pub fn mean_axis(x: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
    let len = shape[axis] as f64;
    sum_axis(x, shape, axis).into_iter().map(|s| s / len).collect()
}

/// Backward of [`mean_axis`]: the sum's broadcast divided by the axis length.
/// dy (reduced shape) → dx of `shape`.
pub fn mean_axis_backward(dy: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
    let len = shape[axis] as f64;
    sum_axis_backward(dy, shape, axis).into_iter().map(|g| g / len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_grad_close, dot, Rng};

    #[test]
    fn sums_of_a_hand_tensor() {
        // x[a][b][c] = 100a + 10b + c with shape [2, 3, 2].
        let shape = [2, 3, 2];
        let x: Vec<f64> = (0..2)
            .flat_map(|a| (0..3).flat_map(move |b| (0..2).map(move |c| (100 * a + 10 * b + c) as f64)))
            .collect();
        assert_eq!(sum_axis(&x, &shape, 0), vec![100., 102., 120., 122., 140., 142.]);
        assert_eq!(sum_axis(&x, &shape, 1), vec![30., 33., 330., 333.]);
        assert_eq!(sum_axis(&x, &shape, 2), vec![1., 21., 41., 201., 221., 241.]);
        assert_eq!(mean_axis(&x, &shape, 1), vec![10., 11., 110., 111.]);
    }

    #[test]
    fn backwards_match_finite_differences() {
        let mut rng = Rng::new(4);
        let shape = [3, 4, 2];
        let x = rng.vec(24);
        for axis in 0..3 {
            let r = rng.vec(24 / shape[axis]);
            // Tolerance 1e-8·scale: linear functions, only rounding error.
            let numeric = central_diff_grad(|x| dot(&r, &sum_axis(x, &shape, axis)), &x, 1e-6);
            assert_grad_close("sum", &sum_axis_backward(&r, &shape, axis), &numeric, 1e-8);
            let numeric = central_diff_grad(|x| dot(&r, &mean_axis(x, &shape, axis)), &x, 1e-6);
            assert_grad_close("mean", &mean_axis_backward(&r, &shape, axis), &numeric, 1e-8);
        }
    }
}
