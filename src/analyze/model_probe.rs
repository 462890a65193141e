//! Checkpoints' models run on the GPU over every (x, y) pair, for the model-based analyses
//! (docs/analyses.md § 1 neurons, § 5–§ 10): logits, each MLP block's post-activation and each
//! attention layer's head outputs at the last position, the input of the readout, the
//! attention probabilities, and the mean gradient of the train loss.
//!
//! Up to R checkpoints share one traced forward program along the run axis, their weights
//! uploaded into a flat parameter buffer as tape inputs (as the trainer's evaluation does);
//! pairs go through in fixed-size chunks (bounded memory for any R). The programs depend
//! only on R and the model, never on which checkpoints fill the slots or how many do
//! (unused slots repeat the last checkpoint), so a checkpoint's results are the same bits
//! whichever batch it is analyzed in.

use crate::gpu::{Buffer, Gpu, Program};
use crate::nn::forward::{forward, Weights};
use crate::nn::spec::{ModelSpec, TRANSFORMER_SEQ};
use crate::nn::FlatLayout;
use crate::tensor::ops::cross_entropy::{cross_entropy, LossKind};
use crate::tensor::ops::select::select;
use crate::tensor::{Tape, Tensor};

/// Largest activation of one chunk, in elements (as the trainer's evaluation).
const CHUNK_ELEMENTS: usize = 1 << 24;

/// The examples a probe reads: every pair in dataset order, as the model's token rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeData {
    /// [N, seq_len]
    pub tokens: Vec<u32>,
    /// [N]
    pub targets: Vec<u32>,
    /// Dataset rows of the train set, ascending.
    pub train_rows: Vec<usize>,
}

impl ProbeData {
    /// From a dataset's columns (dataset.safetensors) for `spec`'s input format.
    pub fn new(spec: &ModelSpec, x: &[u32], y: &[u32], target: &[u32], train_mask: &[bool]) -> ProbeData {
        let p = spec.classes() as u32;
        let tokens = x
            .iter()
            .zip(y)
            .flat_map(|(&a, &b)| match spec {
                ModelSpec::Transformer(_) => crate::data::tokens::sequence(p, a, b).to_vec(),
                ModelSpec::Mlp(_) => vec![a, b],
            })
            .collect();
        let train_rows = train_mask.iter().enumerate().filter(|(_, &m)| m).map(|(i, _)| i).collect();
        ProbeData { tokens, targets: target.to_vec(), train_rows }
    }

    pub fn rows(&self) -> usize {
        self.targets.len()
    }
}

/// Which forward results a probe reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// Logits only (spectral attribution's variants).
    Logits,
    /// Every field of [`Activations`].
    Everything,
}

/// One checkpoint's forward over all pairs, rows in dataset order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activations {
    /// [N, p]
    pub logits: Vec<f32>,
    /// Per MLP block, the post-activation at the last position, [N, width].
    pub mlp_post: Vec<Vec<f32>>,
    /// Per attention layer, the heads' outputs at the last position, [N, d].
    pub head_outputs: Vec<Vec<f32>>,
    /// Per block, the residual stream after it at the last position, [N, d] (Transformer).
    pub residuals: Vec<Vec<f32>>,
    /// The readout's input (residual at the last position; the MLP's hidden layer), [N, d].
    pub readout_input: Vec<f32>,
    /// Per attention layer, [N, H, T, T].
    pub attention_probs: Vec<Vec<f32>>,
}

/// A traced program's result buffers, [R, chunk rows, width] each.
struct Outputs {
    logits: Buffer,
    mlp_post: Vec<(Buffer, usize)>,
    head_outputs: Vec<(Buffer, usize)>,
    residuals: Vec<(Buffer, usize)>,
    readout_input: Option<(Buffer, usize)>,
    attention_probs: Vec<(Buffer, usize)>,
}

struct ForwardProgram {
    chunk_rows: usize,
    tokens: Buffer,
    program: Program,
    outputs: Outputs,
}

