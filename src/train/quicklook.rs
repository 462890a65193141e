//! The spectral quick-look on every eval line: W_E's n_eff, Gini and dominant frequency
//! (docs/analyses.md §1–2), from the engine's GPU FFT along the token axis of every run's
//! embedding at once. Mul and div read the tokens in discrete-log order, as the full
//! analysis does.

use crate::analysis::sparsity::{gini, n_eff};
use crate::analysis::spectrum::{FoldedEnergy, TokenOrder};
use crate::fft::{Axis, FftPlan, Transform};
use crate::gpu::{Buffer, Gpu, Program};
use crate::nn::FlatLayout;

pub struct QuickLook {
    embed: Buffer,
    /// Rows of one run's embedding block.
    vocab: usize,
    d: usize,
    runs: usize,
    /// Spans (first token, count) of consecutive embedding rows, in transform order.
    spans: Vec<(usize, usize)>,
    n: usize,
    rows: Buffer,
    spectrum: Buffer,
    fft: Program,
}

/// One run's quick-look figures.
pub struct Look {
    pub n_eff: f64,
    pub gini: f64,
    pub dominant_freq: usize,
}

/// Consecutive tokens merged into (first, count) spans, so each becomes one copy.
fn spans(tokens: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = vec![];
    for &t in tokens {
        match out.last_mut() {
            Some((first, count)) if *first + *count == t => *count += 1,
            _ => out.push((t, 1)),
        }
    }
    out
}

impl QuickLook {
    pub fn new(gpu: &Gpu, layout: &FlatLayout, params: &Buffer, task: &str, p: usize) -> QuickLook {
        let embed = layout.slice(params, "embed.weight");
        let shape = &layout.tensor("embed.weight").shape;
        let (vocab, d) = (shape[0], shape[1]);
        let tokens = TokenOrder::for_task(task, p).tokens(p);
        let n = tokens.len();
        let runs = layout.runs;
        let plan = FftPlan::new(gpu, Axis { outer: runs, len: n, inner: d }, Transform::RealForward);
        let rows = gpu.buffer("quick-look rows", plan.input_len());
        let spectrum = gpu.buffer("quick-look spectrum", plan.output_len());
        let fft = plan.record(gpu, &rows, &spectrum);
        QuickLook { embed, vocab, d, runs, spans: spans(&tokens), n, rows, spectrum, fft }
    }

    /// Every run's figures (eval steps only: one small readback).
    pub fn measure(&self, gpu: &Gpu) -> Vec<Look> {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        let row_bytes = (self.d * 4) as u64;
        for r in 0..self.runs {
            let mut at = r * self.n;
            for &(first, count) in &self.spans {
                let from = ((self.embed.offset + (r * self.vocab + first) * self.d) * 4) as u64;
                let to = ((self.rows.offset + at * self.d) * 4) as u64;
                encoder.copy_buffer_to_buffer(&self.embed.raw, from, &self.rows.raw, to, count as u64 * row_bytes);
                at += count;
            }
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.run(&self.fft);
        let bins = gpu.read_f32(&self.spectrum);
        let power: Vec<f64> = bins.chunks(2).map(|c| (c[0] as f64).powi(2) + (c[1] as f64).powi(2)).collect();
        FoldedEnergy::batch_from_power(&power, self.runs, self.n, self.d)
            .into_iter()
            .map(|e| {
                let q = e.q();
                Look { n_eff: n_eff(&q), gini: gini(&q), dominant_freq: e.dominant_freq() }
            })
            .collect()
    }
}
