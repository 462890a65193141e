//! One dispatch of a plan: an entry point of shaders/fft.wgsl, its override constants and
//! its parameter block, with the buffers it reads and writes named by role.

use crate::gpu::{shaders, Access, Buffer, Dispatch, Gpu, Kernel};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "fft.wgsl",
        source: shaders::FFT,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::ReadWrite, Access::Read],
    }
}

/// Whole transforms in workgroup memory.
pub(crate) const SHARED: Kernel = kernel("fft_shared");
/// Multi-pass path: strided input to contiguous zero-padded scratch.
pub(crate) const GATHER: Kernel = kernel("fft_gather");
/// Multi-pass path: contiguous scratch to strided output.
pub(crate) const SCATTER: Kernel = kernel("fft_scatter");

/// Threads per workgroup of every entry point (`WG` in the shader).
pub(crate) const WORKGROUP: usize = 256;
/// Points a workgroup holds at least, so each thread has a butterfly in every stage.
pub(crate) const MIN_POINTS_PER_WORKGROUP: usize = 2 * WORKGROUP;
/// Largest transform held in workgroup memory (`MAX_BUTTERFLIES` in the shader).
pub(crate) const MAX_SHARED_LEN: usize = 4096;

/// The shader's `Params` block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    pub batch: u32,
    pub inner_count: u32,
    pub n_in: u32,
    pub n_out: u32,
    pub in_outer: u32,
    pub in_elem: u32,
    pub in_inner: u32,
    pub scale: f32,
    pub out_outer: u32,
    pub out_elem: u32,
    pub out_inner: u32,
    pub post_modulus: u32,
    pub twiddle_offset: u32,
    pub chirp_offset: u32,
    pub post_offset: u32,
    pub _pad: u32,
}

/// What multiplies each output of `fft_shared` before it is stored (`POST` in the shader).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Post {
    #[default]
    Nothing = 0,
    /// e^{−2πi·inner·k/M}, between the two halves of a four-step FFT.
    FourStepTwiddle = 1,
    /// A filter spectrum at the output's position, then conjugation (Bluestein's middle).
    FilterThenConj = 2,
}

/// The pipeline-time choices of a pass (the shader's `override` constants).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Variant {
    pub log_n: u32,
    pub real_in: bool,
    pub inverse: bool,
    pub bluestein: bool,
    pub batch_fastest: bool,
    pub post: Post,
}

impl Variant {
    /// Transforms per workgroup of `fft_shared`.
    pub(crate) fn per_workgroup(&self) -> usize {
        (MIN_POINTS_PER_WORKGROUP >> self.log_n).max(1)
    }

    fn constants(&self) -> Vec<(&'static str, f64)> {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        vec![
            ("LOG_N", self.log_n as f64),
            ("PER_WG", self.per_workgroup() as f64),
            ("REAL_IN", flag(self.real_in)),
            ("INVERSE", flag(self.inverse)),
            ("BLUESTEIN", flag(self.bluestein)),
            ("BATCH_FASTEST", flag(self.batch_fastest)),
            ("POST", self.post as u32 as f64),
        ]
    }
}

/// A buffer a pass binds, by its role in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    Input,
    Output,
    ScratchA,
    ScratchB,
}

/// One recorded-at-plan-time dispatch, bound to real buffers by `FftPlan::record`.
pub(crate) struct Pass {
    kernel: Kernel,
    constants: Vec<(&'static str, f64)>,
    params: Buffer,
    pub src: Operand,
    pub dst: Operand,
    workgroups: [u32; 3],
}

impl Pass {
    /// Builds the pass's pipeline and uniform block now, so recording creates only bind groups.
    pub(crate) fn new(gpu: &Gpu, kernel: Kernel, variant: Variant, params: Params, src: Operand, dst: Operand, workgroups: [u32; 3]) -> Pass {
        let constants = variant.constants();
        gpu.pipeline(&kernel, &constants);
        let params = gpu.uniform(kernel.entry, &params);
        Pass { kernel, constants, params, src, dst, workgroups }
    }

    pub(crate) fn bind(&self, gpu: &Gpu, src: &Buffer, dst: &Buffer, tables: &Buffer) -> Dispatch {
        gpu.dispatch(&self.kernel, &self.constants, &[&self.params, src, dst, tables], self.workgroups)
    }
}
