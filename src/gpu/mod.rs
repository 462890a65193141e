//! The GPU layer: adapter choice, buffers, the kernel registry and replayable programs.
//!
//! Everything that touches wgpu directly lives here, so the rest of grokgpu speaks in
//! buffers, kernels and dispatches.

mod adapter;
mod buffer;
mod device;
mod kernel;
mod program;
pub mod shaders;
mod timing;

pub use adapter::{describe_adapters, AdapterSummary};
pub use buffer::{Buffer, SLICE_ALIGN};
pub use device::{Gpu, GpuCounters};
pub use kernel::{Access, Kernel};
pub use program::{Dispatch, Program};
pub use timing::Timing;

/// Workgroups needed to cover `n` items with groups of `size`.
pub fn groups(n: usize, size: usize) -> u32 {
    n.div_ceil(size) as u32
}

/// Launch grid for a flat kernel of `n` items in workgroups of `size`, folded into a
/// second dimension when it exceeds the per-dimension limit (65535 groups).
/// Kernels recover the index as `gid.x + gid.y * num_workgroups.x * size`.
pub fn flat_grid(n: usize, size: usize) -> [u32; 3] {
    const MAX: usize = 65535;
    let g = n.div_ceil(size).max(1);
    if g <= MAX {
        [g as u32, 1, 1]
    } else {
        [MAX as u32, g.div_ceil(MAX) as u32, 1]
    }
}
