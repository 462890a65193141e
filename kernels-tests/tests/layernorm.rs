//! layernorm over the last axis with per-run γ, β: forward, dx, dγ and dβ against the
//! f64 reference.

use grokgpu::tensor::{ops::layernorm, Tape, Tensor};
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::layernorm as reference;

/// Rows per run and widths that are not multiples of any workgroup or tile; d = 1
/// normalizes to exactly 0 (y = β, dx = 0).
const ROWS: &[usize] = &[1, 3, 97, 113];
const DIMS: &[usize] = &[1, 3, 97, 128, 130, 512];

/// Two-pass, shifted mean and variance in f32 and a few roundings per element.
/// Measured: y ≤ 2.7e-7, dx ≤ 6.5e-7 (d = 3 rows with offsets up to 4× their spread),
/// dγ ≤ 1.9e-7, dβ ≤ 2.6e-7.
const TOL_Y: f64 = 1e-6;
const TOL_DX: f64 = 2e-6;
const TOL_DGAMMA: f64 = 1e-6;
const TOL_DBETA: f64 = 1e-6;

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

/// Rows of O(1) spread around offsets up to ±4, so the mean matters.
fn activations(rng: &mut Rng, rows: usize, dim: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let offset = 4.0 * rng.uniform();
        x.extend(rng.vec(dim, 1.0).iter().map(|v| (v + offset) as f32 as f64));
    }
    x
}

/// The reference applied run by run (each run has its own γ, β):
/// (y, dx, dγ, dβ) concatenated over runs.
fn reference_by_run(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    dy: &[f64],
    runs: usize,
    rows: usize,
    dim: usize,
) -> [Vec<f64>; 4] {
    let mut out: [Vec<f64>; 4] = Default::default();
    for r in 0..runs {
        let (xs, ys) = (&x[r * rows * dim..(r + 1) * rows * dim], &dy[r * rows * dim..(r + 1) * rows * dim]);
        let (g, b) = (&gamma[r * dim..(r + 1) * dim], &beta[r * dim..(r + 1) * dim]);
        let eps = layernorm::EPS as f64;
        let (y, _, _) = reference::layernorm_forward(xs, g, b, rows, dim, eps);
        let (dx, dg, db) = reference::layernorm_backward(xs, g, ys, rows, dim, eps);
        for (acc, part) in out.iter_mut().zip([y, dx, dg, db]) {
            acc.extend(part);
        }
    }
    out
}

#[test]
fn layernorm_forward_backward() {
    let mut rng = Rng::new(31);
    let mut worst = [0.0f64; 4];
    for runs in [1, 3] {
        for &rows in ROWS {
            for &dim in DIMS {
                let n = runs * rows * dim;
                let x = activations(&mut rng, runs * rows, dim);
                let gamma: Vec<f64> = rng.vec(runs * dim, 0.5).iter().map(|g| 1.0 + g).collect();
                let beta = rng.vec(runs * dim, 0.5);
                let dy = rng.vec(n, 1.0);
                let mut tape = Tape::new(gpu());
                let tx = tape.param(upload(&x), &[runs, rows, dim]);
                let tg = tape.param(upload(&gamma), &[runs, dim]);
                let tb = tape.param(upload(&beta), &[runs, dim]);
                let y = layernorm::layernorm(&mut tape, tx, tg, tb);
                seed(&mut tape, y, &dy);
                let back = tape.backward();
                assert_eq!(back.len(), 1, "dx, dγ and dβ come from one launch");
                for t in [tx, tg, tb] {
                    poison(&tape, t);
                }
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let want = reference_by_run(&x, &gamma, &beta, &dy, runs, rows, dim);
                let got = [
                    download(tape.buf(y)),
                    download(tape.grad(tx).unwrap()),
                    download(tape.grad(tg).unwrap()),
                    download(tape.grad(tb).unwrap()),
                ];
                let tols = [TOL_Y, TOL_DX, TOL_DGAMMA, TOL_DBETA];
                for (i, what) in ["y", "dx", "dgamma", "dbeta"].iter().enumerate() {
                    let err = check(&format!("layernorm [{runs}, {rows}, {dim}] {what}"), &got[i], &want[i], tols[i]);
                    worst[i] = worst[i].max(err);
                }
            }
        }
    }
    eprintln!(
        "layernorm worst relative error: y {:.2e}, dx {:.2e}, dgamma {:.2e}, dbeta {:.2e}",
        worst[0], worst[1], worst[2], worst[3]
    );
}

