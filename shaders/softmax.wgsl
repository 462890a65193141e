// Softmax over the last axis of [rows, cols] and its backward.
//
// ROW_THREADS consecutive threads share one row (256 / ROW_THREADS rows per workgroup):
// lane l handles columns l, l + ROW_THREADS, …, and row-wide max/sum come from a fixed
// tree over the lanes in workgroup memory, so results are reproducible bit for bit.
// A short row (attention, T = 4) gets one thread; a long one (logits) up to 256.
//
// forward: y = exp(x − max) / Σ exp(x − max)   (max-subtracted: no overflow)
// backward: dx (+)= y · (dy − Σ y·dy)

struct Params {
    rows: u32,
    cols: u32,
    accumulate: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

// Threads per row; a power of two dividing 256.
override ROW_THREADS: u32 = 32u;

var<workgroup> lanes: array<f32, 256>;

// Sum of `v` over the ROW_THREADS lanes of this thread's row, in a fixed tree order.
// Every thread of the workgroup must call it (it holds barriers).
fn row_sum(t: u32, lane: u32, v: f32) -> f32 {
    lanes[t] = v;
    workgroupBarrier();
    for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
        if (lane < stride) {
            lanes[t] = lanes[t] + lanes[t + stride];
        }
        workgroupBarrier();
    }
    let total = lanes[t - lane];
    workgroupBarrier();
    return total;
}

fn row_max(t: u32, lane: u32, v: f32) -> f32 {
    lanes[t] = v;
    workgroupBarrier();
    for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
        if (lane < stride) {
            lanes[t] = max(lanes[t], lanes[t + stride]);
        }
        workgroupBarrier();
    }
    let total = lanes[t - lane];
    workgroupBarrier();
    return total;
}

// Row handled by thread t; may be ≥ rows in the last workgroup (those threads still
// take part in the barriers but touch no memory).
fn row_of(t: u32, wg: vec3<u32>, groups: vec3<u32>) -> u32 {
    return (wg.x + wg.y * groups.x) * (WG / ROW_THREADS) + t / ROW_THREADS;
}

// a = x, b unused (bound for a uniform layout), out = y.
@compute @workgroup_size(256)
fn softmax_forward(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row = row_of(t, wg, groups);
    let lane = t % ROW_THREADS;
    let live = row < params.rows;
    let base = row * params.cols;
    var m = -3.40282347e38;
    if (live) {
        for (var c = lane; c < params.cols; c += ROW_THREADS) {
            m = max(m, a[base + c]);
        }
    }
    m = row_max(t, lane, m);
    var s = 0.0;
    if (live) {
        for (var c = lane; c < params.cols; c += ROW_THREADS) {
            let e = exp(a[base + c] - m);
            out[base + c] = e;
            s += e;
        }
    }
    s = row_sum(t, lane, s);
    if (live) {
        for (var c = lane; c < params.cols; c += ROW_THREADS) {
            out[base + c] = out[base + c] / s;
        }
    }
}

// a = y (the forward output), b = dy, out = dx.
@compute @workgroup_size(256)
fn softmax_backward(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row = row_of(t, wg, groups);
    let lane = t % ROW_THREADS;
    let live = row < params.rows;
    let base = row * params.cols;
    var dot = 0.0;
    if (live) {
        for (var c = lane; c < params.cols; c += ROW_THREADS) {
            dot += a[base + c] * b[base + c];
        }
    }
    dot = row_sum(t, lane, dot);
    if (live) {
        for (var c = lane; c < params.cols; c += ROW_THREADS) {
            let g = a[base + c] * (b[base + c] - dot);
            if (params.accumulate != 0u) {
                out[base + c] = out[base + c] + g;
            } else {
                out[base + c] = g;
            }
        }
    }
}
