//! Gradient filters (L1, Grokfast EMA and MA, ⊥Grad) over the flat gradient buffer against
//! the f64 reference: tensors of odd sizes, two runs, five steps (EMA initialization, the MA
//! window filling and wrapping with w = 3), each filter alone and all together; per-run step
//! counters, resume, dispatch counts, and a replay that creates nothing.

use grokgpu::gpu::Buffer;
use grokgpu::nn::grad_filters::{FilterConfig, GradFilters};
use grokgpu::nn::optimizer::{Hyperparams, Optimizer, OptimizerKind};
use grokgpu::nn::FlatLayout;
use grokgpu_kernels_tests::{assert_close, gpu, rel_error, to_f32, Rng};
use grokgpu_reference::grad_filters as reference;
use std::sync::RwLock;

const STEPS: u32 = 5;
const EMBED: &str = "embed.weight";
/// Written into the gradient's padding: the filters must leave it as it is.
const PADDING: f64 = 7.0;

const L1: FilterConfig = FilterConfig { l1: Some(0.3), ortho_grad: false, grokfast_ema: None, grokfast_ma: None };
const ORTHO: FilterConfig = FilterConfig { l1: None, ortho_grad: true, grokfast_ema: None, grokfast_ma: None };
const EMA: FilterConfig = FilterConfig { l1: None, ortho_grad: false, grokfast_ema: Some((0.8, 2.0)), grokfast_ma: None };
const MA: FilterConfig = FilterConfig { l1: None, ortho_grad: false, grokfast_ema: None, grokfast_ma: Some((3, 1.5)) };
const ALL: FilterConfig = FilterConfig { l1: Some(0.3), ortho_grad: true, grokfast_ema: Some((0.8, 2.0)), grokfast_ma: Some((3, 1.5)) };

/// L1, EMA and MA round each element a few times per step (~6e-8 each) on O(1) values, and
/// μ carries its rounding over the steps (measured ≤ 1.8e-7; 2.7e-7 over five chained steps).
const TOL_ELEMENTWISE: f64 = 1e-6;
/// ⊥Grad adds f32 dot products over up to 130 elements, a division and a square-root ratio,
/// amplified by ‖g‖/‖g⊥‖, which adapters with other division and sqrt roundings move
/// (measured ≤ 2.0e-7; 3.1e-7 over five chained steps).
const TOL_ORTHO: f64 = 1e-6;

/// Odd sizes with padding after them, and the embedding between two blocks of exactly 256
/// elements (R · 128) so that L1's range has tensor elements, not padding, on both sides.
fn layout() -> FlatLayout {
    FlatLayout::new(2, [("a", vec![1]), ("b", vec![3]), ("w", vec![128]), (EMBED, vec![16, 8]), ("x", vec![128]), ("c", vec![97]), ("d", vec![10, 13])])
}

/// A host-side flat buffer: each tensor's [R, numel] block, `padding` elsewhere.
fn flat(layout: &FlatLayout, rng: &mut Rng, padding: f64) -> Vec<f64> {
    let mut v = vec![padding; layout.len];
    for t in &layout.tensors {
        let r = layout.range(&t.name);
        v[r.clone()].copy_from_slice(&rng.vec(r.len(), 1.0));
    }
    v
}

/// Random θ, different per run, with the edge cases in it: zeros in the embedding
/// (sign(0) = 0) and a whole block of zeros (θ·θ = 0: ⊥Grad leaves g alone).
fn parameters(layout: &FlatLayout, rng: &mut Rng) -> Vec<f64> {
    let mut theta = flat(layout, rng, 0.0);
    let embed = layout.tensor(EMBED).offset;
    theta[embed..embed + 5].fill(0.0);
    let b = layout.tensor("b");
    theta[b.offset + b.numel..b.offset + 2 * b.numel].fill(0.0);
    theta
}

fn to_reference(c: &FilterConfig) -> reference::FilterConfig {
    reference::FilterConfig { l1: c.l1, ortho_grad: c.ortho_grad, grokfast_ema: c.grokfast_ema, grokfast_ma: c.grokfast_ma }
}

/// The reference filters of every (tensor, run) block, tensor-major like the GPU's table.
struct Reference {
    layout: FlatLayout,
    blocks: Vec<reference::GradFilter>,
}

