//! sum and mean along one axis, and column_sums: forward and backward against the f64
//! reference.

use grokgpu::gpu::Program;
use grokgpu::tensor::{ops::reduce, Tape, Tensor};
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::reduce as reference;

/// Shapes [R, …] whose axes are not multiples of any workgroup or tile; 513 and 1000
/// exceed one pass of 256 splits, 130 spans several 32-column tiles.
const SHAPES: &[&[usize]] =
    &[&[1, 1], &[3, 97], &[1, 1000], &[3, 1, 3], &[3, 113, 3], &[1, 3, 130], &[3, 97, 1, 130], &[1, 513, 1]];

/// ≤ 1000 f32 additions of O(1) terms (strided partial sums, then a tree over the
/// splits): measured ≤ 3.7e-7 of the largest output; 2e-6 leaves room for other inputs.
const TOL_SUM: f64 = 2e-6;
/// Broadcast: a copy for the sum; for the mean one multiply by the rounded 1/len
/// (two roundings ≤ 1.2e-7).
const TOL_BROADCAST: f64 = 2.5e-7;

fn check(what: &str, got: &[f64], want: &[f64], tol: f64) {
    eprintln!("{what}: {:.2e} (tol {tol:.1e})", rel_error(got, want));
    assert_close(what, got, want, tol);
}

/// Writes dy as the gradient of `t`, as a loss op would.
fn seed(tape: &mut Tape, t: Tensor, dy: &[f64]) {
    let (g, _) = tape.grad_target(t).unwrap();
    gpu().write(&g, &to_f32(dy));
}

/// Fills the gradient of `t` with NaN so a kernel that fails to overwrite it is caught.
fn poison(tape: &Tape, t: Tensor) {
    let g = tape.grad(t).unwrap();
    gpu().write(g, &vec![f32::NAN; g.len]);
}

#[test]
fn sum_and_mean_forward_backward() {
    let mut rng = Rng::new(11);
    for &shape in SHAPES {
        for axis in 1..shape.len() {
            for mean in [false, true] {
                let n: usize = shape.iter().product();
                let x = rng.vec(n, 1.0);
                let dy = rng.vec(n / shape[axis], 1.0);
                let mut tape = Tape::new(gpu());
                let tx = tape.param(upload(&x), shape);
                let y = if mean { reduce::mean(&mut tape, tx, axis) } else { reduce::sum(&mut tape, tx, axis) };
                seed(&mut tape, y, &dy);
                let back = tape.backward();
                poison(&tape, tx);
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let (want_y, want_dx) = if mean {
                    (reference::mean_axis(&x, shape, axis), reference::mean_axis_backward(&dy, shape, axis))
                } else {
                    (reference::sum_axis(&x, shape, axis), reference::sum_axis_backward(&dy, shape, axis))
                };
                let name = format!("{} {shape:?} axis {axis}", if mean { "mean" } else { "sum" });
                check(&format!("{name} forward"), &download(tape.buf(y)), &want_y, TOL_SUM);
                check(&format!("{name} backward"), &download(tape.grad(tx).unwrap()), &want_dx, TOL_BROADCAST);
            }
        }
    }
}

/// column_sums overwrites, then accumulates into what is there.
#[test]
fn column_sums_overwrite_and_accumulate() {
    let mut rng = Rng::new(12);
    for (batch, rows, cols) in [(1, 1, 1), (3, 97, 130), (1, 1000, 3), (3, 113, 512)] {
        let x = rng.vec(batch * rows * cols, 1.0);
        let before = rng.vec(batch * cols, 1.0);
        let (xb, out) = (upload(&x), upload(&before));
        let overwrite = reduce::column_sums(gpu(), &xb, batch, rows, cols, &out, false);
        let accumulate = reduce::column_sums(gpu(), &xb, batch, rows, cols, &out, true);
        let want = reference::sum_axis(&x, &[batch, rows, cols], 1);
        let mut program = Program::new();
        program.push(overwrite);
        gpu().run(&program);
        check(&format!("column_sums {batch}x{rows}x{cols}"), &download(&out), &want, TOL_SUM);
        let mut program = Program::new();
        program.push(accumulate);
        gpu().run(&program);
        let twice: Vec<f64> = want.iter().map(|w| 2.0 * w).collect();
        check(&format!("column_sums accumulate {batch}x{rows}x{cols}"), &download(&out), &twice, TOL_SUM);
    }
}

/// A tensor reduced twice receives both broadcasts (the accumulate path).
#[test]
fn gradient_of_reused_tensor_accumulates() {
    let mut rng = Rng::new(13);
    let shape = [3, 97, 5];
    let x = rng.vec(3 * 97 * 5, 1.0);
    let (dy1, dy2) = (rng.vec(3 * 5, 1.0), rng.vec(3 * 97, 1.0));
    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &shape);
    let s = reduce::sum(&mut tape, tx, 1);
    let m = reduce::mean(&mut tape, tx, 2);
    seed(&mut tape, s, &dy1);
    seed(&mut tape, m, &dy2);
    let back = tape.backward();
    poison(&tape, tx);
    gpu().run(&back);
    let a = reference::sum_axis_backward(&dy1, &shape, 1);
    let b = reference::mean_axis_backward(&dy2, &shape, 2);
    let want: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
    // One extra f32 addition on top of TOL_BROADCAST.
    check("reused dx", &download(tape.grad(tx).unwrap()), &want, 4e-7);
}
