//! Fused softmax / stablemax cross-entropy: per-row loss, dlogits, correct flags and the
//! per-run mean metrics against the f64 reference.

use grokgpu::gpu::Program;
use grokgpu::tensor::ops::cross_entropy::{cross_entropy_with, loss_metrics, LossKind, XentKernel};
use grokgpu::tensor::Tape;
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::cross_entropy::{self as reference, Loss};

const CLASSES: &[usize] = &[1, 3, 97, 113];
const ROWS: &[usize] = &[1, 5, 130];
const RUNS: &[usize] = &[1, 3];
const KINDS: &[(LossKind, Loss)] = &[(LossKind::Ce, Loss::Ce), (LossKind::Stablemax, Loss::Stablemax)];

/// f32 exp/log and a 64-wide tree sum over ≤ 113 terms: a few ulps of the row's scale
/// (measured 1.3e-7 on lavapipe; the margin is for GPUs' less exact exp/log).
const TOL_LOSS: f64 = 1e-6;
/// dlogits = (p − onehot)/N: the probabilities carry the same few-ulp error (measured 1.4e-7).
const TOL_DLOGITS: f64 = 1e-6;
/// Mean of ≤ 130 f32 row losses, sequential strided sums then a tree (measured 1.6e-7).
const TOL_MEAN: f64 = 1e-6;

/// What the reference says about one run: per-row losses, dlogits, correct flags, means.
struct Expected {
    loss_rows: Vec<f64>,
    dlogits: Vec<f64>,
    correct: Vec<u32>,
    mean_loss: f64,
    accuracy: f64,
}

/// The reference over the first `valid` rows of one run of `rows` rows; padding rows
/// get zero loss, zero gradient and count as not correct.
fn expected(kind: Loss, logits: &[f64], targets: &[u32], rows: usize, valid: usize, classes: usize) -> Expected {
    let (x, t) = (&logits[..valid * classes], &targets[..valid]);
    let mut loss_rows = reference::loss_rows(kind, x, t, valid, classes);
    let (mean_loss, mut dlogits) = if valid == 0 { (0.0, vec![]) } else { reference::loss_and_dlogits(kind, x, t, valid, classes) };
    let mut correct: Vec<u32> = reference::argmax_rows(x, valid, classes).iter().zip(t).map(|(a, b)| (a == b) as u32).collect();
    let accuracy = correct.iter().sum::<u32>() as f64 / valid.max(1) as f64;
    loss_rows.resize(rows, 0.0);
    dlogits.resize(rows * classes, 0.0);
    correct.resize(rows, 0);
    Expected { loss_rows, dlogits, correct, mean_loss, accuracy }
}