impl Reference {
    fn new(layout: &FlatLayout, config: &FilterConfig) -> Reference {
        let blocks = (0..layout.tensors.len() * layout.runs).map(|_| reference::GradFilter::new(&to_reference(config))).collect();
        Reference { layout: layout.clone(), blocks }
    }

    /// Every block's element range, in block order.
    fn ranges(&self) -> Vec<std::ops::Range<usize>> {
        let l = &self.layout;
        l.tensors.iter().flat_map(|t| (0..l.runs).map(move |r| t.offset + r * t.numel..t.offset + (r + 1) * t.numel)).collect()
    }

    fn step(&mut self, theta: &[f64], grads: &mut [f64]) {
        let runs = self.layout.runs;
        for (b, range) in self.ranges().into_iter().enumerate() {
            let is_embedding = self.layout.tensors[b / runs].name == EMBED;
            self.blocks[b].apply(&theta[range.clone()], &mut grads[range], is_embedding);
        }
    }

    /// μ in flat layout.
    fn ema(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.layout.len];
        for (range, f) in self.ranges().into_iter().zip(&self.blocks) {
            out[range].copy_from_slice(f.ema.as_ref().unwrap().mu.as_ref().unwrap());
        }
        out
    }

    /// The MA window as the GPU keeps it after update t: update u's gradient in slot
    /// (u − 1) mod w of a [w, len] ring.
    fn ma_window(&self, t: u32) -> Vec<f64> {
        let len = self.layout.len;
        let w = self.blocks[0].ma.as_ref().unwrap().window;
        let mut out = vec![0.0; w * len];
        for (range, f) in self.ranges().into_iter().zip(&self.blocks) {
            let history = &f.ma.as_ref().unwrap().history;
            for (j, g) in history.iter().enumerate() {
                let update = t as usize + 1 - history.len() + j;
                let slot = (update - 1) % w;
                out[slot * len + range.start..slot * len + range.end].copy_from_slice(g);
            }
        }
        out
    }
}

fn read(b: &Buffer) -> Vec<f64> {
    gpu().read_f32(b).iter().map(|&x| x as f64).collect()
}

fn state<'a>(filters: &'a GradFilters, name: &str) -> &'a Buffer {
    filters.state_buffers().into_iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no state buffer {name}")).1
}

/// Checks the gradient against the reference on the tensors' elements and requires the
/// padding to be untouched (kept out of the error, whose scale it would otherwise set);
/// returns the relative error.
fn compare_grads(what: &str, layout: &FlatLayout, got: &Buffer, want: &[f64], tol: f64) -> f64 {
    let got = read(got);
    let inside: Vec<usize> = layout.tensors.iter().flat_map(|t| layout.range(&t.name)).collect();
    let padding = (0..layout.len).filter(|i| !inside.contains(i));
    assert!(padding.clone().all(|i| got[i] == PADDING), "{what}: the padding of g changed");
    let (got, want): (Vec<f64>, Vec<f64>) = inside.iter().map(|&i| (got[i], want[i])).unzip();
    assert_close(&format!("{what}: g"), &got, &want, tol);
    rel_error(&got, &want)
}

/// GPU state and filters against the reference after update t; returns the gradient's error.
fn compare(what: &str, config: &FilterConfig, filters: &GradFilters, grads: &Buffer, want_grads: &[f64], reference: &Reference, t: u32) -> f64 {
    let tol = if config.ortho_grad { TOL_ORTHO } else { TOL_ELEMENTWISE };
    let err = compare_grads(what, &reference.layout, grads, want_grads, tol);
    if config.grokfast_ema.is_some() {
        assert_close(&format!("{what}: μ"), &read(state(filters, "grokfast_ema")), &reference.ema(), TOL_ELEMENTWISE);
    }
    if config.grokfast_ma.is_some() {
        assert_close(&format!("{what}: MA window"), &read(state(filters, "grokfast_ma_window")), &reference.ma_window(t), TOL_ELEMENTWISE);
    }
    err
}

/// The device's counters are shared by the tests of this file, which run in parallel:
/// the test that reads them takes this lock exclusively, every other test shares it.
static COUNTERS: RwLock<()> = RwLock::new(());

