// Gradient filters between backward and the optimizer update (docs/runs.md "Options"), in place
// on the flat gradient buffer. The layout table is the optimizer's: (offset, numel) per
// tensor, then the tensor index of every 256-element workgroup; padding is never touched.
//
// Order: L1 → Grokfast EMA → Grokfast MA in one elementwise pass (`filter_gradient`), then
// ⊥Grad: `ortho_coefficients` (one workgroup per (tensor, run) block, fixed tree order)
// and the elementwise `ortho_apply`. Which filters are on is fixed per pipeline by the
// override constants, so a filter that is off costs nothing.
//
// The filters run before the optimizer's `begin_step` advances the per-run counter, so the
// update being prepared is t = step_count[r] + 1.

struct Params {
    // Flat buffer length: the stride of one ring-buffer slot.
    total: u32,
    runs: u32,
    tensors: u32,
    // Grokfast MA window w.
    window: u32,
    // [embed_start, embed_end): the embed.weight block, the only one L1 applies to.
    embed_start: u32,
    embed_end: u32,
    l1: f32,
    ema_alpha: f32,
    // 1 − α, formed in f64 on the host.
    ema_one_minus_alpha: f32,
    ema_lambda: f32,
    ma_lambda: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tensor_table: array<u32>;

// filter_gradient
@group(0) @binding(2) var<storage, read> step_count: array<u32>;
@group(0) @binding(3) var<storage, read> theta: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
// Grokfast EMA's μ, laid out like the gradient.
@group(0) @binding(5) var<storage, read_write> ema: array<f32>;
// Grokfast MA's last w gradients [w, total]; update t's gradient goes to slot (t − 1) mod w.
@group(0) @binding(6) var<storage, read_write> ring: array<f32>;

// ortho_coefficients: (c, s) per (tensor, run) block b = tensor·R + run, so that
// ortho_apply sets g ← s·(g − c·θ).
@group(0) @binding(2) var<storage, read> theta_in: array<f32>;
@group(0) @binding(3) var<storage, read> grad_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> coefficients_out: array<vec2<f32>>;

// ortho_apply
@group(0) @binding(2) var<storage, read> theta_apply: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad_apply: array<f32>;
@group(0) @binding(4) var<storage, read> coefficients: array<vec2<f32>>;

override L1: bool = false;
override EMA: bool = false;
override MA: bool = false;

const WG: u32 = 256u;

fn element(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

// The tensor of flat element i (padding belongs to the tensor before it).
fn tensor_of(i: u32) -> u32 {
    return tensor_table[2u * params.tensors + i / WG];
}

// The run of flat element i of `tensor`, or `params.runs` when i is padding.
fn run_of(i: u32, tensor: u32) -> u32 {
    return min((i - tensor_table[2u * tensor]) / tensor_table[2u * tensor + 1u], params.runs);
}

// L1: g += λ·sign(θ) on the embedding; EMA: μ ← α·μ + (1−α)·g (μ₁ = g₁), g += λ·μ;
// MA: store g in the window, and once it is full, g += λ·mean(window).
@compute @workgroup_size(256)
fn filter_gradient(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element(gid, groups);
    if (i >= params.total) {
        return;
    }
    let r = run_of(i, tensor_of(i));
    if (r >= params.runs) {
        return;
    }
    let t = step_count[r] + 1u;
    var g = grad[i];
    if (L1 && i >= params.embed_start && i < params.embed_end) {
        g += params.l1 * sign(theta[i]);
    }
    if (EMA) {
        let mu = select(params.ema_alpha * ema[i] + params.ema_one_minus_alpha * g, g, t == 1u);
        ema[i] = mu;
        g += params.ema_lambda * mu;
    }
    if (MA) {
        let w = params.window;
        ring[((t - 1u) % w) * params.total + i] = g;
        if (t >= w) {
            // Oldest first (update t − w + 1 sits in slot (t − w) mod w = t mod w), the
            // current gradient last, then divided by w: Grokfast's sum(deque) / len.
            var sum = 0.0;
            for (var k = 0u; k + 1u < w; k++) {
                sum += ring[((t + k) % w) * params.total + i];
            }
            sum += g;
            g += params.ma_lambda * (sum / f32(w));
        }
    }
    grad[i] = g;
}

var<workgroup> sum_theta_grad: array<f32, 256>;
var<workgroup> sum_theta_theta: array<f32, 256>;
var<workgroup> sum_grad_grad: array<f32, 256>;
var<workgroup> sum_orth_orth: array<f32, 256>;

// One workgroup per (tensor, run) block: θ·g, θ·θ and ‖g‖², then ‖g − c·θ‖² with
// c = θ·g / θ·θ (computed directly rather than as ‖g‖² − c·θ·g, which cancels when g is
// nearly parallel to θ). Each thread sums a strided subset in order, then a fixed tree
// combines the threads: the result depends on the shapes alone. (c, s) = (0, 1) leaves g
// unchanged: when θ·θ = 0, when g⊥ = 0, and for one-element tensors, whose g⊥ is 0 in
// exact arithmetic and only rounding noise in f32.
@compute @workgroup_size(256)
fn ortho_coefficients(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let block = wg.x + wg.y * groups.x;
    if (block >= params.tensors * params.runs) {
        return;
    }
    let tensor = block / params.runs;
    let numel = tensor_table[2u * tensor + 1u];
    let start = tensor_table[2u * tensor] + (block % params.runs) * numel;

    var theta_grad = 0.0;
    var theta_theta = 0.0;
    var grad_grad = 0.0;
    for (var k = t; k < numel; k += WG) {
        let th = theta_in[start + k];
        let g = grad_in[start + k];
        theta_grad += th * g;
        theta_theta += th * th;
        grad_grad += g * g;
    }
    sum_theta_grad[t] = theta_grad;
    sum_theta_theta[t] = theta_theta;
    sum_grad_grad[t] = grad_grad;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (t < stride) {
            sum_theta_grad[t] += sum_theta_grad[t + stride];
            sum_theta_theta[t] += sum_theta_theta[t + stride];
            sum_grad_grad[t] += sum_grad_grad[t + stride];
        }
        workgroupBarrier();
    }
    let total_theta_theta = sum_theta_theta[0];
    let c = select(0.0, sum_theta_grad[0] / total_theta_theta, total_theta_theta > 0.0);

    var orth_orth = 0.0;
    for (var k = t; k < numel; k += WG) {
        let o = grad_in[start + k] - c * theta_in[start + k];
        orth_orth += o * o;
    }
    sum_orth_orth[t] = orth_orth;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (t < stride) {
            sum_orth_orth[t] += sum_orth_orth[t + stride];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        let total_orth_orth = sum_orth_orth[0];
        let degenerate = numel <= 1u || total_theta_theta == 0.0 || total_orth_orth == 0.0;
        let scale = sqrt(sum_grad_grad[0]) / sqrt(total_orth_orth);
        coefficients_out[block] = select(vec2(c, scale), vec2(0.0, 1.0), degenerate);
    }
}

// g ← s·(g − c·θ) with its block's coefficients.
@compute @workgroup_size(256)
fn ortho_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element(gid, groups);
    if (i >= params.total) {
        return;
    }
    let tensor = tensor_of(i);
    let r = run_of(i, tensor);
    if (r >= params.runs) {
        return;
    }
    let cs = coefficients[tensor * params.runs + r];
    grad_apply[i] = cs.y * (grad_apply[i] - cs.x * theta_apply[i]);
}
