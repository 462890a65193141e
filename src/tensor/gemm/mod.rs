//! GEMM: batched matrix products C = op(A)·op(B) on the GPU. This layer owns the kernel
//! variants ([`GemmKernel`]: a tiled family for GPUs, a SIMD family for the CPU device),
//! their launch geometry ([`Gemm`]), split-K ([`SplitReduction`]) and the choice between
//! variants ([`choice`]: a default per adapter, or the winners of [`tune`], or the
//! variants a run recorded). The `matmul` and `linear` ops build on it.
//!
//! The kernel offers the three layouts A·B, Aᵀ·B and A·Bᵀ, so each gradient of a product
//! is another product in one of them and no transpose is ever materialized:
//!
//! | forward   | dA        | dB        |
//! |-----------|-----------|-----------|
//! | C = A·B   | dC·Bᵀ     | Aᵀ·dC     |
//! | C = Aᵀ·B  | B·dCᵀ     | A·dC      |
//! | C = A·Bᵀ  | dC·B      | dCᵀ·A     |
//!
//! A launch may also compute a second product that reads the same A ([`SecondProduct`]):
//! for C = A·Bᵀ (a linear layer's x·Wᵀ) both gradients read dC first, so they are one
//! dispatch.

pub mod choice;
mod kernel;
mod launch;
mod params;
mod split;
pub mod tune;

pub use kernel::{shared_runs_on, tile_for, GemmKernel, SimdBlock, StagedTile, Tile};
pub use launch::{Gemm, SecondProduct};
pub use split::{k_chunk_for, split_k_pays, SplitReduction};

/// Which operand is read transposed. Matrices are row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// C = A·B: A [m, k], B [k, n].
    AB,
    /// C = Aᵀ·B: A [k, m], B [k, n].
    AtB,
    /// C = A·Bᵀ: A [m, k], B [n, k].
    ABt,
}

impl Layout {
    /// "A·B", "Aᵀ·B" or "A·Bᵀ".
    pub fn name(self) -> &'static str {
        match self {
            Layout::AB => "A·B",
            Layout::AtB => "Aᵀ·B",
            Layout::ABt => "A·Bᵀ",
        }
    }

    /// The layout a [`Layout::name`] names.
    pub fn parse(name: &str) -> Option<Layout> {
        [Layout::AB, Layout::AtB, Layout::ABt].into_iter().find(|l| l.name() == name)
    }

    pub(crate) fn transposes(self) -> (bool, bool) {
        match self {
            Layout::AB => (false, false),
            Layout::AtB => (true, false),
            Layout::ABt => (false, true),
        }
    }

    /// (rows, cols) of A and of B as stored, for a product of shape m×k·k×n.
    pub fn operand_shapes(self, m: usize, k: usize, n: usize) -> ([usize; 2], [usize; 2]) {
        match self {
            Layout::AB => ([m, k], [k, n]),
            Layout::AtB => ([k, m], [k, n]),
            Layout::ABt => ([m, k], [n, k]),
        }
    }
}

/// An activation applied in a product's epilogue, or whose derivative gates its A operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    Gelu,
}

impl Activation {
    /// The shader's ACT_* code.
    pub(crate) fn code(self) -> u32 {
        match self {
            Activation::None => 0,
            Activation::Relu => 1,
            Activation::Gelu => 2,
        }
    }
}

