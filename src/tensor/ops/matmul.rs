//! Batched matrix products: the register-tiled kernel launcher ([`Gemm`]), its tile
//! choice ([`tile_for`]), and the `matmul` op with its backward.
//!
//! The kernel offers the three layouts A·B, Aᵀ·B and A·Bᵀ, so each gradient of a product
//! is another product in one of them and no transpose is ever materialized:
//!
//! | forward   | dA        | dB        |
//! |-----------|-----------|-----------|
//! | C = A·B   | dC·Bᵀ     | Aᵀ·dC     |
//! | C = Aᵀ·B  | B·dCᵀ     | A·dC      |
//! | C = A·Bᵀ  | dC·B      | dCᵀ·A     |
//!
//! A launch may also compute a second product that reads the same A ([`SecondProduct`]):
//! for C = A·Bᵀ (a linear layer's x·Wᵀ) both gradients read dC first, so they are one
//! dispatch.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

/// Which operand is read transposed. Matrices are row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// C = A·B: A [m, k], B [k, n].
    AB,
    /// C = Aᵀ·B: A [k, m], B [k, n].
    AtB,
    /// C = A·Bᵀ: A [m, k], B [n, k].
    ABt,
}

impl Variant {
    fn transposes(self) -> (bool, bool) {
        match self {
            Variant::AB => (false, false),
            Variant::AtB => (true, false),
            Variant::ABt => (false, true),
        }
    }

    /// (rows, cols) of A and of B as stored, for a product of shape m×k·k×n.
    pub fn operand_shapes(self, m: usize, k: usize, n: usize) -> ([usize; 2], [usize; 2]) {
        match self {
            Variant::AB => ([m, k], [k, n]),
            Variant::AtB => ([k, m], [k, n]),
            Variant::ABt => ([m, k], [n, k]),
        }
    }
}

/// An activation applied in a product's epilogue, or whose derivative gates its A operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    Gelu,
}

impl Activation {
    /// The shader's ACT_* code.
    fn code(self) -> u32 {
        match self {
            Activation::None => 0,
            Activation::Relu => 1,
            Activation::Gelu => 2,
        }
    }
}

/// A workgroup's tile: BM×BN outputs, staged BK deep, TM×4 outputs per invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub tm: u32,
}

impl Tile {
    /// 256 invocations of 4×4: the most reuse per load, for large products.
    pub const LARGE: Tile = Tile { bm: 64, bn: 64, bk: 16, tm: 4 };
    /// 64 invocations of 4×4: four times the workgroups of `LARGE` on the same product.
    pub const MEDIUM: Tile = Tile { bm: 32, bn: 32, bk: 16, tm: 4 };
    /// 64 invocations of 2×4, shallow: thin or short products.
    pub const SMALL: Tile = Tile { bm: 16, bn: 32, bk: 8, tm: 2 };

    fn workgroups(self, batch: usize, m: usize, n: usize) -> usize {
        batch * m.div_ceil(self.bm as usize) * n.div_ceil(self.bn as usize)
    }
}

/// Workgroups below which a tile leaves a large GPU (100+ compute units) partly idle.
const ENOUGH_WORKGROUPS: usize = 256;

/// The tile for a batch of m×k·k×n products: the largest one that still yields enough
/// workgroups to fill a large GPU; when none does, `MEDIUM` if both sides of C are at
/// least 64, else `SMALL`, which also takes every product with k or m below 16 (its
/// shallow, short tile wastes less on padding). The models' [R, 2048, 128]·[128, 512]
/// layers take `LARGE` from R = 1; [R, 512, 128]·[128, 512] takes `MEDIUM` at R = 1 and
/// `LARGE` from R = 4.
pub fn tile_for(batch: usize, m: usize, n: usize, k: usize) -> Tile {
    tile_for_launch(batch, &[[m, n, k]])
}

