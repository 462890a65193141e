//! Embedding lookup per run, optionally plus a positional table in the same dispatch
//! (the Transformer's first op), and the deterministic scatter-add backward.
//!
//! Dispatches: forward 1; backward 1, a deterministic scatter-add for the table (see
//! embedding.wgsl for why it needs no atomics) whose grid, with positions, also sums the
//! positional table's gradient. The scatter-add has two kernels with the same bits
//! ([`ScatterKernel`]): a scan shared by 256 threads, and for the CPU device one that
//! shares token reads through 8-lane subgroups.

use crate::gpu::{flat_grid, groups, shaders, Access, Buffer, Dispatch, Gpu, Kernel};
use crate::tensor::{Node, Op, Tape, Tensor};

/// uniform, tokens, table or dy, positions, out, then (backward) dpos.
const BINDINGS: &[Access] = &[Access::Uniform, Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::ReadWrite];

const FORWARD: Kernel = Kernel {
    file: "embedding.wgsl",
    source: shaders::EMBEDDING,
    entry: "embedding_forward",
    bindings: BINDINGS.split_at(5).0,
};
const BACKWARD: Kernel = Kernel { file: "embedding.wgsl", source: shaders::EMBEDDING, entry: "embedding_backward", bindings: BINDINGS };
const BACKWARD_LANES: Kernel =
    Kernel { file: "embedding_lanes.wgsl", source: shaders::EMBEDDING_LANES, entry: "embedding_backward_lanes", bindings: BINDINGS };

/// Lanes of the subgroup scatter-add's workgroup, and the columns one covers
/// (`SCATTER_LANES`, `SCATTER_COLUMNS` in embedding_lanes.wgsl).
const LANES: u32 = 8;
const LANE_COLUMNS: usize = 128;

/// The scatter-add's kernel: both sum every row in increasing token order, so they give
/// the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterKernel {
    /// A workgroup of 256 threads scans the tokens with prefix sums (GPUs).
    Scan,
    /// One 8-lane subgroup per 128 columns, no barriers (the CPU device, where barriers
    /// and storage reads are costly).
    Lanes,
}

impl ScatterKernel {
    pub fn default_for(gpu: &Gpu) -> ScatterKernel {
        if gpu.is_software() && gpu.has_subgroups_of(LANES) {
            ScatterKernel::Lanes
        } else {
            ScatterKernel::Scan
        }
    }
}

/// One scatter-add over buffers: dtable[r, v] (+)= Σ_{k: tokens[r, k] = v} dy[r, k] and,
/// with positions, dpos[r, t] (+)= Σ_{k mod T = t} dy[r, k], each summed in increasing k.
pub struct ScatterAdd<'a> {
    pub runs: usize,
    pub vocab: usize,
    pub dim: usize,
    /// Tokens per run.
    pub n: usize,
    pub tokens: &'a Buffer,
    pub dy: &'a Buffer,
    /// dtable [R, V, d] and whether it accumulates.
    pub table: Option<(&'a Buffer, bool)>,
    /// dpos [R, T, d], whether it accumulates, and T.
    pub positions: Option<(&'a Buffer, bool, usize)>,
}

impl ScatterAdd<'_> {
    /// Records the launch with `kernel`; `None` when neither gradient is wanted.
    pub fn dispatch(&self, gpu: &Gpu, kernel: ScatterKernel) -> Option<Dispatch> {
        // An unwanted output is bound to the wanted one; no workgroup writes it.
        let wanted = self.table.map(|(g, _)| g).or(self.positions.map(|(g, _, _)| g))?;
        let table_out = self.table.map_or(wanted, |(g, _)| g);
        let pos_out = self.positions.map_or(wanted, |(g, _, _)| g);
        let period = self.positions.map_or(0, |(_, _, period)| period);
        let dims = Dims { runs: self.runs, vocab: self.vocab, dim: self.dim, n: self.n };
        let mut params = dims.params(period, self.table.is_some_and(|(_, acc)| acc));
        params.accumulate_pos = self.positions.is_some_and(|(_, acc, _)| acc) as u32;
        params.first_row = if self.table.is_some() { 0 } else { self.vocab as u32 };
        let rows = if self.table.is_some() { self.vocab } else { 0 } + period;
        assert!(rows <= 65535 && self.runs <= 65535, "embedding backward launches one workgroup per (run, row)");
        let (kernel, column_groups) = match kernel {
            ScatterKernel::Scan => (&BACKWARD, groups(self.dim, WG)),
            ScatterKernel::Lanes => (&BACKWARD_LANES, self.dim.div_ceil(LANE_COLUMNS) as u32),
        };
        let uniform = gpu.uniform(kernel.entry, &params);
        let workgroups = [column_groups, rows as u32, self.runs as u32];
        Some(gpu.dispatch(kernel, &[], &[&uniform, self.tokens, self.dy, self.dy, table_out, pos_out], workgroups))
    }
}

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
    accumulate_pos: u32,
    first_row: u32,
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
            accumulate_pos: 0,
            first_row: 0,
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

/// dtable[r, v] (+)= Σ_{k: tokens[r, k] = v} dy[r, k], summed in increasing k, and with
/// `pos` = (positions, T): dpos[r, t] (+)= Σ_{k mod T = t} dy[r, k], in the same launch.
fn scatter_add(tape: &mut Tape, table: Tensor, pos: Option<(Tensor, usize)>, tokens: Tensor, dout: &Buffer) -> Option<Dispatch> {
    let dims = Dims::of(tape, table, tokens);
    let tokens = tape.buf(tokens).clone();
    let dtable = tape.grad_target(table);
    let dpos = pos.and_then(|(p, period)| tape.grad_target(p).map(|g| (g, period)));
    let scatter = ScatterAdd {
        runs: dims.runs,
        vocab: dims.vocab,
        dim: dims.dim,
        n: dims.n,
        tokens: &tokens,
        dy: dout,
        table: dtable.as_ref().map(|(g, acc)| (g, *acc)),
        positions: dpos.as_ref().map(|((g, acc), period)| (g, *acc, *period)),
    };
    scatter.dispatch(tape.gpu, ScatterKernel::default_for(tape.gpu))
}

/// Gradient rules: the table gets a scatter-add; positions get dy summed over N, in the
/// same launch.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    match node.op {
        Op::Embedding => scatter_add(tape, node.inputs[0], None, node.inputs[1], dout).into_iter().collect(),
        Op::EmbeddingWithPositions => {
            let [table, pos, tokens] = node.inputs[..] else { unreachable!("embed_with_positions has three inputs") };
            let period = tape.shape(tokens)[2];
            scatter_add(tape, table, Some((pos, period)), tokens, dout).into_iter().collect()
        }
        _ => unreachable!("embedding::backward got {:?}", node.op),
    }
}
