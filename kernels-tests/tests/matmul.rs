//! Batched matmul (A·B, Aᵀ·B, A·Bᵀ), its epilogues, the matmul op's backward and the fused
//! linear layer, forward and backward, against the f64 reference.

use std::collections::BTreeSet;

use grokgpu::gpu::{Dispatch, Program};
use grokgpu::tensor::ops::linear::linear;
use grokgpu::tensor::gemm::{shared_runs_on, tile_for, Activation, Gemm, GemmKernel, Layout, SecondProduct, SimdBlock, StagedTile, Tile};
use grokgpu::tensor::ops::matmul::matmul;
use grokgpu::tensor::Tape;
use grokgpu_kernels_tests::{assert_close, download, gpu, rel_error, to_f32, upload, Rng};
use grokgpu_reference::{elementwise as ew, matmul as reference};

/// f32 dot products of length k ≤ 130 on inputs in [-1, 1]: the normwise error grows like
/// √k·6e-8 (6.8e-7 at k = 130); measured ≤ 5.3e-7 over every test here, gelu included.
const TOL: f64 = 2e-6;

const LAYOUTS: [Layout; 3] = [Layout::AB, Layout::AtB, Layout::ABt];

/// Every kernel variant the tests run: both families' candidates, the adapter's choice
/// (`None`), and odd sizes (one invocation of the largest register block, one-row blocks,
/// a staged tile of four invocations, a 3-lane SIMD block of 5 rows) that no tile-multiple
/// shape would exercise.
fn kernels() -> Vec<Option<GemmKernel>> {
    let odd = [
        GemmKernel::Tiled(Tile { bm: 8, bn: 4, bk: 4, tm: 8 }),
        GemmKernel::Tiled(Tile { bm: 4, bn: 16, bk: 4, tm: 1 }),
        GemmKernel::Staged(StagedTile { bm: 16, bn: 8, bk: 4, tm: 8, tn: 4 }),
        GemmKernel::Simd(SimdBlock { lanes: 3, rows: 5 }),
        GemmKernel::Simd(SimdBlock { lanes: 1, rows: 1 }),
    ];
    let shared = shared_runs_on(gpu());
    let all = GemmKernel::candidates(false, false).into_iter().chain(GemmKernel::candidates(true, shared)).chain(odd);
    std::iter::once(None).chain(all.map(Some)).collect()
}

/// One variant of each family and an odd one, for the tests of options (epilogues, gate,
/// row sums, pairs), which build many pipelines per variant: the options' code is shared
/// by every variant of a family.
fn families() -> Vec<Option<GemmKernel>> {
    let staged = GemmKernel::Staged(StagedTile { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 });
    let mut kernels = vec![None, Some(GemmKernel::Tiled(Tile::MEDIUM)), Some(staged), Some(GemmKernel::Simd(SimdBlock { lanes: 3, rows: 5 }))];
    if shared_runs_on(gpu()) {
        kernels.push(Some(GemmKernel::Shared { rows: 24 }));
    }
    kernels
}

/// (m, k, n): none is a multiple of any tile; the last three mix vec4-readable and
/// scalar operands so every entry point runs.
const SHAPES: &[[usize; 3]] = &[
    [1, 1, 1],
    [3, 5, 7],
    [97, 113, 130],
    [130, 97, 113],
    [64, 64, 64],
    [97, 64, 130],
    [3, 5, 8],
    [8, 3, 5],
];

fn reference_product(v: Layout, a: &[f64], b: &[f64], batch: usize, [m, k, n]: [usize; 3]) -> Vec<f64> {
    match v {
        Layout::AB => reference::matmul(a, b, batch, m, k, n),
        Layout::AtB => reference::matmul_at_b(a, b, batch, m, k, n),
        Layout::ABt => reference::matmul_a_bt(a, b, batch, m, k, n),
    }
}

/// Each [rows, cols] matrix of a batch transposed.
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

fn run(dispatches: impl IntoIterator<Item = Dispatch>) {
    let mut p = Program::new();
    dispatches.into_iter().for_each(|d| p.push(d));
    gpu().run(&p);
}

