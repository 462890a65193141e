//! FFT throughput at the project's lengths: complex forward transforms of contiguous rows,
//! timed over many replays of one recorded plan (GPU timestamps where the adapter has them).

use crate::fft::{Axis, FftPlan, Transform};
use crate::gpu::Gpu;

/// Token-axis lengths of the tasks (97, 113), their discrete-log orders' kind (96, 112 → 96
/// here), and powers of two up to the largest single-workgroup transform.
pub const LENGTHS: &[usize] = &[97, 113, 96, 128, 256, 1024, 4096];

/// Points per batch of the large case: 32 MiB of complex f32 in and out, enough to reach a
/// GPU's memory bandwidth.
const LARGE_POINTS: usize = 1 << 22;
const QUICK_POINTS: usize = 1 << 16;

/// One measured (length, batch).
#[derive(Clone, Debug)]
pub struct FftResult {
    pub n: usize,
    pub batch: usize,
    /// The power of two actually transformed (Bluestein's M for other lengths).
    pub padded_len: usize,
    pub dispatches: usize,
    pub replays: usize,
    /// Seconds per replay (one batch).
    pub seconds: f64,
    pub gpu_timer: bool,
}

impl FftResult {
    pub fn transforms_per_second(&self) -> f64 {
        self.batch as f64 / self.seconds
    }

    /// The caller's data moved per second: each point read once and written once as complex
    /// f32 (8 bytes each way), whatever the plan moves internally.
    pub fn effective_gb_per_second(&self) -> f64 {
        (self.batch * self.n * 16) as f64 / self.seconds / 1e9
    }
}

/// (n, batch) pairs: one transform, a p×128 matrix's worth, and a bandwidth-sized batch.
pub fn cases(quick: bool) -> Vec<(usize, usize)> {
    let points = if quick { QUICK_POINTS } else { LARGE_POINTS };
    LENGTHS
        .iter()
        .flat_map(|&n| {
            let mut batches = vec![1, 128, (points / n).max(1)];
            batches.sort_unstable();
            batches.dedup();
            batches.into_iter().map(move |b| (n, b))
        })
        .collect()
}

/// Times `batch` forward transforms of length `n`, replayed until about `budget` seconds.
pub fn measure(gpu: &Gpu, n: usize, batch: usize, budget: f64) -> FftResult {
    let plan = FftPlan::new(gpu, Axis::rows(batch, n), Transform::Forward);
    let data: Vec<f32> = (0..plan.input_len()).map(|i| ((i * 2_654_435_761) % 2001) as f32 / 1000.0 - 1.0).collect();
    let input = gpu.buffer_from("bench fft input", &data);
    let output = gpu.buffer("bench fft output", plan.output_len());
    let program = plan.record(gpu, &input, &output);
    // The first replay pays for pipeline compilation and first touches; it is not counted.
    gpu.time_replay(&program, 1);
    let probe = gpu.time_replay(&program, 1).seconds().max(1e-7);
    let replays = ((budget / probe) as usize).clamp(1, 1000);
    let timing = gpu.time_replay(&program, replays);
    FftResult {
        n,
        batch,
        padded_len: plan.padded_len(),
        dispatches: plan.dispatch_count(),
        replays,
        seconds: timing.seconds() / replays as f64,
        gpu_timer: timing.gpu_seconds.is_some(),
    }
}

/// Every case of [`cases`], each given about a fifth of a second (a fiftieth when `quick`).
pub fn run(gpu: &Gpu, quick: bool) -> Vec<FftResult> {
    let budget = if quick { 0.02 } else { 0.2 };
    cases(quick).into_iter().map(|(n, batch)| measure(gpu, n, batch, budget)).collect()
}
