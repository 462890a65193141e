//! The [`Dft`] trait on grokgpu's GPU FFT: many checkpoints' matrices (token axis) or many
//! (x, y) grids in one batched transform, in f32 with f64 tables (`crate::fft`).
//!
//! A call uploads its input as f32, runs a cached plan and reads the half spectra back as
//! f64. Plans are built once per (shape, batch) and kept with their input and output
//! buffers and recorded program, so a series of checkpoints reuses them. A batch larger
//! than one buffer comfortably holds is cut into pieces; a piece's batch is rounded up to a
//! power of two (zero padded) so that the cache holds few plans whatever the batch sizes.
//! Accuracy is f32's: about 1e-6 of the largest bin (see the test against [`CpuDft`]).
//!
//! [`CpuDft`]: crate::analysis::dft::CpuDft

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::analysis::dft::{half_bins, Complex, Dft};
use crate::fft::{Axis, FftPlan, FftPlan2d, Transform};
use crate::gpu::{Buffer, Gpu, Program};

/// The most f32 values one piece's output buffer holds (64 MiB): far below every adapter's
/// binding limit, and small enough that pieces stream.
const PIECE_ELEMENTS: usize = 1 << 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Shape {
    /// [batch, n, d] along n.
    Tokens { batch: usize, n: usize, d: usize },
    /// [grids, rows, cols] over both axes.
    Grids { grids: usize, rows: usize, cols: usize },
}

/// A plan bound to its own input and output buffers.
struct Bound {
    input: Buffer,
    output: Buffer,
    program: Program,
    /// Keeps the plan's tables and scratch alive for the recorded program.
    _plan: PlanKind,
}

enum PlanKind {
    Line(FftPlan),
    Grid(FftPlan2d),
}

/// Batched real-input forward DFTs on the GPU.
pub struct GpuDft<'g> {
    gpu: &'g Gpu,
    plans: Mutex<HashMap<Shape, Arc<Bound>>>,
}

impl<'g> GpuDft<'g> {
    pub fn new(gpu: &'g Gpu) -> GpuDft<'g> {
        GpuDft { gpu, plans: Mutex::new(HashMap::new()) }
    }

    fn bound(&self, shape: Shape) -> Arc<Bound> {
        let mut plans = self.plans.lock().expect("the plan cache is never poisoned");
        plans
            .entry(shape)
            .or_insert_with(|| {
                let gpu = self.gpu;
                let (plan, input_len, output_len) = match shape {
                    Shape::Tokens { batch, n, d } => {
                        let plan = FftPlan::new(gpu, Axis { outer: batch, len: n, inner: d }, Transform::RealForward);
                        let lens = (plan.input_len(), plan.output_len());
                        (PlanKind::Line(plan), lens.0, lens.1)
                    }
                    Shape::Grids { grids, rows, cols } => {
                        let plan = FftPlan2d::new(gpu, grids, rows, cols, Transform::RealForward);
                        let lens = (plan.input_len(), plan.output_len());
                        (PlanKind::Grid(plan), lens.0, lens.1)
                    }
                };
                let input = gpu.buffer("dft input", input_len);
                let output = gpu.buffer("dft output", output_len);
                let program = match &plan {
                    PlanKind::Line(p) => p.record(gpu, &input, &output),
                    PlanKind::Grid(p) => p.record(gpu, &input, &output),
                };
                Arc::new(Bound { input, output, program, _plan: plan })
            })
            .clone()
    }

    /// Transforms `count` items of `item_in` real values each (item_out complex bins each),
    /// in pieces; `shape(batch)` is the plan shape for a piece of `batch` items.
    fn batched(&self, x: &[f64], count: usize, item_in: usize, item_out: usize, shape: impl Fn(usize) -> Shape) -> Vec<Complex> {
        let per_piece = (PIECE_ELEMENTS / (2 * item_out).max(item_in).max(1)).max(1);
        let mut out = Vec::with_capacity(count * item_out);
        let mut start = 0;
        while start < count {
            let n = per_piece.min(count - start);
            let padded = n.next_power_of_two().min(per_piece);
            let bound = self.bound(shape(padded));
            let mut input: Vec<f32> = x[start * item_in..(start + n) * item_in].iter().map(|&v| v as f32).collect();
            input.resize(padded * item_in, 0.0);
            self.gpu.write(&bound.input, &input);
            self.gpu.run(&bound.program);
            let bins = self.gpu.read_f32(&bound.output);
            out.extend(bins[..2 * n * item_out].chunks(2).map(|z| Complex::new(z[0] as f64, z[1] as f64)));
            start += n;
        }
        out
    }
}

impl Dft for GpuDft<'_> {
    fn real_forward_tokens(&self, x: &[f64], batch: usize, n: usize, d: usize) -> Vec<Complex> {
        assert_eq!(x.len(), batch * n * d, "real_forward_tokens: x must be [batch, n, d]");
        self.batched(x, batch, n * d, half_bins(n) * d, |batch| Shape::Tokens { batch, n, d })
    }