/// Random operands A, B stored as `v` reads them, for `batch` products of shape m×k·k×n.
fn operands(rng: &mut Rng, v: Layout, batch: usize, [m, k, n]: [usize; 3]) -> (Vec<f64>, Vec<f64>) {
    let ([ar, ac], [br, bc]) = v.operand_shapes(m, k, n);
    (rng.vec(batch * ar * ac, 1.0), rng.vec(batch * br * bc, 1.0))
}

/// Runs one plain product on the GPU and returns its relative error.
fn product_error(rng: &mut Rng, v: Layout, batch: usize, mkn: [usize; 3], kernel: Option<GemmKernel>, entries: &mut BTreeSet<&str>) -> f64 {
    let [m, k, n] = mkn;
    let (a, b) = operands(rng, v, batch, mkn);
    let (ga, gb, c) = (upload(&a), upload(&b), gpu().buffer("c", batch * m * n));
    let gemm = Gemm { kernel, ..Gemm::new(v, [batch, m, n, k], &ga, &gb, &c) };
    entries.insert(gemm.entry(gemm.kernel(gpu())));
    run([gemm.dispatch(gpu())]);
    let err = rel_error(&download(&c), &reference_product(v, &a, &b, batch, mkn));
    assert!(err <= TOL, "{v:?} R={batch} m,k,n={mkn:?} kernel {kernel:?}: relative error {err:.3e} exceeds {TOL:.1e}");
    err
}

/// Every kernel variant, layout and awkward shape, R = 1 and R = 3.
#[test]
fn every_variant_and_shape_matches_reference() {
    let mut rng = Rng::new(1);
    let mut entries = BTreeSet::new();
    let mut worst: f64 = 0.0;
    for kernel in kernels() {
        for v in LAYOUTS {
            for &mkn in SHAPES {
                for batch in [1, 3] {
                    worst = worst.max(product_error(&mut rng, v, batch, mkn, kernel, &mut entries));
                }
            }
        }
    }
    eprintln!("plain products: worst relative error {worst:.2e}");
    // Four tiled, four staged, two SIMD and, on devices with 8-lane subgroups, four
    // subgroup entries.
    let want = if shared_runs_on(gpu()) { 14 } else { 10 };
    assert_eq!(entries.len(), want, "some entry points never ran: only {entries:?}");
}

#[test]
fn tile_choice_follows_the_shape() {
    assert_eq!(tile_for(1, &[[2048, 512, 128]]), Tile::LARGE);
    assert_eq!(tile_for(1, &[[512, 512, 128]]), Tile::MEDIUM);
    assert_eq!(tile_for(4, &[[512, 512, 128]]), Tile::LARGE);
    assert_eq!(tile_for(1, &[[3, 5, 7]]), Tile::SMALL);
    assert_eq!(tile_for(64, &[[4, 128, 128]]), Tile::SMALL);
}

/// Variant names round-trip, and a name no shader can run is refused.
#[test]
fn variant_names_round_trip() {
    for kernel in kernels().into_iter().flatten() {
        assert_eq!(GemmKernel::parse(&kernel.name()), Some(kernel), "{}", kernel.name());
    }
    for bad in ["tiled-64x64x16", "tiled-63x64x16-4", "tiled-64x64x16-3", "simd-8x9", "simd-0x8", "simd-8", "shared-12", "shared-0", "shared-32", "shared-", "staged-64x64x16-4", "staged-64x64x12-4x4", "staged-64x64x16-4x6", "staged-256x256x16-8x8", "gpu-1x1", ""] {
        assert_eq!(GemmKernel::parse(bad), None, "{bad:?}");
    }
}

