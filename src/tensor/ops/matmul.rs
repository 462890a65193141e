//! The `matmul` op: op(A)·op(B) over the leading axes, and its backward (each gradient
//! one product in another layout; see the table in `tensor::gemm`).

use crate::gpu::{Buffer, Dispatch};
use crate::tensor::gemm::{split_k_pays, SplitReduction, Gemm, Layout, SecondProduct};
use crate::tensor::{Node, Op, Tape, Tensor};

/// (batch, rows, cols) of a tensor [leading axes..., rows, cols], leading axes folded.
fn batched_matrix(shape: &[usize]) -> (usize, usize, usize) {
    let d = shape.len();
    assert!(d >= 3, "matmul operands are [R, ..., rows, cols], got {shape:?}");
    (shape[..d - 2].iter().product(), shape[d - 2], shape[d - 1])
}

/// op(A)·op(B) over the shared leading axes (R first): a [.., ra, ca], b [.., rb, cb]
/// read as [.., m, k] and [.., k, n] per `layout`; the result is [.., m, n].
pub fn matmul(tape: &mut Tape, a: Tensor, b: Tensor, layout: Layout) -> Tensor {
    let (sa, sb) = (tape.shape(a).to_vec(), tape.shape(b).to_vec());
    let (batch, ra, ca) = batched_matrix(&sa);
    let (_, rb, cb) = batched_matrix(&sb);
    assert_eq!(sa[..sa.len() - 2], sb[..sb.len() - 2], "matmul: leading axes differ: {sa:?} vs {sb:?}");
    let (m, k) = if layout == Layout::AtB { (ca, ra) } else { (ra, ca) };
    let (kb, n) = if layout == Layout::ABt { (cb, rb) } else { (rb, cb) };
    assert_eq!(k, kb, "matmul {layout:?}: inner dimensions differ: {sa:?} vs {sb:?}");
    let mut shape = sa[..sa.len() - 2].to_vec();
    shape.extend([m, n]);
    let out = tape.output("matmul", &shape, &[a, b]);
    let d = Gemm::new(layout, [batch, m, n, k], tape.buf(a), tape.buf(b), tape.buf(out)).dispatch(tape.gpu);
    tape.record(Op::Matmul { layout }, &[a, b], out, vec![], vec![d]);
    out
}

/// dA and dB of a recorded `matmul`, each one product (see the table in the module docs);
/// for A·Bᵀ, one launch of both.
pub fn backward(tape: &mut Tape, node: &Node, dout: &Buffer) -> Vec<Dispatch> {
    let Op::Matmul { layout } = node.op else { unreachable!("matmul::backward got {:?}", node.op) };
    let (a, b) = (node.inputs[0], node.inputs[1]);
    let (batch, _, _) = batched_matrix(tape.shape(a));
    let (_, m, n) = batched_matrix(tape.shape(node.output));
    let k = tape.shape(a).iter().product::<usize>() / (batch * m);
    let (abuf, bbuf) = (tape.buf(a).clone(), tape.buf(b).clone());
    let gpu = tape.gpu;
    let mut out = Vec::new();
    // Each gradient: (layout, [batch, rows, cols, depth], left operand, right operand).
    let da = match layout {
        Layout::AB => (Layout::ABt, [batch, m, k, n], dout, &bbuf),
        Layout::AtB => (Layout::ABt, [batch, k, m, n], &bbuf, dout),
        Layout::ABt => (Layout::AB, [batch, m, k, n], dout, &bbuf),
    };
    let db = match layout {
        Layout::AB => (Layout::AtB, [batch, k, n, m], &abuf, dout),
        Layout::AtB => (Layout::AB, [batch, k, n, m], &abuf, dout),
        Layout::ABt => (Layout::AtB, [batch, n, k, m], dout, &abuf),
    };
    // A·Bᵀ's two gradients both read dC as their A operand: one launch, unless they add
    // into one buffer (A·Aᵀ), since the products of one launch run concurrently.
    if layout == Layout::ABt && !tape.deferred_writes(a) && !tape.deferred_writes(b) {
        let (ga, gb) = (tape.grad_target(a), tape.grad_target(b));
        if let (Some((ga, acc_a)), Some((gb, acc_b))) = (&ga, &gb) {
            if !ga.overlaps(gb) {
                // dB = dCᵀ·A first (its k is the long batch of rows, so it may be split),
                // dA = dC·B beside it.
                let (layout, [_, m2, n2, k2], _, right) = da;
                let second = SecondProduct { accumulate: *acc_a, ..SecondProduct::new(layout, [m2, n2, k2], right, ga) };
                let (layout, dims, left, right) = db;
                let pending = tape.take_deferred::<SplitReduction>();
                let gemm = Gemm { accumulate: *acc_b, second: Some(second), split_k: split_k_pays(gpu), finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, gb) };
                let (d, reduction) = gemm.dispatch_split(gpu);
                out.push(d);
                if let Some(r) = reduction {
                    tape.defer(r, &[b]);
                }
                return out;
            }
        }
        // One of them needs no gradient, or both share a buffer: launch them one by one.
        // (grad_target was asked once already, so later contributions accumulate.)
        for (grad, (layout, dims, left, right)) in [(ga, da), (gb, db)] {
            if let Some((grad, accumulate)) = grad {
                let pending = tape.take_deferred::<SplitReduction>();
                out.push(Gemm { accumulate, finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, &grad) }.dispatch(gpu));
            }
        }
        return out;
    }
    // A product with few tiles and a long k is split; each launch finishes the split
    // left pending before it.
    for (input, (layout, dims, left, right)) in [(a, da), (b, db)] {
        // A·A: the first product's split writes the gradient the second adds to.
        out.extend(tape.deferred_writing(input));
        if let Some((grad, accumulate)) = tape.grad_target(input) {
            let pending = tape.take_deferred::<SplitReduction>();
            let gemm = Gemm { accumulate, split_k: split_k_pays(gpu), finish: pending.as_ref(), ..Gemm::new(layout, dims, left, right, &grad) };
            let (d, reduction) = gemm.dispatch_split(gpu);
            out.push(d);
            if let Some(r) = reduction {
                tape.defer(r, &[input]);
            }
        }
    }
    out
}
