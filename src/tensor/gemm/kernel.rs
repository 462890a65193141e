//! The kernel variants of `shaders/matmul.wgsl` and their launch geometry: for GPUs the
//! tiled family (workgroup-memory tiles) and the staged family (`shaders/matmul_staged.wgsl`:
//! both operands staged as vec4s, double-buffered, the next tile prefetched into registers,
//! one barrier per k-step), and for the CPU device the SIMD family (no
//! workgroup memory, no barriers) and the subgroup family (`shaders/matmul_shared.wgsl`:
//! the SIMD family's blocks with each A value loaded once and broadcast to the lanes).
//! Every variant computes every shape, and all of them sum each output's k terms in the
//! same order, so they give bit-identical results and the choice between them is a
//! matter of speed only.

use crate::gpu::{shaders, Access, Gpu, Kernel};

/// A workgroup's tile in the tiled family: BM×BN outputs, staged BK deep, TM×4 outputs
/// per invocation.
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
}

/// A workgroup's tile in the staged family: BM×BN outputs, staged BK deep, TM×TN outputs
/// per invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StagedTile {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub tm: u32,
    pub tn: u32,
}

impl StagedTile {
    /// 4×4 units of each operand per tile.
    fn units(self) -> (u32, u32) {
        (self.bm * self.bk / 16, self.bn * self.bk / 16)
    }

    /// Bytes of workgroup memory: both operands' tiles, twice.
    fn workgroup_bytes(self) -> u32 {
        2 * self.bk * (self.bm + self.bn) * 4
    }
}

/// Units one invocation of the staged family may carry (`STAGED_UNITS_MAX` in the shader).
const STAGED_UNITS_MAX: u32 = 4;
/// Workgroup memory every Vulkan device offers (and lavapipe's limit).
const STAGED_MAX_BYTES: u32 = 32 * 1024;

/// A workgroup of the SIMD family: `lanes` invocations, each `rows` rows × 8 columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimdBlock {
    pub lanes: u32,
    pub rows: u32,
}

impl SimdBlock {
    /// One AVX2 register of lanes, 8×8 outputs each.
    pub const DEFAULT: SimdBlock = SimdBlock { lanes: 8, rows: 8 };
}

/// Columns each SIMD invocation owns (`SIMD_COLS` in the shader).
const SIMD_COLS: u32 = 8;
/// Lanes of the subgroup family's workgroup, one subgroup (`SHARED_LANES` in the shader).
pub const SHARED_LANES: u32 = 8;
/// Rows one SIMD or subgroup invocation may hold (`SIMD_ROWS_MAX` in the shader).
const SIMD_ROWS_MAX: u32 = 24;

/// One kernel variant with its sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmKernel {
    Tiled(Tile),
    Staged(StagedTile),
    Simd(SimdBlock),
    /// The subgroup family: a workgroup of [`SHARED_LANES`] lanes computes `rows` rows
    /// (a multiple of 8) × 64 columns.
    Shared { rows: u32 },
}

/// Whether `gpu` can build the subgroup family: subgroups of exactly its lane count.
pub fn shared_runs_on(gpu: &Gpu) -> bool {
    gpu.has_subgroups_of(SHARED_LANES)
}

/// Workgroups below which a tile leaves a large GPU (100+ compute units) partly idle.
const ENOUGH_WORKGROUPS: usize = 256;

