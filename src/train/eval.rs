//! Exact evaluation: mean loss and accuracy of every run over its whole train and
//! validation sets, on the GPU. The sets are fed through one forward program in chunks
//! (bounded memory for any R); each chunk's per-run mean and row count combine exactly.

use super::device_data::{DeviceData, DeviceSet};
use crate::gpu::{Buffer, Gpu, Program};
use crate::nn::forward::{forward, Weights};
use crate::nn::spec::ModelSpec;
use crate::nn::FlatLayout;
use crate::tensor::ops::cross_entropy::{cross_entropy, loss_metrics, LossKind};
use crate::tensor::Tape;

/// Largest activation of one eval chunk, in elements; keeps every buffer far below the
/// storage-binding limit of any adapter (128 MiB on the smallest).
const CHUNK_ELEMENTS: usize = 1 << 24;

/// Per run: (mean loss, accuracy) over one set.
pub type SetMetrics = Vec<(f64, f64)>;

pub struct Evaluator {
    chunk_rows: usize,
    width: usize,
    tokens: Buffer,
    targets: Buffer,
    valid_rows: Buffer,
    metrics: Buffer,
    program: Program,
}

/// Rows per chunk: as many as fit `CHUNK_ELEMENTS` in the widest activation.
fn chunk_rows(spec: &ModelSpec, runs: usize, set_rows: usize) -> usize {
    let widest = match spec {
        ModelSpec::Transformer(t) => spec.seq_len() * (3 * t.d_model).max(t.d_mlp),
        ModelSpec::Mlp(m) => (2 * m.hidden).max(m.p),
    };
    (CHUNK_ELEMENTS / (runs * widest)).clamp(1, set_rows.max(1))
}

impl Evaluator {
    pub fn new(gpu: &Gpu, spec: &ModelSpec, layout: &FlatLayout, params: &Buffer, data: &DeviceData, loss: LossKind) -> Evaluator {
        let runs = layout.runs;
        let rows = chunk_rows(spec, runs, data.train.rows.max(data.val.rows));
        let width = data.width;
        let tokens = gpu.buffer("eval tokens", runs * rows * width);
        let targets = gpu.buffer("eval targets", runs * rows);
        let valid_rows = gpu.buffer("eval valid rows", runs);
        let mut tape = Tape::new(gpu);
        let weights = Weights(
            layout
                .tensors
                .iter()
                .map(|t| (t.name.clone(), tape.input(layout.slice(params, &t.name), &layout.shape_with_runs(&t.name))))
                .collect(),
        );
        let tok = tape.input(tokens.clone(), &[runs, rows, width]);
        let tgt = tape.input(targets.clone(), &[runs, rows]);
        let out = forward(&mut tape, spec, &weights, tok);
        let ce = cross_entropy(&mut tape, out.logits, tgt, loss, Some(&valid_rows));
        let metrics = loss_metrics(&mut tape, &ce);
        let metrics = tape.buf(metrics).clone();
        Evaluator { chunk_rows: rows, width, tokens, targets, valid_rows, metrics, program: tape.forward_program().clone() }
    }

    /// Per run (loss, accuracy) over `set`, exact up to f32 rounding within chunks and
    /// f64 accumulation across them.
    pub fn evaluate(&self, gpu: &Gpu, set: &DeviceSet) -> SetMetrics {
        let runs = self.valid_rows.len;
        let mut sums = vec![(0.0f64, 0.0f64); runs];
        let mut start = 0;
        while start < set.rows {
            let n = self.chunk_rows.min(set.rows - start);
            gpu.write(&self.valid_rows, &vec![n as u32; runs]);
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            for r in 0..runs {
                for (src, dst, width) in [(&set.tokens, &self.tokens, self.width), (&set.targets, &self.targets, 1)] {
                    let from = ((src.offset + (r * set.rows + start) * width) * 4) as u64;
                    let to = ((dst.offset + r * self.chunk_rows * width) * 4) as u64;
                    encoder.copy_buffer_to_buffer(&src.raw, from, &dst.raw, to, (n * width * 4) as u64);
                }
            }
            gpu.queue.submit([encoder.finish()]);
            gpu.run(&self.program);
            let m = gpu.read_f32(&self.metrics);
            for (r, s) in sums.iter_mut().enumerate() {
                s.0 += m[2 * r] as f64 * n as f64;
                s.1 += m[2 * r + 1] as f64 * n as f64;
            }
            start += n;
        }
        let total = set.rows.max(1) as f64;
        sums.into_iter().map(|(l, a)| (l / total, a / total)).collect()
    }
}