struct GradientProgram {
    chunk_rows: usize,
    tokens: Buffer,
    targets: Buffer,
    valid_rows: Buffer,
    grads: Buffer,
    program: Program,
}

/// R checkpoints' models on the GPU.
pub struct ModelProbe<'g> {
    gpu: &'g Gpu,
    spec: ModelSpec,
    layout: FlatLayout,
    params: Buffer,
    forward: ForwardProgram,
    gradient: Option<GradientProgram>,
}

/// Elements per example of the widest activation.
fn widest(spec: &ModelSpec) -> usize {
    match spec {
        ModelSpec::Transformer(t) => TRANSFORMER_SEQ * (3 * t.d_model).max(t.d_mlp).max(t.heads * TRANSFORMER_SEQ),
        ModelSpec::Mlp(m) => (2 * m.hidden).max(m.p),
    }
}

/// Bytes one checkpoint of a probe over `rows` examples holds: its parameters and gradients
/// on the GPU, and its activations (at most the widest one per example) read back to the host.
pub fn bytes_per_model(spec: &ModelSpec, rows: usize) -> u64 {
    let params: usize = spec.param_shapes().iter().map(|(_, s)| s.iter().product::<usize>()).sum();
    4 * (2 * params as u64 + rows as u64 * widest(spec) as u64)
}

fn chunk_rows(spec: &ModelSpec, runs: usize, rows: usize, chunk_elements: usize) -> usize {
    (chunk_elements / (runs * widest(spec))).clamp(1, rows.max(1))
}

/// The weights as tape inputs, or as trainable tensors whose gradients land in `grads`.
fn weights(tape: &mut Tape, layout: &FlatLayout, params: &Buffer, grads: Option<&Buffer>) -> Weights {
    Weights(
        layout
            .tensors
            .iter()
            .map(|t| {
                let tensor = match grads {
                    Some(g) => layout.param(tape, params, g, &t.name),
                    None => tape.input(layout.slice(params, &t.name), &layout.shape_with_runs(&t.name)),
                };
                (t.name.clone(), tensor)
            })
            .collect(),
    )
}

impl ForwardProgram {
    fn new(gpu: &Gpu, spec: &ModelSpec, layout: &FlatLayout, params: &Buffer, chunk_rows: usize, readout: Readout) -> ForwardProgram {
        let runs = layout.runs;
        let tokens = gpu.buffer("probe tokens", runs * chunk_rows * spec.seq_len());
        let mut tape = Tape::new(gpu);
        let w = weights(&mut tape, layout, params, None);
        let tok = tape.input(tokens.clone(), &[runs, chunk_rows, spec.seq_len()]);
        let out = forward(&mut tape, spec, &w, tok);
        let everything = readout == Readout::Everything;
        let last = |tape: &mut Tape, t: Tensor| -> (Buffer, usize) {
            let shape = tape.shape(t).to_vec();
            let width = *shape.last().expect("activations have a width");
            let at_last = match spec {
                ModelSpec::Transformer(_) => {
                    let per_position = tape.reshape(t, &[runs, chunk_rows, TRANSFORMER_SEQ, width]);
                    select(tape, per_position, 2, TRANSFORMER_SEQ - 1)
                }
                ModelSpec::Mlp(_) => t,
            };
            (tape.buf(at_last).clone(), width)
        };
        let outputs = Outputs {
            logits: tape.buf(out.logits).clone(),
            mlp_post: if everything { out.mlp_post.iter().map(|&t| last(&mut tape, t)).collect() } else { vec![] },
            head_outputs: if everything { out.head_outputs.iter().map(|&t| last(&mut tape, t)).collect() } else { vec![] },
            residuals: if everything { out.residuals.iter().map(|&t| last(&mut tape, t)).collect() } else { vec![] },
            readout_input: everything.then(|| {
                let width = *tape.shape(out.readout_input).last().expect("a width");
                (tape.buf(out.readout_input).clone(), width)
            }),
            attention_probs: if everything {
                out.attention_probs.iter().map(|&t| (tape.buf(t).clone(), tape.shape(t)[2..].iter().product())).collect()
            } else {
                vec![]
            },
        };
        ForwardProgram { chunk_rows, tokens, program: tape.forward_program().clone(), outputs }
    }
}

