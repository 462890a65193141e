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

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), close to f32 resolution.
fn erf_approx(x: f32) -> f32 {
    let s = sign(x);
    let z = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return s * (1.0 - poly * exp(-z * z));
}

fn gelu(x: f32) -> f32 {
    return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
}

// d/dx [x·Φ(x)] = Φ(x) + x·φ(x)
fn gelu_grad(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
    let pdf = 0.39894228040143268 * exp(-0.5 * x * x);
    return cdf + x * pdf;
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