/// Bias, activation, saved pre-activation, residual, accumulate, and an operand shared by
/// every batch entry (stride 0), each alone and all together.
#[test]
fn epilogues_match_reference() {
    struct Case {
        bias: bool,
        act: Activation,
        save_pre: bool,
        residual: bool,
        accumulate: bool,
        shared_b: bool,
    }
    let plain = Case { bias: false, act: Activation::None, save_pre: false, residual: false, accumulate: false, shared_b: false };
    let cases = [
        Case { bias: true, ..plain },
        Case { act: Activation::Relu, ..plain },
        Case { act: Activation::Gelu, save_pre: true, bias: true, ..plain },
        Case { residual: true, ..plain },
        Case { accumulate: true, ..plain },
        Case { shared_b: true, ..plain },
        Case { bias: true, act: Activation::Gelu, save_pre: true, residual: true, accumulate: true, shared_b: true },
        Case { bias: true, act: Activation::Relu, save_pre: true, residual: true, accumulate: true, shared_b: false },
    ];
    let mut rng = Rng::new(3);
    let (batch, m, k, n) = (3, 97, 113, 130);
    for (kernel, (i, case)) in families().into_iter().flat_map(|k| cases.iter().enumerate().map(move |c| (k, c))) {
        for v in LAYOUTS {
            let b_batches = if case.shared_b { 1 } else { batch };
            let (a, b) = operands(&mut rng, v, batch, [m, k, n]);
            let b = b[..b_batches * k * n].to_vec();
            let (bias, residual, c0) = (rng.vec(batch * n, 1.0), rng.vec(batch * m * n, 1.0), rng.vec(batch * m * n, 1.0));
            let (ga, gb, gbias, gres) = (upload(&a), upload(&b), upload(&bias), upload(&residual));
            let (c, pre) = (upload(&c0), gpu().buffer("pre", batch * m * n));
            let gemm = Gemm {
                b_batch_stride: if case.shared_b { 0 } else { k * n },
                bias: case.bias.then_some(&gbias),
                save_pre: case.save_pre.then_some(&pre),
                act: case.act,
                residual: case.residual.then_some(&gres),
                accumulate: case.accumulate,
                kernel,
                ..Gemm::new(v, [batch, m, n, k], &ga, &gb, &c)
            };
            run([gemm.dispatch(gpu())]);

            let b_full: Vec<f64> = b.iter().copied().cycle().take(batch * k * n).collect();
            let mut want_pre = reference_product(v, &a, &b_full, batch, [m, k, n]);
            if case.bias {
                want_pre.iter_mut().enumerate().for_each(|(e, p)| *p += bias[(e / (m * n)) * n + e % n]);
            }
            let mut want = match case.act {
                Activation::None => want_pre.clone(),
                Activation::Relu => ew::relu(&want_pre),
                Activation::Gelu => ew::gelu(&want_pre),
            };
            if case.residual {
                want = ew::add(&want, &residual);
            }
            if case.accumulate {
                want = ew::add(&want, &c0);
            }
            assert_close(&format!("epilogue case {i} {v:?} {kernel:?}"), &download(&c), &want, TOL);
            if case.save_pre {
                assert_close(&format!("epilogue case {i} {v:?} {kernel:?} pre"), &download(&pre), &want_pre, TOL);
            }
        }
    }
}

/// The prologue gate A ⊙ act'(G) and the row sums Σ_l op(A)[i, l] (written or added),
/// in every layout, through the scalar and the vec4 reads of A.
#[test]
fn gate_and_row_sums_match_reference() {
    let mut rng = Rng::new(8);
    let batch = 3;
    for (mkn, kernel) in [[97, 113, 130], [64, 64, 64]].into_iter().flat_map(|s| families().into_iter().map(move |k| (s, k))) {
        let [m, k, n] = mkn;
        for v in LAYOUTS {
            for (gate_act, accumulate_sums) in [(Activation::Relu, false), (Activation::Gelu, true), (Activation::None, true)] {
                let (a, b) = operands(&mut rng, v, batch, mkn);
                let (g, sums0) = (rng.vec(a.len(), 3.0), rng.vec(batch * m, 1.0));
                let (ga, gb, gg) = (upload(&a), upload(&b), upload(&g));
                let (c, sums) = (gpu().buffer("c", batch * m * n), upload(&sums0));
                let gemm = Gemm {
                    gate: Some((gate_act, &gg)),
                    row_sums: Some((&sums, accumulate_sums)),
                    kernel,
                    ..Gemm::new(v, [batch, m, n, k], &ga, &gb, &c)
                };
                run([gemm.dispatch(gpu())]);

                let gated = match gate_act {
                    Activation::None => a.clone(),
                    Activation::Relu => ew::relu_backward(&g, &a),
                    Activation::Gelu => ew::gelu_backward(&g, &a),
                };
                let op_a = if v == Layout::AtB { transpose(&gated, batch, k, m) } else { gated.clone() };
                let mut want_sums: Vec<f64> = op_a.chunks(k).map(|row| row.iter().sum()).collect();
                if accumulate_sums {
                    want_sums = ew::add(&want_sums, &sums0);
                }
                let name = format!("gate {gate_act:?} {v:?} {mkn:?} {kernel:?}");
                assert_close(&format!("{name} C"), &download(&c), &reference_product(v, &gated, &b, batch, mkn), TOL);
                assert_close(&format!("{name} row sums"), &download(&sums), &want_sums, TOL);
            }
        }
    }
}

