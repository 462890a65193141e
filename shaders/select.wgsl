// Taking one index along an axis of x viewed as [outer, len, inner], and its backward.
// forward:  out[o, i] = x[o, index, i]
// backward: dx[o, index, i] (+)= dy[o, i]; when overwriting (`accumulate` = 0), every
//           other position of dx is set to 0; when accumulating, they are left alone.

struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    index: u32,
    accumulate: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WG;
}

// One invocation per output element (outer · inner).
@compute @workgroup_size(256)
fn select_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.outer * params.inner) { return; }
    let o = e / params.inner;
    let i = e % params.inner;
    out[e] = src[(o * params.len + params.index) * params.inner + i];
}

// One invocation per element of dx (outer · len · inner).
@compute @workgroup_size(256)
fn select_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.outer * params.len * params.inner) { return; }
    let a = (e / params.inner) % params.len;
    if (a == params.index) {
        let g = src[(e / (params.len * params.inner)) * params.inner + e % params.inner];
        if (params.accumulate != 0u) {
            out[e] = out[e] + g;
        } else {
            out[e] = g;
        }
    } else if (params.accumulate == 0u) {
        out[e] = 0.0;
    }
}
