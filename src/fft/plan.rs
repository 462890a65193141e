//! One-dimensional FFT plans: the algorithm, tables, uniforms and pipelines for one
//! (length, layout, direction), built once and recorded into replayable programs.

use std::sync::Arc;

use super::axis::{Axis, Transform};
use super::pass::{Operand, Params, Pass, Post, Variant, GATHER, MAX_SHARED_LEN, SCATTER, SHARED, WORKGROUP};
use super::tables::{chirp, chirp_filter_spectrum, roots, twiddles, TableBuilder};
use crate::gpu::{flat_grid, Buffer, Gpu, Program};

/// A batched FFT along one axis of a row-major tensor (see [`Axis`]), out of place.
///
/// Powers of two run radix-2 Stockham; every other length runs Bluestein over the next power
/// of two M ≥ 2n − 1. When the (padded) length fits in workgroup memory (4096 points where
/// the adapter has 32 KiB) the whole plan is one dispatch; longer transforms take a gather,
/// a four-step FFT (two dispatches, or four for Bluestein) and a scatter.
pub struct FftPlan {
    axis: Axis,
    transform: Transform,
    padded_len: usize,
    passes: Vec<Pass>,
    tables: Buffer,
    scratch: Option<[Buffer; 2]>,
}

/// The longest power of two whose f32 complex points fit in one workgroup's memory.
pub fn max_shared_len(gpu: &Gpu) -> usize {
    let fit = gpu.limits.max_compute_workgroup_storage_size as usize / 8;
    (1usize << fit.ilog2()).min(MAX_SHARED_LEN)
}

/// Launch grid for `count` workgroups (2D past the per-dimension limit).
fn workgroups(count: usize) -> [u32; 3] {
    flat_grid(count, 1)
}

impl FftPlan {
    pub fn new(gpu: &Gpu, axis: Axis, transform: Transform) -> FftPlan {
        let n = axis.len;
        assert!(n >= 1 && axis.batch() >= 1, "an FFT plan needs n ≥ 1 and at least one transform");
        let bluestein = !n.is_power_of_two();
        let padded_len = if bluestein { (2 * n - 1).next_power_of_two() } else { n };
        let bins = transform.bins(n);
        let mut tables = TableBuilder::default();
        let (chirp_offset, filter_offset) = if bluestein {
            (tables.push(&chirp(n)), tables.push(&chirp_filter_spectrum(n, padded_len)))
        } else {
            (0, 0)
        };
        let scale = if transform == Transform::Inverse { (1.0 / n as f64) as f32 } else { 1.0 };
        // The caller's layout on both sides; the shader's strides count points.
        let io = Params {
            batch: axis.batch() as u32,
            inner_count: axis.inner as u32,
            n_in: n as u32,
            n_out: bins as u32,
            in_outer: (n * axis.inner) as u32,
            in_elem: axis.inner as u32,
            in_inner: 1,
            scale,
            out_outer: (bins * axis.inner) as u32,
            out_elem: axis.inner as u32,
            out_inner: 1,
            chirp_offset,
            post_offset: filter_offset,
            ..Params::default()
        };
        let variant = Variant {
            log_n: padded_len.trailing_zeros(),
            real_in: transform == Transform::RealForward,
            inverse: transform == Transform::Inverse,
            bluestein,
            ..Variant::default()
        };
        let max_shared = max_shared_len(gpu);
        let (passes, scratch) = if padded_len <= max_shared {
            let twiddle_offset = tables.push(&twiddles(padded_len));
            let variant = Variant { batch_fastest: axis.inner > 1 && variant.per_workgroup() > 1, ..variant };
            let groups = workgroups(axis.batch().div_ceil(variant.per_workgroup()));
            let pass = Pass::new(gpu, SHARED, variant, Params { twiddle_offset, ..io }, Operand::Input, Operand::Output, groups);
            (vec![pass], None)
        } else {
            let batch = axis.batch();
            let mut passes = vec![Pass::new(gpu, GATHER, variant, io, Operand::Input, Operand::ScratchA, flat_grid(batch * padded_len, WORKGROUP))];
            let four_step = FourStep::new(&mut tables, padded_len, max_shared);
            passes.extend(four_step.passes(gpu, batch, bluestein.then_some(filter_offset)));
            if bluestein {
                passes.extend(four_step.passes(gpu, batch, None));
            }
            let finish = Variant { real_in: false, ..variant };
            passes.push(Pass::new(gpu, SCATTER, finish, io, Operand::ScratchA, Operand::Output, flat_grid(batch * bins, WORKGROUP)));
            let scratch_len = 2 * batch * padded_len;
            (passes, Some([gpu.buffer("fft scratch a", scratch_len), gpu.buffer("fft scratch b", scratch_len)]))
        };
        let tables = gpu.buffer_from("fft tables", &tables.finish());
        FftPlan { axis, transform, padded_len, passes, tables, scratch }
    }

    pub fn axis(&self) -> Axis {
        self.axis
    }

    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Output points per transform: n, or n/2 + 1 for [`Transform::RealForward`].
    pub fn bins(&self) -> usize {
        self.transform.bins(self.axis.len)
    }

