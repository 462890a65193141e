//! Embedding lookup per run, optionally plus a positional table in the same dispatch
//! (the Transformer's first op), and the deterministic scatter-add backward.
//!
//! Dispatches: forward 1; backward 1 for the table (see embedding.wgsl for why it needs
//! no atomics) plus, with positions, 1 column sum for the positional table.

use super::reduce::column_sums;
use crate::gpu::{flat_grid, groups, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        file: "embedding.wgsl",
        source: shaders::EMBEDDING,
        entry,
        bindings: &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite],
    }
}

const FORWARD: Kernel = kernel("embedding_forward");
const BACKWARD: Kernel = kernel("embedding_backward");

/// Threads of one workgroup (see embedding.wgsl).
const WG: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    runs: u32,
    n: u32,
    vocab: u32,
    dim: u32,
    period: u32,
    accumulate: u32,
    _pad: [u32; 2],
}

/// Runs, vocabulary and width of a [R, V, d] table, and tokens per run.
#[derive(Clone, Copy)]
struct Dims {
    runs: usize,
    vocab: usize,
    dim: usize,
    n: usize,
}

impl Dims {
    fn of(tape: &Tape, table: Tensor, tokens: Tensor) -> Dims {
        let (ts, ks) = (tape.shape(table), tape.shape(tokens));
        assert!(ts.len() == 3, "embedding table must be [R, V, d], got {ts:?}");
        assert!(ks.first() == Some(&ts[0]), "tokens {ks:?} and table {ts:?} differ in runs");
        Dims { runs: ts[0], vocab: ts[1], dim: ts[2], n: ks[1..].iter().product() }
    }

    fn params(self, period: usize, accumulate: bool) -> Params {
        Params {
            runs: self.runs as u32,
            n: self.n as u32,
            vocab: self.vocab as u32,
            dim: self.dim as u32,
            period: period as u32,
            accumulate: accumulate as u32,
            _pad: [0; 2],
        }
    }
}

fn forward(
    gpu: &Gpu,
    dims: Dims,
    tokens: &Buffer,
    table: &Buffer,
    pos: Option<(&Buffer, usize)>,
    out: &Buffer,
) -> Dispatch {
    let (pos, period) = pos.unwrap_or((table, 0));
    let uniform = gpu.uniform(FORWARD.entry, &dims.params(period, false));
    gpu.dispatch(&FORWARD, &[], &[&uniform, tokens, table, pos, out], flat_grid(dims.runs * dims.n * dims.dim, WG))
}

/// out[r, k] = table[r, tokens[r, k]]: table [R, V, d], tokens [R, …] (u32) → [R, …, d].
pub fn embedding(tape: &mut Tape, table: Tensor, tokens: Tensor) -> Tensor {
    let dims = Dims::of(tape, table, tokens);
    let mut shape = tape.shape(tokens).to_vec();
    shape.push(dims.dim);
    let out = tape.output("embedding", &shape, &[table]);
    let d = forward(tape.gpu, dims, tape.buf(tokens), tape.buf(table), None, tape.buf(out));
    tape.record(Op::Embedding, &[table, tokens], out, vec![], vec![d]);
    out
}

/// out[r, m, t] = table[r, tokens[r, m, t]] + pos[r, t]: table [R, V, d], pos [R, T, d],
/// tokens [R, N, T] (u32) → [R, N, T, d].
pub fn embed_with_positions(tape: &mut Tape, table: Tensor, pos: Tensor, tokens: Tensor) -> Tensor {
    let dims = Dims::of(tape, table, tokens);
    let (ps, ks) = (tape.shape(pos).to_vec(), tape.shape(tokens).to_vec());
    assert!(ks.len() == 3, "tokens must be [R, N, T], got {ks:?}");
    assert!(
        ps == [dims.runs, ks[2], dims.dim],
        "positions must be [R, T, d] = [{}, {}, {}], got {ps:?}",
        dims.runs,
        ks[2],
        dims.dim
    );
    let out = tape.output("embedding", &[ks[0], ks[1], ks[2], dims.dim], &[table, pos]);
    let d = forward(tape.gpu, dims, tape.buf(tokens), tape.buf(table), Some((tape.buf(pos), ks[2])), tape.buf(out));
    tape.record(Op::EmbeddingWithPositions, &[table, pos, tokens], out, vec![], vec![d]);
    out
}

/// dtable[r, v] (+)= Σ_{k: tokens[r, k] = v} dy[r, k], summed in increasing k.
fn scatter_add(tape: &mut Tape, table: Tensor, tokens: Tensor, dout: &Buffer) -> Option<Dispatch> {
    let dims = Dims::of(tape, table, tokens);
    let tokens = tape.buf(tokens).clone();
    let (grad, acc) = tape.grad_target(table)?;
    let uniform = tape.gpu.uniform(BACKWARD.entry, &dims.params(0, acc));
    assert!(dims.vocab <= 65535 && dims.runs <= 65535, "embedding backward launches one workgroup per (run, row)");
    let workgroups = [groups(dims.dim, WG), dims.vocab as u32, dims.runs as u32];
    Some(tape.gpu.dispatch(&BACKWARD, &[], &[&uniform, &tokens, dout, dout, &grad], workgroups))
}

/// Gradient rules: the table gets a scatter-add; positions get dy summed over N.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    match node.op {
        Op::Embedding => scatter_add(tape, node.inputs[0], node.inputs[1], dout).into_iter().collect(),
        Op::EmbeddingWithPositions => {
            let [table, pos, tokens] = node.inputs[..] else { unreachable!("embed_with_positions has three inputs") };
            let mut dispatches: Vec<Dispatch> = scatter_add(tape, table, tokens, dout).into_iter().collect();
            let ks = tape.shape(tokens).to_vec();
            let dim = tape.shape(table)[2];
            if let Some((dpos, acc)) = tape.grad_target(pos) {
                dispatches.push(column_sums(tape.gpu, dout, ks[0], ks[1], ks[2] * dim, &dpos, acc));
            }
            dispatches
        }
        _ => unreachable!("embedding::backward got {:?}", node.op),
    }
}
