//! Split-K: a product with few output tiles and a long k is cut into k chunks, each its
//! own workgroups writing raw partials; a later launch (or one of its own) sums them in a
//! fixed order.

use super::kernel::{GemmKernel, Tile};
use super::params::{Params, ProductParams, FLAG_ACCUMULATE, FLAG_ACCUMULATE_ROW_SUMS};
use crate::gpu::{flat_grid, Buffer, Dispatch, Gpu};
use crate::tensor::Deferred;

/// Whether splitting k pays on this device, for the ops to set [`Gemm::split_k`](super::Gemm):
/// not on the CPU device, whose few cores any product's tiles fill, so partials would only
/// add memory traffic. It depends on the device alone, never on the kernel variant, so a
/// variant never changes a result.
pub fn split_k_pays(gpu: &Gpu) -> bool {
    !gpu.is_software()
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
    let splits = SPLIT_TARGET_WORKGROUPS.div_ceil(GemmKernel::Tiled(Tile::MEDIUM).workgroups(1, m, n)).min(k / MIN_K_CHUNK);
    (splits >= 2).then(|| k.div_ceil(splits).next_multiple_of(K_CHUNK_ALIGN))
}

/// The second pass of a split-K product: C = Σ_s partials[s] (s = 0..S−1 in order, or
/// C += that) and likewise its row sums. Some later matmul launch finishes it
/// ([`Gemm::finish`]), or its own launch ([`SplitReduction::dispatch`]).
#[derive(Clone, Debug)]
pub struct SplitReduction {
    pub(super) splits: usize,
    /// [S, batch, m, n]
    pub(super) partials: Buffer,
    pub(super) c: Buffer,
    pub(super) accumulate: bool,
    /// [S, batch, m] and where they go, accumulating or not.
    pub(super) row_sums: Option<(Buffer, Buffer, bool)>,
}

impl SplitReduction {
    pub(super) fn count(&self) -> usize {
        self.partials.len / self.splits
    }

    pub(super) fn sums_count(&self) -> usize {
        self.row_sums.as_ref().map_or(0, |(p, _, _)| p.len / self.splits)
    }

    pub(super) fn flags(&self) -> u32 {
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        flag(self.accumulate, FLAG_ACCUMULATE) | flag(self.row_sums.as_ref().is_some_and(|r| r.2), FLAG_ACCUMULATE_ROW_SUMS)
    }

    /// Workgroups of `wg_size` invocations per grid z slice that sum it over `batch` slices.
    pub(super) fn workgroups(&self, wg_size: usize, batch: usize) -> usize {
        (self.count() + self.sums_count()).div_ceil(wg_size * batch)
    }

    /// The reduction as a launch of its own.
    pub fn dispatch(&self, gpu: &Gpu) -> Dispatch {
        Deferred::dispatch(self, gpu)
    }
}

impl Deferred for SplitReduction {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn dispatch(&self, gpu: &Gpu) -> Dispatch {
        let variant = GemmKernel::Tiled(Tile::LARGE);
        let kernel = variant.entry((false, false));
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
        let workgroups = self.workgroups(variant.workgroup_size(), 1);
        gpu.dispatch(kernel, &variant.constants(), &buffers, flat_grid(workgroups, 1))
    }
}

