//! Matmul throughput: GFLOP/s of the three layouts (A·B, Aᵀ·B, A·Bᵀ) at the models' real
//! shapes — power2022 at batch 512 (2048 rows of d 128) through its four linears, their
//! two backward products and the fused linear backward (dW and dx in one launch), for
//! R = 1 and R = 64 runs — and at 1024² and 4096² squares. Each figure is the median of
//! several timed rounds of back-to-back replays, after a warm-up (GPU timestamps where the
//! adapter has them, else the wall clock).

use crate::gpu::{Buffer, Gpu, Program};
use crate::tensor::ops::matmul::{Gemm, SecondProduct, Variant};

/// power2022's linears as (name, in, out): d 128, d_mlp 512.
const LAYERS: &[(&str, usize, usize)] = &[("qkv", 128, 384), ("attn.out", 128, 128), ("fc1", 128, 512), ("fc2", 512, 128)];

/// Rows of a power2022 step: 512 sequences of 4 tokens.
const ROWS: usize = 2048;
const RUNS: &[usize] = &[1, 64];
const SQUARES: &[usize] = &[1024, 4096];

/// `--quick`: the same layers on 512 rows, R = 1 and 2, one 256² square.
const QUICK_ROWS: usize = 512;
const QUICK_RUNS: &[usize] = &[1, 2];
const QUICK_SQUARES: &[usize] = &[256];

/// One product of a case: layout and [m, n, k].
#[derive(Clone, Copy, Debug)]
pub struct Product {
    pub variant: Variant,
    pub mnk: [usize; 3],
}

impl Product {
    fn flops(self, runs: usize) -> f64 {
        let [m, n, k] = self.mnk;
        2.0 * (runs * m * n * k) as f64
    }
}

/// A timed launch: one product, or two sharing A (the fused linear backward).
#[derive(Clone, Debug)]
pub struct MatmulCase {
    /// What the product is, e.g. "fc1 dx = dy·W" or "square 1024".
    pub label: String,
    pub runs: usize,
    pub products: Vec<Product>,
}

impl MatmulCase {
    fn single(label: String, runs: usize, variant: Variant, mnk: [usize; 3]) -> MatmulCase {
        MatmulCase { label, runs, products: vec![Product { variant, mnk }] }
    }

    pub fn flops(&self) -> f64 {
        self.products.iter().map(|p| p.flops(self.runs)).sum()
    }

    /// "A·B", "Aᵀ·B", "A·Bᵀ", or "Aᵀ·B + A·B" for a fused pair.
    pub fn layout(&self) -> String {
        let name = |v: Variant| match v {
            Variant::AB => "A·B",
            Variant::AtB => "Aᵀ·B",
            Variant::ABt => "A·Bᵀ",
        };
        self.products.iter().map(|p| name(p.variant)).collect::<Vec<_>>().join(" + ")
    }

    /// Elements of (A, each B, each C): A is shared by the products.
    fn operand_lens(&self) -> (usize, Vec<(usize, usize)>) {
        let r = self.runs;
        let a_len = |p: &Product| {
            let [m, _, k] = p.mnk;
            r * m * k
        };
        let a = self.products.iter().map(a_len).max().unwrap_or(0);
        let bc = self.products.iter().map(|p| {
            let [m, n, k] = p.mnk;
            (r * k * n, r * m * n)
        });
        (a, bc.collect())
    }

    /// The largest buffer the case binds, in bytes.
    pub fn largest_binding(&self) -> u64 {
        let (a, bc) = self.operand_lens();
        bc.iter().fold(a, |most, &(b, c)| most.max(b).max(c)) as u64 * 4
    }
}

