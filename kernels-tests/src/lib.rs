//! Shared helpers for the GPU-versus-reference parity tests in `tests/`.
//!
//! Error metric used by every test unless it says otherwise: the normwise relative
//! error max_i |gpu_i − ref_i| / max_i |ref_i| (∞-norm), computed in f64. It does not
//! blow up on entries near zero, and bounds every element's error by the same scale.

use grokgpu::gpu::{Buffer, Gpu};

/// The process-wide test device (the software Vulkan device in CI).
pub fn gpu() -> &'static Gpu {
    Gpu::shared()
}

/// A small deterministic generator (SplitMix64) so tests need no RNG crate and every
/// run sees the same inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % n as u64) as u32
    }

    /// `n` values uniform in [-scale, scale), already rounded to f32 so the GPU and the
    /// reference see exactly the same inputs.
    pub fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| (self.uniform() * scale) as f32 as f64).collect()
    }

    pub fn indices(&mut self, n: usize, below: u32) -> Vec<u32> {
        (0..n).map(|_| self.below(below)).collect()
    }
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

pub fn upload(v: &[f64]) -> Buffer {
    gpu().buffer_from("test input", &to_f32(v))
}

pub fn download(b: &Buffer) -> Vec<f64> {
    gpu().read_f32(b).iter().map(|&x| x as f64).collect()
}

/// Normwise relative ∞-error of `got` against `want` (see the crate docs).
pub fn rel_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let err = got.iter().zip(want).fold(0.0f64, |m, (g, w)| m.max((g - w).abs()));
    if scale == 0.0 {
        err
    } else {
        err / scale
    }
}

/// Fails the test, naming `what`, when the relative error exceeds `tol`; any NaN fails.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert!(got.iter().all(|x| x.is_finite()), "{what}: GPU result has NaN/inf");
    let err = rel_error(got, want);
    assert!(err <= tol, "{what}: relative error {err:.3e} exceeds {tol:.1e}");
}
