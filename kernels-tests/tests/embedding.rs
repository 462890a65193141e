//! embedding and embed_with_positions: forward and every gradient against the f64
//! reference, and the bit-for-bit determinism of the scatter-add backward.

use grokgpu::tensor::{ops::embedding, Tape, Tensor};
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::{embedding as reference, reduce};

/// Widths from one thread to two 256-column tiles; (vocab, tokens per run) with token
/// counts below, at and past one 256-token chunk and rows used hundreds of times.
const DIMS: &[usize] = &[1, 3, 97, 128, 130, 512];
const VOCAB_TOKENS: &[(usize, usize)] = &[(1, 1), (7, 97), (99, 300), (113, 1000)];

/// A gather is a copy.
const TOL_GATHER: f64 = 0.0;
/// table + pos: one f32 rounding of the sum (≤ 2⁻²⁴ of it, ≤ 2 of max|out|).
const TOL_GATHER_ADD: f64 = 1.2e-7;
/// Scatter-add: up to ~1000 sequential f32 additions of O(1) terms per row; measured
/// ≤ 2.8e-7.
const TOL_SCATTER: f64 = 1e-6;
/// Positional gradient: sums over N ≤ 113 in increasing order (the scatter-add's position
/// rows); measured ≤ 4.4e-7.
const TOL_DPOS: f64 = 1e-6;

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

fn upload_tokens(tokens: &[u32]) -> grokgpu::gpu::Buffer {
    gpu().buffer_from("tokens", tokens)
}

/// The reference run by run: (table rows gathered, dtable), concatenated over runs.
fn reference_by_run(
    table: &[f64],
    tokens: &[u32],
    dy: &[f64],
    runs: usize,
    vocab: usize,
    dim: usize,
) -> (Vec<f64>, Vec<f64>) {
    let n = tokens.len() / runs;
    let (mut out, mut dtable) = (vec![], vec![]);
    for r in 0..runs {
        let t = &table[r * vocab * dim..(r + 1) * vocab * dim];
        let k = &tokens[r * n..(r + 1) * n];
        out.extend(reference::embedding_forward(t, vocab, dim, k));
        dtable.extend(reference::embedding_backward(&dy[r * n * dim..(r + 1) * n * dim], k, vocab, dim));
    }
    (out, dtable)
}

#[test]
fn embedding_forward_backward() {
    let mut rng = Rng::new(41);
    let mut worst = 0.0f64;
    for runs in [1, 3] {
        for &dim in DIMS {
            for &(vocab, n) in VOCAB_TOKENS {
                let table = rng.vec(runs * vocab * dim, 1.0);
                let tokens = rng.indices(runs * n, vocab as u32);
                let dy = rng.vec(runs * n * dim, 1.0);
                let mut tape = Tape::new(gpu());
                let tt = tape.param(upload(&table), &[runs, vocab, dim]);
                let tk = tape.input(upload_tokens(&tokens), &[runs, n]);
                let out = embedding::embedding(&mut tape, tt, tk);
                seed(&mut tape, out, &dy);
                let back = tape.backward();
                poison(&tape, tt);
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let (want_out, want_dtable) = reference_by_run(&table, &tokens, &dy, runs, vocab, dim);
                let name = format!("embedding R {runs} V {vocab} n {n} d {dim}");
                check(&format!("{name} forward"), &download(tape.buf(out)), &want_out, TOL_GATHER);
                let err =
                    check(&format!("{name} dtable"), &download(tape.grad(tt).unwrap()), &want_dtable, TOL_SCATTER);
                worst = worst.max(err);
            }
        }
    }
    eprintln!("embedding worst dtable relative error: {worst:.2e}");
}