/// Two products in one launch sharing A (and its gate), for every pair of layouts, the
/// second overwriting or accumulating, the first with row sums; A [97, 130] or [64, 96]
/// so both the scalar and the vec4 reads run.
#[test]
fn second_product_shares_a() {
    let mut rng = Rng::new(10);
    let batch = 2;
    // op(A) is [m, k] = [rows, cols] as stored, or [cols, rows] for Aᵀ·B.
    let mk = |v: Layout, [rows, cols]: [usize; 2]| if v == Layout::AtB { [cols, rows] } else { [rows, cols] };
    for (stored, kernel) in [[97, 130], [64, 96]].into_iter().flat_map(|s| families().into_iter().map(move |k| (s, k))) {
        for v1 in LAYOUTS {
            for (v2, accumulate) in LAYOUTS.into_iter().zip([false, true, false]) {
                let ([m1, k1], [m2, k2]) = (mk(v1, stored), mk(v2, stored));
                let (n1, n2) = (113, 60);
                let a = rng.vec(batch * stored[0] * stored[1], 1.0);
                let g = rng.vec(a.len(), 3.0);
                let (_, b1) = operands(&mut rng, v1, batch, [m1, k1, n1]);
                let (_, b2) = operands(&mut rng, v2, batch, [m2, k2, n2]);
                let c2_start = rng.vec(batch * m2 * n2, 1.0);
                let (ga, gg, gb1, gb2) = (upload(&a), upload(&g), upload(&b1), upload(&b2));
                let (c1, c2, sums) = (gpu().buffer("c1", batch * m1 * n1), upload(&c2_start), gpu().buffer("sums", batch * m1));
                let gemm = Gemm {
                    gate: Some((Activation::Relu, &gg)),
                    row_sums: Some((&sums, false)),
                    second: Some(SecondProduct { accumulate, ..SecondProduct::new(v2, [m2, n2, k2], &gb2, &c2) }),
                    kernel,
                    ..Gemm::new(v1, [batch, m1, n1, k1], &ga, &gb1, &c1)
                };
                run([gemm.dispatch(gpu())]);
                let gated = ew::relu_backward(&g, &a);
                let op_a = if v1 == Layout::AtB { transpose(&gated, batch, k1, m1) } else { gated.clone() };
                let want_sums: Vec<f64> = op_a.chunks(k1).map(|row| row.iter().sum()).collect();
                let mut want2 = reference_product(v2, &gated, &b2, batch, [m2, k2, n2]);
                if accumulate {
                    want2 = ew::add(&want2, &c2_start);
                }
                let name = format!("{v1:?} then {v2:?} on A {stored:?} {kernel:?}");
                assert_close(&format!("{name} first"), &download(&c1), &reference_product(v1, &gated, &b1, batch, [m1, k1, n1]), TOL);
                assert_close(&format!("{name} row sums"), &download(&sums), &want_sums, TOL);
                assert_close(&format!("{name} second"), &download(&c2), &want2, TOL);
            }
        }
    }
}