/// [`tile_for`] for a launch of several products (one tile for all of them): the
/// workgroups of all count, and every product must suit the tile.
fn tile_for_launch(batch: usize, products: &[[usize; 3]]) -> Tile {
    if products.iter().any(|&[m, _, k]| k < 16 || m < 16) {
        return Tile::SMALL;
    }
    let workgroups = |t: Tile| products.iter().map(|&[m, n, _]| t.workgroups(batch, m, n)).sum::<usize>();
    let wide = products.iter().all(|&[m, n, _]| m.min(n) >= 64);
    [Tile::LARGE, Tile::MEDIUM]
        .into_iter()
        .find(|&t| workgroups(t) >= ENOUGH_WORKGROUPS)
        .unwrap_or(if wide { Tile::MEDIUM } else { Tile::SMALL })
}

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "matmul.wgsl",
        source: shaders::MATMUL,
        entry,
        bindings: &[
            Access::Uniform,   // params
            Access::Read,      // a
            Access::Read,      // b
            Access::Read,      // gate
            Access::Read,      // bias
            Access::Read,      // residual
            Access::ReadWrite, // c
            Access::ReadWrite, // pre
            Access::ReadWrite, // row_sums
            Access::Read,      // b_second
            Access::ReadWrite, // c_second
            Access::Read,      // reduce_partials
            Access::Read,      // reduce_sum_partials
            Access::ReadWrite, // reduce_c
            Access::ReadWrite, // reduce_row_sums
        ],
    }
}

/// Indexed by (A read as vec4, B read as vec4).
const KERNELS: [[Kernel; 2]; 2] = [
    [kernel("matmul_a1_b1"), kernel("matmul_a1_b4")],
    [kernel("matmul_a4_b1"), kernel("matmul_a4_b4")],
];

const FLAG_BIAS: u32 = 1;
const FLAG_RESIDUAL: u32 = 2;
const FLAG_ACCUMULATE: u32 = 4;
const FLAG_SAVE_PRE: u32 = 8;
const FLAG_ACCUMULATE_ROW_SUMS: u32 = 16;
const FLAG_ROW_SUMS: u32 = 32;

/// One product of a launch (WGSL `Product`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct ProductParams {
    m: u32,
    n: u32,
    k: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
    bias_batch_stride: u32,
    act: u32,
    flags: u32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    first: ProductParams,
    second: ProductParams,
    products: u32,
    first_k_chunk: u32,
    reduce_count: u32,
    reduce_sums_count: u32,
    reduce_splits: u32,
    reduce_flags: u32,
    _pad: [u32; 2],
}

/// Workgroups a split product aims for: enough to fill a large GPU.
const SPLIT_TARGET_WORKGROUPS: usize = 512;
/// The shortest split-K chunk: shorter ones spend more on partials than they gain.
const MIN_K_CHUNK: usize = 256;
/// Chunk edges fall on multiples of the deepest tile's BK, so every tile sums the same
/// k ranges (a product's value never depends on the tile, hence not on the batch).
const K_CHUNK_ALIGN: usize = 16;

/// The split-K chunk depth for an m×k·k×n product, from its shape only (never the batch,
/// so a run computes the same sums alone or among others): `None` when the product has
/// enough tiles or too short a k to gain from splitting. Power2022's weight gradients
/// (m×n = 128×128 … 512×128, k = 2048) take 8 chunks of 256.
pub fn k_chunk_for(m: usize, n: usize, k: usize) -> Option<usize> {
    let splits = SPLIT_TARGET_WORKGROUPS.div_ceil(Tile::MEDIUM.workgroups(1, m, n)).min(k / MIN_K_CHUNK);
    (splits >= 2).then(|| k.div_ceil(splits).next_multiple_of(K_CHUNK_ALIGN))
}