#[test]
fn embed_with_positions_forward_backward() {
    let mut rng = Rng::new(42);
    let (mut worst_out, mut worst_table, mut worst_pos) = (0.0f64, 0.0f64, 0.0f64);
    for runs in [1, 3] {
        for &dim in DIMS {
            for (vocab, count, period) in [(1, 1, 1), (5, 97, 3), (99, 113, 4)] {
                let n = count * period;
                let table = rng.vec(runs * vocab * dim, 1.0);
                let pos = rng.vec(runs * period * dim, 1.0);
                let tokens = rng.indices(runs * n, vocab as u32);
                let dy = rng.vec(runs * n * dim, 1.0);
                let mut tape = Tape::new(gpu());
                let tt = tape.param(upload(&table), &[runs, vocab, dim]);
                let tp = tape.param(upload(&pos), &[runs, period, dim]);
                let tk = tape.input(upload_tokens(&tokens), &[runs, count, period]);
                let out = embedding::embed_with_positions(&mut tape, tt, tp, tk);
                assert_eq!(tape.shape(out), [runs, count, period, dim]);
                seed(&mut tape, out, &dy);
                let back = tape.backward();
                assert_eq!(back.len(), 1, "dtable and dpos come from one launch");
                poison(&tape, tt);
                poison(&tape, tp);
                gpu().run(tape.forward_program());
                gpu().run(&back);
                let (gathered, want_dtable) = reference_by_run(&table, &tokens, &dy, runs, vocab, dim);
                let want_out: Vec<f64> = gathered
                    .iter()
                    .enumerate()
                    .map(|(e, g)| {
                        let (r, t, j) = (e / (n * dim), (e / dim) % period, e % dim);
                        g + pos[(r * period + t) * dim + j]
                    })
                    .collect();
                let want_dpos = reduce::sum_axis(&dy, &[runs, count, period * dim], 1);
                let name = format!("embed_with_positions R {runs} V {vocab} N {count} T {period} d {dim}");
                let e_out = check(&format!("{name} forward"), &download(tape.buf(out)), &want_out, TOL_GATHER_ADD);
                let e_table =
                    check(&format!("{name} dtable"), &download(tape.grad(tt).unwrap()), &want_dtable, TOL_SCATTER);
                let e_pos = check(&format!("{name} dpos"), &download(tape.grad(tp).unwrap()), &want_dpos, TOL_DPOS);
                worst_out = worst_out.max(e_out);
                worst_table = worst_table.max(e_table);
                worst_pos = worst_pos.max(e_pos);
            }
        }
    }
    eprintln!("embed_with_positions worst relative error: forward {worst_out:.2e}, dtable {worst_table:.2e}, dpos {worst_pos:.2e}");
}

/// The backward twice gives the same bits, and those bits are the f32 sum of each row's
/// contributions in increasing token order, the order the kernel promises.
#[test]
fn scatter_add_is_deterministic() {
    let mut rng = Rng::new(43);
    let (runs, vocab, n, dim) = (2, 3, 3000, 130);
    let table = rng.vec(runs * vocab * dim, 1.0);
    let tokens = rng.indices(runs * n, vocab as u32);
    let dy = rng.vec(runs * n * dim, 1.0);
    let mut tape = Tape::new(gpu());
    let tt = tape.param(upload(&table), &[runs, vocab, dim]);
    let tk = tape.input(upload_tokens(&tokens), &[runs, n]);
    let out = embedding::embedding(&mut tape, tt, tk);
    seed(&mut tape, out, &dy);
    let back = tape.backward();
    gpu().run(&back);
    let first = gpu().read_u32(tape.grad(tt).unwrap());
    poison(&tape, tt);
    gpu().run(&back);
    let second = gpu().read_u32(tape.grad(tt).unwrap());
    assert_eq!(first, second, "embedding backward differs between two runs");
    let dy32 = to_f32(&dy);
    let mut sequential = vec![0.0f32; runs * vocab * dim];
    for r in 0..runs {
        for k in 0..n {
            let v = tokens[r * n + k] as usize;
            for j in 0..dim {
                sequential[(r * vocab + v) * dim + j] += dy32[(r * n + k) * dim + j];
            }
        }
    }
    let want: Vec<u32> = sequential.iter().map(|x| x.to_bits()).collect();
    assert_eq!(first, want, "embedding backward is not the in-order f32 sum");
}