/// Every variant sums each output's terms in the same order, so all of them give the same
/// bits: the variant a run uses (tuned, default or recorded) can never change its results.
/// One launch with every option that changes the arithmetic: gate, row sums, bias,
/// activation, residual, accumulate, and a second product.
#[test]
fn every_variant_gives_identical_bits() {
    let mut rng = Rng::new(14);
    let (batch, m, k, n) = (2, 97, 130, 113);
    for (v1, v2) in [(Layout::AtB, Layout::AB), (Layout::ABt, Layout::AtB), (Layout::AB, Layout::ABt)] {
        let mk = |v: Layout| if v == Layout::AtB { [k, m] } else { [m, k] };
        let ([m1, k1], [m2, k2]) = (mk(v1), mk(v2));
        let a = rng.vec(batch * m * k, 1.0);
        let g = rng.vec(a.len(), 3.0);
        let (_, b1) = operands(&mut rng, v1, batch, [m1, k1, n]);
        let (_, b2) = operands(&mut rng, v2, batch, [m2, k2, n]);
        let (bias, residual, c0) = (rng.vec(batch * n, 1.0), rng.vec(batch * m1 * n, 1.0), rng.vec(batch * m1 * n, 1.0));
        let (ga, gg, gb1, gb2, gbias, gres) = (upload(&a), upload(&g), upload(&b1), upload(&b2), upload(&bias), upload(&residual));
        let outputs = |kernel: Option<GemmKernel>| {
            let (c1, c2, sums) = (upload(&c0), gpu().buffer("c2", batch * m2 * n), gpu().buffer("sums", batch * m1));
            let gemm = Gemm {
                gate: Some((Activation::Gelu, &gg)),
                row_sums: Some((&sums, false)),
                bias: Some(&gbias),
                act: Activation::Gelu,
                residual: Some(&gres),
                accumulate: true,
                second: Some(SecondProduct::new(v2, [m2, n, k2], &gb2, &c2)),
                kernel,
                ..Gemm::new(v1, [batch, m1, n, k1], &ga, &gb1, &c1)
            };
            run([gemm.dispatch(gpu())]);
            [&c1, &c2, &sums].map(|b| gpu().read_f32(b))
        };
        let first = outputs(None);
        for kernel in kernels() {
            let got = outputs(kernel);
            for (what, (x, y)) in ["C", "second C", "row sums"].iter().zip(first.iter().zip(&got)) {
                let same = x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{v1:?} + {v2:?} {what}: {kernel:?} differs in its bits from the device's choice");
            }
        }
    }
}

/// Forward and both gradients of the matmul op; the expected gradients are formed from
/// explicit transposes, independently of the kernel's layout table.
#[test]
fn matmul_op_forward_and_backward() {
    let mut rng = Rng::new(4);
    let mut worst: f64 = 0.0;
    for v in LAYOUTS {
        for (batch, mkn) in [(3, [3, 5, 7]), (3, [97, 113, 130]), (1, [130, 97, 64]), (2, [1, 1, 1])] {
            let [m, k, n] = mkn;
            let (a, b) = operands(&mut rng, v, batch, mkn);
            let dc = rng.vec(batch * m * n, 1.0);
            let ([ar, ac], [br, bc]) = v.operand_shapes(m, k, n);
            let mut tape = Tape::new(gpu());
            let ta = tape.param(upload(&a), &[batch, ar, ac]);
            let tb = tape.param(upload(&b), &[batch, br, bc]);
            let tc = matmul(&mut tape, ta, tb, v);
            assert_eq!(tape.shape(tc), [batch, m, n]);
            let (g, _) = tape.grad_target(tc).unwrap();
            gpu().write(&g, &to_f32(&dc));
            let back = tape.backward();
            // A·Bᵀ's two gradients both read dC as their A operand: one launch.
            let launches = if v == Layout::ABt { 1 } else { 2 };
            assert_eq!((tape.forward_program().len(), back.len()), (1, launches), "matmul dispatches (forward, backward)");
            gpu().run(tape.forward_program());
            gpu().run(&back);

            let op_a = if v == Layout::AtB { transpose(&a, batch, k, m) } else { a.clone() };
            let op_b = if v == Layout::ABt { transpose(&b, batch, n, k) } else { b.clone() };
            let d_op_a = reference::matmul(&dc, &transpose(&op_b, batch, k, n), batch, m, n, k);
            let d_op_b = reference::matmul(&transpose(&op_a, batch, m, k), &dc, batch, k, m, n);
            let want_da = if v == Layout::AtB { transpose(&d_op_a, batch, m, k) } else { d_op_a };
            let want_db = if v == Layout::ABt { transpose(&d_op_b, batch, k, n) } else { d_op_b };
            let want_c = reference::matmul(&op_a, &op_b, batch, m, k, n);
            for (what, got, want) in [
                ("C", download(tape.buf(tc)), want_c),
                ("dA", download(tape.grad(ta).unwrap()), want_da),
                ("dB", download(tape.grad(tb).unwrap()), want_db),
            ] {
                worst = worst.max(rel_error(&got, &want));
                assert_close(&format!("matmul {v:?} R={batch} {mkn:?} {what}"), &got, &want, TOL);
            }
        }
    }
    eprintln!("matmul op: worst relative error {worst:.2e}");
}

