//! Which kernel variant a launch runs. A launch is keyed by its [`ProductShape`]; the
//! device keeps one variant per key ([`Gpu::choice`]): the one a run recorded (pinned
//! before tracing), else the tuner's winner when tuning is on ([`tune::enable`]), else the
//! adapter's default ([`GemmKernel::default_for`]). Every variant gives bit-identical
//! results, so the choice changes speed only.

use std::fmt;
use std::str::FromStr;

use super::kernel::{shared_runs_on, GemmKernel};
use super::launch::Gemm;
use super::{tune, Layout};
use crate::gpu::Gpu;

/// What the choice of variant depends on: the run axis and each product's layout and
/// m×n×k (a launch may hold two products sharing A). Written `R1 A·Bᵀ 2048x512x128`, or
/// `R1 Aᵀ·B 512x128x2048 + A·B 2048x128x512` for a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductShape {
    pub batch: usize,
    pub products: Vec<(Layout, [usize; 3])>,
}

impl ProductShape {
    pub fn of(gemm: &Gemm) -> ProductShape {
        let mut products = vec![(gemm.layout, [gemm.m, gemm.n, gemm.k])];
        products.extend(gemm.second.map(|s| (s.layout, [s.m, s.n, s.k])));
        ProductShape { batch: gemm.batch, products }
    }

    /// Multiply-adds ×2 of the whole launch.
    pub fn flops(&self) -> f64 {
        self.products.iter().map(|&(_, [m, n, k])| 2.0 * (self.batch * m * n * k) as f64).sum()
    }

    /// [m, n, k] of each product.
    pub fn dims(&self) -> Vec<[usize; 3]> {
        self.products.iter().map(|p| p.1).collect()
    }
}

impl fmt::Display for ProductShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let products: Vec<String> = self.products.iter().map(|(l, [m, n, k])| format!("{} {m}x{n}x{k}", l.name())).collect();
        write!(f, "R{} {}", self.batch, products.join(" + "))
    }
}

impl FromStr for ProductShape {
    type Err = String;

    fn from_str(s: &str) -> Result<ProductShape, String> {
        let bad = || format!("not a matmul shape: {s:?}");
        let (batch, rest) = s.strip_prefix('R').and_then(|r| r.split_once(' ')).ok_or_else(bad)?;
        let batch = batch.parse().map_err(|_| bad())?;
        let product = |p: &str| -> Option<(Layout, [usize; 3])> {
            let (layout, dims) = p.trim().split_once(' ')?;
            let dims: Vec<usize> = dims.split('x').map(str::parse).collect::<Result<_, _>>().ok()?;
            Some((Layout::parse(layout)?, dims.try_into().ok()?))
        };
        let products = rest.split(" + ").map(product).collect::<Option<Vec<_>>>().ok_or_else(bad)?;
        let sizes_ok = products.iter().all(|(_, d)| d.iter().all(|&x| x >= 1));
        if batch == 0 || products.is_empty() || products.len() > 2 || !sizes_ok {
            return Err(bad());
        }
        Ok(ProductShape { batch, products })
    }
}

/// The variant `gemm` runs on `gpu` when it names none itself.
pub fn kernel_for(gpu: &Gpu, gemm: &Gemm) -> GemmKernel {
    let shape = ProductShape::of(gemm);
    let default = || GemmKernel::default_for(gpu.is_software(), shared_runs_on(gpu), gemm.batch, &gemm.products());
    let name = gpu.choice(&shape.to_string(), || tune::tuned(gpu, &shape).unwrap_or_else(default).name());
    // Pinned names were checked when they were read (see `check_names`). A variant this
    // device cannot build (recorded on another machine) is replaced by its default, which
    // gives the same bits.
    GemmKernel::parse(&name).filter(|k| k.runs_on(gpu)).unwrap_or_else(default)
}

/// An error naming the first entry of recorded choices that is no shape or no variant.
pub fn check_names<'a>(choices: impl IntoIterator<Item = (&'a String, &'a String)>) -> Result<(), String> {
    for (shape, variant) in choices {
        shape.parse::<ProductShape>()?;
        if GemmKernel::parse(variant).is_none() {
            return Err(format!("unknown matmul variant {variant:?} for {shape}"));
        }
    }
    Ok(())
}
