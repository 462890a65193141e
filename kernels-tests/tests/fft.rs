//! The GPU FFT against the f64 O(n²) DFT of the reference crate and against rustfft.
//!
//! Error metrics (complex moduli, computed in f64):
//! - relative L2 = ‖got − ref‖₂ / ‖ref‖₂,
//! - relative L∞ = max_k |got_k − ref_k| / max_k |ref_k|.
//!
//! Bounds (the precision class of VkFFT and cuFFT in f32): L2 ≤ 1e-6 and
//! L∞ ≤ 2e-6 + 5e-7·log10(n), doubled for Bluestein lengths (two FFTs of length M ≥ 2n − 1
//! and two chirp products per point).

use grokgpu::fft::{Axis, FftPlan, FftPlan2d, Transform};
use grokgpu_kernels_tests::{gpu, to_f32, Rng};
use grokgpu_reference::dft::{self, Complex};
use rustfft::num_complex::Complex64;

const TOL_L2: f64 = 1e-6;

fn tol_inf(n: usize) -> f64 {
    let bound = 2e-6 + 5e-7 * (n as f64).log10();
    if n.is_power_of_two() {
        bound
    } else {
        2.0 * bound
    }
}

/// Every n in 1..=64, the primes the project's tasks use (4099 runs the multi-pass
/// Bluestein path), and composite and power-of-two lengths up to one workgroup's 4096.
fn accuracy_lengths() -> Vec<usize> {
    let mut lengths: Vec<usize> = (1..=64).collect();
    lengths.extend([53, 71, 97, 113, 127, 131, 257, 4099, 96, 112, 128, 256, 1024, 4096]);
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

/// Two transforms per plan: the batch loop runs, and the test stays fast on a CPU device.
const BATCH: usize = 2;

fn complex_vec(values: &[f64]) -> Vec<Complex> {
    values.chunks(2).map(|z| Complex::new(z[0], z[1])).collect()
}

fn interleaved(values: &[Complex]) -> Vec<f64> {
    values.iter().flat_map(|z| [z.re, z.im]).collect()
}

fn run(plan: &FftPlan, input: &[f64]) -> Vec<f64> {
    plan.run(gpu(), &to_f32(input)).iter().map(|&x| x as f64).collect()
}

/// (relative L2, relative L∞) of `got` against `want`, both interleaved complex.
fn errors(got: &[f64], want: &[f64]) -> (f64, f64) {
    assert_eq!(got.len(), want.len(), "length mismatch");
    assert!(got.iter().all(|x| x.is_finite()), "GPU result has NaN/inf");
    let (mut err2, mut ref2, mut err_max, mut ref_max) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (g, w) in got.chunks(2).zip(want.chunks(2)) {
        let e = (g[0] - w[0]).hypot(g[1] - w[1]);
        let r = w[0].hypot(w[1]);
        err2 += e * e;
        ref2 += r * r;
        err_max = err_max.max(e);
        ref_max = ref_max.max(r);
    }
    if ref_max == 0.0 {
        (err2.sqrt(), err_max)
    } else {
        (err2.sqrt() / ref2.sqrt(), err_max / ref_max)
    }
}

fn assert_accurate(what: &str, n: usize, got: &[f64], want: &[f64]) -> (f64, f64) {
    let (l2, inf) = errors(got, want);
    assert!(l2 <= TOL_L2, "{what} n={n}: relative L2 error {l2:.3e} exceeds {TOL_L2:.1e}");
    assert!(inf <= tol_inf(n), "{what} n={n}: relative L∞ error {inf:.3e} exceeds {:.2e}", tol_inf(n));
    (l2, inf)
}

/// `reference` applied to each of the `BATCH` contiguous transforms of `input`.
fn per_transform(input: &[f64], n: usize, reference: fn(&[Complex]) -> Vec<Complex>) -> Vec<f64> {
    input.chunks(2 * n).flat_map(|x| interleaved(&reference(&complex_vec(x)))).collect()
}

#[test]
fn forward_and_inverse_match_the_f64_dft() {
    let mut rng = Rng::new(11);
    let mut worst = (0.0f64, 0.0f64);
    for n in accuracy_lengths() {
        let x = rng.vec(2 * BATCH * n, 1.0);
        for (transform, reference) in [(Transform::Forward, dft::dft as fn(&[Complex]) -> Vec<Complex>), (Transform::Inverse, dft::idft)] {
            let plan = FftPlan::new(gpu(), Axis::rows(BATCH, n), transform);
            let (l2, inf) = assert_accurate(&format!("{transform:?}"), n, &run(&plan, &x), &per_transform(&x, n, reference));
            worst = (worst.0.max(l2), worst.1.max(inf / tol_inf(n)));
        }
    }
    println!("worst relative L2 {:.2e}; worst L∞ as a fraction of its bound {:.2}", worst.0, worst.1);
}

#[test]
fn inverse_of_forward_returns_the_input() {
    let mut rng = Rng::new(12);
    for n in accuracy_lengths() {
        let x = rng.vec(2 * BATCH * n, 1.0);
        let forward = FftPlan::new(gpu(), Axis::rows(BATCH, n), Transform::Forward);
        let inverse = FftPlan::new(gpu(), Axis::rows(BATCH, n), Transform::Inverse);
        let back = run(&inverse, &run(&forward, &x));
        assert_accurate("inverse(forward)", n, &back, &x);
    }
}

/// rustfft is a second, independent oracle; it also reaches lengths the O(n²) reference
/// makes slow: 8192 (multi-pass radix-2) and 3001 (multi-pass Bluestein, M = 8192 = 128·64).
#[test]
fn forward_and_inverse_match_rustfft() {
    let mut rng = Rng::new(13);
    let mut planner = rustfft::FftPlanner::<f64>::new();
    let mut lengths = accuracy_lengths();
    lengths.extend([3001, 8192]);
    for n in lengths {
        let x = rng.vec(2 * BATCH * n, 1.0);
        for transform in [Transform::Forward, Transform::Inverse] {
            let oracle = match transform {
                Transform::Inverse => planner.plan_fft_inverse(n),
                _ => planner.plan_fft_forward(n),
            };
            let mut want: Vec<Complex64> = x.chunks(2).map(|z| Complex64::new(z[0], z[1])).collect();
            for chunk in want.chunks_mut(n) {
                oracle.process(chunk);
            }
            let scale = if transform == Transform::Inverse { 1.0 / n as f64 } else { 1.0 };
            let want: Vec<f64> = want.iter().flat_map(|z| [z.re * scale, z.im * scale]).collect();
            let plan = FftPlan::new(gpu(), Axis::rows(BATCH, n), transform);
            assert_accurate(&format!("{transform:?} vs rustfft"), n, &run(&plan, &x), &want);
        }
    }
}

#[test]
fn real_forward_matches_the_half_spectrum() {
    let mut rng = Rng::new(14);
    for n in [1, 2, 3, 8, 15, 16, 53, 96, 97, 113, 128, 131, 1024] {
        let x = rng.vec(BATCH * n, 1.0);
        let plan = FftPlan::new(gpu(), Axis::rows(BATCH, n), Transform::RealForward);
        assert_eq!(plan.bins(), n / 2 + 1);
        let want: Vec<f64> = x.chunks(n).flat_map(|row| interleaved(&dft::dft_real(row))).collect();
        assert_accurate("real forward", n, &run(&plan, &x), &want);
    }
}

/// cos(2πkt/n), its angle reduced as k·t mod n in integers, puts all but 1e-10 of its energy in
/// bins k and n − k. f32 rounding leaves ~1e-14 elsewhere; a twiddle off by one f32 ulp in
/// angle leaves ~1e-13, a wrong twiddle far more.
#[test]
fn pure_cosine_stays_in_its_two_bins() {
    for n in accuracy_lengths().into_iter().filter(|&n| n >= 2) {
        let k = (n / 3).max(1);
        let x: Vec<f64> = (0..n)
            .flat_map(|t| {
                let angle = 2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                [angle.cos() as f32 as f64, 0.0]
            })
            .collect();
        let plan = FftPlan::new(gpu(), Axis::rows(1, n), Transform::Forward);
        let got = run(&plan, &x);
        let energy = |bin: usize| got[2 * bin].powi(2) + got[2 * bin + 1].powi(2);
        let total: f64 = (0..n).map(energy).sum();
        let leaked: f64 = (0..n).filter(|&b| b != k && b != n - k).map(energy).sum();
        assert!(leaked / total < 1e-10, "n={n} k={k}: {:.3e} of the energy leaks", leaked / total);
    }
}

#[test]
fn parseval_holds() {
    let mut rng = Rng::new(15);
    for n in accuracy_lengths() {
        let x = rng.vec(2 * n, 1.0);
        let plan = FftPlan::new(gpu(), Axis::rows(1, n), Transform::Forward);
        let spectral: f64 = run(&plan, &x).iter().map(|v| v * v).sum::<f64>() / n as f64;
        let energy: f64 = x.iter().map(|v| v * v).sum();
        let rel = (spectral - energy).abs() / energy;
        // 1e-6: the bound; f32 rounding of the spectrum gives ~1e-7.
        assert!(rel <= 1e-6, "n={n}: Parseval off by {rel:.3e}");
    }
}

#[test]
fn two_dimensional_transforms_match_the_reference() {
    let mut rng = Rng::new(16);
    let grids = 2;
    for (rows, cols) in [(1, 1), (5, 7), (8, 16), (13, 13), (97, 97), (113, 64)] {
        let x = rng.vec(2 * grids * rows * cols, 1.0);
        for (transform, reference) in [(Transform::Forward, dft::dft2d as fn(&[Complex], usize, usize) -> Vec<Complex>), (Transform::Inverse, dft::idft2d)] {
            let plan = FftPlan2d::new(gpu(), grids, rows, cols, transform);
            let got: Vec<f64> = plan.run(gpu(), &to_f32(&x)).iter().map(|&v| v as f64).collect();
            let want: Vec<f64> = x.chunks(2 * rows * cols).flat_map(|g| interleaved(&reference(&complex_vec(g), rows, cols))).collect();
            assert_accurate(&format!("2D {transform:?} {rows}x{cols}"), rows.max(cols), &got, &want);
        }
        let real = rng.vec(grids * rows * cols, 1.0);
        let plan = FftPlan2d::new(gpu(), grids, rows, cols, Transform::RealForward);
        let got: Vec<f64> = plan.run(gpu(), &to_f32(&real)).iter().map(|&v| v as f64).collect();
        let half = cols / 2 + 1;
        let want: Vec<f64> = real
            .chunks(rows * cols)
            .flat_map(|g| {
                let full = dft::dft2d(&g.iter().map(|&v| Complex::new(v, 0.0)).collect::<Vec<_>>(), rows, cols);
                interleaved(&full.chunks(cols).flat_map(|row| row[..half].to_vec()).collect::<Vec<_>>())
            })
            .collect();
        assert_accurate(&format!("2D real forward {rows}x{cols}"), rows.max(cols), &got, &want);
    }
}

/// Transforming the columns of [outer, n, inner] in one batch gives, bit for bit, what each
/// column gives alone: no transform's arithmetic depends on its neighbours or its position.
#[test]
fn batched_results_equal_unbatched_bit_for_bit() {
    let mut rng = Rng::new(17);
    let cases = [
        (Axis { outer: 3, len: 97, inner: 5 }, Transform::Forward),
        (Axis { outer: 2, len: 128, inner: 3 }, Transform::Inverse),
        (Axis { outer: 1, len: 113, inner: 7 }, Transform::RealForward),
        (Axis { outer: 5, len: 16, inner: 1 }, Transform::Forward),
        (Axis { outer: 2, len: 4099, inner: 2 }, Transform::Forward),
        (Axis { outer: 1, len: 8192, inner: 3 }, Transform::RealForward),
    ];
    for (axis, transform) in cases {
        let width = transform.input_width();
        let x = to_f32(&rng.vec(width * axis.batch() * axis.len, 1.0));
        let batched = FftPlan::new(gpu(), axis, transform).run(gpu(), &x);
        let single = FftPlan::new(gpu(), Axis::rows(1, axis.len), transform);
        let bins = transform.bins(axis.len);
        for o in 0..axis.outer {
            for i in 0..axis.inner {
                let column: Vec<f32> = (0..axis.len)
                    .flat_map(|t| {
                        let at = width * ((o * axis.len + t) * axis.inner + i);
                        x[at..at + width].to_vec()
                    })
                    .collect();
                let alone = single.run(gpu(), &column);
                for k in 0..bins {
                    let at = 2 * ((o * bins + k) * axis.inner + i);
                    let pair = [batched[at].to_bits(), batched[at + 1].to_bits()];
                    assert_eq!(pair, [alone[2 * k].to_bits(), alone[2 * k + 1].to_bits()], "{axis:?} {transform:?}: transform ({o}, {i}) bin {k}");
                }
            }
        }
    }
}

#[test]
fn dispatch_counts() {
    let count = |n: usize| FftPlan::new(gpu(), Axis::rows(1, n), Transform::Forward).dispatch_count();
    // One workgroup-resident dispatch up to 4096 points (Bluestein up to n = 2048).
    assert_eq!(count(97), 1);
    assert_eq!(count(4096), 1);
    // Gather, two four-step halves, scatter; Bluestein runs the four-step FFT twice.
    assert_eq!(count(8192), 4);
    assert_eq!(count(4099), 6);
    assert_eq!(FftPlan2d::new(gpu(), 3, 97, 97, Transform::RealForward).dispatch_count(), 2);
}

/// A recorded plan replays with no allocation, pipeline or bind-group creation and no readback.
#[test]
fn replay_creates_nothing() {
    // A device of its own: the shared one's counters move with the tests running beside this.
    let own = grokgpu::gpu::Gpu::open(true).expect("a second device");
    let g = &own;
    let plan = FftPlan::new(g, Axis { outer: 2, len: 4099, inner: 3 }, Transform::Forward);
    let src = g.buffer("x", plan.input_len());
    let dst = g.buffer("y", plan.output_len());
    let program = plan.record(g, &src, &dst);
    let before = g.counters();
    g.replay(&program, 3);
    g.wait();
    let after = g.counters();
    assert_eq!(after.submits, before.submits + 1);
    assert_eq!(grokgpu::gpu::GpuCounters { submits: before.submits, ..after }, before);
}