/// x, γ fed to two layernorms receive both gradients (the accumulate path); the second
/// β is a constant, so its column sums go to scratch while γ's accumulate.
#[test]
fn gradients_of_reused_inputs_accumulate() {
    let mut rng = Rng::new(32);
    let (runs, rows, dim) = (3, 97, 130);
    let n = runs * rows * dim;
    let x = activations(&mut rng, runs * rows, dim);
    let gamma: Vec<f64> = rng.vec(runs * dim, 0.5).iter().map(|g| 1.0 + g).collect();
    let (beta1, beta2) = (rng.vec(runs * dim, 0.5), rng.vec(runs * dim, 0.5));
    let (dy1, dy2) = (rng.vec(n, 1.0), rng.vec(n, 1.0));
    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &[runs, rows, dim]);
    let tg = tape.param(upload(&gamma), &[runs, dim]);
    let tb1 = tape.param(upload(&beta1), &[runs, dim]);
    let tb2 = tape.input(upload(&beta2), &[runs, dim]);
    let y1 = layernorm::layernorm(&mut tape, tx, tg, tb1);
    let y2 = layernorm::layernorm(&mut tape, tx, tg, tb2);
    seed(&mut tape, y1, &dy1);
    seed(&mut tape, y2, &dy2);
    let back = tape.backward();
    for t in [tx, tg, tb1] {
        poison(&tape, t);
    }
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let a = reference_by_run(&x, &gamma, &beta1, &dy1, runs, rows, dim);
    let b = reference_by_run(&x, &gamma, &beta2, &dy2, runs, rows, dim);
    let sum = |i: usize| -> Vec<f64> { a[i].iter().zip(&b[i]).map(|(a, b)| a + b).collect() };
    check("reused dx", &download(tape.grad(tx).unwrap()), &sum(1), TOL_DX);
    check("reused dgamma", &download(tape.grad(tg).unwrap()), &sum(2), TOL_DGAMMA);
    check("reused dbeta", &download(tape.grad(tb1).unwrap()), &a[3], TOL_DBETA);
}

/// γ, β and their gradients as slices of one flat parameter and one flat gradient
/// buffer, as the trainer lays them out: dγ and dβ are two writable bindings of the same
/// buffer in one dispatch.
#[test]
fn gradients_into_slices_of_one_flat_buffer() {
    use grokgpu::gpu::SLICE_ALIGN;
    let mut rng = Rng::new(33);
    let (runs, rows, dim) = (3, 113, 97);
    let x = activations(&mut rng, runs * rows, dim);
    let gamma: Vec<f64> = rng.vec(runs * dim, 0.5).iter().map(|g| 1.0 + g).collect();
    let beta = rng.vec(runs * dim, 0.5);
    let dy = rng.vec(runs * rows * dim, 1.0);
    let offset = (runs * dim).next_multiple_of(SLICE_ALIGN);
    let mut flat = gamma.clone();
    flat.resize(offset, 0.0);
    flat.extend(&beta);
    let (params, grads) = (upload(&flat), gpu().buffer("flat grads", flat.len()));
    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &[runs, rows, dim]);
    let tg = tape.param_with_grad(params.slice(0, runs * dim), grads.slice(0, runs * dim), &[runs, dim]);
    let tb = tape.param_with_grad(params.slice(offset, runs * dim), grads.slice(offset, runs * dim), &[runs, dim]);
    let y = layernorm::layernorm(&mut tape, tx, tg, tb);
    seed(&mut tape, y, &dy);
    let back = tape.backward();
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let want = reference_by_run(&x, &gamma, &beta, &dy, runs, rows, dim);
    check("flat y", &download(tape.buf(y)), &want[0], TOL_Y);
    check("flat dgamma", &download(tape.grad(tg).unwrap()), &want[2], TOL_DGAMMA);
    check("flat dbeta", &download(tape.grad(tb).unwrap()), &want[3], TOL_DBETA);
}

