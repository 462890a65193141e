//! The fused classification loss: softmax or stablemax cross-entropy, argmax accuracy and
//! dlogits in one dispatch, plus the per-run mean that evaluation reads.
//!
//! The loss is the mean over each run's rows, so every row's gradient carries 1/N. The
//! forward kernel writes that gradient straight into the logits' gradient buffer: the
//! loss seeds the backward pass and its own backward is empty (see `Tape::backward`).
//!
//! Padding: an optional per-run count `valid_rows` [R] (u32) marks rows i ≥ valid_rows[r]
//! as padding (no loss, not counted, zero gradient) and makes the mean divide by the count.
//! So a fixed-size program evaluates a train or validation set of any size exactly: pad
//! the last chunk and write its count, or give each run its own count when runs' sets
//! differ in size. Chunks combine exactly on the host as Σ mean·count / Σ count.

use crate::gpu::{flat_grid, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

/// How logits become probabilities (docs/runs.md `loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Softmax cross-entropy.
    Ce,
    /// Stablemax cross-entropy (Prieto et al. 2025): s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0).
    Stablemax,
}

const FORWARD_BINDINGS: &[Access] = &[
    Access::Uniform,
    Access::Read,
    Access::Read,
    Access::Read,
    Access::ReadWrite,
    Access::ReadWrite,
    Access::ReadWrite,
];

const fn forward_kernel(entry: &'static str) -> Kernel {
    Kernel { file: "cross_entropy.wgsl", source: shaders::CROSS_ENTROPY, entry, bindings: FORWARD_BINDINGS }
}

const SOFTMAX_XENT: Kernel = forward_kernel("softmax_xent_forward");
const STABLEMAX_XENT: Kernel = forward_kernel("stablemax_xent_forward");
const SOFTMAX_XENT_ROWS: Kernel = forward_kernel("softmax_xent_rows");
const STABLEMAX_XENT_ROWS: Kernel = forward_kernel("stablemax_xent_rows");
/// Rows per workgroup of the row-per-invocation kernels (`ROWS_WG` in the shader).
const ROWS_WG: usize = 8;

/// How the loss kernel spreads a row: a workgroup of 64 threads and tree reductions
/// (GPUs), or one invocation walking the row (the CPU device, where barriers are costly).
/// Both give the same argmax; the loss and gradient may differ in their last bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XentKernel {
    Workgroup,
    Rows,
}

impl XentKernel {
    pub const ALL: [XentKernel; 2] = [XentKernel::Workgroup, XentKernel::Rows];

    pub fn default_for(gpu: &Gpu) -> XentKernel {
        if gpu.is_software() {
            XentKernel::Rows
        } else {
            XentKernel::Workgroup
        }
    }
}
const LOSS_METRICS: Kernel = Kernel {
    file: "cross_entropy.wgsl",
    source: shaders::CROSS_ENTROPY,
    entry: "loss_metrics",
    bindings: &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite],
};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    runs: u32,
    rows: u32,
    classes: u32,
    /// 0: no gradient; 1: overwrite dlogits; 2: add into dlogits.
    grad_mode: u32,
}

/// What the loss op produced. Evaluation reads `loss_metrics`; per-row values stay on the
/// GPU for analyses that need them.
#[derive(Clone, Debug)]
pub struct CrossEntropy {
    /// Per-row loss [R, N]; 0 on padding rows.
    pub loss_rows: Tensor,
    /// Per-row 1 when argmax(logits) == target (ties to the lowest index), else 0; u32 [R, N].
    pub correct_rows: Buffer,
    /// Valid rows per run, u32 [R].
    pub valid_rows: Buffer,
}

/// Loss of logits [R, N, C] against targets [R, N] (u32 class indices). When the logits
/// need a gradient, the same dispatch writes dlogits = ∂(mean loss)/∂logits into it.
/// `valid_rows` (u32 [R]) defaults to N for every run.
pub fn cross_entropy(tape: &mut Tape, logits: Tensor, targets: Tensor, kind: LossKind, valid_rows: Option<&Buffer>) -> CrossEntropy {
    let kernel = XentKernel::default_for(tape.gpu);
    cross_entropy_with(tape, logits, targets, kind, valid_rows, kernel)
}

