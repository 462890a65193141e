//! Fused causal self-attention: output, saved probabilities and dqkv against the f64
//! reference.

use grokgpu::tensor::ops::attention::attention;
use grokgpu::tensor::Tape;
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::attention::{attention_backward, attention_forward};

/// f32 dots of ≤ 128 terms, exp, and sums of ≤ 8 weighted values: a few ulps of the
/// output's scale (measured 3.0e-7 for out, 1.8e-7 for probs on lavapipe).
const TOL_FORWARD: f64 = 1e-6;
/// Backward chains two such products through the softmax Jacobian (measured 1.4e-7).
const TOL_BACKWARD: f64 = 1e-6;

struct Case {
    runs: usize,
    samples: usize,
    seq: usize,
    d: usize,
    heads: usize,
}

/// Runs forward and backward of one case on the GPU and checks them; returns the
/// relative errors (out, probs, dqkv). `prior` is an existing gradient of qkv that the
/// backward must add to.
fn check(case: &Case, rng: &mut Rng, with_prior: bool) -> [f64; 3] {
    let Case { runs, samples, seq, d, heads } = *case;
    let batch = runs * samples;
    // Scale 1.5 gives scores up to ~dh·2.25/√dh, so softmax is far from uniform.
    let qkv = rng.vec(batch * seq * 3 * d, 1.5);
    let dout = rng.vec(batch * seq * d, 1.0);
    let prior = rng.vec(batch * seq * 3 * d, 0.5);
    let name = format!("R={runs} N={samples} T={seq} d={d} H={heads}");

    let mut tape = Tape::new(gpu());
    let tq = tape.param(upload(&qkv), &[runs, samples, seq, 3 * d]);
    if with_prior {
        let (g, accumulate) = tape.grad_target(tq).unwrap();
        assert!(!accumulate);
        gpu().write(&g, &to_f32(&prior));
    }
    let att = attention(&mut tape, tq, heads);
    assert_eq!(tape.shape(att.out), [runs, samples, seq, d]);
    assert_eq!(tape.shape(att.probs), [runs, samples, heads, seq, seq]);
    let (g, _) = tape.grad_target(att.out).unwrap();
    gpu().write(&g, &to_f32(&dout));
    let back = tape.backward();
    assert_eq!(tape.forward_program().len(), 1, "forward is one dispatch");
    assert_eq!(back.len(), 1, "backward is one dispatch");
    gpu().run(tape.forward_program());
    gpu().run(&back);

    let (want_out, want_probs) = attention_forward(&qkv, batch, seq, d, heads);
    let mut want_dqkv = attention_backward(&qkv, &want_probs, &dout, batch, seq, d, heads);
    if with_prior {
        want_dqkv.iter_mut().zip(&prior).for_each(|(w, p)| *w += p);
    }
    let (out, probs, dqkv) = (download(tape.buf(att.out)), download(tape.buf(att.probs)), download(tape.grad(tq).unwrap()));
    assert_close(&format!("{name} out"), &out, &want_out, TOL_FORWARD);
    assert_close(&format!("{name} probs"), &probs, &want_probs, TOL_FORWARD);
    assert_close(&format!("{name} dqkv"), &dqkv, &want_dqkv, TOL_BACKWARD);
    [rel_error(&out, &want_out), rel_error(&probs, &want_probs), rel_error(&dqkv, &want_dqkv)]
}

#[test]
fn forward_and_backward_match_reference() {
    let mut rng = Rng::new(21);
    let mut worst = [0.0f64; 3];
    for heads in [1, 2, 4] {
        for d in [8, 128] {
            for seq in [4, 1] {
                for (runs, samples) in [(1, 5), (3, 5)] {
                    let errs = check(&Case { runs, samples, seq, d, heads }, &mut rng, false);
                    worst.iter_mut().zip(errs).for_each(|(w, e)| *w = w.max(e));
                }
            }
        }
    }
    // The transformer's size: 130 samples per run, T = 4, d = 128, 4 heads.
    let errs = check(&Case { runs: 2, samples: 130, seq: 4, d: 128, heads: 4 }, &mut rng, false);
    worst.iter_mut().zip(errs).for_each(|(w, e)| *w = w.max(e));
    println!("worst relative errors: out {:.2e}, probs {:.2e}, dqkv {:.2e}", worst[0], worst[1], worst[2]);
}

/// T up to 8 and 16 heads fill the kernel's workgroup memory; odd head widths too.
#[test]
fn longest_sequence_and_most_heads() {
    let mut rng = Rng::new(22);
    check(&Case { runs: 2, samples: 3, seq: 8, d: 48, heads: 16 }, &mut rng, false);
    check(&Case { runs: 3, samples: 7, seq: 7, d: 15, heads: 3 }, &mut rng, false);
}

/// A qkv that already holds a gradient receives dqkv added to it.
#[test]
fn dqkv_accumulates_into_an_existing_gradient() {
    let mut rng = Rng::new(23);
    check(&Case { runs: 2, samples: 5, seq: 4, d: 8, heads: 2 }, &mut rng, true);
}

/// A causal mask: changing the last position moves only the last position's output.
#[test]
fn future_positions_do_not_leak() {
    let mut rng = Rng::new(24);
    let (seq, d, heads) = (4, 8, 2);
    let qkv = rng.vec(seq * 3 * d, 1.0);
    let mut changed = qkv.clone();
    changed[(seq - 1) * 3 * d..].iter_mut().for_each(|v| *v += 1.0);
    let run = |x: &[f64]| {
        let mut tape = Tape::new(gpu());
        let t = tape.input(upload(x), &[1, 1, seq, 3 * d]);
        let att = attention(&mut tape, t, heads);
        gpu().run(tape.forward_program());
        gpu().read_f32(tape.buf(att.out))
    };
    let (a, b) = (run(&qkv), run(&changed));
    assert_eq!(a[..(seq - 1) * d], b[..(seq - 1) * d]);
    assert_ne!(a[(seq - 1) * d..], b[(seq - 1) * d..]);
}