/// Fresh gradients every step, as backward produces them; the host advances the counter.
#[test]
fn each_filter_and_all_together_match_reference() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    for (name, config) in [("l1", L1), ("ortho-grad", ORTHO), ("grokfast-ema", EMA), ("grokfast-ma", MA), ("all", ALL)] {
        let mut rng = Rng::new(41);
        let theta = parameters(&layout, &mut rng);
        let params = gpu().buffer_from("params", &to_f32(&theta));
        let grads = gpu().buffer("grads", layout.len);
        let step_count = gpu().buffer_from("step count", &[0u32; 2]);
        let filters = GradFilters::new(gpu(), &layout, &params, &grads, &step_count, &config);
        let mut reference = Reference::new(&layout, &config);
        let mut worst = 0.0f64;
        for t in 1..=STEPS {
            let mut g = flat(&layout, &mut rng, PADDING);
            gpu().write(&grads, &to_f32(&g));
            gpu().run(filters.program());
            reference.step(&theta, &mut g);
            worst = worst.max(compare(&format!("{name} step {t}"), &config, &filters, &grads, &g, &reference, t));
            gpu().write(&step_count, &[t; 2]);
        }
        println!("{name}: worst relative error of g over {STEPS} steps: {worst:.2e}");
    }
}

/// Each run reads its own counter: run 0 resumes at update 3 with zero state (μ = 0, a
/// window of zeros, so MA already averages), run 1 starts at update 1.
#[test]
fn runs_read_their_own_step_count() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let config = ALL;
    let mut rng = Rng::new(42);
    let theta = parameters(&layout, &mut rng);
    let params = gpu().buffer_from("params", &to_f32(&theta));
    let grads = gpu().buffer("grads", layout.len);
    let step_count = gpu().buffer_from("step count", &[2u32, 0]);
    let filters = GradFilters::new(gpu(), &layout, &params, &grads, &step_count, &config);
    let mut g = flat(&layout, &mut rng, PADDING);
    gpu().write(&grads, &to_f32(&g));
    gpu().run(filters.program());

    let mut reference = Reference::new(&layout, &config);
    for (b, range) in reference.ranges().into_iter().enumerate() {
        if b % layout.runs == 0 {
            let f = &mut reference.blocks[b];
            f.ema.as_mut().unwrap().mu = Some(vec![0.0; range.len()]);
            f.ma.as_mut().unwrap().history = vec![vec![0.0; range.len()]; 2].into();
        }
    }
    reference.step(&theta, &mut g);
    compare_grads("t = 3 and t = 1", &layout, &grads, &g, TOL_ORTHO);
    assert_close("t = 3 and t = 1: μ", &read(state(&filters, "grokfast_ema")), &reference.ema(), TOL_ELEMENTWISE);
}

/// Stopping after 3 steps, restoring the state buffers and step counts into fresh filters
/// and running 2 more gives bit for bit the uninterrupted 5 steps.
#[test]
fn resumed_filters_equal_uninterrupted_ones() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let mut rng = Rng::new(43);
    let theta = to_f32(&parameters(&layout, &mut rng));
    let inputs: Vec<Vec<f32>> = (0..STEPS).map(|_| to_f32(&flat(&layout, &mut rng, PADDING))).collect();
    let fresh = || {
        let params = gpu().buffer_from("params", &theta);
        let grads = gpu().buffer("grads", layout.len);
        let step_count = gpu().buffer("step count", 2);
        let filters = GradFilters::new(gpu(), &layout, &params, &grads, &step_count, &ALL);
        (grads, step_count, filters)
    };
    let steps = |(grads, step_count, filters): &(Buffer, Buffer, GradFilters), updates: std::ops::Range<u32>| {
        for t in updates {
            gpu().write(grads, &inputs[t as usize - 1]);
            gpu().run(filters.program());
            gpu().write(step_count, &[t; 2]);
        }
    };
    let bits = |b: &Buffer| gpu().read_f32(b).iter().map(|x| x.to_bits()).collect::<Vec<u32>>();

    let whole = fresh();
    steps(&whole, 1..STEPS + 1);
    let first = fresh();
    steps(&first, 1..4);
    let resumed = fresh();
    for ((name, saved), (_, restored)) in first.2.state_buffers().into_iter().zip(resumed.2.state_buffers()) {
        gpu().write(restored, &gpu().read_f32(saved));
        assert!(["grokfast_ema", "grokfast_ma_window"].contains(&name));
    }
    gpu().write(&resumed.1, &gpu().read_u32(&first.1));
    steps(&resumed, 4..STEPS + 1);
    assert_eq!(bits(&resumed.0), bits(&whole.0), "resumed g differs");
    for ((name, a), (_, b)) in resumed.2.state_buffers().into_iter().zip(whole.2.state_buffers()) {
        assert_eq!(bits(a), bits(b), "resumed {name} differs");
    }
}

