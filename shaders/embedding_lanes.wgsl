
// ---- the CPU device's scatter-add (embedding_lanes.wgsl) ----
//
// This file is appended to embedding.wgsl (WGSL has no includes) and built only on devices
// with 8-lane subgroups. A software adapter runs the scan above with a barrier per step
// of its prefix sums, and each barrier switches all of a workgroup's SIMD groups; it runs
// each storage read as a loop over the lanes. Here a workgroup is one subgroup of 8 lanes
// and has no barrier: for each 32 tokens, every lane reads 4 of them and
// subgroupBroadcast hands all 32 to every lane, so a token costs an eighth of a read.
// The lanes share the row v, so which tokens hit is the same in every lane, and lane
// l adds dy to its columns tile·128 + l + 8c (c < 16): dtable[v, j] = Σ_{k: tok[k] = v}
// dy[k, j] in increasing k, the scan's order and bits. A workgroup covers 128 columns
// (the models' whole width) so that one scan of the tokens serves them all. Positions
// (rows V …) need no token.
//
// Bounds: token indices are clamped to n − 1 (their k says they lie past n, so they never
// hit) and columns to d − 1 (read, never stored).

const SCATTER_LANES: u32 = 8u;
const SCATTER_COLUMNS: u32 = 128u;

// Bits 4s … 4s + 3 of the hit mask: which of tokens k0 + 4s … +3 (`quad`) are row v.
fn scatter_hits(v: u32, k0: u32, s: u32, quad: vec4<u32>) -> u32 {
    var bits = 0u;
    for (var c = 0u; c < 4u; c++) {
        let k = k0 + 4u * s + c;
        var hit = quad[c] == v;
        if (v >= params.vocab) {
            hit = k % params.period == v - params.vocab;
        }
        bits |= select(0u, 1u << (4u * s + c), hit);
    }
    return bits;
}

@compute @workgroup_size(SCATTER_LANES)
fn embedding_backward_lanes(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let r = wg.z;
    let v = params.first_row + wg.y;
    let n = params.n;
    let d = params.dim;
    let col0 = wg.x * SCATTER_COLUMNS + lane;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < n; k0 += SCATTER_LANES * 4u) {
        var mine = vec4<u32>(0u);
        if (v < params.vocab) {
            for (var c = 0u; c < 4u; c++) {
                mine[c] = tokens[r * n + min(k0 + 4u * lane + c, n - 1u)];
            }
        }
        // The hit mask is the same in every lane: a loop over its bits reads dy only at
        // hits (a masked-off read still costs a pass over the lanes). The lane to
        // broadcast from must be a constant: written out.
        var hits = scatter_hits(v, k0, 0u, subgroupBroadcast(mine, 0u));
        hits |= scatter_hits(v, k0, 1u, subgroupBroadcast(mine, 1u));
        hits |= scatter_hits(v, k0, 2u, subgroupBroadcast(mine, 2u));
        hits |= scatter_hits(v, k0, 3u, subgroupBroadcast(mine, 3u));
        hits |= scatter_hits(v, k0, 4u, subgroupBroadcast(mine, 4u));
        hits |= scatter_hits(v, k0, 5u, subgroupBroadcast(mine, 5u));
        hits |= scatter_hits(v, k0, 6u, subgroupBroadcast(mine, 6u));
        hits |= scatter_hits(v, k0, 7u, subgroupBroadcast(mine, 7u));
        if (n - k0 < 32u) {
            hits &= (1u << (n - k0)) - 1u;
        }
        loop {
            if (hits == 0u) {
                break;
            }
            let row = (r * n + k0 + firstTrailingBit(hits)) * d;
            hits &= hits - 1u;
            for (var q = 0u; q < SCATTER_COLUMNS / SCATTER_LANES; q++) {
                acc[q] += src[row + min(col0 + SCATTER_LANES * q, d - 1u)];
            }
        }
    }
    for (var q = 0u; q < SCATTER_COLUMNS / SCATTER_LANES; q++) {
        let j = col0 + SCATTER_LANES * q;
        if (j < d) {
            if (v >= params.vocab) {
                let i = (r * params.period + v - params.vocab) * d + j;
                if (params.accumulate_pos != 0u) {
                    out_pos[i] = out_pos[i] + acc[q];
                } else {
                    out_pos[i] = acc[q];
                }
            } else {
                let i = (r * params.vocab + v) * d + j;
                if (params.accumulate != 0u) {
                    out[i] = out[i] + acc[q];
                } else {
                    out[i] = acc[q];
                }
            }
        }
    }
}
