// Elementwise kernels over flat buffers: add, scale, relu and gelu, forward and backward.
// The launch grid may be 2D when n exceeds one dimension's workgroup limit.
// `accumulate` != 0 adds the result into `out` (a second gradient contribution).

struct Params {
    n: u32,
    accumulate: u32,
    alpha: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

fn store(i: u32, v: f32) {
    if (params.accumulate != 0u) {
        out[i] = out[i] + v;
    } else {
        out[i] = v;
    }
}

// out = a + alpha * b
@compute @workgroup_size(256)
fn add_scaled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, a[i] + params.alpha * b[i]);
}

// out = alpha * a   (b unused; bound for a uniform layout)
@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, params.alpha * a[i]);
}

@compute @workgroup_size(256)
fn relu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, max(a[i], 0.0));
}

// a = relu output (or input: both are > 0 at the same places), b = dy
@compute @workgroup_size(256)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, select(0.0, b[i], a[i] > 0.0));
}

// exp(-z²) without the error of rounding z² first: z = zh + zl with zh on a 1/256
// grid, so zh² is exact in f32 and the small cross term carries the rest (Cody's split).
fn exp_neg_square(z: f32) -> f32 {
    let zh = floor(z * 256.0) / 256.0;
    return exp(-zh * zh) * exp(-(z - zh) * (z + zh));
}

// erfc(z) for z >= 0 with fractional error < 1.2e-7 everywhere (the Chebyshev fit of
// Numerical Recipes' erfcc). Relative accuracy in the tail is what keeps gelu exact
// for large negative inputs, where 1 + erf would cancel.
fn erfc_nonneg(z: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp_neg_square(z) * exp(poly);
}

// Φ(x), the standard normal CDF.
fn normal_cdf(x: f32) -> f32 {
    let half_erfc = 0.5 * erfc_nonneg(abs(x) * 0.70710678118654752);
    return select(1.0 - half_erfc, half_erfc, x < 0.0);
}

fn gelu(x: f32) -> f32 {
    return x * normal_cdf(x);
}

// d/dx [x·Φ(x)] = Φ(x) + x·φ(x)
fn gelu_grad(x: f32) -> f32 {
    let pdf = 0.39894228040143268 * exp_neg_square(abs(x) * 0.70710678118654752);
    return normal_cdf(x) + x * pdf;
}

@compute @workgroup_size(256)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, gelu(a[i]));
}

// a = gelu input, b = dy
@compute @workgroup_size(256)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= params.n) { return; }
    store(i, b[i] * gelu_grad(a[i]));
}