/// Every case, in print order.
pub fn cases(quick: bool) -> Vec<MatmulCase> {
    let (rows, runs, squares) = if quick { (QUICK_ROWS, QUICK_RUNS, QUICK_SQUARES) } else { (ROWS, RUNS, SQUARES) };
    let mut out = Vec::new();
    for &r in runs {
        for &(name, i, o) in LAYERS {
            let forward = Product { variant: Variant::ABt, mnk: [rows, o, i] };
            let dx = Product { variant: Variant::AB, mnk: [rows, i, o] };
            let dw = Product { variant: Variant::AtB, mnk: [o, i, rows] };
            out.push(MatmulCase { label: format!("{name} y = x·Wᵀ"), runs: r, products: vec![forward] });
            out.push(MatmulCase { label: format!("{name} dx = dy·W"), runs: r, products: vec![dx] });
            out.push(MatmulCase { label: format!("{name} dW = dyᵀ·x"), runs: r, products: vec![dw] });
            out.push(MatmulCase { label: format!("{name} dW + dx, one launch"), runs: r, products: vec![dw, dx] });
        }
    }
    for &n in squares {
        for v in [Variant::AB, Variant::AtB, Variant::ABt] {
            out.push(MatmulCase::single(format!("square {n}"), 1, v, [n, n, n]));
        }
    }
    out
}

/// One measured case.
#[derive(Clone, Debug)]
pub struct MatmulResult {
    pub case: MatmulCase,
    /// The kernel entry point and tile (BM×BN×BK) the launch used.
    pub entry: &'static str,
    pub tile: [u32; 3],
    /// Median seconds per launch.
    pub seconds: f64,
    pub gpu_timer: bool,
}

impl MatmulResult {
    pub fn gflops(&self) -> f64 {
        self.case.flops() / self.seconds / 1e9
    }
}

/// Deterministic values in [-1, 1): the figures do not depend on them, but NaN-free and
/// denormal-free inputs keep every adapter on its fast path.
fn filled(gpu: &Gpu, label: &str, len: usize) -> Buffer {
    let data: Vec<f32> = (0..len).map(|i| ((i * 2_654_435_761) % 2001) as f32 / 1000.0 - 1.0).collect();
    gpu.buffer_from(label, &data)
}

/// Times one case: a warm-up launch, a probe that sizes the rounds to about `budget`
/// seconds each, then the median of `rounds` rounds.
pub fn measure(gpu: &Gpu, case: &MatmulCase, budget: f64, rounds: usize) -> MatmulResult {
    let (a_len, bc) = case.operand_lens();
    let a = filled(gpu, "bench matmul A", a_len);
    let bs: Vec<Buffer> = bc.iter().map(|&(b, _)| filled(gpu, "bench matmul B", b)).collect();
    let cs: Vec<Buffer> = bc.iter().map(|&(_, c)| gpu.buffer("bench matmul C", c)).collect();
    let first = case.products[0];
    let [m, n, k] = first.mnk;
    let second = case.products.get(1).map(|p| SecondProduct::new(p.variant, p.mnk, &bs[1], &cs[1]));
    let gemm = Gemm { second, ..Gemm::new(first.variant, [case.runs, m, n, k], &a, &bs[0], &cs[0]) };
    let tile = gemm.tile();
    let mut program = Program::new();
    program.push(gemm.dispatch(gpu));
    gpu.time_replay(&program, 1);
    let probe = gpu.time_replay(&program, 1).seconds().max(1e-7);
    let replays = ((budget / probe) as usize).clamp(1, 1000);
    let mut times: Vec<(f64, bool)> = (0..rounds.max(1))
        .map(|_| {
            let t = gpu.time_replay(&program, replays);
            (t.seconds() / replays as f64, t.gpu_seconds.is_some())
        })
        .collect();
    times.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (seconds, gpu_timer) = times[times.len() / 2];
    MatmulResult { case: case.clone(), entry: gemm.entry(), tile: [tile.bm, tile.bn, tile.bk], seconds, gpu_timer }
}

/// Every case of [`cases`] that the adapter can bind (the rest are returned by name);
/// a tenth of a second per round over five rounds (a fiftieth over three when `quick`).
pub fn run(gpu: &Gpu, quick: bool) -> (Vec<MatmulResult>, Vec<MatmulCase>) {
    let (budget, rounds) = if quick { (0.02, 3) } else { (0.1, 5) };
    let limit = gpu.limits.max_storage_buffer_binding_size;
    let (fits, too_big): (Vec<MatmulCase>, Vec<MatmulCase>) = cases(quick).into_iter().partition(|c| c.largest_binding() <= limit);
    (fits.iter().map(|c| measure(gpu, c, budget, rounds)).collect(), too_big)
}
