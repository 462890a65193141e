//! The flat parameter layout: every named tensor of a model, for all R runs, in one buffer,
//! so the optimizer is one dispatch over one allocation (llm.c style).
//!
//! Each tensor occupies an [R, numel] block starting at a multiple of [`SLICE_ALIGN`]
//! elements; the gap to the next block is padding that no kernel reads as a parameter.
//! The same layout carves the gradient buffer and the optimizer's moment buffers.

use std::ops::Range;

use crate::gpu::{Buffer, SLICE_ALIGN};
use crate::tensor::{Tape, Tensor};

/// One tensor's place in the flat buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatTensor {
    pub name: String,
    /// Shape of one run's tensor (without the leading R).
    pub shape: Vec<usize>,
    /// First element of the [R, numel] block; a multiple of `SLICE_ALIGN`.
    pub offset: usize,
    /// Elements per run.
    pub numel: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatLayout {
    pub runs: usize,
    /// In the order given, at increasing offsets.
    pub tensors: Vec<FlatTensor>,
    /// Length of the flat buffer in elements; a multiple of `SLICE_ALIGN`.
    pub len: usize,
}

impl FlatLayout {
    /// Lays out `tensors` (name, shape without R) for `runs` runs, in the given order.
    pub fn new<S: Into<String>>(runs: usize, tensors: impl IntoIterator<Item = (S, Vec<usize>)>) -> FlatLayout {
        assert!(runs > 0, "FlatLayout: at least one run");
        let mut len = 0;
        let mut placed: Vec<FlatTensor> = Vec::new();
        for (name, shape) in tensors {
            let name = name.into();
            assert!(placed.iter().all(|t| t.name != name), "FlatLayout: tensor {name} appears twice");
            let numel = shape.iter().product::<usize>();
            placed.push(FlatTensor { name, shape, offset: len, numel });
            len += (runs * numel).div_ceil(SLICE_ALIGN) * SLICE_ALIGN;
        }
        FlatLayout { runs, tensors: placed, len }
    }

    pub fn tensor(&self, name: &str) -> &FlatTensor {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("FlatLayout: no tensor named {name}"))
    }

    /// Elements of `name`'s [R, numel] block in the flat buffer (padding excluded).
    pub fn range(&self, name: &str) -> Range<usize> {
        let t = self.tensor(name);
        t.offset..t.offset + self.runs * t.numel
    }

    /// [R, shape…] of `name`, the shape its tape tensor has.
    pub fn shape_with_runs(&self, name: &str) -> Vec<usize> {
        [&[self.runs][..], &self.tensor(name).shape].concat()
    }

    /// `name`'s block of a flat buffer laid out by `self` (parameters, gradients, moments).
    pub fn slice(&self, flat: &Buffer, name: &str) -> Buffer {
        assert_eq!(flat.len, self.len, "FlatLayout: buffer is not laid out by this layout");
        let r = self.range(name);
        flat.slice(r.start, r.len())
    }

    /// Puts `name` on the tape as a trainable tensor whose gradient lands in its block of
    /// the flat gradient buffer.
    pub fn param(&self, tape: &mut Tape, params: &Buffer, grads: &Buffer, name: &str) -> Tensor {
        let shape = self.shape_with_runs(name);
        tape.param_with_grad(self.slice(params, name), self.slice(grads, name), &shape)
    }

    /// The table the optimizer kernels read: (offset, numel) per tensor, then the tensor
    /// index of every 256-element workgroup (padding belongs to the tensor before it).
    pub(crate) fn kernel_table(&self) -> Vec<u32> {
        let mut table: Vec<u32> = self.tensors.iter().flat_map(|t| [t.offset as u32, t.numel.max(1) as u32]).collect();
        for (k, t) in self.tensors.iter().enumerate() {
            let groups = (self.runs * t.numel).div_ceil(SLICE_ALIGN);
            table.extend(std::iter::repeat_n(k as u32, groups));
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_and_cover_every_run() {
        let layout = FlatLayout::new(3, [("a", vec![1]), ("b", vec![10, 9]), ("c", vec![])]);
        assert_eq!(layout.range("a"), 0..3);
        assert_eq!(layout.range("b"), 256..256 + 270);
        assert_eq!(layout.tensor("c").offset, 768);
        assert_eq!(layout.len, 1024);
        assert_eq!(layout.shape_with_runs("b"), vec![3, 10, 9]);
        let table = layout.kernel_table();
        assert_eq!(&table[..6], &[0, 1, 256, 90, 768, 1]);
        assert_eq!(&table[6..], &[0, 1, 1, 2]);
    }
}