/// The tile for a launch of m×k·k×n products (one tile for all of them) over `batch`:
/// the largest one that still yields enough workgroups to fill a large GPU; when none
/// does, `MEDIUM` if both sides of C are at least 64, else `SMALL`, which also takes
/// every product with k or m below 16 (its shallow, short tile wastes less on padding).
/// The models' [R, 2048, 128]·[128, 512] layers take `LARGE` from R = 1;
/// [R, 512, 128]·[128, 512] takes `MEDIUM` at R = 1 and `LARGE` from R = 4.
pub fn tile_for(batch: usize, products: &[[usize; 3]]) -> Tile {
    if products.iter().any(|&[m, _, k]| k < 16 || m < 16) {
        return Tile::SMALL;
    }
    let workgroups = |t: Tile| products.iter().map(|&[m, n, _]| GemmKernel::Tiled(t).workgroups(batch, m, n)).sum::<usize>();
    let wide = products.iter().all(|&[m, n, _]| m.min(n) >= 64);
    [Tile::LARGE, Tile::MEDIUM]
        .into_iter()
        .find(|&t| workgroups(t) >= ENOUGH_WORKGROUPS)
        .unwrap_or(if wide { Tile::MEDIUM } else { Tile::SMALL })
}

const fn kernel(entry: &'static str) -> Kernel {
    kernel_in("matmul.wgsl", shaders::MATMUL, entry)
}