impl GradientProgram {
    fn new(gpu: &Gpu, spec: &ModelSpec, layout: &FlatLayout, params: &Buffer, chunk_rows: usize, loss: LossKind) -> GradientProgram {
        let runs = layout.runs;
        let tokens = gpu.buffer("probe train tokens", runs * chunk_rows * spec.seq_len());
        let targets = gpu.buffer("probe train targets", runs * chunk_rows);
        let valid_rows = gpu.buffer("probe valid rows", runs);
        let grads = gpu.buffer("probe gradients", layout.len);
        let mut tape = Tape::new(gpu);
        let w = weights(&mut tape, layout, params, Some(&grads));
        let tok = tape.input(tokens.clone(), &[runs, chunk_rows, spec.seq_len()]);
        let tgt = tape.input(targets.clone(), &[runs, chunk_rows]);
        let out = forward(&mut tape, spec, &w, tok);
        cross_entropy(&mut tape, out.logits, tgt, loss, Some(&valid_rows));
        let backward = tape.backward();
        let mut program = tape.forward_program().clone();
        program.extend(backward);
        GradientProgram { chunk_rows, tokens, targets, valid_rows, grads, program }
    }
}

/// `rows` of `per_row`-wide values, repeated for every run: [R, chunk, per_row] with the
/// rows past `rows.len()` zero.
fn for_every_run(values: &[u32], rows: std::ops::Range<usize>, per_row: usize, chunk: usize, runs: usize) -> Vec<u32> {
    let mut one = values[rows.start * per_row..rows.end * per_row].to_vec();
    one.resize(chunk * per_row, 0);
    one.repeat(runs)
}

impl<'g> ModelProbe<'g> {
    /// A probe of `runs` checkpoints of `spec` over `data`; `gradients` also traces the
    /// backward over the train set (with the run's `loss`).
    pub fn new(gpu: &'g Gpu, spec: &ModelSpec, runs: usize, data: &ProbeData, readout: Readout, gradients: Option<LossKind>) -> ModelProbe<'g> {
        ModelProbe::with_chunks(gpu, spec, runs, data, readout, gradients, CHUNK_ELEMENTS)
    }

    /// [`ModelProbe::new`] with chunks of at most `chunk_elements` activation elements.
    fn with_chunks(
        gpu: &'g Gpu,
        spec: &ModelSpec,
        runs: usize,
        data: &ProbeData,
        readout: Readout,
        gradients: Option<LossKind>,
        chunk_elements: usize,
    ) -> ModelProbe<'g> {
        let layout = FlatLayout::new(runs, spec.param_shapes());
        let params = gpu.buffer("probe parameters", layout.len);
        let rows = chunk_rows(spec, runs, data.rows(), chunk_elements);
        let forward = ForwardProgram::new(gpu, spec, &layout, &params, rows, readout);
        let gradient = gradients.map(|loss| {
            let rows = chunk_rows(spec, runs, data.train_rows.len(), chunk_elements);
            GradientProgram::new(gpu, spec, &layout, &params, rows, loss)
        });
        ModelProbe { gpu, spec: spec.clone(), layout, params, forward, gradient }
    }

    /// R, the checkpoints one call handles.
    pub fn runs(&self) -> usize {
        self.layout.runs
    }

    /// Parameters per model.
    pub fn param_count(&self) -> usize {
        self.layout.tensors.iter().map(|t| t.numel).sum()
    }

    /// Dispatches of the forward program (one chunk).
    pub fn forward_dispatches(&self) -> usize {
        self.forward.program.len()
    }

