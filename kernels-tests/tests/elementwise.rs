//! add, scale, relu, gelu: forward and backward against the f64 reference.

use grokgpu::gpu::Program;
use grokgpu::tensor::{ops::elementwise, Tape};
use grokgpu_kernels_tests::{assert_close, download, gpu, upload, Rng};

/// Sizes that are not multiples of any workgroup, with R > 1 as the leading axis.
const SHAPES: &[[usize; 2]] = &[[1, 1], [1, 3], [2, 97], [3, 113], [4, 130], [2, 1000]];

/// f32 arithmetic on O(1) inputs: one rounding per element.
const TOL_LINEAR: f64 = 1e-6;

#[test]
fn add_scaled_forward_backward() {
    let mut rng = Rng::new(1);
    for &[r, n] in SHAPES {
        let (a, b, dy) = (rng.vec(r * n, 2.0), rng.vec(r * n, 2.0), rng.vec(r * n, 1.0));
        let mut tape = Tape::new(gpu());
        let ta = tape.param(upload(&a), &[r, n]);
        let tb = tape.param(upload(&b), &[r, n]);
        let out = elementwise::add_scaled(&mut tape, ta, tb, -0.5);
        let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - 0.5 * y).collect();
        gpu().run(tape.forward_program());
        assert_close("add_scaled forward", &download(tape.buf(out)), &want, TOL_LINEAR);

        // Seed the output gradient by hand, as a loss op would.
        let (g, _) = tape.grad_target(out).unwrap();
        gpu().write(&g, &grokgpu_kernels_tests::to_f32(&dy));
        let back = tape.backward();
        gpu().run(&back);
        assert_close("add_scaled da", &download(tape.grad(ta).unwrap()), &dy, TOL_LINEAR);
        let want_db: Vec<f64> = dy.iter().map(|d| -0.5 * d).collect();
        assert_close("add_scaled db", &download(tape.grad(tb).unwrap()), &want_db, TOL_LINEAR);
    }
}

/// A tensor used twice receives the sum of both contributions (the accumulate path).
#[test]
fn gradient_of_reused_tensor_accumulates() {
    let mut rng = Rng::new(2);
    let (r, n) = (2, 97);
    let (a, dy) = (rng.vec(r * n, 1.0), rng.vec(r * n, 1.0));
    let mut tape = Tape::new(gpu());
    let ta = tape.param(upload(&a), &[r, n]);
    let twice = elementwise::add_scaled(&mut tape, ta, ta, 3.0);
    let (g, _) = tape.grad_target(twice).unwrap();
    gpu().write(&g, &grokgpu_kernels_tests::to_f32(&dy));
    let back = tape.backward();
    let mut all = Program::new();
    all.extend(tape.forward_program().clone());
    all.extend(back);
    gpu().run(&all);
    let want: Vec<f64> = dy.iter().map(|d| 4.0 * d).collect();
    assert_close("reused da", &download(tape.grad(ta).unwrap()), &want, TOL_LINEAR);
}

#[test]
fn relu_and_gelu_forward_backward() {
    let mut rng = Rng::new(3);
    for &[r, n] in SHAPES {
        let (x, dy) = (rng.vec(r * n, 4.0), rng.vec(r * n, 1.0));
        for gelu in [false, true] {
            let mut tape = Tape::new(gpu());
            let tx = tape.param(upload(&x), &[r, n]);
            let y = if gelu { elementwise::gelu(&mut tape, tx) } else { elementwise::relu(&mut tape, tx) };
            let (g, _) = tape.grad_target(y).unwrap();
            gpu().write(&g, &grokgpu_kernels_tests::to_f32(&dy));
            let back = tape.backward();
            gpu().run(tape.forward_program());
            gpu().run(&back);
            let (want_y, want_dx) = if gelu {
                (grokgpu_reference::elementwise::gelu(&x), grokgpu_reference::elementwise::gelu_backward(&x, &dy))
            } else {
                (grokgpu_reference::elementwise::relu(&x), grokgpu_reference::elementwise::relu_backward(&x, &dy))
            };
            // gelu: erfc with 1.2e-7 fractional error and f32 exp give ≤ 1.1e-6 relative per
            // element on [-4, 4] (measured); relu is exact.
            let tol = if gelu { 2e-6 } else { 0.0 };
            let name = if gelu { "gelu" } else { "relu" };
            assert_close(&format!("{name} forward {r}x{n}"), &download(tape.buf(y)), &want_y, tol);
            assert_close(&format!("{name} backward {r}x{n}"), &download(tape.grad(tx).unwrap()), &want_dx, tol.max(2e-6));
        }
    }
}