const fn kernel_in(file: &'static str, source: &'static str, entry: &'static str) -> Kernel {
    Kernel {
        file,
        source,
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

/// Tiled entry points, indexed by (A read as vec4, B read as vec4).
const TILED: [[Kernel; 2]; 2] = [
    [kernel("matmul_a1_b1"), kernel("matmul_a1_b4")],
    [kernel("matmul_a4_b1"), kernel("matmul_a4_b4")],
];
/// SIMD entry points, indexed by B read as vec4 (A's loads are uniform scalars).
const SIMD: [Kernel; 2] = [kernel("matmul_simd_b1"), kernel("matmul_simd_b4")];

const fn shared(entry: &'static str) -> Kernel {
    kernel_in("matmul_shared.wgsl", shaders::MATMUL_SHARED, entry)
}

const fn staged(entry: &'static str) -> Kernel {
    kernel_in("matmul_staged.wgsl", shaders::MATMUL_STAGED, entry)
}

/// Staged entry points, indexed by (A read as vec4, B read as vec4).
const STAGED: [[Kernel; 2]; 2] = [
    [staged("matmul_staged_a1_b1"), staged("matmul_staged_a1_b4")],
    [staged("matmul_staged_a4_b1"), staged("matmul_staged_a4_b4")],
];

/// Subgroup entry points, indexed by (A read as vec4, B read as vec4).
const SHARED: [[Kernel; 2]; 2] = [
    [shared("matmul_shared_a1_b1"), shared("matmul_shared_a1_b4")],
    [shared("matmul_shared_a4_b1"), shared("matmul_shared_a4_b4")],
];

impl GemmKernel {
    /// The variants worth timing on an adapter: the SIMD family on the CPU device, with
    /// the subgroup family where it `shared` runs ([`shared_runs_on`]); the tiled family
    /// on a GPU.
    pub fn candidates(software: bool, shared: bool) -> Vec<GemmKernel> {
        if software {
            let blocks = [(8, 8), (8, 4), (16, 4), (4, 8)];
            let simd = blocks.into_iter().map(|(lanes, rows)| GemmKernel::Simd(SimdBlock { lanes, rows }));
            let shared_rows: &[u32] = if shared { &[8, 16, 24] } else { &[] };
            simd.chain(shared_rows.iter().map(|&rows| GemmKernel::Shared { rows })).collect()
        } else {
            // From 128×64 tiles of 8×4 per invocation (256 invocations) down to 16×32 of 2×4:
            // the tuner weighs reuse per load against enough workgroups to fill the device.
            let deep = [Tile { bm: 128, bn: 64, bk: 16, tm: 8 }, Tile { bm: 64, bn: 64, bk: 16, tm: 8 }];
            let tiled = deep.into_iter().chain([Tile::LARGE, Tile::MEDIUM, Tile::SMALL]).map(GemmKernel::Tiled);
            // The staged family from 128×128 tiles of 8×8 per invocation down to 64×64 of 4×4.
            let staged = [(128, 128, 8, 8, 8), (128, 64, 16, 8, 4), (64, 64, 16, 8, 8), (64, 64, 16, 4, 4)]
                .map(|(bm, bn, bk, tm, tn)| GemmKernel::Staged(StagedTile { bm, bn, bk, tm, tn }));
            tiled.chain(staged).collect()
        }
    }

    /// The variant used when none was tuned or recorded: on the CPU device the subgroup
    /// family's 16-row blocks where it runs (`shared`), else the SIMD default; on a GPU
    /// the tiled family's choice by shape ([`tile_for`]).
    pub fn default_for(software: bool, shared: bool, batch: usize, products: &[[usize; 3]]) -> GemmKernel {
        if software && shared {
            GemmKernel::Shared { rows: 16 }
        } else if software {
            GemmKernel::Simd(SimdBlock::DEFAULT)
        } else {
            GemmKernel::Tiled(tile_for(batch, products))
        }
    }

    /// A stable name, e.g. `tiled-64x64x16-4`, `simd-8x8` or `shared-16`: what the tune
    /// cache and a run directory store.
    pub fn name(self) -> String {
        match self {
            GemmKernel::Tiled(t) => format!("tiled-{}x{}x{}-{}", t.bm, t.bn, t.bk, t.tm),
            GemmKernel::Staged(t) => format!("staged-{}x{}x{}-{}x{}", t.bm, t.bn, t.bk, t.tm, t.tn),
            GemmKernel::Simd(s) => format!("simd-{}x{}", s.lanes, s.rows),
            GemmKernel::Shared { rows } => format!("shared-{rows}"),
        }
    }

    /// The variant a [`GemmKernel::name`] names, if it is a valid one.
    pub fn parse(name: &str) -> Option<GemmKernel> {
        let numbers = |s: &str, sep: char| s.split(sep).map(str::parse::<u32>).collect::<Result<Vec<_>, _>>().ok();
        let kernel = if let Some(rest) = name.strip_prefix("tiled-") {
            let (dims, tm) = rest.split_once('-')?;
            match (numbers(dims, 'x')?.as_slice(), tm.parse().ok()?) {
                (&[bm, bn, bk], tm) => GemmKernel::Tiled(Tile { bm, bn, bk, tm }),
                _ => return None,
            }
        } else if let Some(rest) = name.strip_prefix("staged-") {
            let (dims, per) = rest.split_once('-')?;
            match (numbers(dims, 'x')?.as_slice(), numbers(per, 'x')?.as_slice()) {
                (&[bm, bn, bk], &[tm, tn]) => GemmKernel::Staged(StagedTile { bm, bn, bk, tm, tn }),
                _ => return None,
            }
        } else if let Some(rows) = name.strip_prefix("shared-") {
            GemmKernel::Shared { rows: rows.parse().ok()? }
        } else {
            match numbers(name.strip_prefix("simd-")?, 'x')?.as_slice() {
                &[lanes, rows] => GemmKernel::Simd(SimdBlock { lanes, rows }),
                _ => return None,
            }
        };
        kernel.is_valid().then_some(kernel)
    }

    /// Whether the shader can run it: tiles of multiples of 4 with TM | BM and TM ≤ 8;
    /// staged tiles of 4 or 8 rows and columns per invocation, BK of 4, 8 or 16, at most
    /// 256 invocations each carrying at most 4 units of each operand, and 32 KiB of
    /// workgroup memory;
    /// SIMD blocks of 1…8 rows and 1…64 lanes; subgroup blocks of 8, 16 or 24 rows.
    pub fn is_valid(self) -> bool {
        match self {
            GemmKernel::Tiled(t) => {
                let quads = [t.bn, t.bm, t.bk].iter().all(|&x| x > 0 && x.is_multiple_of(4));
                quads && t.tm >= 1 && t.bm.is_multiple_of(t.tm) && t.tm <= 8 && self.workgroup_size() <= 256
            }
            GemmKernel::Staged(t) => {
                let (a_units, b_units) = t.units();
                let carried = |units: u32| units.div_ceil(self.workgroup_size() as u32) <= STAGED_UNITS_MAX;
                let sizes = [t.tm, t.tn].iter().all(|&x| x == 4 || x == 8) && [4, 8, 16].contains(&t.bk);
                sizes
                    && t.bm.is_multiple_of(t.tm)
                    && t.bn.is_multiple_of(t.tn)
                    && (1..=256).contains(&self.workgroup_size())
                    && carried(a_units)
                    && carried(b_units)
                    && t.workgroup_bytes() <= STAGED_MAX_BYTES
            }
            GemmKernel::Simd(s) => (1..=8).contains(&s.rows) && (1..=64).contains(&s.lanes),
            GemmKernel::Shared { rows } => rows > 0 && rows.is_multiple_of(SHARED_LANES) && rows <= SIMD_ROWS_MAX,
        }
    }

    /// Whether `gpu` can build this variant's shader.
    pub fn runs_on(self, gpu: &Gpu) -> bool {
        !matches!(self, GemmKernel::Shared { .. }) || shared_runs_on(gpu)
    }

    /// Outputs (rows, columns) of C one workgroup computes.
    fn block(self) -> (u32, u32) {
        match self {
            GemmKernel::Tiled(t) => (t.bm, t.bn),
            GemmKernel::Staged(t) => (t.bm, t.bn),
            GemmKernel::Simd(s) => (s.rows, SIMD_COLS * s.lanes),
            GemmKernel::Shared { rows } => (rows, SIMD_COLS * SHARED_LANES),
        }
    }

    /// Invocations per workgroup.
    pub fn workgroup_size(self) -> usize {
        match self {
            GemmKernel::Tiled(t) => (t.bn / 4 * (t.bm / t.tm)) as usize,
            GemmKernel::Staged(t) => (t.bn / t.tn * (t.bm / t.tm)) as usize,
            GemmKernel::Simd(s) => s.lanes as usize,
            GemmKernel::Shared { .. } => SHARED_LANES as usize,
        }
    }

    /// Workgroups covering `batch` m×n outputs.
    pub fn workgroups(self, batch: usize, m: usize, n: usize) -> usize {
        let (bm, bn) = self.block();
        batch * m.div_ceil(bm as usize) * n.div_ceil(bn as usize)
    }

    /// The entry point for operands read (A as vec4, B as vec4).
    pub fn entry(self, (a4, b4): (bool, bool)) -> &'static Kernel {
        match self {
            GemmKernel::Tiled(_) => &TILED[a4 as usize][b4 as usize],
            GemmKernel::Staged(_) => &STAGED[a4 as usize][b4 as usize],
            GemmKernel::Simd(_) => &SIMD[b4 as usize],
            GemmKernel::Shared { .. } => &SHARED[a4 as usize][b4 as usize],
        }
    }

    /// The override constants that give the shader this variant's sizes.
    pub fn constants(self) -> Vec<(&'static str, f64)> {
        match self {
            GemmKernel::Tiled(t) => vec![("BM", t.bm as f64), ("BN", t.bn as f64), ("BK", t.bk as f64), ("TM", t.tm as f64)],
            GemmKernel::Staged(t) => {
                let size = self.workgroup_size() as f64;
                vec![("BM", t.bm as f64), ("BN", t.bn as f64), ("BK", t.bk as f64), ("TM", t.tm as f64), ("TN", t.tn as f64), ("WG_SIZE", size)]
            }
            GemmKernel::Simd(s) => {
                let (bm, bn) = self.block();
                // BK only sizes the tiled entries' workgroup memory, which these never touch.
                vec![("BM", bm as f64), ("BN", bn as f64), ("BK", 4.0), ("TM", s.rows as f64), ("WG_SIZE", s.lanes as f64)]
            }
            GemmKernel::Shared { rows } => {
                let (bm, bn) = self.block();
                vec![("BM", bm as f64), ("BN", bn as f64), ("BK", 4.0), ("TM", rows as f64), ("WG_SIZE", SHARED_LANES as f64)]
            }
        }
    }
}
