//! Two-dimensional FFTs of many grids at once: rows, then columns read in place.

use super::axis::{Axis, Transform};
use super::plan::FftPlan;
use crate::gpu::{Buffer, Gpu, Program};

/// The 2D transform of `grids` row-major grids [rows, cols] stored back to back:
/// X[a, b] = Σ_{r,c} x[r, c]·e^{−2πi(a·r/rows + b·c/cols)} (the inverse scaled by
/// 1/(rows·cols)). [`Transform::RealForward`] keeps columns b = 0..=cols/2 of real input, as
/// numpy's rfft2: output [grids, rows, cols/2 + 1] complex.
pub struct FftPlan2d {
    rows: FftPlan,
    columns: FftPlan,
    between: Buffer,
}

impl FftPlan2d {
    pub fn new(gpu: &Gpu, grids: usize, rows: usize, cols: usize, transform: Transform) -> FftPlan2d {
        let row_plan = FftPlan::new(gpu, Axis { outer: grids * rows, len: cols, inner: 1 }, transform);
        let column_transform = if transform == Transform::Inverse { Transform::Inverse } else { Transform::Forward };
        let column_plan = FftPlan::new(gpu, Axis { outer: grids, len: rows, inner: row_plan.bins() }, column_transform);
        let between = gpu.buffer("fft2d rows done", row_plan.output_len());
        FftPlan2d { rows: row_plan, columns: column_plan, between }
    }

    /// f32 values of the input: [grids, rows, cols], real or (re, im) pairs.
    pub fn input_len(&self) -> usize {
        self.rows.input_len()
    }

    /// f32 values of the output: [grids, rows, cols or cols/2 + 1] of (re, im) pairs.
    pub fn output_len(&self) -> usize {
        self.columns.output_len()
    }

    pub fn dispatch_count(&self) -> usize {
        self.rows.dispatch_count() + self.columns.dispatch_count()
    }

    /// The row and column dispatches over `input` → `output` (different buffers).
    pub fn record(&self, gpu: &Gpu, input: &Buffer, output: &Buffer) -> Program {
        let mut program = self.rows.record(gpu, input, &self.between);
        program.extend(self.columns.record(gpu, &self.between, output));
        program
    }

    /// Transforms host data once (tests, tools): uploads, runs, reads back.
    pub fn run(&self, gpu: &Gpu, input: &[f32]) -> Vec<f32> {
        assert_eq!(input.len(), self.input_len(), "FFT input length");
        let src = gpu.buffer_from("fft2d input", input);
        let dst = gpu.buffer("fft2d output", self.output_len());
        gpu.run(&self.record(gpu, &src, &dst));
        gpu.read_f32(&dst)
    }
}