    /// Uploads 1..=R models' weights, each its tensors concatenated in layout order; the
    /// slots past `models.len()` get the last model.
    pub fn load(&self, models: &[&[f32]]) {
        assert!(!models.is_empty() && models.len() <= self.runs(), "load: 1..={} models, got {}", self.runs(), models.len());
        let mut flat = vec![0f32; self.layout.len];
        for r in 0..self.runs() {
            let model = models[r.min(models.len() - 1)];
            assert_eq!(model.len(), self.param_count(), "load: a model of {} parameters, got {}", self.param_count(), model.len());
            let mut at = 0;
            for t in &self.layout.tensors {
                flat[t.offset + r * t.numel..t.offset + (r + 1) * t.numel].copy_from_slice(&model[at..at + t.numel]);
                at += t.numel;
            }
        }
        self.gpu.write(&self.params, &flat);
    }

    /// The loaded models over every pair of `data`: one [`Activations`] per slot.
    pub fn forward(&self, data: &ProbeData) -> Vec<Activations> {
        let (runs, f) = (self.runs(), &self.forward);
        let width = self.spec.seq_len();
        let rows = data.rows();
        let mut out = vec![Activations::default(); runs];
        let mut start = 0;
        while start < rows {
            let n = f.chunk_rows.min(rows - start);
            self.gpu.write(&f.tokens, &for_every_run(&data.tokens, start..start + n, width, f.chunk_rows, runs));
            self.gpu.run(&f.program);
            let read = |buf: &Buffer, per_row: usize| -> Vec<Vec<f32>> {
                let all = self.gpu.read_f32(buf);
                (0..runs).map(|r| all[r * f.chunk_rows * per_row..(r * f.chunk_rows + n) * per_row].to_vec()).collect()
            };
            let append = |dst: &mut Vec<f32>, src: Vec<f32>| dst.extend(src);
            for (a, part) in out.iter_mut().zip(read(&f.outputs.logits, self.spec.classes())) {
                append(&mut a.logits, part);
            }
            for (i, (buf, w)) in f.outputs.mlp_post.iter().enumerate() {
                for (a, part) in out.iter_mut().zip(read(buf, *w)) {
                    a.mlp_post.resize(f.outputs.mlp_post.len(), Vec::new());
                    append(&mut a.mlp_post[i], part);
                }
            }
            for (i, (buf, w)) in f.outputs.head_outputs.iter().enumerate() {
                for (a, part) in out.iter_mut().zip(read(buf, *w)) {
                    a.head_outputs.resize(f.outputs.head_outputs.len(), Vec::new());
                    append(&mut a.head_outputs[i], part);
                }
            }
            for (i, (buf, w)) in f.outputs.residuals.iter().enumerate() {
                for (a, part) in out.iter_mut().zip(read(buf, *w)) {
                    a.residuals.resize(f.outputs.residuals.len(), Vec::new());
                    append(&mut a.residuals[i], part);
                }
            }
            if let Some((buf, w)) = &f.outputs.readout_input {
                for (a, part) in out.iter_mut().zip(read(buf, *w)) {
                    append(&mut a.readout_input, part);
                }
            }
            for (i, (buf, w)) in f.outputs.attention_probs.iter().enumerate() {
                for (a, part) in out.iter_mut().zip(read(buf, *w)) {
                    a.attention_probs.resize(f.outputs.attention_probs.len(), Vec::new());
                    append(&mut a.attention_probs[i], part);
                }
            }
            start += n;
        }
        out
    }