/// The second pass of a split-K product: C = Σ_s partials[s] (s = 0..S−1 in order, or
/// C += that) and likewise its row sums. Some later matmul launch finishes it
/// ([`Gemm::finish`]), or its own launch ([`SplitReduction::dispatch`]).
#[derive(Clone, Debug)]
pub struct SplitReduction {
    splits: usize,
    /// [S, batch, m, n]
    partials: Buffer,
    c: Buffer,
    accumulate: bool,
    /// [S, batch, m] and where they go, accumulating or not.
    row_sums: Option<(Buffer, Buffer, bool)>,
}

impl SplitReduction {
    fn count(&self) -> usize {
        self.partials.len / self.splits
    }

    fn sums_count(&self) -> usize {
        self.row_sums.as_ref().map_or(0, |(p, _, _)| p.len / self.splits)
    }

    fn flags(&self) -> u32 {
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        flag(self.accumulate, FLAG_ACCUMULATE) | flag(self.row_sums.as_ref().is_some_and(|r| r.2), FLAG_ACCUMULATE_ROW_SUMS)
    }

    /// Workgroups of `wg_size` invocations per grid z slice that sum it over `batch` slices.
    fn workgroups(&self, wg_size: usize, batch: usize) -> usize {
        (self.count() + self.sums_count()).div_ceil(wg_size * batch)
    }

    /// The reduction as a launch of its own.
    pub fn dispatch(&self, gpu: &Gpu) -> Dispatch {
        let kernel = &KERNELS[0][0];
        let tile = Tile::LARGE;
        let constants = [("BM", tile.bm as f64), ("BN", tile.bn as f64), ("BK", tile.bk as f64), ("TM", tile.tm as f64)];
        let params = Params {
            first: ProductParams::default(),
            second: ProductParams::default(),
            products: 0,
            first_k_chunk: 0,
            reduce_count: self.count() as u32,
            reduce_sums_count: self.sums_count() as u32,
            reduce_splits: self.splits as u32,
            reduce_flags: self.flags(),
            _pad: [0; 2],
        };
        let uniform = gpu.uniform("split-K reduction", &params);
        let p = &self.partials;
        let (sum_partials, row_sums) = self.row_sums.as_ref().map_or((p, &self.c), |(sp, rs, _)| (sp, rs));
        let c = &self.c;
        let buffers = [&uniform, p, p, p, p, p, c, c, c, p, c, p, sum_partials, c, row_sums];
        let wg_size = (tile.bn / 4 * (tile.bm / tile.tm)) as usize;
        gpu.dispatch(kernel, &constants, &buffers, flat_grid(self.workgroups(wg_size, 1), 1))
    }
}

/// A second product in the same launch as a [`Gemm`]: op(A)·op(B) → C of shape m×k·k×n
/// in its own layout, sharing the first product's A buffer, A batch stride and gate (so
/// a linear layer's dW = dYᵀ·X and dX = dY·W are one dispatch). It takes no epilogue
/// besides `accumulate`.
#[derive(Clone, Copy, Debug)]
pub struct SecondProduct<'a> {
    pub variant: Variant,
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
    pub fn new(variant: Variant, dims: [usize; 3], b: &'a Buffer, c: &'a Buffer) -> SecondProduct<'a> {
        let [m, n, k] = dims;
        SecondProduct { variant, m, n, k, b, c, b_batch_stride: k * n, accumulate: false }
    }
}

/// One launch of the matmul kernel: `batch` products C[z] = op(A[z])·op(B[z]) of shape
/// m×k·k×n, C contiguous [batch, m, n], with the optional prologue and epilogue, and
/// optionally a [`SecondProduct`] sharing A. Build it with [`Gemm::new`] and
/// struct-update syntax for the options.
#[derive(Clone, Copy, Debug)]
pub struct Gemm<'a> {
    pub variant: Variant,
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
    /// Overrides [`tile_for`].
    pub tile: Option<Tile>,
    /// The first product may be split along k ([`k_chunk_for`]); only
    /// [`Gemm::dispatch_split`] honours it, returning the reduction still to run.
    pub split_k: bool,
    /// A pending split reduction this launch also finishes (its own workgroups, after the
    /// products' tiles). Its outputs must not be bound by the products.
    pub finish: Option<&'a SplitReduction>,
}

