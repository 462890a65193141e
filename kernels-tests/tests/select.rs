//! select (one index along an axis): forward and backward against a local f64
//! reference (the reference crate has no select: it is two loops).

use grokgpu::tensor::{ops::select, Tape, Tensor};
use grokgpu_kernels_tests::{assert_close, download, gpu, to_f32, upload, Rng};

/// [R, N, T, d] shapes with sizes that are not multiples of any workgroup.
const SHAPES: &[[usize; 4]] = &[[1, 1, 1, 1], [3, 97, 4, 3], [1, 113, 4, 130], [3, 3, 1, 97]];

/// Forward and backward move values without arithmetic.
const TOL_COPY: f64 = 0.0;

/// (outer, len, inner) around `axis`.
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

fn select_ref(x: &[f64], shape: &[usize], axis: usize, index: usize) -> Vec<f64> {
    let (outer, len, inner) = split(shape, axis);
    (0..outer * inner).map(|e| x[((e / inner) * len + index) * inner + e % inner]).collect()
}

fn select_backward_ref(dy: &[f64], shape: &[usize], axis: usize, index: usize) -> Vec<f64> {
    let (outer, len, inner) = split(shape, axis);
    let mut dx = vec![0.0; outer * len * inner];
    for (e, g) in dy.iter().enumerate() {
        dx[((e / inner) * len + index) * inner + e % inner] = *g;
    }
    dx
}

fn seed(tape: &mut Tape, t: Tensor, dy: &[f64]) {
    let (g, _) = tape.grad_target(t).unwrap();
    gpu().write(&g, &to_f32(dy));
}

fn poison(tape: &Tape, t: Tensor) {
    let g = tape.grad(t).unwrap();
    gpu().write(g, &vec![f32::NAN; g.len]);
}

#[test]
fn select_forward_backward() {
    let mut rng = Rng::new(51);
    for shape in SHAPES {
        for axis in 1..4 {
            for index in [0, shape[axis] / 2, shape[axis] - 1] {
                let n: usize = shape.iter().product();
                let x = rng.vec(n, 1.0);
                let dy = rng.vec(n / shape[axis], 1.0);
                let mut tape = Tape::new(gpu());
                let tx = tape.param(upload(&x), shape);
                let y = select::select(&mut tape, tx, axis, index);
                seed(&mut tape, y, &dy);
                let back = tape.backward();
                // NaN everywhere: the unselected positions must be overwritten with 0.
                poison(&tape, tx);
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let name = format!("select {shape:?} axis {axis} index {index}");
                assert_close(
                    &format!("{name} forward"),
                    &download(tape.buf(y)),
                    &select_ref(&x, shape, axis, index),
                    TOL_COPY,
                );
                let want_dx = select_backward_ref(&dy, shape, axis, index);
                assert_close(&format!("{name} backward"), &download(tape.grad(tx).unwrap()), &want_dx, TOL_COPY);
            }
        }
    }
}

/// Three selections from one tensor, two at the same index: dx is the sum of all three
/// scatters (the accumulate path leaves other positions alone).
#[test]
fn gradient_of_reused_tensor_accumulates() {
    let mut rng = Rng::new(52);
    let shape = [3, 97, 4, 130];
    let n: usize = shape.iter().product();
    let x = rng.vec(n, 1.0);
    let dys: Vec<Vec<f64>> = (0..3).map(|_| rng.vec(n / 4, 1.0)).collect();
    let indices = [3, 0, 3];
    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &shape);
    let outs: Vec<Tensor> = indices.iter().map(|&i| select::select(&mut tape, tx, 2, i)).collect();
    for (out, dy) in outs.iter().zip(&dys) {
        seed(&mut tape, *out, dy);
    }
    let back = tape.backward();
    poison(&tape, tx);
    gpu().run(&back);
    let mut want = vec![0.0; n];
    for (&i, dy) in indices.iter().zip(&dys) {
        for (w, g) in want.iter_mut().zip(select_backward_ref(dy, &shape, 2, i)) {
            *w += g;
        }
    }
    // Index 3 receives two f32 additions: one rounding, ≤ 2⁻²⁴ of max|dx|.
    assert_close("select reused dx", &download(tape.grad(tx).unwrap()), &want, 6e-8);
}