/// Two lookups in one table (the MLP embeds x and y) add their gradients.
#[test]
fn gradient_of_shared_table_accumulates() {
    let mut rng = Rng::new(44);
    let (runs, vocab, n, dim) = (3, 97, 113, 130);
    let table = rng.vec(runs * vocab * dim, 1.0);
    let (tok1, tok2) = (rng.indices(runs * n, vocab as u32), rng.indices(runs * n, vocab as u32));
    let (dy1, dy2) = (rng.vec(runs * n * dim, 1.0), rng.vec(runs * n * dim, 1.0));
    let mut tape = Tape::new(gpu());
    let tt = tape.param(upload(&table), &[runs, vocab, dim]);
    let tk1 = tape.input(upload_tokens(&tok1), &[runs, n]);
    let tk2 = tape.input(upload_tokens(&tok2), &[runs, n]);
    let e1 = embedding::embedding(&mut tape, tt, tk1);
    let e2 = embedding::embedding(&mut tape, tt, tk2);
    seed(&mut tape, e1, &dy1);
    seed(&mut tape, e2, &dy2);
    let back = tape.backward();
    poison(&tape, tt);
    gpu().run(&back);
    let (_, a) = reference_by_run(&table, &tok1, &dy1, runs, vocab, dim);
    let (_, b) = reference_by_run(&table, &tok2, &dy2, runs, vocab, dim);
    let want: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
    // Two in-order sums added: one more rounding, well inside TOL_SCATTER.
    check("shared table dtable", &download(tape.grad(tt).unwrap()), &want, TOL_SCATTER);
}

/// A token ≥ V reads as NaN (loud, never a silent other row) and is ignored by backward.
#[test]
fn out_of_range_token_is_nan_forward_and_dropped_backward() {
    let (runs, vocab, dim) = (1, 3, 5);
    let table: Vec<f64> = (0..vocab * dim).map(|i| i as f64).collect();
    let tokens = [2u32, 3, 0];
    let dy = vec![1.0; tokens.len() * dim];
    let mut tape = Tape::new(gpu());
    let tt = tape.param(upload(&table), &[runs, vocab, dim]);
    let tk = tape.input(upload_tokens(&tokens), &[runs, tokens.len()]);
    let out = embedding::embedding(&mut tape, tt, tk);
    seed(&mut tape, out, &dy);
    let back = tape.backward();
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let got = download(tape.buf(out));
    assert!(got[dim..2 * dim].iter().all(|x| x.is_nan()), "out-of-range token did not read NaN: {got:?}");
    assert_eq!(got[..dim], table[2 * dim..3 * dim]);
    let want_dtable: Vec<f64> = (0..vocab * dim).map(|i| if i / dim == 1 { 0.0 } else { 1.0 }).collect();
    assert_eq!(download(tape.grad(tt).unwrap()), want_dtable);
}

/// A frozen table with trainable positions: the launch holds only the position rows; a
/// second use of the positions accumulates onto the first's gradient.
#[test]
fn positional_gradient_alone_and_accumulated() {
    let mut rng = Rng::new(45);
    let (runs, vocab, count, period, dim) = (3, 7, 97, 4, 130);
    let n = count * period;
    let table = rng.vec(runs * vocab * dim, 1.0);
    let pos = rng.vec(runs * period * dim, 1.0);
    let (tok1, tok2) = (rng.indices(runs * n, vocab as u32), rng.indices(runs * n, vocab as u32));
    let (dy1, dy2) = (rng.vec(runs * n * dim, 1.0), rng.vec(runs * n * dim, 1.0));
    let mut tape = Tape::new(gpu());
    let tt = tape.input(upload(&table), &[runs, vocab, dim]);
    let tp = tape.param(upload(&pos), &[runs, period, dim]);
    let tk1 = tape.input(upload_tokens(&tok1), &[runs, count, period]);
    let tk2 = tape.input(upload_tokens(&tok2), &[runs, count, period]);
    let e1 = embedding::embed_with_positions(&mut tape, tt, tp, tk1);
    let e2 = embedding::embed_with_positions(&mut tape, tt, tp, tk2);
    seed(&mut tape, e1, &dy1);
    seed(&mut tape, e2, &dy2);
    let back = tape.backward();
    assert_eq!(back.len(), 2);
    poison(&tape, tp);
    gpu().run(&back);
    let sum = |dy: &[f64]| reduce::sum_axis(dy, &[runs, count, period * dim], 1);
    let want: Vec<f64> = sum(&dy1).iter().zip(sum(&dy2)).map(|(a, b)| a + b).collect();
    check("dpos alone, accumulated", &download(tape.grad(tp).unwrap()), &want, TOL_DPOS);
    assert!(tape.grad(tt).is_none());
}

