// Fused classification loss: per row of logits [R, N, C] with targets [R, N], one
// workgroup (on the CPU device, one invocation: see the end) computes the row's loss,
// whether its argmax hits the target, and the gradient dlogits = ∂(mean loss)/∂logits,
// which seeds the backward pass. Softmax and
// stablemax (Prieto et al. 2025) share everything but the map from logits to weights.
//
// Rows i ≥ valid_rows[r] are padding: loss 0, not correct, zero gradient. The mean over
// a run divides by valid_rows[r], so a batch or an evaluation chunk of any size is exact.
// grad_mode: 0 = no gradient, 1 = overwrite dlogits, 2 = add into dlogits.

struct Params {
    runs: u32,
    rows: u32,
    classes: u32,
    grad_mode: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> valid_rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss_rows: array<f32>;
@group(0) @binding(6) var<storage, read_write> correct_rows: array<u32>;

const WG: u32 = 64u;

var<workgroup> red_value: array<f32, WG>;
var<workgroup> red_index: array<u32, WG>;

// Stablemax's positive map s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0), and its derivative.
fn stable_s(x: f32) -> f32 {
    return select(1.0 / (1.0 - x), x + 1.0, x >= 0.0);
}

fn stable_s_prime(x: f32) -> f32 {
    let q = 1.0 / (1.0 - x);
    return select(q * q, 1.0, x >= 0.0);
}

// The row's largest logit and its index, ties to the lowest index (torch.argmax).
// Each thread scans its strided columns in increasing order, then a fixed tree merges.
fn row_max(base: u32, lid: u32) -> vec2<f32> {
    var best = -3.0e38;
    var best_index = 0xffffffffu;
    for (var j = lid; j < params.classes; j += WG) {
        let x = logits[base + j];
        if (x > best || best_index == 0xffffffffu) {
            best = x;
            best_index = j;
        }
    }
    red_value[lid] = best;
    red_index[lid] = best_index;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if (lid < half) {
            let v = red_value[lid + half];
            let k = red_index[lid + half];
            let cur = red_index[lid];
            let wins = k != 0xffffffffu
                && (cur == 0xffffffffu || v > red_value[lid] || (v == red_value[lid] && k < cur));
            if (wins) {
                red_value[lid] = v;
                red_index[lid] = k;
            }
        }
        workgroupBarrier();
    }
    let out = vec2<f32>(red_value[0], bitcast<f32>(red_index[0]));
    workgroupBarrier();
    return out;
}

// Σ over the row of w(x): exp(x − max) for softmax, s(x) for stablemax.
fn row_sum(base: u32, lid: u32, stable: bool, max_logit: f32) -> f32 {
    var acc = 0.0;
    for (var j = lid; j < params.classes; j += WG) {
        let x = logits[base + j];
        acc += select(exp(x - max_logit), stable_s(x), stable);
    }
    red_value[lid] = acc;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if (lid < half) {
            red_value[lid] += red_value[lid + half];
        }
        workgroupBarrier();
    }
    return red_value[0];
}

// The row's loss, correctness and gradient from its max (value, index as bits) and
// total weight: columns lid, lid + stride, … (a workgroup's threads, or one invocation).
fn xent_outputs(row: u32, best: vec2<f32>, total: f32, stable: bool, lid: u32, stride: u32) {
    let run = row / params.rows;
    let valid_count = valid_rows[run];
    let is_valid = row % params.rows < valid_count;
    let base = row * params.classes;
    // Padding rows may hold any target; the clamp keeps their reads in bounds.
    let label = min(targets[row], params.classes - 1u);
    let max_logit = best.x;
    let x_target = logits[base + label];

    if (lid == 0u) {
        // softmax: ln Σ exp(x − max) − (x_t − max); stablemax: ln Σ s − ln s(x_t).
        let loss = select(log(total) - (x_target - max_logit), log(total) - log(stable_s(x_target)), stable);
        loss_rows[row] = select(0.0, loss, is_valid);
        correct_rows[row] = select(0u, 1u, is_valid && bitcast<u32>(best.y) == label);
    }
    if (params.grad_mode == 0u) {
        return;
    }
    // The mean over the run's valid rows gives each row the factor 1/valid_count.
    let scale = select(0.0, 1.0 / f32(max(valid_count, 1u)), is_valid);
    let target_term = select(1.0, stable_s_prime(x_target) / stable_s(x_target), stable);
    for (var j = lid; j < params.classes; j += stride) {
        let x = logits[base + j];
        let weight = select(exp(x - max_logit), stable_s_prime(x), stable);
        let g = (weight / total - select(0.0, target_term, j == label)) * scale;
        let i = base + j;
        if (params.grad_mode == 2u) {
            dlogits[i] = dlogits[i] + g;
        } else {
            dlogits[i] = g;
        }
    }
}