    fn real_forward_2d(&self, x: &[f64], grids: usize, rows: usize, cols: usize) -> Vec<Complex> {
        assert_eq!(x.len(), grids * rows * cols, "real_forward_2d: x must be [grids, rows, cols]");
        self.batched(x, grids, rows * cols, rows * half_bins(cols), |grids| Shape::Grids { grids, rows, cols })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;

    /// max|g − r| / max|r| over the real and imaginary parts.
    fn normwise(got: &[Complex], want: &[Complex]) -> f64 {
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(0.0f64, |m, z| m.max(z.re.abs()).max(z.im.abs()));
        let err = got.iter().zip(want).fold(0.0f64, |m, (g, w)| m.max((g.re - w.re).abs()).max((g.im - w.im).abs()));
        err / scale
    }

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal()).collect()
    }

    #[test]
    fn token_axis_matches_the_cpu_transform() {
        let dft = GpuDft::new(Gpu::shared());
        // Odd prime (Bluestein), the discrete-log length (even, composite), a power of two,
        // and a batch of 3 checkpoints that pads to a plan of 4.
        for (batch, n, d) in [(3, 97, 5), (2, 96, 3), (1, 64, 7), (5, 13, 1)] {
            let x = random(batch * n * d, n as u64);
            let got = dft.real_forward_tokens(&x, batch, n, d);
            let want = CpuDft.real_forward_tokens(&x, batch, n, d);
            let err = normwise(&got, &want);
            // Tolerance 2e-6: f32 input rounding and an f32 FFT of ≤ 97 points (Bluestein
            // over 256); measured ≤ 3.0e-7.
            assert!(err < 2e-6, "{batch}×{n}×{d}: {err:e}");
        }
    }

    #[test]
    fn grids_match_the_cpu_transform() {
        let dft = GpuDft::new(Gpu::shared());
        for (grids, rows, cols) in [(3, 31, 31), (2, 12, 9), (1, 47, 64)] {
            let x = random(grids * rows * cols, (rows * cols) as u64);
            let got = dft.real_forward_2d(&x, grids, rows, cols);
            let want = CpuDft.real_forward_2d(&x, grids, rows, cols);
            let err = normwise(&got, &want);
            // Tolerance 2e-6 as above, two f32 transforms deep; measured ≤ 2.3e-7.
            assert!(err < 2e-6, "{grids}×{rows}×{cols}: {err:e}");
        }
    }

    #[test]
    fn plans_are_reused_across_calls() {
        let dft = GpuDft::new(Gpu::shared());
        let x = random(3 * 13 * 4, 1);
        let first = dft.real_forward_tokens(&x, 3, 13, 4);
        let again = dft.real_forward_tokens(&x, 3, 13, 4);
        assert_eq!(first, again, "the same input transforms to the same bits");
        // Batches 3 and 4 share the plan of 4.
        dft.real_forward_tokens(&random(4 * 13 * 4, 2), 4, 13, 4);
        assert_eq!(dft.plans.lock().unwrap().len(), 1);
    }
}
