// Sum of squares of every (tensor, run) block of a flat parameter buffer: one workgroup
// per block, a fixed strided-then-tree order, so the weight norms are deterministic.

struct Params {
    runs: u32,
    tensors: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<u32>;   // (offset, numel) per tensor
@group(0) @binding(2) var<storage, read> flat: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [tensors, runs]

const WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(256)
fn block_sum_squares(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let t = wg.x;
    let r = wg.y;
    let offset = table[2u * t];
    let numel = table[2u * t + 1u];
    let start = offset + r * numel;
    var acc = 0.0;
    for (var i = lid; i < numel; i = i + WG) {
        let v = flat[start + i];
        acc = acc + v * v;
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        out[t * params.runs + r] = partial[0];
    }
}