fn xent_row(wid: vec3<u32>, groups: vec3<u32>, lid: u32, stable: bool) {
    let row = wid.x + wid.y * groups.x;
    if (row >= params.runs * params.rows) {
        return;
    }
    let base = row * params.classes;
    let best = row_max(base, lid);
    let total = row_sum(base, lid, stable, best.x);
    xent_outputs(row, best, total, stable, lid, WG);
}

@compute @workgroup_size(64)
fn softmax_xent_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    xent_row(wid, groups, lid, false);
}

@compute @workgroup_size(64)
fn stablemax_xent_forward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    xent_row(wid, groups, lid, true);
}

// ---- the CPU device's variant: one invocation per row ----
//
// A software adapter runs a workgroup's barriers by switching between its SIMD groups,
// and the 64-thread trees above hold ten of them per row. Here each invocation (a SIMD
// lane) walks its row alone, in increasing column order: the same max and argmax (ties
// to the lowest index) and, for the sum of weights, a sequential order instead of the
// tree's, so the loss may differ from the workgroup kernel's in its last bits.

const ROWS_WG: u32 = 8u;

fn xent_row_alone(gid: vec3<u32>, groups: vec3<u32>, stable: bool) {
    let row = gid.x + gid.y * groups.x * ROWS_WG;
    if (row >= params.runs * params.rows) {
        return;
    }
    let base = row * params.classes;
    var best = logits[base];
    var best_index = 0u;
    for (var j = 1u; j < params.classes; j++) {
        let x = logits[base + j];
        if (x > best) {
            best = x;
            best_index = j;
        }
    }
    var total = 0.0;
    for (var j = 0u; j < params.classes; j++) {
        let x = logits[base + j];
        total += select(exp(x - best), stable_s(x), stable);
    }
    xent_outputs(row, vec2<f32>(best, bitcast<f32>(best_index)), total, stable, 0u, 1u);
}

@compute @workgroup_size(ROWS_WG)
fn softmax_xent_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    xent_row_alone(gid, groups, false);
}

@compute @workgroup_size(ROWS_WG)
fn stablemax_xent_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    xent_row_alone(gid, groups, true);
}

// Per-run mean loss and accuracy over the valid rows, what evaluation reads:
// metrics [R, 2] = (mean loss, accuracy). One workgroup per run; each thread sums a
// fixed strided set of rows in order and a fixed tree merges them, so the result is
// deterministic. Correct rows are counted in integers, exactly.

@group(0) @binding(1) var<storage, read> metric_loss_rows: array<f32>;
@group(0) @binding(2) var<storage, read> metric_correct_rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;

const METRICS_WG: u32 = 256u;

var<workgroup> loss_partial: array<f32, METRICS_WG>;
var<workgroup> correct_partial: array<u32, METRICS_WG>;

@compute @workgroup_size(256)
fn loss_metrics(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let run = wid.x;
    let base = run * params.rows;
    var loss = 0.0;
    var correct = 0u;
    for (var i = lid; i < params.rows; i += METRICS_WG) {
        loss += metric_loss_rows[base + i];
        correct += metric_correct_rows[base + i];
    }
    loss_partial[lid] = loss;
    correct_partial[lid] = correct;
    workgroupBarrier();
    for (var half = METRICS_WG / 2u; half > 0u; half /= 2u) {
        if (lid < half) {
            loss_partial[lid] += loss_partial[lid + half];
            correct_partial[lid] += correct_partial[lid + half];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let count = f32(max(valid_rows[run], 1u));
        metrics[2u * run] = loss_partial[0] / count;
        metrics[2u * run + 1u] = f32(correct_partial[0]) / count;
    }
}