#[test]
fn loss_gradient_and_metrics_match_reference() {
    let mut rng = Rng::new(11);
    let mut worst = [0.0f64; 4];
    for (&(kind, ref_kind), spread) in KINDS.iter().flat_map(|k| XentKernel::ALL.map(|s| (k, s))) {
        for &classes in CLASSES {
            for &rows in ROWS {
                for &runs in RUNS {
                    let logits = rng.vec(runs * rows * classes, 4.0);
                    let targets = rng.indices(runs * rows, classes as u32);
                    let mut tape = Tape::new(gpu());
                    let tl = tape.param(upload(&logits), &[runs, rows, classes]);
                    let tt = tape.input(gpu().buffer_from("targets", &targets), &[runs, rows]);
                    let ce = cross_entropy_with(&mut tape, tl, tt, kind, None, spread);
                    let metrics = loss_metrics(&mut tape, &ce);
                    gpu().run(tape.forward_program());

                    let (got_loss, got_d) = (download(tape.buf(ce.loss_rows)), download(tape.grad(tl).unwrap()));
                    let (got_correct, got_metrics) = (gpu().read_u32(&ce.correct_rows), download(tape.buf(metrics)));
                    let case = format!("{kind:?} {spread:?} R={runs} N={rows} C={classes}");
                    for r in 0..runs {
                        let row_range = r * rows..(r + 1) * rows;
                        let logit_range = r * rows * classes..(r + 1) * rows * classes;
                        let want = expected(ref_kind, &logits[logit_range.clone()], &targets[row_range.clone()], rows, rows, classes);
                        let errs = [
                            rel_error(&got_loss[row_range.clone()], &want.loss_rows),
                            rel_error(&got_d[logit_range.clone()], &want.dlogits),
                            rel_error(&[got_metrics[2 * r]], &[want.mean_loss]),
                        ];
                        assert_close(&format!("{case} run {r} loss rows"), &got_loss[row_range.clone()], &want.loss_rows, TOL_LOSS);
                        assert_close(&format!("{case} run {r} dlogits"), &got_d[logit_range], &want.dlogits, TOL_DLOGITS);
                        assert_close(&format!("{case} run {r} mean loss"), &[got_metrics[2 * r]], &[want.mean_loss], TOL_MEAN);
                        assert_eq!(got_correct[row_range], want.correct[..], "{case} run {r} correct rows");
                        // Accuracy is an integer count divided once: one rounding.
                        assert_close(&format!("{case} run {r} accuracy"), &[got_metrics[2 * r + 1]], &[want.accuracy], 1e-7);
                        for (w, e) in worst.iter_mut().zip(errs) {
                            *w = w.max(e);
                        }
                    }
                }
            }
        }
    }
    println!("worst relative errors: loss rows {:.2e}, dlogits {:.2e}, mean loss {:.2e}", worst[0], worst[1], worst[2]);
}

/// Rows past each run's `valid_rows` count are padding: no loss, no gradient, not in the
/// mean. Also the evaluation path, where the logits need no gradient.
#[test]
fn padding_rows_are_excluded_from_loss_and_metrics() {
    let mut rng = Rng::new(12);
    let (runs, rows, classes) = (3, 130, 97);
    let valid: [u32; 3] = [97, 130, 1];
    for &(kind, ref_kind) in KINDS {
        let logits = rng.vec(runs * rows * classes, 3.0);
        let targets = rng.indices(runs * rows, classes as u32);
        for (needs_grad, spread) in [true, false].into_iter().flat_map(|g| XentKernel::ALL.map(|s| (g, s))) {
            let mut tape = Tape::new(gpu());
            let tl = if needs_grad {
                tape.param(upload(&logits), &[runs, rows, classes])
            } else {
                tape.input(upload(&logits), &[runs, rows, classes])
            };
            let tt = tape.input(gpu().buffer_from("targets", &targets), &[runs, rows]);
            let valid_buf = gpu().buffer_from("valid rows", &valid);
            let ce = cross_entropy_with(&mut tape, tl, tt, kind, Some(&valid_buf), spread);
            let metrics = loss_metrics(&mut tape, &ce);
            gpu().run(tape.forward_program());
            let got_loss = download(tape.buf(ce.loss_rows));
            let got_metrics = download(tape.buf(metrics));
            let got_correct = gpu().read_u32(&ce.correct_rows);
            let got_d = needs_grad.then(|| download(tape.grad(tl).unwrap()));
            for r in 0..runs {
                let case = format!("{kind:?} run {r} valid {} grad {needs_grad}", valid[r]);
                let row_range = r * rows..(r + 1) * rows;
                let logit_range = r * rows * classes..(r + 1) * rows * classes;
                let want = expected(ref_kind, &logits[logit_range.clone()], &targets[row_range.clone()], rows, valid[r] as usize, classes);
                assert_close(&format!("{case} loss rows"), &got_loss[row_range.clone()], &want.loss_rows, TOL_LOSS);
                assert_eq!(got_correct[row_range], want.correct[..], "{case} correct rows");
                assert_close(&format!("{case} mean loss"), &[got_metrics[2 * r]], &[want.mean_loss], TOL_MEAN);
                assert_close(&format!("{case} accuracy"), &[got_metrics[2 * r + 1]], &[want.accuracy], 1e-7);
                if let Some(d) = &got_d {
                    assert_close(&format!("{case} dlogits"), &d[logit_range], &want.dlogits, TOL_DLOGITS);
                }
            }
        }
    }
}

