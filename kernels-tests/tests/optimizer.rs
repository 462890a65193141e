//! AdamW, Adam (coupled L2) and SGD over the flat parameter buffer against the f64
//! reference optimizers: several steps, warmup, two runs with different hyperparameters,
//! tensors of odd sizes; the GPU-side step counter, replay and resume.

use grokgpu::gpu::Buffer;
use grokgpu::nn::optimizer::{Hyperparams, Optimizer, OptimizerKind};
use grokgpu::nn::FlatLayout;
use grokgpu_kernels_tests::{assert_close, gpu, rel_error, to_f32, Rng};
use grokgpu_reference::optim;
use std::sync::RwLock;

const STEPS: u32 = 5;

/// f32 against f64 over five updates of O(1) parameters: each update rounds a handful of
/// times (~6e-8 each): θ and the moments stay within ~2e-7 of their scale (measured 1.8e-7).
const TOL: f64 = 1e-6;
/// θ − θ0 is formed from f32 θ's of scale 1 (rounding 6e-8) and moves by ~0.05 per step
/// (measured 2.8e-6).
const TOL_MOVED: f64 = 1e-5;

fn layout() -> FlatLayout {
    FlatLayout::new(2, [("a", vec![1]), ("b", vec![3]), ("c", vec![97]), ("d", vec![10, 13])])
}

/// Two runs that differ in every hyperparameter; both warm up over the tested steps.
fn hyper() -> [Hyperparams; 2] {
    [
        Hyperparams { lr: 0.05, weight_decay: 0.5, beta1: 0.9, beta2: 0.98, eps: 1e-8, momentum: 0.9, warmup: 3 },
        Hyperparams { lr: 0.01, weight_decay: 0.1, beta1: 0.8, beta2: 0.999, eps: 1e-6, momentum: 0.0, warmup: 10 },
    ]
}

/// A host-side flat buffer: each tensor's [R, numel] block, zero padding.
fn flat(layout: &FlatLayout, rng: &mut Rng, scale: f64) -> Vec<f64> {
    let mut v = vec![0.0; layout.len];
    for t in &layout.tensors {
        let r = layout.range(&t.name);
        v[r.clone()].copy_from_slice(&rng.vec(r.len(), scale));
    }
    v
}

/// Indices of run `run`'s elements, tensor after tensor: the reference updates them as
/// one vector with that run's hyperparameters.
fn run_indices(layout: &FlatLayout, run: usize) -> Vec<usize> {
    layout.tensors.iter().flat_map(|t| t.offset + run * t.numel..t.offset + (run + 1) * t.numel).collect()
}

/// Reference state of every run: θ, m (or the momentum buffer), v, in flat layout.
struct State {
    theta: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
}

fn reference_step(kind: OptimizerKind, layout: &FlatLayout, hyper: &[Hyperparams], s: &mut State, grads: &[f64], t: u32) {
    for (run, h) in hyper.iter().enumerate() {
        let idx = run_indices(layout, run);
        let take = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let (mut theta, g, mut m, mut v) = (take(&s.theta), take(grads), take(&s.m), take(&s.v));
        let lr_t = optim::lr_at(t, h.lr, h.warmup);
        match kind {
            OptimizerKind::AdamW => optim::adamw_step(&mut theta, &g, &mut m, &mut v, t, lr_t, h.weight_decay, h.beta1, h.beta2, h.eps),
            OptimizerKind::Adam => optim::adam_l2_step(&mut theta, &g, &mut m, &mut v, t, lr_t, h.weight_decay, h.beta1, h.beta2, h.eps),
            OptimizerKind::Sgd => optim::sgd_step(&mut theta, &g, &mut m, t, lr_t, h.weight_decay, h.momentum),
        }
        for (k, &i) in idx.iter().enumerate() {
            (s.theta[i], s.m[i], s.v[i]) = (theta[k], m[k], v[k]);
        }
    }
}

/// The GPU side: flat parameter and gradient buffers with an optimizer over them.
struct GpuSide {
    params: Buffer,
    grads: Buffer,
    opt: Optimizer,
}

fn gpu_side(kind: OptimizerKind, layout: &FlatLayout, theta: &[f64]) -> GpuSide {
    let params = gpu().buffer_from("params", &to_f32(theta));
    let grads = gpu().buffer("grads", layout.len);
    let opt = Optimizer::new(gpu(), kind, layout, &params, &grads, &hyper());
    GpuSide { params, grads, opt }
}