/// The one backward launch when only dx, or only dγ and dβ, are wanted (the other job's
/// workgroups are left out of the grid).
#[test]
fn either_job_alone() {
    let mut rng = Rng::new(34);
    let (runs, rows, dim) = (2, 113, 97);
    let x = activations(&mut rng, runs * rows, dim);
    let gamma: Vec<f64> = rng.vec(runs * dim, 0.5).iter().map(|g| 1.0 + g).collect();
    let beta = rng.vec(runs * dim, 0.5);
    let dy = rng.vec(runs * rows * dim, 1.0);
    let want = reference_by_run(&x, &gamma, &beta, &dy, runs, rows, dim);
    for x_trains in [true, false] {
        let mut tape = Tape::new(gpu());
        let (xb, gb, bb) = (upload(&x), upload(&gamma), upload(&beta));
        let tx = if x_trains { tape.param(xb, &[runs, rows, dim]) } else { tape.input(xb, &[runs, rows, dim]) };
        let (tg, tb) = if x_trains {
            (tape.input(gb, &[runs, dim]), tape.input(bb, &[runs, dim]))
        } else {
            (tape.param(gb, &[runs, dim]), tape.param(bb, &[runs, dim]))
        };
        let y = layernorm::layernorm(&mut tape, tx, tg, tb);
        seed(&mut tape, y, &dy);
        let back = tape.backward();
        assert_eq!(back.len(), 1);
        let trained: &[Tensor] = if x_trains { &[tx] } else { &[tg, tb] };
        for &t in trained {
            poison(&tape, t);
        }
        gpu().run(tape.forward_program());
        gpu().run(&back);
        if x_trains {
            check("dx alone", &download(tape.grad(tx).unwrap()), &want[1], TOL_DX);
            assert!(tape.grad(tg).is_none() && tape.grad(tb).is_none());
        } else {
            check("dgamma alone", &download(tape.grad(tg).unwrap()), &want[2], TOL_DGAMMA);
            check("dbeta alone", &download(tape.grad(tb).unwrap()), &want[3], TOL_DBETA);
            assert!(tape.grad(tx).is_none());
        }
    }
}

/// layernorm_at: the norm of one position of [R, N, T, d] equals select + layernorm; dx is
/// zero at the other positions when overwritten, and a second use of x adds onto it.
#[test]
fn layernorm_at_one_position() {
    let mut rng = Rng::new(35);
    let (runs, rows, positions, dim) = (2, 97, 3, 130);
    let x = activations(&mut rng, runs * rows * positions, dim);
    let gamma: Vec<f64> = rng.vec(runs * dim, 0.5).iter().map(|g| 1.0 + g).collect();
    let beta = rng.vec(runs * dim, 0.5);
    let (dy1, dy2) = (rng.vec(runs * rows * dim, 1.0), rng.vec(runs * rows * dim, 1.0));
    let at = |index: usize| -> Vec<f64> {
        (0..runs * rows).flat_map(|row| x[(row * positions + index) * dim..][..dim].to_vec()).collect()
    };
    let (first, second) = (2, 0);
    let a = reference_by_run(&at(first), &gamma, &beta, &dy1, runs, rows, dim);
    let b = reference_by_run(&at(second), &gamma, &beta, &dy2, runs, rows, dim);
    // Both contributions scattered to their positions of dx.
    let mut want_dx = vec![0.0; x.len()];
    for row in 0..runs * rows {
        for c in 0..dim {
            want_dx[(row * positions + first) * dim + c] += a[1][row * dim + c];
            want_dx[(row * positions + second) * dim + c] += b[1][row * dim + c];
        }
    }
    let sum = |i: usize| -> Vec<f64> { a[i].iter().zip(&b[i]).map(|(a, b)| a + b).collect() };

    let mut tape = Tape::new(gpu());
    let tx = tape.param(upload(&x), &[runs, rows, positions, dim]);
    let tg = tape.param(upload(&gamma), &[runs, dim]);
    let tb = tape.param(upload(&beta), &[runs, dim]);
    let y1 = layernorm::layernorm_at(&mut tape, tx, first, tg, tb);
    let y2 = layernorm::layernorm_at(&mut tape, tx, second, tg, tb);
    assert_eq!(tape.shape(y1), [runs, rows, dim]);
    seed(&mut tape, y1, &dy1);
    seed(&mut tape, y2, &dy2);
    let back = tape.backward();
    assert_eq!((tape.forward_program().len(), back.len()), (2, 2));
    for t in [tx, tg, tb] {
        poison(&tape, t);
    }
    gpu().run(tape.forward_program());
    gpu().run(&back);
    check("layernorm_at y", &download(tape.buf(y1)), &a[0], TOL_Y);
    check("layernorm_at dx", &download(tape.grad(tx).unwrap()), &want_dx, TOL_DX);
    check("layernorm_at dgamma", &download(tape.grad(tg).unwrap()), &sum(2), TOL_DGAMMA);
    check("layernorm_at dbeta", &download(tape.grad(tb).unwrap()), &sum(3), TOL_DBETA);
}
