// LayerNorm over the last axis: x [R, rows, d], γ, β [R, d] (one pair per run).
// Optionally of one position only: x [R, rows, T, d] with row i normalizing x[r, i, index]
// (stride T, offset index), the Transformer's final norm with its `select` fused in; y and
// dy are then [R, rows, d], and dx, laid out like x, is zero at the other positions (when
// it is overwritten).
//
// forward  (1 dispatch): y = (x − mean)·rstd·γ + β, rstd = 1/sqrt(var + eps), biased
//          variance from a second pass over (x − mean)²; saves mean and rstd [R·rows].
//          The row is shifted by its first element x₀ before any sum, and the saved
//          `mean` is that of x − x₀: x − mean is then ((x − x₀) − mean), exact up to the
//          small mean, instead of losing eps·|mean| to the rounding of a large mean
//          (measured: 10× smaller errors for rows whose offset dwarfs their spread).
// backward (1 dispatch, two independent jobs over one grid):
//   columns: dγ (+)= Σ_rows dy·x̂, dβ (+)= Σ_rows dy, per run (the first workgroups,
//            the long ones, so they start first);
//   rows:    dx (+)= rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ,
//            x̂ = ((x − x₀) − mean)·rstd, from the saved statistics.
//
// Row jobs: ROW_THREADS consecutive threads share a row (lane l takes columns l,
// l + ROW_THREADS, …), combined by a fixed tree in workgroup memory.
// Column jobs: one workgroup per (run, COL_TILE consecutive columns); its 256 threads
// are COL_TILE columns × (256 / COL_TILE) splits, split s taking rows s, s + splits, …,
// then a fixed tree over the splits. No atomics: every sum has a fixed order.

struct Params {
    runs: u32,
    // rows per run
    rows: u32,
    dim: u32,
    // ceil(dim / COL_TILE), for the column jobs
    tiles: u32,
    eps: f32,
    accumulate_x: u32,
    accumulate_gamma: u32,
    accumulate_beta: u32,
    // backward: workgroups of column jobs (0 or tiles·runs) and of row jobs (0 or more)
    column_groups: u32,
    row_groups: u32,
    // x rows per normalized row (T, or 1) and the normalized one among them
    stride: u32,
    offset: u32,
}

const WG: u32 = 256u;

// Threads per row (forward, row jobs); a power of two dividing 256.
override ROW_THREADS: u32 = 32u;
// Columns per workgroup (column jobs); a power of two dividing 256.
override COL_TILE: u32 = 32u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> b1: array<f32>;
@group(0) @binding(3) var<storage, read> b2: array<f32>;
@group(0) @binding(4) var<storage, read_write> b3: array<f32>;
@group(0) @binding(5) var<storage, read_write> b4: array<f32>;
@group(0) @binding(6) var<storage, read_write> b5: array<f32>;
@group(0) @binding(7) var<storage, read_write> b6: array<f32>;
@group(0) @binding(8) var<storage, read_write> b7: array<f32>;

var<workgroup> lanes: array<vec2<f32>, 256>;

// Sum of `v` over the `count` threads t − pos·step + k·step (k < count) that this thread
// belongs to: the lanes of a row (step 1) or the splits of a column (step COL_TILE).
// A fixed tree order; every thread must call it (it holds barriers).
fn tree_sum(t: u32, pos: u32, count: u32, step: u32, v: vec2<f32>) -> vec2<f32> {
    lanes[t] = v;
    workgroupBarrier();
    for (var stride = count / 2u; stride > 0u; stride /= 2u) {
        if (pos < stride) {
            lanes[t] = lanes[t] + lanes[t + stride * step];
        }
        workgroupBarrier();
    }
    let total = lanes[t - pos * step];
    workgroupBarrier();
    return total;
}

fn row_sum(t: u32, v: vec2<f32>) -> vec2<f32> {
    return tree_sum(t, t % ROW_THREADS, ROW_THREADS, 1u, v);
}

fn group_index(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wg.x + wg.y * groups.x;
}

// Element offset of normalized row `row` in x.
fn x_base(row: u32) -> u32 {
    return (row * params.stride + params.offset) * params.dim;
}

// The row that thread t of row workgroup g works on.
fn row_of(t: u32, g: u32) -> u32 {
    return g * (WG / ROW_THREADS) + t / ROW_THREADS;
}