fn read(b: &Buffer) -> Vec<f64> {
    gpu().read_f32(b).iter().map(|&x| x as f64).collect()
}

/// Checks θ and the optimizer state against the reference; returns the θ error.
fn compare(kind: OptimizerKind, g: &GpuSide, want: &State, what: &str) -> f64 {
    let theta = read(&g.params);
    assert_close(&format!("{kind:?} {what} θ"), &theta, &want.theta, TOL);
    let uses_m = kind != OptimizerKind::Sgd || hyper().iter().any(|h| h.momentum != 0.0);
    if uses_m {
        assert_close(&format!("{kind:?} {what} moment1"), &read(&g.opt.moment1), &want.m, TOL);
    }
    if kind != OptimizerKind::Sgd {
        assert_close(&format!("{kind:?} {what} moment2"), &read(&g.opt.moment2), &want.v, TOL);
    }
    rel_error(&theta, &want.theta)
}

const KINDS: [OptimizerKind; 3] = [OptimizerKind::AdamW, OptimizerKind::Adam, OptimizerKind::Sgd];

/// The device's counters are shared by the tests of this file, which run in parallel:
/// the test that reads them takes this lock exclusively, every other test shares it (a
/// failed test poisons it; the others still run).
static COUNTERS: RwLock<()> = RwLock::new(());

/// Fresh gradients every step, as training produces them.
#[test]
fn steps_match_reference_optimizers() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    for kind in KINDS {
        let mut rng = Rng::new(31);
        let theta = flat(&layout, &mut rng, 1.0);
        let g = gpu_side(kind, &layout, &theta);
        let mut want = State { theta: theta.clone(), m: vec![0.0; layout.len], v: vec![0.0; layout.len] };
        let (mut worst, mut worst_moved) = (0.0f64, 0.0f64);
        for t in 1..=STEPS {
            let grads = flat(&layout, &mut rng, 1.0);
            gpu().write(&g.grads, &to_f32(&grads));
            gpu().run(g.opt.program());
            reference_step(kind, &layout, &hyper(), &mut want, &grads, t);
            worst = worst.max(compare(kind, &g, &want, &format!("step {t}")));
            // The distance moved, θ_t − θ_0, is ~20× smaller than θ: checking it on its own
            // scale catches errors in lr_t and the bias corrections that θ's scale would hide.
            let moved = |now: &[f64]| now.iter().zip(&theta).map(|(a, b)| a - b).collect::<Vec<f64>>();
            let (got_moved, want_moved) = (moved(&read(&g.params)), moved(&want.theta));
            assert_close(&format!("{kind:?} step {t} θ − θ0"), &got_moved, &want_moved, TOL_MOVED);
            worst_moved = worst_moved.max(rel_error(&got_moved, &want_moved));
        }
        assert_eq!(g.opt.step_counts(gpu()), vec![STEPS; 2]);
        println!("{kind:?}: worst relative error over {STEPS} steps: θ {worst:.2e}, θ − θ0 {worst_moved:.2e}");
    }
}

/// k steps in one submit: the program carries its own step counter, so replaying it
/// needs no host work and creates nothing.
#[test]
fn replayed_steps_need_no_host_work() {
    let _counters = COUNTERS.write().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    for kind in KINDS {
        let mut rng = Rng::new(32);
        let theta = flat(&layout, &mut rng, 1.0);
        let grads = flat(&layout, &mut rng, 1.0);
        let g = gpu_side(kind, &layout, &theta);
        gpu().write(&g.grads, &to_f32(&grads));
        assert_eq!(g.opt.program().len(), 2, "one step is two dispatches");
        let before = gpu().counters();
        gpu().replay(g.opt.program(), STEPS as usize);
        let after = gpu().counters();
        assert_eq!((after.buffers_created, after.bind_groups_created, after.pipelines_created), (before.buffers_created, before.bind_groups_created, before.pipelines_created));
        assert_eq!(after.readbacks, before.readbacks);
        let mut want = State { theta, m: vec![0.0; layout.len], v: vec![0.0; layout.len] };
        for t in 1..=STEPS {
            reference_step(kind, &layout, &hyper(), &mut want, &grads, t);
        }
        compare(kind, &g, &want, "replayed");
        assert_eq!(g.opt.step_counts(gpu()), vec![STEPS; 2]);
    }
}

