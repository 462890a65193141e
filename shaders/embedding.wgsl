// Embedding lookup, optionally plus a positional table, and its deterministic
// scatter-add backward. Per run r: table [V, d], tokens [n] (u32), out [n, d];
// with positions, pos [T, d] and token k sits at position k mod T.
//
// Backward without atomics: one workgroup per (run r, vocab row v, tile of 256 columns).
// It walks the n tokens in chunks of 256: each thread tests one token against v, a
// prefix sum over the chunk lists the hits in increasing k, then thread j adds
// dy[k, j] for those hits in that order. So dtable[v, j] = Σ_{k: tok[k] = v} dy[k, j]
// summed in increasing k, exactly the reference's order, for any schedule.
// Cost per run: V·n coalesced token reads (the scan is shared by a workgroup's 256
// columns) and each dy element read once. One thread per (v, j) looping over all n
// tokens would instead read V·n·d tokens; a sort would need scratch memory and passes.
// Tokens ≥ V match no row: they are dropped by the backward and read as NaN forward.
// With positions, the same launch also sums the positional gradient: rows V … V+T−1 of
// its grid are position t, whose hits are the tokens k with k mod T = t (so dpos[t] sums
// dy over the N sequences in increasing order), written to `out_pos`.

struct Params {
    runs: u32,
    // tokens per run
    n: u32,
    vocab: u32,
    dim: u32,
    // positions (T); 0 = no positional table
    period: u32,
    accumulate: u32,
    accumulate_pos: u32,
    // backward: virtual row of the grid's first row (V when the table needs no gradient)
    first_row: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> pos: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_pos: array<f32>;

// src = table; out [R, n, d] = table[tok] (+ pos[k mod T]).
@compute @workgroup_size(256)
fn embedding_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = gid.x + gid.y * groups.x * WG;
    let d = params.dim;
    if (e >= params.runs * params.n * d) { return; }
    let j = e % d;
    let k = (e / d) % params.n;
    let r = e / (params.n * d);
    let tok = tokens[r * params.n + k];
    var v = bitcast<f32>(0x7fc00000u);
    if (tok < params.vocab) {
        v = src[(r * params.vocab + tok) * d + j];
    }
    if (params.period != 0u) {
        v += pos[(r * params.period + k % params.period) * d + j];
    }
    out[e] = v;
}

var<workgroup> hit_count: array<u32, 256>;
var<workgroup> hits: array<u32, 256>;

// src = dy [R, n, d]; out = dtable [R, V, d]; out_pos = dpos [R, T, d]; pos unused.
// Grid (column tiles, rows, R): virtual rows first_row + wg.y, vocabulary rows below V
// and positions from V.
@compute @workgroup_size(256)
fn embedding_backward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
    let r = wg.z;
    let v = params.first_row + wg.y;
    let is_pos = v >= params.vocab;
    let d = params.dim;
    let j = wg.x * WG + t;
    var acc = 0.0;
    for (var chunk = 0u; chunk < params.n; chunk += WG) {
        let k = chunk + t;
        var hit = false;
        if (is_pos) {
            hit = k < params.n && k % params.period == v - params.vocab;
        } else {
            hit = k < params.n && tokens[r * params.n + k] == v;
        }
        // Inclusive prefix sum (Hillis–Steele) of the hit flags over the chunk.
        hit_count[t] = u32(hit);
        workgroupBarrier();
        for (var offset = 1u; offset < WG; offset *= 2u) {
            var s = hit_count[t];
            if (t >= offset) {
                s += hit_count[t - offset];
            }
            workgroupBarrier();
            hit_count[t] = s;
            workgroupBarrier();
        }
        if (hit) {
            hits[hit_count[t] - 1u] = k;
        }
        workgroupBarrier();
        let found = hit_count[WG - 1u];
        if (j < d) {
            for (var h = 0u; h < found; h++) {
                acc += src[(r * params.n + hits[h]) * d + j];
            }
        }
        workgroupBarrier();
    }
    if (j >= d) {
        return;
    }
    if (is_pos) {
        let i = (r * params.period + v - params.vocab) * d + j;
        if (params.accumulate_pos != 0u) {
            out_pos[i] = out_pos[i] + acc;
        } else {
            out_pos[i] = acc;
        }
    } else {
        let i = (r * params.vocab + v) * d + j;
        if (params.accumulate != 0u) {
            out[i] = out[i] + acc;
        } else {
            out[i] = acc;
        }
    }
}
