//! softmax over the last axis: forward and backward against the f64 reference.

use grokgpu::tensor::{ops::softmax, Tape, Tensor};
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::softmax as reference;

/// Rows per run and row lengths that are not multiples of any workgroup; row lengths
/// cover 1 thread per row (1, 3) up to 128 threads per row (512).
const ROWS: &[usize] = &[1, 3, 97, 113];
const COLS: &[usize] = &[1, 3, 97, 128, 130, 512];

/// exp in f32 (a few ulp) and one division per element: measured ≤ 2.2e-7 (rows shifted
/// by up to ±100 included).
const TOL_FORWARD: f64 = 1e-6;
/// Backward error per unit of κ (see `backward_tolerance`); measured ≤ 4.2e-7 where κ ≤ 4.
const TOL_BACKWARD: f64 = 1e-6;
/// The bound for every op, whatever the conditioning.
const TOL_CAP: f64 = 1e-4;

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// dx = y·(dy − Σ y·dy) is computed with errors of order eps·max|y|·max|dy| (the dot and
/// the difference round at that scale), so relative to max|dx| they grow with
/// κ = max|y|·max|dy| / max|dx|, which is large when rows are nearly one-hot (κ ≈ 780
/// for the one peaked row of [1, 1, 3]; measured 8.2e-6 there). Tolerance
/// TOL_BACKWARD·κ, never below TOL_BACKWARD nor above TOL_CAP.
fn backward_tolerance(y: &[f64], dy: &[f64], want_dx: &[f64]) -> f64 {
    let kappa = max_abs(y) * max_abs(dy) / max_abs(want_dx);
    (TOL_BACKWARD * kappa.max(1.0)).min(TOL_CAP)
}

fn check(what: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    let err = rel_error(got, want);
    assert_close(what, got, want, tol);
    err
}

fn seed(tape: &mut Tape, t: Tensor, dy: &[f64]) {
    let (g, _) = tape.grad_target(t).unwrap();
    gpu().write(&g, &to_f32(dy));
}

fn poison(tape: &Tape, t: Tensor) {
    let g = tape.grad(t).unwrap();
    gpu().write(g, &vec![f32::NAN; g.len]);
}

/// Logits of O(8) spread on rows shifted by up to ±100, where an unshifted exp would
/// overflow f32.
fn logits(rng: &mut Rng, rows: usize, cols: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        let shift = 100.0 * rng.uniform();
        x.extend(rng.vec(cols, 8.0).iter().map(|v| (v + shift) as f32 as f64));
    }
    x
}

#[test]
fn softmax_forward_backward() {
    let mut rng = Rng::new(21);
    let (mut worst_y, mut worst_dx) = (0.0f64, 0.0f64);
    for runs in [1, 3] {
        for &rows in ROWS {
            for &cols in COLS {
                let total = runs * rows;
                let x = logits(&mut rng, total, cols);
                let dy = rng.vec(total * cols, 1.0);
                let mut tape = Tape::new(gpu());
                let tx = tape.param(upload(&x), &[runs, rows, cols]);
                let y = softmax::softmax(&mut tape, tx);
                seed(&mut tape, y, &dy);
                let back = tape.backward();
                poison(&tape, tx);
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let want_y = reference::softmax(&x, total, cols);
                let want_dx = reference::softmax_backward(&want_y, &dy, total, cols);
                let name = format!("softmax [{runs}, {rows}, {cols}]");
                worst_y = worst_y.max(check(&format!("{name} forward"), &download(tape.buf(y)), &want_y, TOL_FORWARD));
                let dx = download(tape.grad(tx).unwrap());
                let tol = backward_tolerance(&want_y, &dy, &want_dx);
                worst_dx = worst_dx.max(check(&format!("{name} backward"), &dx, &want_dx, tol));
            }
        }
    }
    eprintln!("softmax worst relative error: forward {worst_y:.2e}, backward {worst_dx:.2e}");
}

/// A tensor fed to two softmaxes receives both gradients (the accumulate path).
#[test]
fn gradient_of_reused_tensor_accumulates() {
    let mut rng = Rng::new(22);
    let (runs, rows, cols) = (3, 97, 130);
    let n = runs * rows * cols;
    let (x, dy1, dy2) = (logits(&mut rng, runs * rows, cols), rng.vec(n, 1.0), rng.vec(n, 1.0));
    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &[runs, rows, cols]);
    let y1 = softmax::softmax(&mut tape, tx);
    let y2 = softmax::softmax(&mut tape, tx);
    seed(&mut tape, y1, &dy1);
    seed(&mut tape, y2, &dy2);
    let back = tape.backward();
    poison(&tape, tx);
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let y = reference::softmax(&x, runs * rows, cols);
    let (a, b) = (
        reference::softmax_backward(&y, &dy1, runs * rows, cols),
        reference::softmax_backward(&y, &dy2, runs * rows, cols),
    );
    let want: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
    // κ ≈ 1.5 here (spread-out rows of 130), so the plain bound applies.
    let err = check("softmax reused dx", &download(tape.grad(tx).unwrap()), &want, TOL_BACKWARD);
    eprintln!("softmax reused dx: {err:.2e}");
}
