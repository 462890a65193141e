//! The tape: values (GPU buffers with shapes), the nodes that produced them, and the
//! forward program recorded so far.

use std::any::Any;

use super::ops::Op;
use crate::gpu::{Buffer, Dispatch, Gpu, Program};

/// A handle to a value on the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tensor(pub(crate) usize);

struct Value {
    buf: Buffer,
    shape: Vec<usize>,
    requires_grad: bool,
    grad: Option<Buffer>,
    /// Set once the first gradient contribution has been emitted; later ones accumulate.
    grad_started: bool,
    /// A reshaped view shares its base's buffer and gradient.
    view_of: Option<usize>,
}

/// Work an op leaves for later in the backward pass (e.g. a split-K product's reduction):
/// a later launch of a kernel that can absorb it finishes it ([`Tape::take_deferred`]),
/// else it runs as a dispatch of its own before anything touches what it writes.
pub trait Deferred: Any + std::fmt::Debug {
    /// The work as a launch of its own.
    fn dispatch(&self, gpu: &Gpu) -> Dispatch;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// One recorded op: what it was, what it read, what it wrote and what it saved for backward.
#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<Tensor>,
    pub output: Tensor,
    /// Extra buffers the forward kept for backward (e.g. layernorm's mean and rstd).
    pub saved: Vec<Buffer>,
}

pub struct Tape<'g> {
    pub gpu: &'g Gpu,
    values: Vec<Value>,
    nodes: Vec<Node>,
    forward: Program,
    /// Deferred work (while tracing backward) and the values whose gradients it writes.
    deferred: Option<(Box<dyn Deferred>, Vec<usize>)>,
}