/// Both scatter-add kernels (the subgroup one where the device has 8-lane subgroups) give
/// the in-order f32 sums bit for bit: table and positions together and each alone, fresh
/// and accumulated, at widths and token counts that are no multiple of their tiles, with
/// out-of-range tokens dropped.
#[test]
fn every_scatter_kernel_gives_the_in_order_sums() {
    use embedding::{ScatterAdd, ScatterKernel};
    let mut kernels = vec![ScatterKernel::Scan];
    if ScatterKernel::default_for(gpu()) == ScatterKernel::Lanes {
        kernels.push(ScatterKernel::Lanes);
    }
    let mut rng = Rng::new(47);
    let (runs, vocab, period, dim) = (2, 5, 4, 130);
    for count in [1, 97] {
        let n = count * period;
        let mut tokens = rng.indices(runs * n, vocab as u32 + 1); // the value `vocab` is out of range
        tokens[0] = vocab as u32;
        let dy = to_f32(&rng.vec(runs * n * dim, 1.0));
        let (start_table, start_pos) = (to_f32(&rng.vec(runs * vocab * dim, 1.0)), to_f32(&rng.vec(runs * period * dim, 1.0)));
        let (tk, gdy) = (upload_tokens(&tokens), gpu().buffer_from("dy", &dy));
        for (with_table, with_pos) in [(true, true), (true, false), (false, true)] {
            for accumulate in [false, true] {
                let mut want_table = if accumulate { start_table.clone() } else { vec![0.0; start_table.len()] };
                let mut want_pos = if accumulate { start_pos.clone() } else { vec![0.0; start_pos.len()] };
                for r in 0..runs {
                    let (mut row_sums, mut pos_sums) = (vec![0.0f32; vocab * dim], vec![0.0f32; period * dim]);
                    for k in 0..n {
                        for j in 0..dim {
                            let g = dy[(r * n + k) * dim + j];
                            let v = tokens[r * n + k] as usize;
                            if v < vocab {
                                row_sums[v * dim + j] += g;
                            }
                            pos_sums[(k % period) * dim + j] += g;
                        }
                    }
                    let add = |want: &mut [f32], sums: &[f32]| want.iter_mut().zip(sums).for_each(|(w, s)| *w = if accumulate { *w + s } else { *s });
                    add(&mut want_table[r * vocab * dim..(r + 1) * vocab * dim], &row_sums);
                    add(&mut want_pos[r * period * dim..(r + 1) * period * dim], &pos_sums);
                }
                for &kernel in &kernels {
                    let (table, pos) = (gpu().buffer_from("dtable", &start_table), gpu().buffer_from("dpos", &start_pos));
                    let scatter = ScatterAdd {
                        runs,
                        vocab,
                        dim,
                        n,
                        tokens: &tk,
                        dy: &gdy,
                        table: with_table.then_some((&table, accumulate)),
                        positions: with_pos.then_some((&pos, accumulate, period)),
                    };
                    let mut program = grokgpu::gpu::Program::new();
                    program.push(scatter.dispatch(gpu(), kernel).unwrap());
                    gpu().run(&program);
                    let what = format!("{kernel:?} N {count} table {with_table} positions {with_pos} accumulate {accumulate}");
                    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
                    let (got_table, got_pos) = (gpu().read_f32(&table), gpu().read_f32(&pos));
                    let expect_table = bits(if with_table { &want_table } else { &start_table });
                    let expect_pos = bits(if with_pos { &want_pos } else { &start_pos });
                    assert_eq!(bits(&got_table), expect_table, "{what}: dtable");
                    assert_eq!(bits(&got_pos), expect_pos, "{what}: dpos");
                }
            }
        }
    }
}
