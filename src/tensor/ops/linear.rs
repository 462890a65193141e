//! The PyTorch `Linear` every model uses, fused with what follows it:
//! y = act(x·Wᵀ + b) + residual, per run, with x [R, .., in], W [R, out, in], b [R, out],
//! residual and y [R, .., out].
//!
//! Dispatches:
//! - forward: 1. One A·Bᵀ product whose epilogue adds the bias, applies the activation
//!   and adds the residual. Gelu (and relu under a residual, where y's sign no longer
//!   tells) also writes the pre-activation, saved for backward.
//! - backward: 1. dW = dPreᵀ·x (Aᵀ·B) and dx = dPre·W (A·B) are the two products of one
//!   launch (both read dPre as their A operand), where dPre = dy ⊙ act'(pre) is formed as
//!   the kernel loads its dy tiles, so dPre never exists in memory; db = Σ_rows dPre comes
//!   out of the dW product (its row sums). d(residual) = dy needs no dispatch: the
//!   residual takes dy's buffer as its gradient (`Tape::pass_grad_through`). Only when it
//!   cannot (the residual is a parameter with its own gradient slice, is also x, or is used
//!   again after this layer) is d(residual) += dy one elementwise copy.

use super::elementwise::accumulate_scaled;
use crate::tensor::gemm::{split_k_pays, SplitReduction, Activation, Gemm, Layout, SecondProduct};
use crate::gpu::{Buffer, Dispatch};
use crate::tensor::{Node, Op, Tape, Tensor};

/// (runs, rows, in, out) of a linear with input `x` and weight `w`.
fn dims(tape: &Tape, x: Tensor, w: Tensor) -> (usize, usize, usize, usize) {
    let (xs, ws) = (tape.shape(x), tape.shape(w));
    assert!(xs.len() >= 2, "linear: x must be [R, .., in], got {xs:?}");
    assert!(ws.len() == 3 && ws[0] == xs[0], "linear: W must be [R, out, in] with x's R, got {ws:?} for x {xs:?}");
    let (runs, in_dim, out_dim) = (ws[0], ws[2], ws[1]);
    assert_eq!(*xs.last().unwrap(), in_dim, "linear: x {xs:?} does not match W {ws:?}");
    let rows = xs[1..xs.len() - 1].iter().product();
    (runs, rows, in_dim, out_dim)
}

/// act(x·Wᵀ + bias) + residual in one dispatch (see the module docs for shapes).
pub fn linear(
    tape: &mut Tape,
    x: Tensor,
    w: Tensor,
    bias: Option<Tensor>,
    act: Activation,
    residual: Option<Tensor>,
) -> Tensor {
    let (runs, rows, in_dim, out_dim) = dims(tape, x, w);
    let mut shape = tape.shape(x).to_vec();
    *shape.last_mut().unwrap() = out_dim;
    if let Some(b) = bias {
        assert_eq!(tape.shape(b), [runs, out_dim], "linear: bias must be [R, out]");
    }
    if let Some(r) = residual {
        assert_eq!(tape.shape(r), shape, "linear: residual must have the output's shape");
    }
    let inputs: Vec<Tensor> = [Some(x), Some(w), bias, residual].into_iter().flatten().collect();
    let y = tape.output("linear", &shape, &inputs);
    let saves_pre = act == Activation::Gelu || (act == Activation::Relu && residual.is_some());
    let pre = saves_pre.then(|| tape.gpu.buffer("linear pre-activation", runs * rows * out_dim));
    let d = Gemm {
        bias: bias.map(|b| tape.buf(b)),
        bias_batch_stride: out_dim,
        save_pre: pre.as_ref(),
        act,
        residual: residual.map(|r| tape.buf(r)),
        ..Gemm::new(Layout::ABt, [runs, rows, out_dim, in_dim], tape.buf(x), tape.buf(w), tape.buf(y))
    }
    .dispatch(tape.gpu);
    let op = Op::Linear { act, has_bias: bias.is_some(), has_residual: residual.is_some() };
    tape.record(op, &inputs, y, pre.into_iter().collect(), vec![d]);
    y
}

/// dx, dW, db and d(residual) of a recorded `linear`, in that order.
pub fn backward(tape: &mut Tape, node: &Node, dy: &Buffer) -> Vec<Dispatch> {
    let Op::Linear { act, has_bias, has_residual } = node.op else { unreachable!("linear::backward got {:?}", node.op) };
    let (x, w) = (node.inputs[0], node.inputs[1]);
    let bias = has_bias.then(|| node.inputs[2]);
    let residual = has_residual.then(|| node.inputs[node.inputs.len() - 1]);
    let (runs, rows, in_dim, out_dim) = dims(tape, x, w);
    let (xbuf, wbuf) = (tape.buf(x).clone(), tape.buf(w).clone());
    // act' is evaluated at the saved pre-activation, or for relu at y (same sign).
    let gate = match (act, node.saved.first()) {
        (Activation::None, _) => None,
        (_, Some(pre)) => Some((act, pre.clone())),
        (_, None) => Some((act, tape.buf(node.output).clone())),
    };
    let gate = gate.as_ref().map(|(act, g)| (*act, g));
    let gpu = tape.gpu;
    let dx = tape.grad_target(x);
    let dw = tape.grad_target(w);
    let db = bias.and_then(|b| tape.grad_target(b));
    let mut out = Vec::new();
    // dx = dPre·W as a launch of its own, or as the second product of the dW launch.
    let dx_product = dx.as_ref().map(|(dx, accumulate)| SecondProduct {
        accumulate: *accumulate,
        ..SecondProduct::new(Layout::AB, [rows, in_dim, out_dim], &wbuf, dx)
    });
    let alone = |p: SecondProduct| Gemm { gate, accumulate: p.accumulate, ..Gemm::new(p.layout, [runs, p.m, p.n, p.k], dy, p.b, p.c) }.dispatch(gpu);
    if dw.is_some() || db.is_some() {
        // A trainable bias on a frozen weight still needs the launch; its dW goes to scratch.
        let (dw, accumulate) = dw.unwrap_or_else(|| (gpu.buffer("unused dW", runs * out_dim * in_dim), false));
        let product = Gemm::new(Layout::AtB, [runs, out_dim, in_dim, rows], dy, &xbuf, &dw);
        let row_sums = db.as_ref().map(|(db, acc)| (db, *acc));
        // The two products of one launch run concurrently, so dx joins it only when it
        // writes a buffer of its own (not so for an x that views W or b).
        let own = |p: &SecondProduct| !p.c.overlaps(&dw) && row_sums.is_none_or(|(db, _)| !p.c.overlaps(db));
        let second = dx_product.filter(own);
        if second.is_none() {
            out.extend(dx_product.map(alone));
        }
        // dW has few tiles and a long k: split it, and finish the previous split here.
        let pending = tape.take_deferred::<SplitReduction>();
        let gemm = Gemm { gate, accumulate, row_sums, second, split_k: split_k_pays(gpu), finish: pending.as_ref(), ..product };
        let (d, reduction) = gemm.dispatch_split(gpu);
        out.push(d);
        if let Some(r) = reduction {
            tape.defer(r, &[Some(w), bias].into_iter().flatten().collect::<Vec<_>>());
        }
    } else if let Some(p) = dx_product {
        out.push(alone(p));
    }
    if let Some(r) = residual {
        if !tape.pass_grad_through(r, node.output) {
            out.extend(accumulate_scaled(tape, r, dy, 1.0));
        }
    }
    out
}
