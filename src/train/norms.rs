//! Weight norms per tensor and run, on the GPU: one dispatch and a readback of
//! tensors × R floats at eval time, instead of reading the whole parameter buffer.

use crate::gpu::{shaders, Access, Buffer, Dispatch, Gpu, Kernel, Program};
use crate::nn::FlatLayout;

const BLOCK_SUM_SQUARES: Kernel = Kernel {
    file: "norms.wgsl",
    source: shaders::NORMS,
    entry: "block_sum_squares",
    bindings: &[Access::Uniform, Access::Read, Access::Read, Access::ReadWrite],
};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    runs: u32,
    tensors: u32,
    _pad: [u32; 2],
}

pub struct WeightNorms {
    names: Vec<String>,
    runs: usize,
    out: Buffer,
    program: Program,
}

/// One run's norms: the global L2 norm and each tensor's, in layout order.
pub struct RunNorms {
    pub global: f64,
    pub per_tensor: Vec<(String, f64)>,
}

impl WeightNorms {
    pub fn new(gpu: &Gpu, layout: &FlatLayout, params: &Buffer) -> WeightNorms {
        let table: Vec<u32> = layout.tensors.iter().flat_map(|t| [t.offset as u32, t.numel as u32]).collect();
        let table = gpu.buffer_from("norm table", &table);
        let n = layout.tensors.len();
        let out = gpu.buffer("weight norms", n * layout.runs);
        let uniform = gpu.uniform("norm params", &Params { runs: layout.runs as u32, tensors: n as u32, _pad: [0; 2] });
        let d: Dispatch = gpu.dispatch(&BLOCK_SUM_SQUARES, &[], &[&uniform, &table, params, &out], [n as u32, layout.runs as u32, 1]);
        WeightNorms {
            names: layout.tensors.iter().map(|t| t.name.clone()).collect(),
            runs: layout.runs,
            out,
            program: Program { dispatches: vec![d] },
        }
    }

    /// Runs the reduction and reads the result (eval steps only).
    pub fn read(&self, gpu: &Gpu) -> Vec<RunNorms> {
        gpu.run(&self.program);
        let sq = gpu.read_f32(&self.out);
        (0..self.runs)
            .map(|r| {
                let per_tensor: Vec<(String, f64)> =
                    self.names.iter().enumerate().map(|(t, name)| (name.clone(), (sq[t * self.runs + r] as f64).sqrt())).collect();
                let global = per_tensor.iter().map(|(_, n)| n * n).sum::<f64>().sqrt();
                RunNorms { global, per_tensor }
            })
            .collect()
    }
}