    /// The gradient of each loaded model's mean train loss, its tensors concatenated in
    /// layout order (chunks combined in f64 by their row counts).
    pub fn train_gradients(&self, data: &ProbeData) -> Vec<Vec<f64>> {
        let g = self.gradient.as_ref().expect("this probe was built without gradients");
        let runs = self.runs();
        let width = self.spec.seq_len();
        let train_tokens: Vec<u32> = data.train_rows.iter().flat_map(|&r| data.tokens[r * width..(r + 1) * width].iter().copied()).collect();
        let train_targets: Vec<u32> = data.train_rows.iter().map(|&r| data.targets[r]).collect();
        let total = data.train_rows.len();
        let mut sums = vec![vec![0f64; self.param_count()]; runs];
        let mut start = 0;
        while start < total {
            let n = g.chunk_rows.min(total - start);
            self.gpu.write(&g.tokens, &for_every_run(&train_tokens, start..start + n, width, g.chunk_rows, runs));
            self.gpu.write(&g.targets, &for_every_run(&train_targets, start..start + n, 1, g.chunk_rows, runs));
            self.gpu.write(&g.valid_rows, &vec![n as u32; runs]);
            self.gpu.run(&g.program);
            let flat = self.gpu.read_f32(&g.grads);
            let share = n as f64 / total as f64;
            for (r, sum) in sums.iter_mut().enumerate() {
                let mut at = 0;
                for t in &self.layout.tensors {
                    let block = &flat[t.offset + r * t.numel..t.offset + (r + 1) * t.numel];
                    sum[at..at + t.numel].iter_mut().zip(block).for_each(|(s, &v)| *s += share * v as f64);
                    at += t.numel;
                }
            }
            start += n;
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;
    use crate::data::{Table, Task};
    use crate::nn::spec::{MlpSpec, Norm, TransformerSpec, Variant};
    use crate::tensor::gemm::Activation;
    use grokgpu_reference as reference;
    use reference::cross_entropy::Loss;

    /// max|g − r| / max|r|.
    fn rel_error(got: &[f32], want: &[f64]) -> f64 {
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        got.iter().zip(want).fold(0.0f64, |m, (&g, w)| m.max((g as f64 - w).abs())) / scale
    }

    /// Random f32-representable parameters in layout order: (flat f32 for the probe,
    /// named f64 for the reference).
    fn random_model(spec: &ModelSpec, seed: u64) -> (Vec<f32>, Vec<reference::params::Param>) {
        let mut rng = Rng::new(seed);
        let named: Vec<reference::params::Param> = spec
            .param_shapes()
            .into_iter()
            .map(|(name, shape)| {
                let values = (0..shape.iter().product()).map(|_| (0.5 * rng.normal()) as f32 as f64).collect();
                (name, shape, values)
            })
            .collect();
        (named.iter().flat_map(|p| p.2.iter().map(|&v| v as f32)).collect(), named)
    }

    fn data(spec: &ModelSpec, p: u32) -> ProbeData {
        let table = Table::new(Task::Add, p).unwrap();
        let mask: Vec<bool> = (0..table.len()).map(|i| i % 3 != 1).collect();
        ProbeData::new(spec, &table.x, &table.y, &table.target, &mask)
    }

    fn train_part<T: Copy>(values: &[T], data: &ProbeData, width: usize) -> Vec<T> {
        data.train_rows.iter().flat_map(|&r| values[r * width..(r + 1) * width].to_vec()).collect()
    }

    #[test]
    fn mlp_probe_matches_the_reference_across_chunks_and_slots() {
        let spec = ModelSpec::Mlp(MlpSpec { p: 7, hidden: 6 });
        let cfg = reference::mlp::MlpConfig { p: 7, hidden: 6 };
        let data = data(&spec, 7);
        // 3 slots, 2 models; chunks of 10 rows of 49 (the last one short).
        let probe = ModelProbe::with_chunks(Gpu::shared(), &spec, 3, &data, Readout::Everything, Some(LossKind::Ce), 3 * 10 * 12);
        assert_eq!(probe.forward.chunk_rows, 10);
        let models = [random_model(&spec, 1), random_model(&spec, 2)];
        probe.load(&[&models[0].0, &models[1].0]);
        let acts = probe.forward(&data);
        let grads = probe.train_gradients(&data);
        let (xs, ys): (Vec<u32>, Vec<u32>) = data.tokens.chunks(2).map(|r| (r[0], r[1])).unzip();
        for (m, (_, named)) in models.iter().enumerate() {
            let want = reference::mlp::mlp_forward(&cfg, named, &xs, &ys);
            // Tolerance 1e-5: f32 forward of width ≤ 12 against f64 (as kernels-tests/model.rs);
            // measured ≤ 1.1e-7 here, ≤ 1.1e-6 for the Transformer below.
            assert!(rel_error(&acts[m].logits, &want) < 1e-5, "model {m}: {}", rel_error(&acts[m].logits, &want));
            assert_eq!(acts[m].readout_input, acts[m].mlp_post[0], "the MLP's readout reads its hidden layer");
            assert_eq!(acts[m].readout_input.len(), 49 * 6);
            let (_, _, want_grads) = reference::mlp::mlp_loss_and_grads(
                &cfg,
                named,
                &train_part(&xs, &data, 1),
                &train_part(&ys, &data, 1),
                &train_part(&data.targets, &data, 1),
                Loss::Ce,
            );
            let want_flat: Vec<f64> = want_grads.iter().flat_map(|g| g.2.iter().copied()).collect();
            let got: Vec<f32> = grads[m].iter().map(|&v| v as f32).collect();
            // Tolerance 1e-5 as above; the train set spans four gradient chunks.
            assert!(rel_error(&got, &want_flat) < 1e-5, "model {m} gradients: {}", rel_error(&got, &want_flat));
        }
        assert_eq!(acts[2], acts[1], "an unused slot repeats the last model");
        assert!(acts[0].attention_probs.is_empty() && acts[0].head_outputs.is_empty());
    }

    #[test]
    fn transformer_probe_matches_the_reference_and_its_own_readout() {
        let t = TransformerSpec {
            p: 7,
            d_model: 8,
            heads: 2,
            d_mlp: 12,
            layers: 2,
            norm: Norm::None,
            act: Activation::Relu,
            variant: Variant::Full,
            bottleneck_rank: None,
        };
        let spec = ModelSpec::Transformer(t.clone());
        let cfg = reference::transformer::TransformerConfig {
            norm: reference::transformer::Norm::None,
            ..reference::transformer::TransformerConfig::new(7, 8, 2, 12, 2)
        };
        let data = data(&spec, 7);
        let probe = ModelProbe::with_chunks(Gpu::shared(), &spec, 2, &data, Readout::Everything, Some(LossKind::Ce), 2 * 16 * 96);
        let (flat, named) = random_model(&spec, 3);
        probe.load(&[&flat]);
        let acts = &probe.forward(&data)[0];
        let want = reference::transformer::transformer_forward(&cfg, &named, &data.tokens);
        assert!(rel_error(&acts.logits, &want) < 1e-5, "{}", rel_error(&acts.logits, &want));
        // Without norms the logits are unembed·readout + bias.
        let unembed = &named.iter().find(|p| p.0 == "unembed.weight").unwrap().2;
        let bias = &named.iter().find(|p| p.0 == "unembed.bias").unwrap().2;
        let from_readout: Vec<f64> = acts
            .readout_input
            .chunks(8)
            .flat_map(|h| (0..7).map(move |c| bias[c] + (0..8).map(|j| unembed[c * 8 + j] * h[j] as f64).sum::<f64>()))
            .collect();
        assert!(rel_error(&acts.logits, &from_readout) < 1e-5);
        assert_eq!((acts.mlp_post.len(), acts.head_outputs.len(), acts.attention_probs.len()), (2, 2, 2));
        assert_eq!((acts.mlp_post[1].len(), acts.head_outputs[0].len()), (49 * 12, 49 * 8));
        for block in acts.attention_probs[1].chunks(16) {
            for q in 0..4 {
                let row = &block[q * 4..q * 4 + 4];
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6 && row[q + 1..].iter().all(|&v| v == 0.0));
            }
        }
        let train_tokens = train_part(&data.tokens, &data, 4);
        let (_, _, want_grads) =
            reference::transformer::transformer_loss_and_grads(&cfg, &named, &train_tokens, &train_part(&data.targets, &data, 1), Loss::Ce);
        let want_flat: Vec<f64> = want_grads.iter().flat_map(|g| g.2.iter().copied()).collect();
        let got: Vec<f32> = probe.train_gradients(&data)[0].iter().map(|&v| v as f32).collect();
        assert!(rel_error(&got, &want_flat) < 1e-5, "{}", rel_error(&got, &want_flat));
    }
}