/// Padding between blocks is never written.
#[test]
fn padding_is_never_touched() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let theta = flat(&layout, &mut Rng::new(33), 1.0);
    let g = gpu_side(OptimizerKind::AdamW, &layout, &theta);
    // A nonzero gradient in the padding too: the update must still skip it.
    gpu().write(&g.grads, &vec![1.0f32; layout.len]);
    gpu().replay(g.opt.program(), 3);
    let after = gpu().read_f32(&g.params);
    let inside: Vec<bool> = (0..layout.len).map(|i| layout.tensors.iter().any(|t| layout.range(&t.name).contains(&i))).collect();
    assert!(after.iter().zip(&inside).all(|(&x, &used)| used || x == 0.0), "padding changed");
    assert!(after.iter().zip(&theta).zip(&inside).all(|((&x, &t0), &used)| !used || x as f64 != t0), "a parameter was not updated");
}

/// Stopping after 3 steps, restoring θ, moments and step counts into a fresh optimizer,
/// and running 2 more gives bit-for-bit the uninterrupted 5 steps.
#[test]
fn resumed_run_equals_uninterrupted_run() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    for kind in KINDS {
        let mut rng = Rng::new(34);
        let theta = flat(&layout, &mut rng, 1.0);
        let grads: Vec<Vec<f32>> = (0..STEPS).map(|_| to_f32(&flat(&layout, &mut rng, 1.0))).collect();
        let steps = |g: &GpuSide, range: std::ops::Range<usize>| {
            for grad in &grads[range] {
                gpu().write(&g.grads, grad);
                gpu().run(g.opt.program());
            }
        };
        let whole = gpu_side(kind, &layout, &theta);
        steps(&whole, 0..STEPS as usize);

        let first = gpu_side(kind, &layout, &theta);
        steps(&first, 0..3);
        let saved = (gpu().read_f32(&first.params), gpu().read_f32(&first.opt.moment1), gpu().read_f32(&first.opt.moment2), first.opt.step_counts(gpu()));
        let resumed = gpu_side(kind, &layout, &theta);
        gpu().write(&resumed.params, &saved.0);
        gpu().write(&resumed.opt.moment1, &saved.1);
        gpu().write(&resumed.opt.moment2, &saved.2);
        resumed.opt.set_step_counts(gpu(), &saved.3);
        steps(&resumed, 3..STEPS as usize);

        let bits = |b: &Buffer| gpu().read_f32(b).iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        assert_eq!(bits(&resumed.params), bits(&whole.params), "{kind:?}: resumed θ differs");
        assert_eq!(bits(&resumed.opt.moment1), bits(&whole.opt.moment1), "{kind:?}: resumed moment1 differs");
        assert_eq!(resumed.opt.step_counts(gpu()), vec![STEPS; 2]);
    }
}

/// Each run keeps its own step count: a run resumed at t = 7 next to one at t = 0 gets
/// its own warmup and bias corrections.
#[test]
fn runs_keep_separate_step_counts() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let kind = OptimizerKind::AdamW;
    let mut rng = Rng::new(35);
    let theta = flat(&layout, &mut rng, 1.0);
    let grads = flat(&layout, &mut rng, 1.0);
    let g = gpu_side(kind, &layout, &theta);
    g.opt.set_step_counts(gpu(), &[7, 0]);
    gpu().write(&g.grads, &to_f32(&grads));
    gpu().run(g.opt.program());
    // Zero moments with t = 8 for run 0 and t = 1 for run 1.
    let mut want = State { theta, m: vec![0.0; layout.len], v: vec![0.0; layout.len] };
    let mut run1 = State { theta: want.theta.clone(), m: want.m.clone(), v: want.v.clone() };
    reference_step(kind, &layout, &hyper(), &mut want, &grads, 8);
    reference_step(kind, &layout, &hyper(), &mut run1, &grads, 1);
    for i in run_indices(&layout, 1) {
        (want.theta[i], want.m[i], want.v[i]) = (run1.theta[i], run1.m[i], run1.v[i]);
    }
    compare(kind, &g, &want, "t = 8 and t = 1");
    assert_eq!(g.opt.step_counts(gpu()), vec![8, 1]);
}
