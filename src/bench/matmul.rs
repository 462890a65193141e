//! Matmul throughput: GFLOP/s of the three layouts (A·B, Aᵀ·B, A·Bᵀ) at the models' real
//! shapes — power2022 at batch 512 (2048 rows of d 128) through its four linears, their
//! two backward products and the fused linear backward (dW and dx in one launch), at each
//! run count R asked for — and at square sizes, for every candidate variant of the
//! adapter, the one the device chose marked. Each figure is the median of several timed
//! rounds of back-to-back replays, after a warm-up (GPU timestamps where the adapter has
//! them, else the wall clock).

use crate::gpu::Gpu;
use crate::tensor::gemm::choice::ProductShape;
use crate::tensor::gemm::tune::{time_launch, Operands};
use crate::tensor::gemm::{shared_runs_on, GemmKernel, Layout};

/// power2022's linears as (name, in, out): d 128, d_mlp 512.
const LAYERS: &[(&str, usize, usize)] = &[("qkv", 128, 384), ("attn.out", 128, 128), ("fc1", 128, 512), ("fc2", 512, 128)];

/// Rows of a power2022 step: 512 sequences of 4 tokens.
const ROWS: usize = 2048;
/// `--quick`: the same layers on 512 rows.
const QUICK_ROWS: usize = 512;

/// A timed launch: one product, or two sharing A (the fused linear backward).
#[derive(Clone, Debug)]
pub struct MatmulCase {
    /// What the product is, e.g. "fc1 dx = dy·W" or "square 1024".
    pub label: String,
    pub shape: ProductShape,
}

impl MatmulCase {
    /// "A·B", "Aᵀ·B", "A·Bᵀ", or "Aᵀ·B + A·B" for a fused pair.
    pub fn layout(&self) -> String {
        self.shape.products.iter().map(|p| p.0.name()).collect::<Vec<_>>().join(" + ")
    }

    /// The largest buffer the case binds, in bytes.
    pub fn largest_binding(&self) -> u64 {
        let r = self.shape.batch;
        let sizes = self.shape.products.iter().flat_map(|&(_, [m, n, k])| [r * m * k, r * k * n, r * m * n]);
        sizes.max().unwrap_or(0) as u64 * 4
    }
}

/// Every case, in print order: the layers' products at each R in `runs`, then the squares
/// (R = 1) in the three layouts.
pub fn cases(quick: bool, runs: &[usize], squares: &[usize]) -> Vec<MatmulCase> {
    let rows = if quick { QUICK_ROWS } else { ROWS };
    let case = |label: String, batch: usize, products: Vec<(Layout, [usize; 3])>| MatmulCase { label, shape: ProductShape { batch, products } };
    let mut out = Vec::new();
    for &r in runs {
        for &(name, i, o) in LAYERS {
            let forward = (Layout::ABt, [rows, o, i]);
            let dx = (Layout::AB, [rows, i, o]);
            let dw = (Layout::AtB, [o, i, rows]);
            out.push(case(format!("{name} y = x·Wᵀ"), r, vec![forward]));
            out.push(case(format!("{name} dx = dy·W"), r, vec![dx]));
            out.push(case(format!("{name} dW = dyᵀ·x"), r, vec![dw]));
            out.push(case(format!("{name} dW + dx, one launch"), r, vec![dw, dx]));
        }
    }
    for &n in squares {
        for layout in [Layout::AB, Layout::AtB, Layout::ABt] {
            out.push(case(format!("square {n}"), 1, vec![(layout, [n, n, n])]));
        }
    }
    out
}

/// One case timed with one variant.
#[derive(Clone, Debug)]
pub struct MatmulResult {
    pub case: MatmulCase,
    pub kernel: GemmKernel,
    /// The variant the device chose for this shape (tuned, or the adapter's default).
    pub chosen: bool,
    /// The kernel entry point the launch used.
    pub entry: &'static str,
    /// Median seconds per launch.
    pub seconds: f64,
    pub gpu_timer: bool,
}

impl MatmulResult {
    pub fn gflops(&self) -> f64 {
        self.case.shape.flops() / self.seconds / 1e9
    }
}

/// Times `case` with every candidate variant of the adapter (and the chosen one, should
/// it be none of them).
pub fn measure(gpu: &Gpu, case: &MatmulCase, budget: f64, rounds: usize) -> Vec<MatmulResult> {
    let operands = Operands::new(gpu, &case.shape);
    let chosen = operands.gemm(&case.shape, None).kernel(gpu);
    let mut kernels = GemmKernel::candidates(gpu.is_software(), shared_runs_on(gpu));
    if !kernels.contains(&chosen) {
        kernels.push(chosen);
    }
    kernels
        .into_iter()
        .map(|kernel| {
            let gemm = operands.gemm(&case.shape, Some(kernel));
            let (seconds, gpu_timer) = time_launch(gpu, &gemm, budget, rounds, true);
            MatmulResult { case: case.clone(), kernel, chosen: kernel == chosen, entry: gemm.entry(kernel), seconds, gpu_timer }
        })
        .collect()
}

/// Every case of [`cases`] that the adapter can bind (the rest are returned by name);
/// a tenth of a second per round over five rounds (a fiftieth over three when `quick`).
pub fn run(gpu: &Gpu, quick: bool, runs: &[usize], squares: &[usize]) -> (Vec<MatmulResult>, Vec<MatmulCase>) {
    let (budget, rounds) = if quick { (0.02, 3) } else { (0.1, 5) };
    let limit = gpu.limits.max_storage_buffer_binding_size;
    let (fits, too_big): (Vec<MatmulCase>, Vec<MatmulCase>) = cases(quick, runs, squares).into_iter().partition(|c| c.largest_binding() <= limit);
    (fits.iter().flat_map(|c| measure(gpu, c, budget, rounds)).collect(), too_big)
}