/// One elementwise pass for L1 and Grokfast together, two for ⊥Grad, none when all is off.
#[test]
fn dispatch_counts_and_state() {
    let _counters = COUNTERS.read().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let params = gpu().buffer("params", layout.len);
    let grads = gpu().buffer("grads", layout.len);
    let step_count = gpu().buffer("step count", 2);
    let grokfast = FilterConfig { grokfast_ema: EMA.grokfast_ema, grokfast_ma: MA.grokfast_ma, ..FilterConfig::default() };
    for (config, dispatches, state) in [
        (FilterConfig::default(), 0, &[][..]),
        (L1, 1, &[][..]),
        (grokfast, 1, &["grokfast_ema", "grokfast_ma_window"][..]),
        (ORTHO, 2, &[][..]),
        (ALL, 3, &["grokfast_ema", "grokfast_ma_window"][..]),
    ] {
        let filters = GradFilters::new(gpu(), &layout, &params, &grads, &step_count, &config);
        assert_eq!(filters.program().len(), dispatches, "{config:?}");
        let names: Vec<&str> = filters.state_buffers().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, state, "{config:?}");
    }
}

/// Five training steps in one submit, the optimizer advancing the counter the filters read
/// (SGD with lr 0 so θ stays put): the filtered gradient feeds the next step, the EMA and
/// the window fill and wrap, and nothing is created or read back.
#[test]
fn replayed_filters_need_no_host_work() {
    let _counters = COUNTERS.write().unwrap_or_else(|e| e.into_inner());
    let layout = layout();
    let mut rng = Rng::new(44);
    let theta = parameters(&layout, &mut rng);
    let mut g = flat(&layout, &mut rng, PADDING);
    let params = gpu().buffer_from("params", &to_f32(&theta));
    let grads = gpu().buffer_from("grads", &to_f32(&g));
    let frozen = Hyperparams { lr: 0.0, weight_decay: 0.0, beta1: 0.0, beta2: 0.0, eps: 0.0, momentum: 0.0, warmup: 0 };
    let optimizer = Optimizer::new(gpu(), OptimizerKind::Sgd, &layout, &params, &grads, &[frozen; 2]);
    let filters = GradFilters::new(gpu(), &layout, &params, &grads, &optimizer.step_count, &ALL);

    let before = gpu().counters();
    gpu().replay_all(&[filters.program(), optimizer.program()], STEPS as usize);
    gpu().wait();
    let after = gpu().counters();
    assert_eq!(
        (after.buffers_created, after.pipelines_created, after.bind_groups_created, after.readbacks),
        (before.buffers_created, before.pipelines_created, before.bind_groups_created, before.readbacks),
        "replay created or read back something"
    );

    let mut reference = Reference::new(&layout, &ALL);
    for _ in 0..STEPS {
        reference.step(&theta, &mut g);
    }
    // Each step filters the previous step's f32 output, so rounding compounds over the five
    // chained steps (measured 3.1e-7 for g, 2.7e-7 for μ, 2.5e-7 for the window).
    compare_grads("replayed", &layout, &grads, &g, TOL_ORTHO);
    assert_close("replayed μ", &read(state(&filters, "grokfast_ema")), &reference.ema(), TOL_ELEMENTWISE);
    assert_close("replayed MA window", &read(state(&filters, "grokfast_ma_window")), &reference.ma_window(STEPS), TOL_ELEMENTWISE);
    assert_eq!(optimizer.step_counts(gpu()), vec![STEPS; 2]);
    assert_eq!(read(&params), theta, "lr 0 must leave θ as it was");
}
