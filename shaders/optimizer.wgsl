// Optimizers over the flat parameter buffer (PyTorch semantics, see docs/runs.md).
//
// Layout: each tensor is an [R, numel] block starting at a multiple of 256 elements, so
// every 256-wide workgroup lies inside one tensor (or its padding). `tensor_table` holds
// (offset, numel) per tensor, then the tensor index of every workgroup; an element's run
// is (i − offset) / numel, and i past R·numel is padding, never touched.
//
// A step is two dispatches: `begin_step` advances each run's counter t on the GPU and
// derives that step's scalars (lr_t, bias corrections) once per run; the update kernel
// then reads them. A replayed program of k steps needs no host work.

struct Params {
    total: u32,
    runs: u32,
    tensors: u32,
    _pad: u32,
}

// Per-run hyperparameters, computed in f64 on the host and rounded once: 1 − β and ln β
// are stored directly because forming them from an f32 β would lose digits.
struct Hyper {
    lr: f32,
    weight_decay: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    log_beta1: f32,
    log_beta2: f32,
    eps: f32,
    momentum: f32,
    warmup: f32,
}

// Per-run scalars of the current update t.
struct StepScalars {
    t: f32,
    lr_t: f32,
    // lr_t / (1 − β1ᵗ)
    step_size: f32,
    // 1 / √(1 − β2ᵗ)
    inv_sqrt_correction2: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// begin_step
@group(0) @binding(1) var<storage, read> hyper: array<Hyper>;
@group(0) @binding(2) var<storage, read_write> step_count: array<u32>;
@group(0) @binding(3) var<storage, read_write> scalars_out: array<StepScalars>;

// updates
@group(0) @binding(1) var<storage, read> hyper_in: array<Hyper>;
@group(0) @binding(2) var<storage, read> tensor_table: array<u32>;
@group(0) @binding(3) var<storage, read> scalars: array<StepScalars>;
@group(0) @binding(4) var<storage, read_write> theta: array<f32>;
@group(0) @binding(5) var<storage, read> grad: array<f32>;
// Adam's first moment, or SGD's momentum buffer.
@group(0) @binding(6) var<storage, read_write> moment1: array<f32>;
@group(0) @binding(7) var<storage, read_write> moment2: array<f32>;

const WG: u32 = 256u;

// eˣ − 1 without the cancellation of exp(x) − 1 near 0, so 1 − βᵗ = −expm1(t·ln β)
// keeps full relative precision at small t (Taylor series to x¹⁰ below |x| = 1/2).
fn expm1(x: f32) -> f32 {
    if (abs(x) >= 0.5) {
        return exp(x) - 1.0;
    }
    var sum = 1.0;
    for (var k = 10.0; k >= 2.0; k -= 1.0) {
        sum = 1.0 + sum * x / k;
    }
    return x * sum;
}

@compute @workgroup_size(64)
fn begin_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= params.runs) {
        return;
    }
    let h = hyper[r];
    let step = step_count[r] + 1u;
    step_count[r] = step;
    let t = f32(step);
    let lr_t = select(h.lr * min(1.0, t / h.warmup), h.lr, h.warmup == 0.0);
    let correction1 = -expm1(t * h.log_beta1);
    let correction2 = -expm1(t * h.log_beta2);
    scalars_out[r] = StepScalars(t, lr_t, lr_t / correction1, 1.0 / sqrt(correction2));
}

// The run of flat element i, or `params.runs` when i is padding.
fn run_of(i: u32) -> u32 {
    let tensor = tensor_table[2u * params.tensors + i / WG];
    let offset = tensor_table[2u * tensor];
    let numel = tensor_table[2u * tensor + 1u];
    return min((i - offset) / numel, params.runs);
}

fn element(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

// Bias-corrected Adam step on θ with gradient g (shared by adamw and adam).
fn adam_step(i: u32, h: Hyper, s: StepScalars, theta_in: f32, g: f32) {
    let m = h.beta1 * moment1[i] + h.one_minus_beta1 * g;
    let v = h.beta2 * moment2[i] + h.one_minus_beta2 * g * g;
    moment1[i] = m;
    moment2[i] = v;
    theta[i] = theta_in - s.step_size * m / (sqrt(v) * s.inv_sqrt_correction2 + h.eps);
}

// θ ← θ·(1 − lr_t·wd), then Adam with g (decoupled decay).
@compute @workgroup_size(256)
fn adamw_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element(gid, groups);
    if (i >= params.total) {
        return;
    }
    let r = run_of(i);
    if (r >= params.runs) {
        return;
    }
    let h = hyper_in[r];
    let s = scalars[r];
    adam_step(i, h, s, theta[i] * (1.0 - s.lr_t * h.weight_decay), grad[i]);
}

// Adam with g + wd·θ (coupled L2).
@compute @workgroup_size(256)
fn adam_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element(gid, groups);
    if (i >= params.total) {
        return;
    }
    let r = run_of(i);
    if (r >= params.runs) {
        return;
    }
    let h = hyper_in[r];
    let th = theta[i];
    adam_step(i, h, scalars[r], th, grad[i] + h.weight_decay * th);
}

// g ← g + wd·θ; with momentum μ: buf ← g at t = 1, μ·buf + g after; θ ← θ − lr_t·buf.
@compute @workgroup_size(256)
fn sgd_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element(gid, groups);
    if (i >= params.total) {
        return;
    }
    let r = run_of(i);
    if (r >= params.runs) {
        return;
    }
    let h = hyper_in[r];
    let s = scalars[r];
    let th = theta[i];
    var step = grad[i] + h.weight_decay * th;
    if (h.momentum != 0.0) {
        step = select(h.momentum * moment1[i] + step, step, s.t == 1.0);
        moment1[i] = step;
    }
    theta[i] = th - s.lr_t * step;
}