/// C = A·Aᵀ: both gradients add into A's one buffer, so they take two launches in order
/// (one launch would race): dA = dC·A + dCᵀ·A.
#[test]
fn matmul_of_a_tensor_with_itself() {
    let mut rng = Rng::new(12);
    let (batch, m, k) = (2, 97, 64);
    let a = rng.vec(batch * m * k, 1.0);
    let dc = rng.vec(batch * m * m, 1.0);
    let mut tape = Tape::new(gpu());
    let ta = tape.param(upload(&a), &[batch, m, k]);
    let tc = matmul(&mut tape, ta, ta, Layout::ABt);
    let (g, _) = tape.grad_target(tc).unwrap();
    gpu().write(&g, &to_f32(&dc));
    let back = tape.backward();
    assert_eq!(back.len(), 2);
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let want_c = reference::matmul_a_bt(&a, &a, batch, m, k, m);
    let want_da = ew::add(&reference::matmul(&dc, &a, batch, m, m, k), &reference::matmul_at_b(&dc, &a, batch, m, m, k));
    assert_close("A·Aᵀ C", &download(tape.buf(tc)), &want_c, TOL);
    assert_close("A·Aᵀ dA", &download(tape.grad(ta).unwrap()), &want_da, TOL);
}

/// Reference linear over R runs: (y, pre, dx, dW, db) for y = act(x·Wᵀ + b) + residual.
#[allow(clippy::too_many_arguments)]
fn reference_linear(
    x: &[f64],
    w: &[f64],
    bias: Option<&[f64]>,
    residual: Option<&[f64]>,
    dy: &[f64],
    act: Activation,
    [runs, rows, in_dim, out_dim]: [usize; 4],
) -> [Vec<f64>; 5] {
    let mut out: [Vec<f64>; 5] = Default::default();
    for r in 0..runs {
        let xr = &x[r * rows * in_dim..][..rows * in_dim];
        let wr = &w[r * out_dim * in_dim..][..out_dim * in_dim];
        let br = bias.map(|b| &b[r * out_dim..][..out_dim]);
        let dyr = &dy[r * rows * out_dim..][..rows * out_dim];
        let pre = reference::linear_forward(xr, wr, br, rows, in_dim, out_dim);
        let (y, dpre) = match act {
            Activation::None => (pre.clone(), dyr.to_vec()),
            Activation::Relu => (ew::relu(&pre), ew::relu_backward(&pre, dyr)),
            Activation::Gelu => (ew::gelu(&pre), ew::gelu_backward(&pre, dyr)),
        };
        let y = match residual {
            Some(res) => ew::add(&y, &res[r * rows * out_dim..][..rows * out_dim]),
            None => y,
        };
        let (dx, dw, db) = reference::linear_backward(xr, wr, &dpre, rows, in_dim, out_dim);
        for (acc, part) in out.iter_mut().zip([y, pre, dx, dw, db]) {
            acc.extend(part);
        }
    }
    out
}

fn upload_param(tape: &mut Tape, v: &[f64], shape: &[usize]) -> grokgpu::tensor::Tensor {
    tape.param(upload(v), shape)
}

