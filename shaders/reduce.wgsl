// Sum (or scaled sum, e.g. mean) over the middle axis of a tensor viewed as
// [outer, len, inner], and its backward, a broadcast back along that axis.
//
// reduce_axis: one workgroup per (outer, tile of INNER_TILE consecutive inner indices).
// Its 256 threads form INNER_TILE columns × (256 / INNER_TILE) splits; split s sums
// a = s, s + splits, s + 2·splits, … in that order, then the splits are combined by a
// fixed tree in workgroup memory. The order of every addition is thus fixed by the
// shape alone: the result is bit-identical on every run (no atomics).
// INNER_TILE = 1 makes it a plain per-row tree reduction (inner = 1, the last axis).
//
// `accumulate` != 0 adds the result into `out` (a second gradient contribution).

struct Params {
    outer: u32,
    len: u32,
    inner: u32,
    // ceil(inner / INNER_TILE)
    tiles: u32,
    accumulate: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

// Consecutive inner indices per workgroup; a power of two dividing 256.
override INNER_TILE: u32 = 32u;

var<workgroup> partial: array<f32, 256>;

fn store(i: u32, v: f32) {
    if (params.accumulate != 0u) {
        out[i] = out[i] + v;
    } else {
        out[i] = v;
    }
}

// out[o, i] (+)= alpha · Σ_a src[o, a, i]
@compute @workgroup_size(256)
fn reduce_axis(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let group = wg.x + wg.y * groups.x;
    if (group >= params.outer * params.tiles) { return; }
    let splits = WG / INNER_TILE;
    let o = group / params.tiles;
    let i = (group % params.tiles) * INNER_TILE + t % INNER_TILE;
    let split = t / INNER_TILE;
    var acc = 0.0;
    if (i < params.inner) {
        for (var a = split; a < params.len; a += splits) {
            acc += src[(o * params.len + a) * params.inner + i];
        }
    }
    partial[t] = acc;
    workgroupBarrier();
    for (var stride = splits / 2u; stride > 0u; stride /= 2u) {
        if (split < stride) {
            partial[t] = partial[t] + partial[t + stride * INNER_TILE];
        }
        workgroupBarrier();
    }
    if (split == 0u && i < params.inner) {
        store(o * params.inner + i, params.alpha * partial[t]);
    }
}

// out[o, a, i] (+)= alpha · src[o, i]; one invocation per output element.
@compute @workgroup_size(256)
fn broadcast_axis(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = gid.x + gid.y * groups.x * WG;
    if (e >= params.outer * params.len * params.inner) { return; }
    let o = e / (params.len * params.inner);
    let i = e % params.inner;
    store(e, params.alpha * src[o * params.inner + i]);
}
