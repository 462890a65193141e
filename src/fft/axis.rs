//! What a plan transforms: which axis of a row-major tensor, and in which direction.

/// A row-major tensor seen as [outer, len, inner], transformed along the middle axis: one
/// transform per (outer, inner) pair. Rows of a p×d matrix are `Axis { outer: p, len: d,
/// inner: 1 }`, its columns `Axis { outer: 1, len: p, inner: d }`, the token axis of C
/// checkpoints' embeddings [C, p, d] is `Axis { outer: C, len: p, inner: d }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    pub outer: usize,
    pub len: usize,
    pub inner: usize,
}

impl Axis {
    /// `count` contiguous transforms of `len` points.
    pub fn rows(count: usize, len: usize) -> Axis {
        Axis { outer: count, len, inner: 1 }
    }

    /// Axis `axis` of a row-major tensor of shape `shape`.
    pub fn of(shape: &[usize], axis: usize) -> Axis {
        assert!(axis < shape.len(), "axis {axis} of a {}-d tensor", shape.len());
        Axis {
            outer: shape[..axis].iter().product(),
            len: shape[axis],
            inner: shape[axis + 1..].iter().product(),
        }
    }

    /// Number of transforms.
    pub fn batch(&self) -> usize {
        self.outer * self.inner
    }
}

/// Direction and input kind. Complex data is interleaved (re, im) f32 pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// X_k = Σ_t x_t·e^{−2πi·kt/n}, complex to complex.
    Forward,
    /// x_t = (1/n)·Σ_k X_k·e^{+2πi·kt/n}, complex to complex.
    Inverse,
    /// The forward transform of real input, keeping bins k = 0..=n/2 (n/2 + 1 of them, i.e.
    /// (n+1)/2 for odd n): the rest are their conjugates.
    RealForward,
}

impl Transform {
    /// Output points per transform for an n-point input.
    pub fn bins(self, n: usize) -> usize {
        match self {
            Transform::RealForward => n / 2 + 1,
            Transform::Forward | Transform::Inverse => n,
        }
    }

    /// f32 values per input point: 1 for real input, 2 for complex.
    pub fn input_width(self) -> usize {
        match self {
            Transform::RealForward => 1,
            Transform::Forward | Transform::Inverse => 2,
        }
    }
}