#[test]
fn linear_forward_and_backward() {
    let mut rng = Rng::new(5);
    let mut worst: f64 = 0.0;
    // [R, rows, in, out]; the last two read dy as vec4s (through the gate) in backward.
    let dims_list = [[3, 97, 113, 130], [1, 1, 3, 5], [2, 130, 97, 64], [2, 64, 96, 128]];
    for dims in dims_list {
        let [runs, rows, in_dim, out_dim] = dims;
        for act in [Activation::None, Activation::Relu, Activation::Gelu] {
            for (with_bias, with_residual) in [(false, false), (true, false), (false, true), (true, true)] {
                let x = rng.vec(runs * rows * in_dim, 1.0);
                let w = rng.vec(runs * out_dim * in_dim, 1.0);
                let bias = rng.vec(runs * out_dim, 1.0);
                let residual = rng.vec(runs * rows * out_dim, 1.0);
                let dy = rng.vec(runs * rows * out_dim, 1.0);
                let mut tape = Tape::new(gpu());
                let tx = upload_param(&mut tape, &x, &[runs, rows, in_dim]);
                let tw = upload_param(&mut tape, &w, &[runs, out_dim, in_dim]);
                let tb = with_bias.then(|| upload_param(&mut tape, &bias, &[runs, out_dim]));
                let tr = with_residual.then(|| upload_param(&mut tape, &residual, &[runs, rows, out_dim]));
                let ty = linear(&mut tape, tx, tw, tb, act, tr);
                let (g, _) = tape.grad_target(ty).unwrap();
                gpu().write(&g, &to_f32(&dy));
                let back = tape.backward();
                // Forward: one launch. Backward: dW with db and dx in one launch; the
                // residual takes dy's buffer as its gradient, with no copy.
                assert_eq!(tape.forward_program().len(), 1);
                assert_eq!(back.len(), 1);
                gpu().run(tape.forward_program());
                gpu().run(&back);

                let [y, _, dx, dw, db] = reference_linear(
                    &x,
                    &w,
                    with_bias.then_some(&bias[..]),
                    with_residual.then_some(&residual[..]),
                    &dy,
                    act,
                    dims,
                );
                let name = format!("linear {act:?} bias={with_bias} residual={with_residual} {dims:?}");
                let mut checks = vec![
                    ("y", download(tape.buf(ty)), y),
                    ("dx", download(tape.grad(tx).unwrap()), dx),
                    ("dW", download(tape.grad(tw).unwrap()), dw),
                ];
                if let Some(tb) = tb {
                    checks.push(("db", download(tape.grad(tb).unwrap()), db));
                }
                if let Some(tr) = tr {
                    checks.push(("dresidual", download(tape.grad(tr).unwrap()), dy.clone()));
                }
                for (what, got, want) in checks {
                    worst = worst.max(rel_error(&got, &want));
                    assert_close(&format!("{name} {what}"), &got, &want, TOL);
                }
            }
        }
    }
    eprintln!("linear: worst relative error {worst:.2e}");
}

/// y = relu(x·Wᵀ) + x: x's gradient gets the product's and the residual's contributions
/// (overwrite, then accumulate), and a frozen W with a trainable bias still yields db.
#[test]
fn linear_gradients_accumulate_into_shared_inputs() {
    let mut rng = Rng::new(6);
    let (runs, rows, d) = (2, 97, 64);
    let (x, w, bias, dy) = (rng.vec(runs * rows * d, 1.0), rng.vec(runs * d * d, 1.0), rng.vec(runs * d, 1.0), rng.vec(runs * rows * d, 1.0));
    let mut tape = Tape::new(gpu());
    let tx = upload_param(&mut tape, &x, &[runs, rows, d]);
    let tw = tape.input(upload(&w), &[runs, d, d]);
    let tb = upload_param(&mut tape, &bias, &[runs, d]);
    let ty = linear(&mut tape, tx, tw, Some(tb), Activation::Relu, Some(tx));
    let (g, _) = tape.grad_target(ty).unwrap();
    gpu().write(&g, &to_f32(&dy));
    let back = tape.backward();
    gpu().run(tape.forward_program());
    gpu().run(&back);
    let [y, _, dx, _, db] = reference_linear(&x, &w, Some(&bias), Some(&x), &dy, Activation::Relu, [runs, rows, d, d]);
    assert_close("shared y", &download(tape.buf(ty)), &y, TOL);
    assert_close("shared dx", &download(tape.grad(tx).unwrap()), &ew::add(&dx, &dy), TOL);
    assert_close("frozen-W db", &download(tape.grad(tb).unwrap()), &db, TOL);
}