/// When the logits already hold a gradient contribution, the loss adds to it.
#[test]
fn dlogits_accumulate_into_an_existing_gradient() {
    for spread in XentKernel::ALL {
        let mut rng = Rng::new(13);
        let (runs, rows, classes) = (2, 5, 113);
        let logits = rng.vec(runs * rows * classes, 4.0);
        let prior = rng.vec(runs * rows * classes, 0.1);
        let targets = rng.indices(runs * rows, classes as u32);
        let mut tape = Tape::new(gpu());
        let tl = tape.param(upload(&logits), &[runs, rows, classes]);
        let (grad, accumulate) = tape.grad_target(tl).unwrap();
        assert!(!accumulate);
        gpu().write(&grad, &to_f32(&prior));
        let tt = tape.input(gpu().buffer_from("targets", &targets), &[runs, rows]);
        cross_entropy_with(&mut tape, tl, tt, LossKind::Ce, None, spread);
        gpu().run(tape.forward_program());
        let mut want = Vec::new();
        for r in 0..runs {
            let range = r * rows * classes..(r + 1) * rows * classes;
            let (_, d) = reference::softmax_xent(&logits[range.clone()], &targets[r * rows..(r + 1) * rows], rows, classes);
            want.extend(d.iter().zip(&prior[range]).map(|(d, p)| d + p));
        }
        assert_close("accumulated dlogits", &download(tape.grad(tl).unwrap()), &want, TOL_DLOGITS);
    }
}

/// Argmax ties go to the lowest index (torch.argmax), which decides accuracy.
#[test]
fn argmax_ties_go_to_the_lowest_index() {
    for spread in XentKernel::ALL {
        let classes = 97;
        // Row 0: the max 2.0 at columns 90 and 7; row 1: at 3 and 96; row 2: all equal.
        let mut logits = vec![0.0f32; 3 * classes];
        logits[90] = 2.0;
        logits[7] = 2.0;
        logits[classes + 96] = 1.5;
        logits[classes + 3] = 1.5;
        let targets: [u32; 3] = [7, 96, 0];
        let mut tape = Tape::new(gpu());
        let tl = tape.input(gpu().buffer_from("logits", &logits), &[1, 3, classes]);
        let tt = tape.input(gpu().buffer_from("targets", &targets), &[1, 3]);
        let ce = cross_entropy_with(&mut tape, tl, tt, LossKind::Stablemax, None, spread);
        gpu().run(tape.forward_program());
        assert_eq!(gpu().read_u32(&ce.correct_rows), vec![1, 0, 1], "{spread:?}");
    }
}

/// Same inputs, same program: bit-identical outputs (fixed reduction order).
#[test]
fn replays_are_bit_identical() {
    for spread in XentKernel::ALL {
        let mut rng = Rng::new(14);
        let (runs, rows, classes) = (3, 130, 113);
        let logits = rng.vec(runs * rows * classes, 4.0);
        let targets = rng.indices(runs * rows, classes as u32);
        let mut tape = Tape::new(gpu());
        let tl = tape.param(upload(&logits), &[runs, rows, classes]);
        let tt = tape.input(gpu().buffer_from("targets", &targets), &[runs, rows]);
        let ce = cross_entropy_with(&mut tape, tl, tt, LossKind::Ce, None, spread);
        let metrics = loss_metrics(&mut tape, &ce);
        let program: Program = tape.forward_program().clone();
        gpu().run(&program);
        let first = (gpu().read_f32(tape.buf(metrics)), gpu().read_f32(tape.grad(tl).unwrap()));
        gpu().run(&program);
        let second = (gpu().read_f32(tape.buf(metrics)), gpu().read_f32(tape.grad(tl).unwrap()));
        assert!(first.0.iter().zip(&second.0).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(first.1.iter().zip(&second.1).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