impl<'g> Tape<'g> {
    pub fn new(gpu: &'g Gpu) -> Tape<'g> {
        Tape { gpu, values: Vec::new(), nodes: Vec::new(), forward: Program::new(), deferred: None }
    }

    fn push_value(&mut self, buf: Buffer, shape: &[usize], requires_grad: bool) -> Tensor {
        assert!(buf.len >= shape.iter().product::<usize>(), "buffer smaller than shape {shape:?}");
        self.values.push(Value { buf, shape: shape.to_vec(), requires_grad, grad: None, grad_started: false, view_of: None });
        Tensor(self.values.len() - 1)
    }

    /// A value fed from outside that needs no gradient (tokens, targets, constants).
    pub fn input(&mut self, buf: Buffer, shape: &[usize]) -> Tensor {
        self.push_value(buf, shape, false)
    }

    /// A trainable value: backward will produce its gradient.
    pub fn param(&mut self, buf: Buffer, shape: &[usize]) -> Tensor {
        self.push_value(buf, shape, true)
    }

    /// A trainable value whose gradient goes to `grad` (a slice of the flat gradient
    /// buffer, so one optimizer dispatch sees every gradient).
    pub fn param_with_grad(&mut self, buf: Buffer, grad: Buffer, shape: &[usize]) -> Tensor {
        assert_eq!(grad.len, shape.iter().product::<usize>(), "gradient slice does not match shape");
        let t = self.push_value(buf, shape, true);
        self.values[t.0].grad = Some(grad);
        t
    }

    /// Allocates an op's output. It needs a gradient when any input does.
    pub fn output(&mut self, label: &str, shape: &[usize], inputs: &[Tensor]) -> Tensor {
        let requires_grad = inputs.iter().any(|t| self.values[t.0].requires_grad);
        let buf = self.gpu.buffer(label, shape.iter().product());
        self.push_value(buf, shape, requires_grad)
    }

    /// The same buffer seen with another shape of equal size; costs no dispatch, and
    /// gradients written to the view land in the base's gradient.
    pub fn reshape(&mut self, t: Tensor, shape: &[usize]) -> Tensor {
        assert_eq!(shape.iter().product::<usize>(), self.shape(t).iter().product::<usize>(), "reshape changes the size");
        let base = self.root(t);
        let buf = self.values[base].buf.clone();
        let requires_grad = self.values[base].requires_grad;
        let view = self.push_value(buf, shape, requires_grad);
        self.values[view.0].view_of = Some(base);
        view
    }

    fn root(&self, t: Tensor) -> usize {
        self.values[t.0].view_of.unwrap_or(t.0)
    }

    pub fn shape(&self, t: Tensor) -> &[usize] {
        &self.values[t.0].shape
    }

    pub fn buf(&self, t: Tensor) -> &Buffer {
        &self.values[t.0].buf
    }

    pub fn requires_grad(&self, t: Tensor) -> bool {
        self.values[t.0].requires_grad
    }

    /// Records an op and appends its forward dispatches to the forward program.
    pub fn record(&mut self, op: Op, inputs: &[Tensor], output: Tensor, saved: Vec<Buffer>, dispatches: Vec<Dispatch>) {
        for d in dispatches {
            self.forward.push(d);
        }
        self.nodes.push(Node { op, inputs: inputs.to_vec(), output, saved });
    }

    /// Where the next gradient contribution to `t` goes, and whether it must be added
    /// to what is already there (`true`) or overwrite it (`false`, the first one).
    /// `None` when `t` needs no gradient. Grad buffers are allocated on first use,
    /// while tracing, never during replay.
    pub fn grad_target(&mut self, t: Tensor) -> Option<(Buffer, bool)> {
        let gpu = self.gpu;
        let root = self.root(t);
        let v = &mut self.values[root];
        if !v.requires_grad {
            return None;
        }
        let grad = v.grad.get_or_insert_with(|| gpu.buffer("grad", v.shape.iter().product())).clone();
        let accumulate = v.grad_started;
        v.grad_started = true;
        Some((grad, accumulate))
    }

    /// Lets `input` take `output`'s gradient buffer as its own, for an op whose gradient
    /// to `input` is exactly d(output) (a residual connection): the copy becomes free, and
    /// the contributions of `input`'s earlier consumers are then added onto that buffer,
    /// after the op's own backward has read it. Returns false, changing nothing, when
    /// `input` already has a gradient buffer (a parameter's slice, or a contribution from a
    /// consumer recorded after the op), needs none, or shares its base with `output`; the
    /// caller then copies. Afterwards `grad(output)` no longer holds d(output).
    pub fn pass_grad_through(&mut self, input: Tensor, output: Tensor) -> bool {
        let (to, from) = (self.root(input), self.root(output));
        let source = &self.values[from];
        let Some(grad) = source.grad.clone().filter(|_| source.grad_started) else { return false };
        let v = &mut self.values[to];
        if to == from || !v.requires_grad || v.grad.is_some() || v.grad_started {
            return false;
        }
        assert_eq!(grad.len, v.shape.iter().product::<usize>(), "pass_grad_through: sizes differ");
        v.grad = Some(grad);
        v.grad_started = true;
        true
    }

    /// The gradient of `t` once backward has run, if any contribution reached it.
    pub fn grad(&self, t: Tensor) -> Option<&Buffer> {
        let v = &self.values[self.root(t)];
        if v.grad_started {
            v.grad.as_ref()
        } else {
            None
        }
    }

    pub fn forward_program(&self) -> &Program {
        &self.forward
    }

    /// Emits the backward program: every node in reverse order whose output received
    /// a gradient. The loss op seeds the chain itself (its forward kernel writes the
    /// gradient of its logits), so no seed dispatch is needed.
    pub fn backward(&mut self) -> Program {
        let mut program = Program::new();
        let nodes = std::mem::take(&mut self.nodes);
        for node in nodes.iter().rev() {
            let Some(dout) = self.grad(node.output).cloned() else { continue };
            // A node that contributes to a gradient the deferred work writes must come after it.
            let touches = |writes: &Vec<usize>| node.inputs.iter().any(|&t| writes.contains(&self.root(t)));
            if self.deferred.as_ref().is_some_and(|(_, writes)| touches(writes)) {
                program.push(self.deferred.take().unwrap().0.dispatch(self.gpu));
            }
            for d in super::backward::backward(self, node, &dout) {
                program.push(d);
            }
        }
        if let Some((work, _)) = self.deferred.take() {
            program.push(work.dispatch(self.gpu));
        }
        self.nodes = nodes;
        program
    }

    /// Leaves `work`, which writes the gradients of `writes`, for a later backward launch
    /// to finish ([`Tape::take_deferred`]); the backward pass runs it on its own before any
    /// node that touches those gradients, or at its end.
    pub fn defer(&mut self, work: impl Deferred, writes: &[Tensor]) {
        assert!(self.deferred.is_none(), "defer: work is already deferred");
        let writes = writes.iter().map(|&t| self.root(t)).collect();
        self.deferred = Some((Box::new(work), writes));
    }

    /// Whether the deferred work writes `t`'s gradient.
    pub fn deferred_writes(&self, t: Tensor) -> bool {
        let root = self.root(t);
        self.deferred.as_ref().is_some_and(|(_, writes)| writes.contains(&root))
    }

    /// The deferred work as a dispatch of its own if it writes `t`'s gradient: the caller
    /// must run it before contributing to that gradient.
    pub fn deferred_writing(&mut self, t: Tensor) -> Option<Dispatch> {
        self.deferred_writes(t).then(|| self.deferred.take().map(|(work, _)| work.dispatch(self.gpu))).flatten()
    }

    /// The deferred work if it is a `T`, which the caller's next launch must then finish;
    /// other work stays deferred.
    pub fn take_deferred<T: Deferred>(&mut self) -> Option<T> {
        if !self.deferred.as_ref().is_some_and(|(work, _)| (work.as_ref() as &dyn Any).is::<T>()) {
            return None;
        }
        let (work, _) = self.deferred.take()?;
        work.into_any().downcast::<T>().ok().map(|w| *w)
    }
}