/// The backward (with its reductions) gives bit-identical results when replayed.
#[test]
fn linear_backward_is_deterministic() {
    let mut rng = Rng::new(7);
    let (runs, rows, i, o) = (2, 130, 97, 113);
    let mut tape = Tape::new(gpu());
    let tx = upload_param(&mut tape, &rng.vec(runs * rows * i, 1.0), &[runs, rows, i]);
    let tw = upload_param(&mut tape, &rng.vec(runs * o * i, 1.0), &[runs, o, i]);
    let tb = upload_param(&mut tape, &rng.vec(runs * o, 1.0), &[runs, o]);
    let ty = linear(&mut tape, tx, tw, Some(tb), Activation::Gelu, None);
    let (g, _) = tape.grad_target(ty).unwrap();
    gpu().write(&g, &to_f32(&rng.vec(runs * rows * o, 1.0)));
    let back = tape.backward();
    gpu().run(tape.forward_program());
    let grads = |tape: &Tape| -> Vec<Vec<f32>> {
        gpu().run(&back);
        [tx, tw, tb].iter().map(|&t| gpu().read_f32(tape.grad(t).unwrap())).collect()
    };
    assert_eq!(grads(&tape), grads(&tape));
}

/// f32 sums of k = 2048 … 3001 terms in [-1, 1] (split-K: 8–11 chunks, then their sum):
/// the normwise error grows like √k·6e-8 ≈ 3.3e-6 at k = 3001.
const SPLIT_TOL: f64 = 1e-5;

/// A split-K Aᵀ·B with accumulate and row sums, finished by its own launch or folded into
/// a later product's launch, against the reference.
#[test]
fn split_k_products_match_reference() {
    use grokgpu::tensor::gemm::k_chunk_for;
    let mut rng = Rng::new(11);
    let mut worst: f64 = 0.0;
    for &[m, k, n] in &[[5usize, 2048usize, 7usize], [13, 3001, 8], [64, 2048, 64]] {
        for batch in [1, 3] {
            for folded in [false, true] {
                let chunk = k_chunk_for(m, n, k).expect("a long k with few tiles splits");
                let (a, b) = operands(&mut rng, Layout::AtB, batch, [m, k, n]);
                let (c0, s0) = (rng.vec(batch * m * n, 1.0), rng.vec(batch * m, 1.0));
                let (ga, gb, c, sums) = (upload(&a), upload(&b), upload(&c0), upload(&s0));
                let gemm = Gemm {
                    accumulate: true,
                    row_sums: Some((&sums, true)),
                    split_k: true,
                    ..Gemm::new(Layout::AtB, [batch, m, n, k], &ga, &gb, &c)
                };
                let (d, reduction) = gemm.dispatch_split(gpu());
                let reduction = reduction.expect("split");
                let finish = if folded {
                    // Any later launch can finish it: here a small unrelated product.
                    let (x, y, z) = (upload(&[1.0; 4]), upload(&[1.0; 4]), gpu().buffer("z", 4));
                    Gemm { finish: Some(&reduction), ..Gemm::new(Layout::AB, [1, 2, 2, 2], &x, &y, &z) }.dispatch(gpu())
                } else {
                    reduction.dispatch(gpu())
                };
                run([d, finish]);
                let product = reference_product(Layout::AtB, &a, &b, batch, [m, k, n]);
                let want: Vec<f64> = c0.iter().zip(&product).map(|(x, p)| x + p).collect();
                let want_sums: Vec<f64> = (0..batch * m)
                    .map(|zi| s0[zi] + (0..k).map(|l| a[(zi / m * k + l) * m + zi % m]).sum::<f64>())
                    .collect();
                let what = format!("split-K m,k,n={:?} R={batch} chunk {chunk} folded {folded}", [m, k, n]);
                assert_close(&format!("{what} C"), &download(&c), &want, SPLIT_TOL);
                assert_close(&format!("{what} row sums"), &download(&sums), &want_sums, SPLIT_TOL);
                worst = worst.max(rel_error(&download(&c), &want)).max(rel_error(&download(&sums), &want_sums));
            }
        }
    }
    println!("split-K worst relative error {worst:.3e}");
}

/// Splitting depends on the shape only, and leaves products with enough tiles alone.
#[test]
fn split_k_choice_follows_the_shape() {
    use grokgpu::tensor::gemm::k_chunk_for;
    assert_eq!(k_chunk_for(512, 128, 2048), Some(256));
    assert_eq!(k_chunk_for(128, 128, 2048), Some(256));
    assert_eq!(k_chunk_for(2048, 512, 128), None);
    assert_eq!(k_chunk_for(128, 128, 300), None);
}