/// Whether a product's A and B can be read as vec4s: the dimension contiguous in memory
/// and the batch stride must be multiples of 4 (bindings themselves start 1 KiB-aligned).
fn vec4_reads(variant: Variant, [m, n, k]: [usize; 3], a_batch_stride: usize, b_batch_stride: usize) -> (bool, bool) {
    let (ta, tb) = variant.transposes();
    let a_row = if ta { m } else { k };
    let b_row = if tb { k } else { n };
    // The gate shares A's layout, so A's condition covers it.
    let quads = |x: usize| x.is_multiple_of(4);
    (quads(a_row) && quads(a_batch_stride), quads(b_row) && quads(b_batch_stride))
}

impl<'a> Gemm<'a> {
    /// A plain product of contiguous operands, `dims` = [batch, m, n, k].
    pub fn new(variant: Variant, dims: [usize; 4], a: &'a Buffer, b: &'a Buffer, c: &'a Buffer) -> Gemm<'a> {
        let [batch, m, n, k] = dims;
        Gemm {
            variant,
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
            tile: None,
            split_k: false,
            finish: None,
        }
    }

    /// (A, B) read as vec4s by this launch: both products must allow it.
    fn vec4_reads(&self) -> (bool, bool) {
        let (a4, b4) = vec4_reads(self.variant, [self.m, self.n, self.k], self.a_batch_stride, self.b_batch_stride);
        match self.second {
            None => (a4, b4),
            Some(s) => {
                let (a4s, b4s) = vec4_reads(s.variant, [s.m, s.n, s.k], self.a_batch_stride, s.b_batch_stride);
                (a4 && a4s, b4 && b4s)
            }
        }
    }

    /// The entry point this launch uses.
    pub fn entry(&self) -> &'static str {
        let (a4, b4) = self.vec4_reads();
        KERNELS[a4 as usize][b4 as usize].entry
    }

    /// The tile this launch uses: the `tile` field, else the shapes' choice.
    pub fn tile(&self) -> Tile {
        self.tile.unwrap_or_else(|| tile_for_launch(self.batch, &self.products()))
    }

