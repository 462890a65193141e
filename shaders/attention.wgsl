// Fused causal multi-head self-attention for short sequences (T ≤ 8), one workgroup per
// sample. qkv [S, T, 3d] holds q in columns 0..d, k in d..2d, v in 2d..3d; head h owns
// columns h·dh..(h+1)·dh of each (dh = d/H). Query t attends to keys u ≤ t with scores
// q_t·k_u/√dh. The H·T·T scores and probabilities of one sample sit in workgroup memory,
// so a whole layer's attention is one forward and one backward dispatch.
//
// Workgroup memory layout of a sample's scores: [h, t, u] at (h·T + t)·T + u.

struct Params {
    samples: u32,
    seq: u32,
    d: u32,
    heads: u32,
    scale: f32,
    accumulate: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;

// forward
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs_out: array<f32>;

// backward
@group(0) @binding(2) var<storage, read> probs_in: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;

// Threads per sample; a tuning knob.
override WG: u32 = 64u;
// H·T·T ≤ MAX_SCORES (checked on the host): 16 heads at T = 8.
const MAX_SCORES: u32 = 1024u;

var<workgroup> probs: array<f32, MAX_SCORES>;
var<workgroup> dscores: array<f32, MAX_SCORES>;

fn sample_index(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wid.x + wid.y * groups.x;
}

@compute @workgroup_size(WG)
fn attention_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = sample_index(wid, groups);
    if (b >= params.samples) {
        return;
    }
    let seq = params.seq;
    let d = params.d;
    let dh = d / params.heads;
    let row_len = 3u * d;
    let base = b * seq * row_len;
    let pairs = params.heads * seq * seq;

    // Scaled scores of the causal pairs (u ≤ t).
    for (var i = lid; i < pairs; i += WG) {
        let h = i / (seq * seq);
        let t = (i / seq) % seq;
        let u = i % seq;
        if (u <= t) {
            let q = base + t * row_len + h * dh;
            let k = base + u * row_len + d + h * dh;
            var dot = 0.0;
            for (var j = 0u; j < dh; j++) {
                dot += qkv[q + j] * qkv[k + j];
            }
            probs[i] = dot * params.scale;
        }
    }
    workgroupBarrier();

    // Softmax of each (h, t) row over u ≤ t; masked entries are exactly 0.
    for (var row = lid; row < params.heads * seq; row += WG) {
        let t = row % seq;
        let first = row * seq;
        var peak = probs[first];
        for (var u = 1u; u <= t; u++) {
            peak = max(peak, probs[first + u]);
        }
        var total = 0.0;
        for (var u = 0u; u <= t; u++) {
            let e = exp(probs[first + u] - peak);
            probs[first + u] = e;
            total += e;
        }
        for (var u = 0u; u < seq; u++) {
            let p = select(0.0, probs[first + u] / total, u <= t);
            probs[first + u] = p;
            probs_out[b * pairs + first + u] = p;
        }
    }
    workgroupBarrier();

    // out[t, c] = Σ_{u ≤ t} p[h(c), t, u] · v_u[c]; adjacent threads write adjacent columns.
    for (var i = lid; i < seq * d; i += WG) {
        let t = i / d;
        let c = i % d;
        let h = c / dh;
        var acc = 0.0;
        for (var u = 0u; u <= t; u++) {
            acc += probs[(h * seq + t) * seq + u] * qkv[base + u * row_len + 2u * d + c];
        }
        out[b * seq * d + i] = acc;
    }
}

// dv_u = Σ_{t ≥ u} p[t,u]·dout_t;  dp[t,u] = dout_t·v_u;  ds = p ⊙ (dp − Σ_u p·dp);
// dq_t = Σ_{u ≤ t} ds[t,u]·k_u/√dh;  dk_u = Σ_{t ≥ u} ds[t,u]·q_t/√dh.
@compute @workgroup_size(WG)
fn attention_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = sample_index(wid, groups);
    if (b >= params.samples) {
        return;
    }
    let seq = params.seq;
    let d = params.d;
    let dh = d / params.heads;
    let row_len = 3u * d;
    let base = b * seq * row_len;
    let out_base = b * seq * d;
    let pairs = params.heads * seq * seq;

    for (var i = lid; i < pairs; i += WG) {
        let h = i / (seq * seq);
        let t = (i / seq) % seq;
        let u = i % seq;
        probs[i] = probs_in[b * pairs + i];
        var dot = 0.0;
        if (u <= t) {
            let g = out_base + t * d + h * dh;
            let v = base + u * row_len + 2u * d + h * dh;
            for (var j = 0u; j < dh; j++) {
                dot += dout[g + j] * qkv[v + j];
            }
        }
        dscores[i] = dot;
    }
    workgroupBarrier();

    // Softmax backward per row, with the 1/√dh of the scores folded in.
    for (var row = lid; row < params.heads * seq; row += WG) {
        let t = row % seq;
        let first = row * seq;
        var inner = 0.0;
        for (var u = 0u; u <= t; u++) {
            inner += probs[first + u] * dscores[first + u];
        }
        for (var u = 0u; u <= t; u++) {
            dscores[first + u] = probs[first + u] * (dscores[first + u] - inner) * params.scale;
        }
    }
    workgroupBarrier();

    // One thread per dqkv element: position, part (q, k or v) and column.
    for (var i = lid; i < seq * row_len; i += WG) {
        let pos = i / row_len;
        let col = i % row_len;
        let part = col / d;
        let c = col % d;
        let h = c / dh;
        var acc = 0.0;
        if (part == 0u) {
            for (var u = 0u; u <= pos; u++) {
                acc += dscores[(h * seq + pos) * seq + u] * qkv[base + u * row_len + d + c];
            }
        } else if (part == 1u) {
            for (var t = pos; t < seq; t++) {
                acc += dscores[(h * seq + t) * seq + pos] * qkv[base + t * row_len + c];
            }
        } else {
            for (var t = pos; t < seq; t++) {
                acc += probs[(h * seq + t) * seq + pos] * dout[out_base + t * d + c];
            }
        }
        let at = base + i;
        if (params.accumulate != 0u) {
            dqkv[at] = dqkv[at] + acc;
        } else {
            dqkv[at] = acc;
        }
    }
}
