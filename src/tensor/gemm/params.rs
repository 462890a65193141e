//! The launch's uniform block (WGSL `Params`) and the epilogue's flag bits (WGSL
//! `FIRST_FLAGS`, an override constant, and the reduction's `reduce_flags`).

pub(super) const FLAG_BIAS: u32 = 1;
pub(super) const FLAG_RESIDUAL: u32 = 2;
pub(super) const FLAG_ACCUMULATE: u32 = 4;
pub(super) const FLAG_SAVE_PRE: u32 = 8;
pub(super) const FLAG_ACCUMULATE_ROW_SUMS: u32 = 16;

/// One product of a launch (WGSL `Product`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct ProductParams {
    pub(super) m: u32,
    pub(super) n: u32,
    pub(super) k: u32,
    pub(super) a_batch_stride: u32,
    pub(super) b_batch_stride: u32,
    pub(super) bias_batch_stride: u32,
    /// Uniform structs are 16-byte aligned.
    pub(super) _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct Params {
    pub(super) first: ProductParams,
    pub(super) second: ProductParams,
    pub(super) products: u32,
    pub(super) first_k_chunk: u32,
    pub(super) reduce_count: u32,
    pub(super) reduce_sums_count: u32,
    pub(super) reduce_splits: u32,
    pub(super) reduce_flags: u32,
    pub(super) _pad: [u32; 2],
}