/// [`cross_entropy`] with the kernel named.
pub fn cross_entropy_with(
    tape: &mut Tape,
    logits: Tensor,
    targets: Tensor,
    kind: LossKind,
    valid_rows: Option<&Buffer>,
    spread: XentKernel,
) -> CrossEntropy {
    let &[runs, rows, classes] = tape.shape(logits) else {
        panic!("cross_entropy: logits must be [R, N, C], got {:?}", tape.shape(logits))
    };
    assert_eq!(tape.shape(targets), [runs, rows], "cross_entropy: targets must be [R, N]");
    assert!(classes > 0, "cross_entropy: no classes");
    let valid_rows = match valid_rows {
        Some(b) => {
            assert_eq!(b.len, runs, "cross_entropy: valid_rows must be [R]");
            b.clone()
        }
        None => tape.gpu.buffer_from("valid rows", &vec![rows as u32; runs]),
    };
    let loss_rows = tape.output("loss rows", &[runs, rows], &[logits]);
    let correct_rows = tape.gpu.buffer("correct rows", runs * rows);
    let (dlogits, grad_mode) = match tape.grad_target(logits) {
        Some((grad, accumulate)) => (grad, if accumulate { 2 } else { 1 }),
        None => (tape.gpu.buffer("no dlogits", 1), 0),
    };
    let params = Params { runs: runs as u32, rows: rows as u32, classes: classes as u32, grad_mode };
    let (kernel, grid) = match (kind, spread) {
        // One workgroup per row, or one invocation.
        (LossKind::Ce, XentKernel::Workgroup) => (&SOFTMAX_XENT, flat_grid(runs * rows, 1)),
        (LossKind::Stablemax, XentKernel::Workgroup) => (&STABLEMAX_XENT, flat_grid(runs * rows, 1)),
        (LossKind::Ce, XentKernel::Rows) => (&SOFTMAX_XENT_ROWS, flat_grid(runs * rows, ROWS_WG)),
        (LossKind::Stablemax, XentKernel::Rows) => (&STABLEMAX_XENT_ROWS, flat_grid(runs * rows, ROWS_WG)),
    };
    let uniform = tape.gpu.uniform(kernel.entry, &params);
    let buffers = [&uniform, tape.buf(logits), tape.buf(targets), &valid_rows, &dlogits, tape.buf(loss_rows), &correct_rows];
    let d = tape.gpu.dispatch(kernel, &[], &buffers, grid);
    let saved = vec![correct_rows.clone(), valid_rows.clone()];
    tape.record(Op::CrossEntropy { kind }, &[logits, targets], loss_rows, saved, vec![d]);
    CrossEntropy { loss_rows, correct_rows, valid_rows }
}

/// Per-run mean loss and accuracy over the valid rows: [R, 2] = (loss, accuracy), one
/// small deterministic dispatch. Evaluation programs record it; training steps need not.
pub fn loss_metrics(tape: &mut Tape, ce: &CrossEntropy) -> Tensor {
    let &[runs, rows] = tape.shape(ce.loss_rows) else { unreachable!("loss rows are [R, N]") };
    let metrics = tape.output("loss metrics", &[runs, 2], &[ce.loss_rows]);
    let params = Params { runs: runs as u32, rows: rows as u32, classes: 0, grad_mode: 0 };
    let uniform = tape.gpu.uniform(LOSS_METRICS.entry, &params);
    let buffers = [&uniform, tape.buf(ce.loss_rows), &ce.correct_rows, &ce.valid_rows, tape.buf(metrics)];
    let d = tape.gpu.dispatch(&LOSS_METRICS, &[], &buffers, [runs as u32, 1, 1]);
    tape.record(Op::LossMetrics, &[ce.loss_rows], metrics, vec![], vec![d]);
    metrics
}

/// Both ops end the graph: the loss's gradient was written by its forward dispatch and
/// the metrics are not differentiated, so there is nothing to emit.
pub fn backward(_tape: &mut Tape, node: &Node, _dout: &Buffer) -> Vec<Dispatch> {
    match node.op {
        Op::CrossEntropy { .. } | Op::LossMetrics => vec![],
        _ => unreachable!("cross_entropy::backward got {:?}", node.op),
    }
}
