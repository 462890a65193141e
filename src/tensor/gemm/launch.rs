//! One launch of the matmul kernel: its operands, prologue and epilogue, the variant it
//! runs, and the dispatch.

use super::kernel::GemmKernel;
use super::params::*;
use super::split::{k_chunk_for, SplitReduction};
use super::{choice, Activation, Layout};
use crate::gpu::{flat_grid, Buffer, Dispatch, Gpu};

/// A second product in the same launch as a [`Gemm`]: op(A)·op(B) → C of shape m×k·k×n
/// in its own layout, sharing the first product's A buffer, A batch stride and gate (so
/// a linear layer's dW = dYᵀ·X and dX = dY·W are one dispatch). It takes no epilogue
/// besides `accumulate`.
#[derive(Clone, Copy, Debug)]
pub struct SecondProduct<'a> {
    pub layout: Layout,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub b: &'a Buffer,
    pub c: &'a Buffer,
    pub b_batch_stride: usize,
    pub accumulate: bool,
}

impl<'a> SecondProduct<'a> {
    /// op(A)·op(B) → C with B contiguous per batch entry, `dims` = [m, n, k].
    pub fn new(layout: Layout, dims: [usize; 3], b: &'a Buffer, c: &'a Buffer) -> SecondProduct<'a> {
        let [m, n, k] = dims;
        SecondProduct { layout, m, n, k, b, c, b_batch_stride: k * n, accumulate: false }
    }
}

