//! grokgpu's GPU FFT: batched along any axis of a row-major tensor, in f32 with f64 tables.
//!
//! - [`FftPlan`]: one length n, one [`Axis`] of a tensor, one [`Transform`] (forward,
//!   inverse scaled by 1/n, or forward of real input keeping n/2 + 1 bins).
//! - [`FftPlan2d`]: rows then columns of many p×p grids at once.
//!
//! Data are GPU [`Buffer`](crate::gpu::Buffer)s of f32: complex values interleaved
//! (re, im), real input plain. A plan builds its pipelines, tables and uniforms once;
//! `record` binds it to an input and an output buffer and returns a replayable
//! [`Program`](crate::gpu::Program); `run` is the host-data convenience.
//!
//! Powers of two run radix-2 Stockham entirely in workgroup memory (several transforms per
//! workgroup for short ones); other lengths run Bluestein on the next power of two
//! M ≥ 2n − 1, fused into the same single dispatch while M fits in workgroup memory. Twiddles,
//! chirps (angle from t² mod 2n in integers) and the chirp filter's spectrum are computed in
//! f64 on the CPU and rounded once to f32.

mod axis;
mod pass;
mod plan;
mod plan2d;
mod tables;

pub use axis::{Axis, Transform};
pub use plan::{max_shared_len, FftPlan};
pub use plan2d::FftPlan2d;