    /// [m, n, k] of each product of the launch, a split first product counted once per chunk
    /// (the tile choice sees all the workgroups).
    fn products(&self) -> Vec<[usize; 3]> {
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
        let mut operands = vec![(self.variant, [self.m, self.n, self.k], self.b, self.b_batch_stride, self.c)];
        operands.extend(self.second.map(|s| (s.variant, [s.m, s.n, s.k], s.b, s.b_batch_stride, s.c)));
        for (variant, [m, n, k], b, b_stride, c) in operands {
            assert!(m >= 1 && n >= 1 && k >= 1, "matmul: empty product {m}x{k}x{n}");
            let ([ar, ac], [br, bc]) = variant.operand_shapes(m, k, n);
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

    fn params(&self) -> Params {
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        let first = ProductParams {
            m: self.m as u32,
            n: self.n as u32,
            k: self.k as u32,
            a_batch_stride: self.a_batch_stride as u32,
            b_batch_stride: self.b_batch_stride as u32,
            bias_batch_stride: self.bias_batch_stride as u32,
            act: self.act.code(),
            flags: flag(self.bias.is_some(), FLAG_BIAS)
                | flag(self.residual.is_some(), FLAG_RESIDUAL)
                | flag(self.accumulate, FLAG_ACCUMULATE)
                | flag(self.save_pre.is_some(), FLAG_SAVE_PRE)
                | flag(self.row_sums.is_some(), FLAG_ROW_SUMS)
                | flag(self.row_sums.is_some_and(|(_, acc)| acc), FLAG_ACCUMULATE_ROW_SUMS),
        };
        let second = self.second.map_or(ProductParams::default(), |s| ProductParams {
            m: s.m as u32,
            n: s.n as u32,
            k: s.k as u32,
            a_batch_stride: self.a_batch_stride as u32,
            b_batch_stride: s.b_batch_stride as u32,
            bias_batch_stride: 0,
            act: Activation::None.code(),
            flags: flag(s.accumulate, FLAG_ACCUMULATE),
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
        let tile = self.tile();
        let valid = [tile.bn, tile.bm, tile.bk].iter().all(|x| x.is_multiple_of(4)) && tile.bm.is_multiple_of(tile.tm);
        assert!(valid && tile.tm <= 8, "matmul: bad tile {tile:?}");
        let (a4, b4) = self.vec4_reads();
        let kernel = &KERNELS[a4 as usize][b4 as usize];
        let (ta, tb) = self.variant.transposes();
        let (ta2, tb2) = self.second.map_or((false, false), |s| s.variant.transposes());
        let gate_act = self.gate.map_or(Activation::None, |(act, _)| act);
        let constants = [
            ("TRANSPOSE_A", ta as u32 as f64),
            ("TRANSPOSE_B", tb as u32 as f64),
            ("PAIR", self.second.is_some() as u32 as f64),
            ("SECOND_TRANSPOSE_A", ta2 as u32 as f64),
            ("SECOND_TRANSPOSE_B", tb2 as u32 as f64),
            ("A_GATE", gate_act.code() as f64),
            ("ROW_SUMS", self.row_sums.is_some() as u32 as f64),
            ("BM", tile.bm as f64),
            ("BN", tile.bn as f64),
            ("BK", tile.bk as f64),
            ("TM", tile.tm as f64),
        ];
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
        let wg_size = (tile.bn / 4 * (tile.bm / tile.tm)) as usize;
        let reducers = self.finish.map_or(0, |r| r.workgroups(wg_size, self.batch));
        let tiles: usize = self.products().iter().map(|&[m, n, _]| tile.workgroups(1, m, n)).sum::<usize>() + reducers;
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

/// (batch, rows, cols) of a tensor [leading axes..., rows, cols], leading axes folded.
fn batched_matrix(shape: &[usize]) -> (usize, usize, usize) {
    let d = shape.len();
    assert!(d >= 3, "matmul operands are [R, ..., rows, cols], got {shape:?}");
    (shape[..d - 2].iter().product(), shape[d - 2], shape[d - 1])
}

/// op(A)·op(B) over the shared leading axes (R first): a [.., ra, ca], b [.., rb, cb]
/// read as [.., m, k] and [.., k, n] per `variant`; the result is [.., m, n].
pub fn matmul(tape: &mut Tape, a: Tensor, b: Tensor, variant: Variant) -> Tensor {
    let (sa, sb) = (tape.shape(a).to_vec(), tape.shape(b).to_vec());
    let (batch, ra, ca) = batched_matrix(&sa);
    let (_, rb, cb) = batched_matrix(&sb);
    assert_eq!(sa[..sa.len() - 2], sb[..sb.len() - 2], "matmul: leading axes differ: {sa:?} vs {sb:?}");
    let (m, k) = if variant == Variant::AtB { (ca, ra) } else { (ra, ca) };
    let (kb, n) = if variant == Variant::ABt { (cb, rb) } else { (rb, cb) };
    assert_eq!(k, kb, "matmul {variant:?}: inner dimensions differ: {sa:?} vs {sb:?}");
    let mut shape = sa[..sa.len() - 2].to_vec();
    shape.extend([m, n]);
    let out = tape.output("matmul", &shape, &[a, b]);
    let d = Gemm::new(variant, [batch, m, n, k], tape.buf(a), tape.buf(b), tape.buf(out)).dispatch(tape.gpu);
    tape.record(Op::Matmul { variant }, &[a, b], out, vec![], vec![d]);
    out
}

/// dA and dB of a recorded `matmul`, each one product (see the table in the module docs);
/// for A·Bᵀ, one launch of both.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::Matmul { variant } = node.op else { unreachable!("matmul::backward got {:?}", node.op) };
    let (a, b) = (node.inputs[0], node.inputs[1]);
    let (batch, _, _) = batched_matrix(tape.shape(a));
    let (_, m, n) = batched_matrix(tape.shape(node.output));
    let k = tape.shape(a).iter().product::<usize>() / (batch * m);
    let (abuf, bbuf) = (tape.buf(a).clone(), tape.buf(b).clone());
    let gpu = tape.gpu;
    let mut out = Vec::new();
    // Each gradient: (layout, [batch, rows, cols, depth], left operand, right operand).
    let da = match variant {
        Variant::AB => (Variant::ABt, [batch, m, k, n], dout, &bbuf),
        Variant::AtB => (Variant::ABt, [batch, k, m, n], &bbuf, dout),
        Variant::ABt => (Variant::AB, [batch, m, k, n], dout, &bbuf),
    };
    let db = match variant {
        Variant::AB => (Variant::AtB, [batch, k, n, m], &abuf, dout),
        Variant::AtB => (Variant::AB, [batch, k, n, m], &abuf, dout),
        Variant::ABt => (Variant::AtB, [batch, n, k, m], dout, &abuf),
    };
    // A·Bᵀ's two gradients both read dC as their A operand: one launch, unless they add
    // into one buffer (A·Aᵀ), since the products of one launch run concurrently.
    if variant == Variant::ABt && tape.reduction_writing(a).is_none() && tape.reduction_writing(b).is_none() {
        let (ga, gb) = (tape.grad_target(a), tape.grad_target(b));
        if let (Some((ga, acc_a)), Some((gb, acc_b))) = (&ga, &gb) {
            if !ga.overlaps(gb) {
                // dB = dCᵀ·A first (its k is the long batch of rows, so it may be split),
                // dA = dC·B beside it.
                let (layout, [_, m2, n2, k2], _, right) = da;
                let second = SecondProduct { accumulate: *acc_a, ..SecondProduct::new(layout, [m2, n2, k2], right, ga) };
                let (layout, dims, left, right) = db;
                let pending = tape.take_reduction();
                let gemm = Gemm { accumulate: *acc_b, second: Some(second), split_k: true, finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, gb) };
                let (d, reduction) = gemm.dispatch_split(gpu);
                out.push(d);
                if let Some(r) = reduction {
                    tape.defer_reduction(r, &[b]);
                }
                return out;
            }
        }
        // One of them needs no gradient, or both share a buffer: launch them one by one.
        // (grad_target was asked once already, so later contributions accumulate.)
        for (grad, (layout, dims, left, right)) in [(ga, da), (gb, db)] {
            if let Some((grad, accumulate)) = grad {
                let pending = tape.take_reduction();
                out.push(Gemm { accumulate, finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, &grad) }.dispatch(gpu));
            }
        }
        return out;
    }
    // A product with few tiles and a long k is split; each launch finishes the split
    // left pending before it.
    for (input, (layout, dims, left, right)) in [(a, da), (b, db)] {
        // A·A: the first product's split writes the gradient the second adds to.
        out.extend(tape.reduction_writing(input).map(|r| r.dispatch(gpu)));
        if let Some((grad, accumulate)) = tape.grad_target(input) {
            let pending = tape.take_reduction();
            let gemm = Gemm { accumulate, split_k: true, finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, &grad) };
            let (d, reduction) = gemm.dispatch_split(gpu);
            out.push(d);
            if let Some(r) = reduction {
                tape.defer_reduction(r, &[input]);
            }
        }
    }
    out
}