/// One launch of the matmul kernel: `batch` products C[z] = op(A[z])·op(B[z]) of shape
/// m×k·k×n, C contiguous [batch, m, n], with the optional prologue and epilogue, and
/// optionally a [`SecondProduct`] sharing A. Build it with [`Gemm::new`] and
/// struct-update syntax for the options.
#[derive(Clone, Copy, Debug)]
pub struct Gemm<'a> {
    pub layout: Layout,
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: &'a Buffer,
    pub b: &'a Buffer,
    pub c: &'a Buffer,
    /// Elements between consecutive batch entries; 0 uses one matrix for every entry.
    pub a_batch_stride: usize,
    pub b_batch_stride: usize,
    /// op(A) becomes A ⊙ act'(G) with G laid out like A (the backward through `act`).
    pub gate: Option<(Activation, &'a Buffer)>,
    /// Bias per output column, `bias_batch_stride` elements apart per batch entry.
    pub bias: Option<&'a Buffer>,
    pub bias_batch_stride: usize,
    /// The pre-activation (C before `act` and `residual`) is also written here.
    pub save_pre: Option<&'a Buffer>,
    pub act: Activation,
    /// Added after the activation; laid out like C.
    pub residual: Option<&'a Buffer>,
    /// C += result instead of C = result.
    pub accumulate: bool,
    /// Also writes Σ_l op(A)[z, i, l] (after the gate) to [batch, m]; `true` accumulates.
    pub row_sums: Option<(&'a Buffer, bool)>,
    /// Computed by the same dispatch, its workgroups after this product's.
    pub second: Option<SecondProduct<'a>>,
    /// The kernel variant; `None` takes the device's choice for the shape ([`choice`]).
    pub kernel: Option<GemmKernel>,
    /// The first product may be split along k ([`k_chunk_for`]); only
    /// [`Gemm::dispatch_split`] honours it, returning the reduction still to run.
    pub split_k: bool,
    /// A pending split reduction this launch also finishes (its own workgroups, after the
    /// products' tiles). Its outputs must not be bound by the products.
    pub finish: Option<&'a SplitReduction>,
}

/// Whether a product's A and B can be read as vec4s: the dimension contiguous in memory
/// and the batch stride must be multiples of 4 (bindings themselves start 1 KiB-aligned).
fn vec4_reads(layout: Layout, [m, n, k]: [usize; 3], a_batch_stride: usize, b_batch_stride: usize) -> (bool, bool) {
    let (ta, tb) = layout.transposes();
    let a_row = if ta { m } else { k };
    let b_row = if tb { k } else { n };
    // The gate shares A's layout, so A's condition covers it.
    let quads = |x: usize| x.is_multiple_of(4);
    (quads(a_row) && quads(a_batch_stride), quads(b_row) && quads(b_batch_stride))
}

impl<'a> Gemm<'a> {
    /// A plain product of contiguous operands, `dims` = [batch, m, n, k].
    pub fn new(layout: Layout, dims: [usize; 4], a: &'a Buffer, b: &'a Buffer, c: &'a Buffer) -> Gemm<'a> {
        let [batch, m, n, k] = dims;
        Gemm {
            layout,
            batch,
            m,
            n,
            k,
            a,
            b,
            c,
            a_batch_stride: m * k,
            b_batch_stride: k * n,
            gate: None,
            bias: None,
            bias_batch_stride: n,
            save_pre: None,
            act: Activation::None,
            residual: None,
            accumulate: false,
            row_sums: None,
            second: None,
            kernel: None,
            split_k: false,
            finish: None,
        }
    }

    /// (A, B) read as vec4s by this launch: both products must allow it.
    fn vec4_reads(&self) -> (bool, bool) {
        let (a4, b4) = vec4_reads(self.layout, [self.m, self.n, self.k], self.a_batch_stride, self.b_batch_stride);
        match self.second {
            None => (a4, b4),
            Some(s) => {
                let (a4s, b4s) = vec4_reads(s.layout, [s.m, s.n, s.k], self.a_batch_stride, s.b_batch_stride);
                (a4 && a4s, b4 && b4s)
            }
        }
    }

    /// The variant this launch runs: the `kernel` field, else the device's choice.
    pub fn kernel(&self, gpu: &Gpu) -> GemmKernel {
        self.kernel.unwrap_or_else(|| choice::kernel_for(gpu, self))
    }

    /// The entry point this launch runs with `kernel`.
    pub fn entry(&self, kernel: GemmKernel) -> &'static str {
        kernel.entry(self.vec4_reads()).entry
    }

    /// [m, n, k] of each product of the launch, a split first product counted once per chunk
    /// (the tile choice sees all the workgroups).
    pub(crate) fn products(&self) -> Vec<[usize; 3]> {
        let splits = self.k_chunk().map_or(1, |c| self.k.div_ceil(c));
        let first = std::iter::repeat_n([self.m, self.n, self.k.min(self.k_chunk().unwrap_or(self.k))], splits);
        first.chain(self.second.map(|s| [s.m, s.n, s.k])).collect()
    }

    /// The split-K chunk of the first product: only with `split_k` and an epilogue that
    /// the reduction can finish (accumulate and row sums; no bias, activation or residual).
    pub fn k_chunk(&self) -> Option<usize> {
        let plain = self.bias.is_none() && self.save_pre.is_none() && self.residual.is_none() && self.act == Activation::None;
        (self.split_k && plain).then(|| k_chunk_for(self.m, self.n, self.k)).flatten()
    }

    fn check(&self) {
        assert!(self.batch >= 1, "matmul: empty batch");
        let last = |stride: usize, size: usize| (self.batch - 1) * stride + size;
        let [m, n, _] = [self.m, self.n, self.k];
        let mut operands = vec![(self.layout, [self.m, self.n, self.k], self.b, self.b_batch_stride, self.c)];
        operands.extend(self.second.map(|s| (s.layout, [s.m, s.n, s.k], s.b, s.b_batch_stride, s.c)));
        for (layout, [m, n, k], b, b_stride, c) in operands {
            assert!(m >= 1 && n >= 1 && k >= 1, "matmul: empty product {m}x{k}x{n}");
            let ([ar, ac], [br, bc]) = layout.operand_shapes(m, k, n);
            assert!(self.a.len >= last(self.a_batch_stride, ar * ac), "matmul: A buffer too small");
            assert!(b.len >= last(b_stride, br * bc), "matmul: B buffer too small");
            assert!(c.len >= self.batch * m * n, "matmul: C buffer too small");
            if let Some((_, g)) = self.gate {
                assert!(g.len >= last(self.a_batch_stride, ar * ac), "matmul: gate buffer too small");
            }
        }
        if let Some(s) = self.second {
            let writes = [Some(self.c), self.save_pre, self.row_sums.map(|(b, _)| b)];
            assert!(writes.iter().flatten().all(|w| !w.overlaps(s.c)), "matmul: the two products of a launch must write disjoint buffers");
        }
        for (what, buf) in [("pre", self.save_pre), ("residual", self.residual)] {
            assert!(buf.is_none_or(|b| b.len >= self.batch * m * n), "matmul: {what} buffer too small");
        }
        if let Some(bias) = self.bias {
            assert!(bias.len >= last(self.bias_batch_stride, n), "matmul: bias buffer too small");
        }
        if let Some((sums, _)) = self.row_sums {
            assert!(sums.len >= self.batch * m, "matmul: row-sum buffer too small");
        }
    }

    /// The first product's epilogue as FLAG_* bits (the shader's FIRST_FLAGS).
    fn epilogue_flags(&self) -> u32 {
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        flag(self.bias.is_some(), FLAG_BIAS)
            | flag(self.residual.is_some(), FLAG_RESIDUAL)
            | flag(self.accumulate, FLAG_ACCUMULATE)
            | flag(self.save_pre.is_some(), FLAG_SAVE_PRE)
            | flag(self.row_sums.is_some_and(|(_, acc)| acc), FLAG_ACCUMULATE_ROW_SUMS)
    }

    fn params(&self) -> Params {
        let first = ProductParams {
            m: self.m as u32,
            n: self.n as u32,
            k: self.k as u32,
            a_batch_stride: self.a_batch_stride as u32,
            b_batch_stride: self.b_batch_stride as u32,
            bias_batch_stride: self.bias_batch_stride as u32,
            _pad: [0; 2],
        };
        let second = self.second.map_or(ProductParams::default(), |s| ProductParams {
            m: s.m as u32,
            n: s.n as u32,
            k: s.k as u32,
            a_batch_stride: self.a_batch_stride as u32,
            b_batch_stride: s.b_batch_stride as u32,
            bias_batch_stride: 0,
            _pad: [0; 2],
        });
        let finish = self.finish;
        Params {
            first,
            second,
            products: 1 + self.second.is_some() as u32,
            first_k_chunk: self.k_chunk().unwrap_or(0) as u32,
            reduce_count: finish.map_or(0, |r| r.count() as u32),
            reduce_sums_count: finish.map_or(0, |r| r.sums_count() as u32),
            reduce_splits: finish.map_or(0, |r| r.splits as u32),
            reduce_flags: finish.map_or(0, |r| r.flags()),
            _pad: [0; 2],
        }
    }

    /// Records the launch (bind group and uniform are created now, never at replay).
    /// Never splits k: see [`Gemm::dispatch_split`].
    pub fn dispatch(&self, gpu: &Gpu) -> Dispatch {
        Gemm { split_k: false, ..*self }.dispatch_split(gpu).0
    }

    /// Records the launch, splitting the first product along k when `split_k` allows and
    /// its shape gains from it; then its partials go to scratch allocated now, and the
    /// returned [`SplitReduction`] must run (in a later launch) before C is read.
    pub fn dispatch_split(&self, gpu: &Gpu) -> (Dispatch, Option<SplitReduction>) {
        self.check();
        let split = self.k_chunk().map(|chunk| {
            let splits = self.k.div_ceil(chunk);
            SplitReduction {
                splits,
                partials: gpu.buffer("split-K partials", splits * self.batch * self.m * self.n),
                c: self.c.clone(),
                accumulate: self.accumulate,
                row_sums: self.row_sums.map(|(sums, acc)| {
                    (gpu.buffer("split-K row-sum partials", splits * self.batch * self.m), sums.clone(), acc)
                }),
            }
        });
        let variant = self.kernel(gpu);
        assert!(variant.is_valid() && variant.runs_on(gpu), "matmul: kernel variant {variant:?} cannot run on {}", gpu.adapter_name());
        let kernel = variant.entry(self.vec4_reads());
        let (ta, tb) = self.layout.transposes();
        let (ta2, tb2) = self.second.map_or((false, false), |s| s.layout.transposes());
        let gate_act = self.gate.map_or(Activation::None, |(act, _)| act);
        let mut constants = vec![
            ("TRANSPOSE_A", ta as u32 as f64),
            ("TRANSPOSE_B", tb as u32 as f64),
            ("PAIR", self.second.is_some() as u32 as f64),
            ("SECOND_TRANSPOSE_A", ta2 as u32 as f64),
            ("SECOND_TRANSPOSE_B", tb2 as u32 as f64),
            ("A_GATE", gate_act.code() as f64),
            ("ROW_SUMS", self.row_sums.is_some() as u32 as f64),
            ("FIRST_FLAGS", self.epilogue_flags() as f64),
            ("FIRST_ACT", self.act.code() as f64),
            ("SECOND_ACCUMULATE", self.second.is_some_and(|s| s.accumulate) as u32 as f64),
            ("SPLIT_K", split.is_some() as u32 as f64),
        ];
        constants.extend(variant.constants());
        let uniform = gpu.uniform(kernel.entry, &self.params());
        // Unused inputs are bound to A or B and unused outputs to C; the flags keep the
        // shader from touching them.
        let gate = self.gate.map_or(self.a, |(_, g)| g);
        let bias = self.bias.unwrap_or(self.a);
        let residual = self.residual.unwrap_or(self.a);
        let c = split.as_ref().map_or(self.c, |s| &s.partials);
        let pre = self.save_pre.unwrap_or(c);
        let sums = match &split {
            Some(SplitReduction { row_sums: Some((partials, _, _)), .. }) => partials,
            _ => self.row_sums.map_or(c, |(s, _)| s),
        };
        let (b_second, c_second) = self.second.map_or((self.b, c), |s| (s.b, s.c));
        let (reduce_partials, reduce_sum_partials, reduce_c, reduce_row_sums) = match self.finish {
            None => (self.a, self.a, c, c),
            Some(r) => {
                let (sp, rs) = r.row_sums.as_ref().map_or((&r.partials, &r.c), |(sp, rs, _)| (sp, rs));
                (&r.partials, sp, &r.c, rs)
            }
        };
        let reducers = self.finish.map_or(0, |r| r.workgroups(variant.workgroup_size(), self.batch));
        let tiles: usize = self.products().iter().map(|&[m, n, _]| variant.workgroups(1, m, n)).sum::<usize>() + reducers;
        let [x, y, _] = flat_grid(tiles, 1);
        let grid = [x, y, self.batch as u32];
        let max = gpu.limits.max_compute_workgroups_per_dimension;
        assert!(grid.iter().all(|&g| g <= max), "matmul: grid {grid:?} exceeds {max} workgroups per dimension");
        let buffers = [
            &uniform,
            self.a,
            self.b,
            gate,
            bias,
            residual,
            c,
            pre,
            sums,
            b_second,
            c_second,
            reduce_partials,
            reduce_sum_partials,
            reduce_c,
            reduce_row_sums,
        ];
        (gpu.dispatch(kernel, &constants, &buffers, grid), split)
    }
}