    /// The FFT length actually run: n for powers of two, Bluestein's M otherwise.
    pub fn padded_len(&self) -> usize {
        self.padded_len
    }

    /// f32 values the input buffer holds: [outer, n, inner], real or (re, im) pairs.
    pub fn input_len(&self) -> usize {
        self.axis.batch() * self.axis.len * self.transform.input_width()
    }

    /// f32 values the output buffer holds: [outer, bins, inner] of (re, im) pairs.
    pub fn output_len(&self) -> usize {
        2 * self.axis.batch() * self.bins()
    }

    /// Dispatches per recorded program.
    pub fn dispatch_count(&self) -> usize {
        self.passes.len()
    }

    /// The plan's dispatches over `input` → `output` (different buffers). Creates only bind
    /// groups; the program can be replayed any number of times.
    pub fn record(&self, gpu: &Gpu, input: &Buffer, output: &Buffer) -> Program {
        assert!(input.len >= self.input_len(), "FFT input holds {} values; the plan reads {}", input.len, self.input_len());
        assert!(output.len >= self.output_len(), "FFT output holds {} values; the plan writes {}", output.len, self.output_len());
        assert!(!Arc::ptr_eq(&input.raw, &output.raw), "FFT plans run out of place: input and output must be different buffers");
        let buffer = |operand: Operand| match operand {
            Operand::Input => input,
            Operand::Output => output,
            Operand::ScratchA => &self.scratch.as_ref().expect("multi-pass plans own scratch")[0],
            Operand::ScratchB => &self.scratch.as_ref().expect("multi-pass plans own scratch")[1],
        };
        Program { dispatches: self.passes.iter().map(|p| p.bind(gpu, buffer(p.src), buffer(p.dst), &self.tables)).collect() }
    }

    /// Transforms host data once (tests, tools): uploads, runs, reads back.
    pub fn run(&self, gpu: &Gpu, input: &[f32]) -> Vec<f32> {
        assert_eq!(input.len(), self.input_len(), "FFT input length");
        let src = gpu.buffer_from("fft input", input);
        let dst = gpu.buffer("fft output", self.output_len());
        gpu.run(&self.record(gpu, &src, &dst));
        gpu.read_f32(&dst)
    }
}

/// An M-point FFT of contiguous transforms as M = N1·N2: N1 transforms of N2 points at
/// stride N1, a twiddle e^{−2πi·t1·k2/M}, then N2 contiguous transforms of N1 points whose
/// outputs land at k2 + N2·k1. Both halves run in workgroup memory.
struct FourStep {
    m: usize,
    n1: usize,
    n2: usize,
    twiddles_n1: u32,
    twiddles_n2: u32,
    roots_m: u32,
}

impl FourStep {
    fn new(tables: &mut TableBuilder, m: usize, max_shared: usize) -> FourStep {
        let n1 = 1usize << m.trailing_zeros().div_ceil(2);
        let n2 = m / n1;
        assert!(n1 <= max_shared, "FFT length {m} exceeds the four-step limit {}", max_shared * max_shared);
        FourStep {
            m,
            n1,
            n2,
            twiddles_n1: tables.push(&twiddles(n1)),
            twiddles_n2: tables.push(&twiddles(n2)),
            roots_m: tables.push(&roots(m)),
        }
    }

    /// Scratch A → B → A; with `filter`, the output is multiplied by that spectrum and
    /// conjugated (Bluestein's middle step).
    fn passes(&self, gpu: &Gpu, batch: usize, filter: Option<u32>) -> [Pass; 2] {
        let (m, n1, n2) = (self.m as u32, self.n1 as u32, self.n2 as u32);
        let columns = Variant { log_n: n2.trailing_zeros(), batch_fastest: true, post: Post::FourStepTwiddle, ..Variant::default() };
        let column_params = Params {
            batch: batch as u32 * n1,
            inner_count: n1,
            n_in: n2,
            n_out: n2,
            in_outer: m,
            in_elem: n1,
            in_inner: 1,
            scale: 1.0,
            out_outer: m,
            out_elem: n1,
            out_inner: 1,
            post_modulus: m,
            twiddle_offset: self.twiddles_n2,
            post_offset: self.roots_m,
            ..Params::default()
        };
        let rows = Variant {
            log_n: n1.trailing_zeros(),
            post: if filter.is_some() { Post::FilterThenConj } else { Post::Nothing },
            ..Variant::default()
        };
        let row_params = Params {
            batch: batch as u32 * n2,
            inner_count: n2,
            n_in: n1,
            n_out: n1,
            in_outer: m,
            in_elem: 1,
            in_inner: n1,
            scale: 1.0,
            out_outer: m,
            out_elem: n2,
            out_inner: 1,
            twiddle_offset: self.twiddles_n1,
            post_offset: filter.unwrap_or(0),
            ..Params::default()
        };
        [
            Pass::new(gpu, SHARED, columns, column_params, Operand::ScratchA, Operand::ScratchB, workgroups((batch * self.n1).div_ceil(columns.per_workgroup()))),
            Pass::new(gpu, SHARED, rows, row_params, Operand::ScratchB, Operand::ScratchA, workgroups((batch * self.n2).div_ceil(rows.per_workgroup()))),
        ]
    }
}