// b1 = γ, b2 = β; b3 = y, b4 = mean, b5 = rstd.
@compute @workgroup_size(256)
fn layernorm_forward(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row = row_of(t, group_index(wg, groups));
    let lane = t % ROW_THREADS;
    let live = row < params.runs * params.rows;
    let d = params.dim;
    let base = x_base(row);
    let affine = (row / params.rows) * d;
    var shift = 0.0;
    var s = 0.0;
    if (live) {
        shift = x[base];
        for (var c = lane; c < d; c += ROW_THREADS) {
            s += x[base + c] - shift;
        }
    }
    let mean = row_sum(t, vec2(s, 0.0)).x / f32(d);
    var q = 0.0;
    if (live) {
        for (var c = lane; c < d; c += ROW_THREADS) {
            let centered = (x[base + c] - shift) - mean;
            q += centered * centered;
        }
    }
    let rstd = 1.0 / sqrt(row_sum(t, vec2(q, 0.0)).x / f32(d) + params.eps);
    if (live) {
        for (var c = lane; c < d; c += ROW_THREADS) {
            b3[row * d + c] = ((x[base + c] - shift) - mean) * rstd * b1[affine + c] + b2[affine + c];
        }
        if (lane == 0u) {
            b4[row] = mean;
            b5[row] = rstd;
        }
    }
}

// Backward: b1 = γ, b2 = dy, b3 = mean, b4 = rstd (read only); b5 = dx, b6 = dγ, b7 = dβ.
// Workgroups [0, column_groups) are column jobs, the next row_groups are row jobs.
@compute @workgroup_size(256)
fn layernorm_backward(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let g = group_index(wg, groups);
    if (g < params.column_groups) {
        backward_columns(t, g / params.tiles, g % params.tiles);
    } else if (g - params.column_groups < params.row_groups) {
        backward_rows(t, row_of(t, g - params.column_groups));
    }
}

// dx of one row, ROW_THREADS threads per row.
fn backward_rows(t: u32, row: u32) {
    let lane = t % ROW_THREADS;
    let live = row < params.runs * params.rows;
    let d = params.dim;
    let base = x_base(row);
    let dy_base = row * d;
    let affine = (row / params.rows) * d;
    var shift = 0.0;
    var mean = 0.0;
    var rstd = 0.0;
    var sums = vec2(0.0);
    if (live) {
        shift = x[base];
        mean = b3[row];
        rstd = b4[row];
        for (var c = lane; c < d; c += ROW_THREADS) {
            let g = b2[dy_base + c] * b1[affine + c];
            let xhat = ((x[base + c] - shift) - mean) * rstd;
            sums += vec2(g, g * xhat);
        }
    }
    let means = row_sum(t, sums) / f32(d);
    if (live) {
        for (var c = lane; c < d; c += ROW_THREADS) {
            let g = b2[dy_base + c] * b1[affine + c];
            let xhat = ((x[base + c] - shift) - mean) * rstd;
            // With d = 1 the row is its own mean: x̂ = 0 and g = mean(g), so dx is exactly 0.
            // Computed, the compiler may contract g − mean(g) into fma(dy, γ, −mean(g)),
            // leaving the product's rounding, which rstd = 1/√eps then magnifies ~300×.
            let dx = select(rstd * (g - means.x - xhat * means.y), 0.0, d == 1u);
            if (params.accumulate_x != 0u) {
                b5[base + c] = b5[base + c] + dx;
            } else {
                b5[base + c] = dx;
                // The positions this row does not normalize get no gradient from it.
                for (var j = 0u; j < params.stride; j++) {
                    if (j != params.offset) {
                        b5[(row * params.stride + j) * d + c] = 0.0;
                    }
                }
            }
        }
    }
}

// dγ and dβ of COL_TILE columns of one run.
fn backward_columns(t: u32, run: u32, tile: u32) {
    let splits = WG / COL_TILE;
    let split = t / COL_TILE;
    let c = tile * COL_TILE + t % COL_TILE;
    let d = params.dim;
    var sums = vec2(0.0);
    if (c < d) {
        for (var r = split; r < params.rows; r += splits) {
            let row = run * params.rows + r;
            let dy = b2[row * d + c];
            let base = x_base(row);
            let xhat = ((x[base + c] - x[base]) - b3[row]) * b4[row];
            sums += vec2(dy * xhat, dy);
        }
    }
    let total = tree_sum(t, split, splits, COL_TILE, sums);
    if (split == 0u && c < d) {
        let i = run * d + c;
        if (params.accumulate_gamma != 0u) {
            b6[i] = b6[i] + total.x;
        } else {
            b6[i] = total.x;
        }
        if (params.accumulate_beta != 0u) {
            b7[i] = b7[i] + total.y;
        } else {
            b7[i] = total.y;
        }
    }
}
