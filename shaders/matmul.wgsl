// Batched matrix products C = op(A)·op(B) in three row-major layouts:
//   A·B   (A [m, k], B [k, n])     TRANSPOSE_A = false, TRANSPOSE_B = false
//   Aᵀ·B  (A [k, m], B [k, n])     TRANSPOSE_A = true
//   A·Bᵀ  (A [m, k], B [n, k])     TRANSPOSE_B = true
// so a backward pass never needs a transpose kernel. Batch z (grid z) is the run axis
// (possibly folded with other leading axes), and each operand has its own batch stride
// (0 broadcasts one matrix to every batch entry).
//
// A launch may compute a second product that shares A (and its gate) with the first:
// op2(A)·op2(B2) → C2, with its own layout (SECOND_TRANSPOSE_A/B) and sizes. This is a
// linear layer's backward, dW = dYᵀ·X and dX = dY·W, in one dispatch: the workgroups
// are numbered over the first product's tiles, then the second's, so the two run side by
// side on the GPU.
//
// Kernel families share the job numbering, the options and the stores below:
// - tiled (GPUs): a workgroup computes a BM×BN tile of C, each invocation a TM×4 block of
//   it held in registers; A and B tiles of depth BK are staged in workgroup memory;
// - staged (GPUs): both operands staged as vec4s, double-buffered, the next tile
//   prefetched into registers, one barrier per k-step; in matmul_staged.wgsl, appended to
//   this file to build its module;
// - SIMD (the CPU device): no workgroup memory and no barriers; see its section at the end;
// - subgroup (the CPU device with 8-lane subgroups): the SIMD family's blocks with A
//   shared through subgroup broadcasts, in matmul_shared.wgsl, which is appended to this
//   file to build its module.
// Every output sums its k products in increasing k order, one fma each, from zero, in
// both families, so results are deterministic and the same whichever variant runs.
//
// Options around the product:
// - prologue gate on A (A_GATE): op(A) is replaced by A ⊙ act'(G), G a tensor laid out
//   like A; this is how a linear layer's backward folds the activation's derivative in.
// - row sums of the first product (ROW_SUMS): also writes Σ_l op(A)[i, l] (after the
//   gate) for each output row i; with A = dY in the Aᵀ·B layout these are a linear
//   layer's bias gradient.
// - epilogue (FIRST_FLAGS, FIRST_ACT), in order: + bias[z, col], save the
//   pre-activation, activation, + residual (laid out like C), and `accumulate` (C +=
//   result instead of C = result). The second product takes only `accumulate`
//   (SECOND_ACCUMULATE).
//
// Split-K (first product only): with SPLIT_K, k is cut into chunks of that
// many (a multiple of 16, so chunk edges never depend on the tile), each chunk a workgroup
// of its own; a chunk stores its raw partial product to C laid out [S, batch, m, n] (and
// its partial row sums to [S, batch, m]), with no epilogue. A later launch finishes it:
// its workgroups after all product tiles sum the S partials of a pending split in the
// fixed order s = 0..S−1 and store (or accumulate) the result and the row sums. A launch
// with `products` = 0 does only that.
//
// The entry points of a family differ only in how A and B are read from memory: `a4`/`b4`
// read vec4s and need that operand's contiguous dimension and batch stride to be
// multiples of 4 (in both products); `a1`/`b1` read scalars and work for any size.
//
// Bounds: the host checks that every binding holds the matrices the sizes imply; the
// tiled loads test each index against m, n and k_end, the SIMD loads clamp theirs, every
// store tests its row and column, and unused bindings are never touched (their options
// are off). No access leaves its binding, so the module is built without injected
// bounds checks.

// One product of a launch.
struct Product {
    m: u32,
    n: u32,
    k: u32,
    a_batch_stride: u32,
    b_batch_stride: u32,
    bias_batch_stride: u32,
    // uniform structs are 16-byte aligned
    _pad0: u32,
    _pad1: u32,
}

struct Params {
    first: Product,
    // used when PAIR
    second: Product,
    // 0 (only a split reduction), 1, or 2 when the launch also computes `second`
    products: u32,
    // depth of each split-K chunk of the first product; 0 when it is not split
    first_k_chunk: u32,
    // the pending split reduction: elements of its product and of its row sums, S, flags
    reduce_count: u32,
    reduce_sums_count: u32,
    reduce_splits: u32,
    reduce_flags: u32,
    _pad0: u32,
    _pad1: u32,
}

const FLAG_BIAS: u32 = 1u;
const FLAG_RESIDUAL: u32 = 2u;
const FLAG_ACCUMULATE: u32 = 4u;
const FLAG_SAVE_PRE: u32 = 8u;
const FLAG_ACCUMULATE_ROW_SUMS: u32 = 16u;

const ACT_NONE: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_GELU: u32 = 2u;

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
// The launch also computes the second product. Without it every `job.second` test folds
// away and the layouts are compile-time constants, as in a plain launch.
override PAIR: bool = false;
override SECOND_TRANSPOSE_A: bool = false;
override SECOND_TRANSPOSE_B: bool = false;
// ACT_NONE, ACT_RELU (A ⊙ [G > 0]) or ACT_GELU (A ⊙ gelu'(G)).
override A_GATE: u32 = 0u;
// The first product writes row sums.
override ROW_SUMS: bool = false;
// The first product's epilogue (FLAG_* bits) and activation (ACT_*), whether the second
// product accumulates, and whether the first is split along k. Compile-time, so each
// pipeline holds only the epilogue it runs: on the CPU device the code of an unused
// option costs nearly as much as running it, in every output's store.
override FIRST_FLAGS: u32 = 0u;
override FIRST_ACT: u32 = 0u;
override SECOND_ACCUMULATE: bool = false;
override SPLIT_K: bool = false;
// Tile shape. BN is a multiple of 4 (each invocation owns 4 adjacent columns), BM a
// multiple of TM, BK and BM multiples of 4 (vec4 loads along either dimension), TM ≤ TM_MAX.
override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override TM: u32 = 4u;

const TM_MAX: u32 = 8u;
override WG_SIZE: u32 = (BN / 4u) * (BM / TM);

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> gate4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
@group(0) @binding(6) var<storage, read_write> c: array<f32>;
@group(0) @binding(7) var<storage, read_write> pre: array<f32>;
@group(0) @binding(8) var<storage, read_write> row_sums: array<f32>;
@group(0) @binding(9) var<storage, read> b_second: array<f32>;
@group(0) @binding(9) var<storage, read> b_second4: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> c_second: array<f32>;
@group(0) @binding(11) var<storage, read> reduce_partials: array<f32>;
@group(0) @binding(12) var<storage, read> reduce_sum_partials: array<f32>;
@group(0) @binding(13) var<storage, read_write> reduce_c: array<f32>;
@group(0) @binding(14) var<storage, read_write> reduce_row_sums: array<f32>;

// Staged rows are padded, A's by one element and B's by one vec4, so that the loads'
// transposing stores (consecutive invocations, consecutive kk) spread over memory banks.
override A_STRIDE: u32 = BM + 1u;
override B_STRIDE: u32 = BN / 4u + 1u;
// a_tile[kk * A_STRIDE + i] = op(A)[row0 + i, k0 + kk]
var<workgroup> a_tile: array<f32, BK * (BM + 1u)>;
// b_tile[kk * B_STRIDE + j][c] = op(B)[k0 + kk, col0 + 4 j + c]
var<workgroup> b_tile: array<vec4<f32>, BK * (BN / 4u + 1u)>;

// ---- activations (a copy of elementwise.wgsl's accurate gelu; WGSL has no includes) ----

fn exp_neg_square(z: f32) -> f32 {
    let zh = floor(z * 256.0) / 256.0;
    return exp(-zh * zh) * exp(-(z - zh) * (z + zh));
}

fn erfc_nonneg(z: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp_neg_square(z) * exp(poly);
}

fn normal_cdf(x: f32) -> f32 {
    let half_erfc = 0.5 * erfc_nonneg(abs(x) * 0.70710678118654752);
    return select(1.0 - half_erfc, half_erfc, x < 0.0);
}

fn gelu(x: f32) -> f32 {
    return x * normal_cdf(x);
}

fn gelu_grad(x: f32) -> f32 {
    let pdf = 0.39894228040143268 * exp_neg_square(abs(x) * 0.70710678118654752);
    return normal_cdf(x) + x * pdf;
}

fn activate(x: f32, act: u32) -> f32 {
    switch act {
        case ACT_RELU: { return max(x, 0.0); }
        case ACT_GELU: { return gelu(x); }
        default: { return x; }
    }
}

// v ⊙ act'(g), the gradient through an activation whose pre-activation is g.
fn gated(v: f32, g: f32) -> f32 {
    switch A_GATE {
        case ACT_RELU: { return select(0.0, v, g > 0.0); }
        case ACT_GELU: { return v * gelu_grad(g); }
        default: { return v; }
    }
}

// ---- which tile of which product a workgroup computes ----

struct Job {
    p: Product,
    second: bool,
    // op(A) and op(B) read transposed
    ta: bool,
    tb: bool,
    row0: u32,
    col0: u32,
    // the k range summed: all of k, or one split-K chunk (`split` its index)
    k_begin: u32,
    k_end: u32,
    splitting: bool,
    split: u32,
    // false for reduction workgroups and the spare ones of a grid folded into two dimensions
    valid: bool,
    // a workgroup of the pending split reduction, `reducer` its index
    reduces: bool,
    reducer: u32,
}

fn tile_count(p: Product) -> u32 {
    return ((p.m + BM - 1u) / BM) * ((p.n + BN - 1u) / BN);
}

fn first_splits() -> u32 {
    let chunk = params.first_k_chunk;
    return select(1u, (params.first.k + chunk - 1u) / chunk, chunk > 0u);
}

// Workgroups are numbered: the first product's tiles (along n first, then chunk by
// chunk), the second's, then the reduction's.
fn job_of(wg: vec3<u32>, groups: vec3<u32>) -> Job {
    var t = wg.x + wg.y * groups.x;
    var p = params.first;
    var second = false;
    let first_tiles = select(0u, tile_count(p) * first_splits(), params.products > 0u);
    var valid = t < first_tiles;
    var split = 0u;
    if (valid) {
        split = t / tile_count(p);
        t = t % tile_count(p);
    } else {
        t -= first_tiles;
        if (PAIR && params.products == 2u) {
            p = params.second;
            second = true;
            valid = t < tile_count(p);
            if (!valid) {
                t -= tile_count(p);
            }
        }
    }
    let splitting = SPLIT_K && !second;
    var k_begin = 0u;
    var k_end = p.k;
    if (splitting) {
        k_begin = split * params.first_k_chunk;
        k_end = min(p.k, k_begin + params.first_k_chunk);
    }
    let cols = (p.n + BN - 1u) / BN;
    let ta = select(TRANSPOSE_A, SECOND_TRANSPOSE_A, second);
    let tb = select(TRANSPOSE_B, SECOND_TRANSPOSE_B, second);
    return Job(p, second, ta, tb, (t / cols) * BM, (t % cols) * BN, k_begin, k_end, splitting, split, valid, !valid, t);
}

// One element of the pending split reduction: Σ_s partials[s] in order s = 0..S−1. The
// reduction's workgroups are spread over the grid's z slices.
fn reduce_split(job: Job, z: u32, batches: u32, li: u32) {
    let count = params.reduce_count;
    let total = count + params.reduce_sums_count;
    let per_workgroup_row = WG_SIZE * batches;
    let reducers = (total + per_workgroup_row - 1u) / per_workgroup_row;
    if (job.reducer >= reducers) {
        return;
    }
    let e = (z * reducers + job.reducer) * WG_SIZE + li;
    if (e < count) {
        var v = 0.0;
        for (var s = 0u; s < params.reduce_splits; s++) {
            v += reduce_partials[s * count + e];
        }
        if ((params.reduce_flags & FLAG_ACCUMULATE) != 0u) {
            v += reduce_c[e];
        }
        reduce_c[e] = v;
    } else if (e < total) {
        let r = e - count;
        var v = 0.0;
        for (var s = 0u; s < params.reduce_splits; s++) {
            v += reduce_sum_partials[s * params.reduce_sums_count + r];
        }
        if ((params.reduce_flags & FLAG_ACCUMULATE_ROW_SUMS) != 0u) {
            v += reduce_row_sums[r];
        }
        reduce_row_sums[r] = v;
    }
}

// The invocations that sum rows: the first column of the leftmost tiles.
fn sums_rows(job: Job, lid: vec3<u32>) -> bool {
    return ROW_SUMS && !job.second && job.col0 == 0u && lid.x == 0u;
}

// ---- tile loads: out-of-range elements are zero, so partial tiles need no other care ----

// Element offset of op(A)[row, kg] in batch z.
fn a_offset(job: Job, z: u32, row: u32, kg: u32) -> u32 {
    if (job.ta) {
        return z * job.p.a_batch_stride + kg * job.p.m + row;
    }
    return z * job.p.a_batch_stride + row * job.p.k + kg;
}

// Element offset of op(B)[kg, col] in batch z.
fn b_offset(job: Job, z: u32, kg: u32, col: u32) -> u32 {
    if (job.tb) {
        return z * job.p.b_batch_stride + col * job.p.k + kg;
    }
    return z * job.p.b_batch_stride + kg * job.p.n + col;
}

fn b_scalar(job: Job, at: u32) -> f32 {
    if (job.second) {
        return b_second[at];
    }
    return b[at];
}

fn b_quad(job: Job, at: u32) -> vec4<f32> {
    if (job.second) {
        return b_second4[at];
    }
    return b4[at];
}

fn load_a_scalar(job: Job, z: u32, k0: u32, li: u32) {
    for (var e = li; e < BM * BK; e += WG_SIZE) {
        // Consecutive invocations walk A's contiguous dimension.
        var i = e / BK;
        var kk = e % BK;
        if (job.ta) {
            i = e % BM;
            kk = e / BM;
        }
        var v = 0.0;
        if (job.row0 + i < job.p.m && k0 + kk < job.k_end) {
            let at = a_offset(job, z, job.row0 + i, k0 + kk);
            v = a[at];
            if (A_GATE != ACT_NONE) {
                v = gated(v, gate[at]);
            }
        }
        a_tile[kk * A_STRIDE + i] = v;
    }
}

fn load_a_vec4(job: Job, z: u32, k0: u32, li: u32) {
    for (var e = li; e < BM * BK / 4u; e += WG_SIZE) {
        // The quad runs along A's contiguous dimension: k normally, m when transposed.
        var i = e / (BK / 4u);
        var kk = 4u * (e % (BK / 4u));
        var step = vec2<u32>(0u, 1u);
        if (job.ta) {
            i = 4u * (e % (BM / 4u));
            kk = e / (BM / 4u);
            step = vec2<u32>(1u, 0u);
        }
        // Both sizes along the quad are multiples of 4, so its first element decides.
        var v = vec4<f32>(0.0);
        if (job.row0 + i < job.p.m && k0 + kk < job.k_end) {
            let at = a_offset(job, z, job.row0 + i, k0 + kk) / 4u;
            v = a4[at];
            if (A_GATE != ACT_NONE) {
                let g = gate4[at];
                v = vec4<f32>(gated(v.x, g.x), gated(v.y, g.y), gated(v.z, g.z), gated(v.w, g.w));
            }
        }
        for (var q = 0u; q < 4u; q++) {
            a_tile[(kk + q * step.y) * A_STRIDE + i + q * step.x] = v[q];
        }
    }
}

fn load_b_scalar(job: Job, z: u32, k0: u32, li: u32) {
    for (var e = li; e < BK * BN; e += WG_SIZE) {
        var j = e % BN;
        var kk = e / BN;
        if (job.tb) {
            j = e / BK;
            kk = e % BK;
        }
        var v = 0.0;
        if (job.col0 + j < job.p.n && k0 + kk < job.k_end) {
            v = b_scalar(job, b_offset(job, z, k0 + kk, job.col0 + j));
        }
        b_tile[kk * B_STRIDE + j / 4u][j % 4u] = v;
    }
}

fn load_b_vec4(job: Job, z: u32, k0: u32, li: u32) {
    for (var e = li; e < BK * BN / 4u; e += WG_SIZE) {
        if (job.tb) {
            let j = e / (BK / 4u);
            let kk = 4u * (e % (BK / 4u));
            var v = vec4<f32>(0.0);
            if (job.col0 + j < job.p.n && k0 + kk < job.k_end) {
                v = b_quad(job, b_offset(job, z, k0 + kk, job.col0 + j) / 4u);
            }
            for (var q = 0u; q < 4u; q++) {
                b_tile[(kk + q) * B_STRIDE + j / 4u][j % 4u] = v[q];
            }
        } else {
            let j4 = e % (BN / 4u);
            let kk = e / (BN / 4u);
            var v = vec4<f32>(0.0);
            if (job.col0 + 4u * j4 < job.p.n && k0 + kk < job.k_end) {
                v = b_quad(job, b_offset(job, z, k0 + kk, job.col0 + 4u * j4) / 4u);
            }
            b_tile[kk * B_STRIDE + j4] = v;
        }
    }
}

// ---- the product and the epilogue ----

// acc[i] += Σ_kk a_tile[kk, row i] · b_tile[kk, my 4 columns] over the staged depth.
fn multiply_tile(
    lid: vec3<u32>,
    acc: ptr<function, array<vec4<f32>, TM_MAX>>,
    sums: ptr<function, array<f32, TM_MAX>>,
    sum_rows: bool,
) {
    for (var kk = 0u; kk < BK; kk++) {
        let bv = b_tile[kk * B_STRIDE + lid.x];
        for (var i = 0u; i < TM; i++) {
            let av = a_tile[kk * A_STRIDE + lid.y * TM + i];
            (*acc)[i] = fma(vec4<f32>(av), bv, (*acc)[i]);
            if (ROW_SUMS && sum_rows) {
                (*sums)[i] += av;
            }
        }
    }
}

fn store(job: Job, at: u32, v: f32) {
    let accumulate = select((FIRST_FLAGS & FLAG_ACCUMULATE) != 0u, SECOND_ACCUMULATE, job.second);
    if (job.second) {
        if (accumulate) {
            c_second[at] = c_second[at] + v;
        } else {
            c_second[at] = v;
        }
    } else if (accumulate) {
        c[at] = c[at] + v;
    } else {
        c[at] = v;
    }
}

// One output element of C (or of a split-K partial), through the epilogue.
fn store_output(job: Job, z: u32, batches: u32, row: u32, col: u32, value: f32) {
    let p = job.p;
    if (job.splitting) {
        c[((job.split * batches + z) * p.m + row) * p.n + col] = value;
        return;
    }
    let at = (z * p.m + row) * p.n + col;
    var v = value;
    // The second product takes only `accumulate` (in `store`).
    let flags = select(FIRST_FLAGS, 0u, job.second);
    if ((flags & FLAG_BIAS) != 0u) {
        v += bias[z * p.bias_batch_stride + col];
    }
    if ((flags & FLAG_SAVE_PRE) != 0u) {
        pre[at] = v;
    }
    if (!job.second) {
        v = activate(v, FIRST_ACT);
    }
    if ((flags & FLAG_RESIDUAL) != 0u) {
        v += residual[at];
    }
    store(job, at, v);
}

// One row sum of op(A) (or of a split-K partial).
fn store_row_sum(job: Job, z: u32, batches: u32, row: u32, sum: f32) {
    let p = job.p;
    if (job.splitting) {
        row_sums[(job.split * batches + z) * p.m + row] = sum;
        return;
    }
    let at = z * p.m + row;
    if ((FIRST_FLAGS & FLAG_ACCUMULATE_ROW_SUMS) != 0u) {
        row_sums[at] = row_sums[at] + sum;
    } else {
        row_sums[at] = sum;
    }
}

fn store_tile(
    job: Job,
    z: u32,
    batches: u32,
    lid: vec3<u32>,
    acc: ptr<function, array<vec4<f32>, TM_MAX>>,
    sums: ptr<function, array<f32, TM_MAX>>,
    sum_rows: bool,
) {
    for (var i = 0u; i < TM; i++) {
        let row = job.row0 + lid.y * TM + i;
        if (row >= job.p.m) {
            break;
        }
        if (ROW_SUMS && sum_rows) {
            store_row_sum(job, z, batches, row, (*sums)[i]);
        }
        for (var q = 0u; q < 4u; q++) {
            let col = job.col0 + 4u * lid.x + q;
            if (col >= job.p.n) {
                break;
            }
            store_output(job, z, batches, row, col, (*acc)[i][q]);
        }
    }
}

// ---- entry points: one per (A read width, B read width); the bodies are identical ----

@compute @workgroup_size(BN / 4u, BM / TM)
fn matmul_a1_b1(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (!job.valid) {
        return;
    }
    var acc: array<vec4<f32>, TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        load_a_scalar(job, wg.z, k0, li);
        load_b_scalar(job, wg.z, k0, li);
        workgroupBarrier();
        multiply_tile(lid, &acc, &sums, sum_rows);
        workgroupBarrier();
    }
    store_tile(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

@compute @workgroup_size(BN / 4u, BM / TM)
fn matmul_a4_b1(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (!job.valid) {
        return;
    }
    var acc: array<vec4<f32>, TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        load_a_vec4(job, wg.z, k0, li);
        load_b_scalar(job, wg.z, k0, li);
        workgroupBarrier();
        multiply_tile(lid, &acc, &sums, sum_rows);
        workgroupBarrier();
    }
    store_tile(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

@compute @workgroup_size(BN / 4u, BM / TM)
fn matmul_a1_b4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (!job.valid) {
        return;
    }
    var acc: array<vec4<f32>, TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        load_a_scalar(job, wg.z, k0, li);
        load_b_vec4(job, wg.z, k0, li);
        workgroupBarrier();
        multiply_tile(lid, &acc, &sums, sum_rows);
        workgroupBarrier();
    }
    store_tile(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

@compute @workgroup_size(BN / 4u, BM / TM)
fn matmul_a4_b4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (!job.valid) {
        return;
    }
    var acc: array<vec4<f32>, TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        load_a_vec4(job, wg.z, k0, li);
        load_b_vec4(job, wg.z, k0, li);
        workgroupBarrier();
        multiply_tile(lid, &acc, &sums, sum_rows);
        workgroupBarrier();
    }
    store_tile(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

// ---- the CPU-device family: no workgroup memory, no barriers ----
//
// A software adapter (lavapipe) runs a workgroup's invocations as the lanes of one SIMD
// register; workgroup memory and barriers only cost it. Here a workgroup of WG_SIZE
// invocations computes BM = TM rows × BN = 8·WG_SIZE columns: every invocation the same
// TM rows and its own 8 adjacent columns, so the A values are uniform across the
// workgroup (one scalar load each, broadcast to the lanes), and B's are two vec4s per k
// in `matmul_simd_b4`. The host sets BM, BN, TM and WG_SIZE to match.
//
// Bounds guarantee: every row index is clamped to m − 1, every column to n − 1 (or a
// quad's first column to n − 4; n is a multiple of 4 there), and k stays inside
// [k_begin, k_end) ⊆ [0, k); the host checks each binding holds its matrices. So no load
// leaves its binding; clamped rows and columns are computed and never stored. The
// module is built without injected bounds checks on that guarantee.
//
// Each output sums its k terms with one fma per term in increasing k from zero, as the
// tiled kernel does, so the two families give bit-identical products and row sums.

const SIMD_COLS: u32 = 8u;
// Rows one invocation may hold: TM_MAX in this family, up to 24 in the subgroup family
// (matmul_shared.wgsl), which shares the accumulators' layout and `simd_store`.
const SIMD_ROWS_MAX: u32 = 24u;
// accumulators per invocation: two vec4s per row
const SIMD_ACC: u32 = 2u * SIMD_ROWS_MAX;

// Where op(A)[row, k] lies for the block's TM rows: a_at[i] + k · a_k_step. Rows past m
// are clamped to m − 1 (computed, never stored).
struct SimdRows {
    a_at: array<u32, TM_MAX>,
    a_k_step: u32,
}

fn simd_rows(job: Job, z: u32) -> SimdRows {
    var r: SimdRows;
    for (var i = 0u; i < TM; i++) {
        r.a_at[i] = a_offset(job, z, min(job.row0 + i, job.p.m - 1u), 0u);
    }
    r.a_k_step = select(1u, job.p.m, job.ta);
    return r;
}

// acc[2i], acc[2i + 1] += op(A)[row0 + i, kg] · (b_lo, b_hi) for the TM rows; the row
// sums gather op(A) too.
fn simd_step(
    rows: SimdRows,
    kg: u32,
    b_lo: vec4<f32>,
    b_hi: vec4<f32>,
    acc: ptr<function, array<vec4<f32>, SIMD_ACC>>,
    sums: ptr<function, array<f32, SIMD_ROWS_MAX>>,
) {
    let k_at = kg * rows.a_k_step;
    for (var i = 0u; i < TM; i++) {
        let at = rows.a_at[i] + k_at;
        var av = a[at];
        if (A_GATE != ACT_NONE) {
            av = gated(av, gate[at]);
        }
        (*acc)[2u * i] = fma(vec4<f32>(av), b_lo, (*acc)[2u * i]);
        (*acc)[2u * i + 1u] = fma(vec4<f32>(av), b_hi, (*acc)[2u * i + 1u]);
        if (ROW_SUMS) {
            (*sums)[i] += av;
        }
    }
}

// Row i of the block: its 8 columns are `lo` and `hi`.
fn simd_store_row(job: Job, z: u32, batches: u32, lane: u32, i: u32, lo: vec4<f32>, hi: vec4<f32>, sum: f32) {
    let row = job.row0 + i;
    if (i >= TM || row >= job.p.m) {
        return;
    }
    if (sums_rows(job, vec3<u32>(lane, 0u, 0u))) {
        store_row_sum(job, z, batches, row, sum);
    }
    let col_base = job.col0 + SIMD_COLS * lane;
    for (var c = 0u; c < SIMD_COLS; c++) {
        if (col_base + c < job.p.n) {
            store_output(job, z, batches, row, col_base + c, select(hi, lo, c < 4u)[c % 4u]);
        }
    }
}

// Every row written out, so each index into `acc` is a constant: a loop over the rows
// that the compiler does not unroll (a long one) would make the CPU device keep all the
// accumulators in memory indexed at run time, in the product's loop too.
fn simd_store(
    job: Job,
    z: u32,
    batches: u32,
    lane: u32,
    acc: ptr<function, array<vec4<f32>, SIMD_ACC>>,
    sums: ptr<function, array<f32, SIMD_ROWS_MAX>>,
) {
    simd_store_row(job, z, batches, lane, 0u, (*acc)[0], (*acc)[1], (*sums)[0]);
    simd_store_row(job, z, batches, lane, 1u, (*acc)[2], (*acc)[3], (*sums)[1]);
    simd_store_row(job, z, batches, lane, 2u, (*acc)[4], (*acc)[5], (*sums)[2]);
    simd_store_row(job, z, batches, lane, 3u, (*acc)[6], (*acc)[7], (*sums)[3]);
    simd_store_row(job, z, batches, lane, 4u, (*acc)[8], (*acc)[9], (*sums)[4]);
    simd_store_row(job, z, batches, lane, 5u, (*acc)[10], (*acc)[11], (*sums)[5]);
    simd_store_row(job, z, batches, lane, 6u, (*acc)[12], (*acc)[13], (*sums)[6]);
    simd_store_row(job, z, batches, lane, 7u, (*acc)[14], (*acc)[15], (*sums)[7]);
    simd_store_row(job, z, batches, lane, 8u, (*acc)[16], (*acc)[17], (*sums)[8]);
    simd_store_row(job, z, batches, lane, 9u, (*acc)[18], (*acc)[19], (*sums)[9]);
    simd_store_row(job, z, batches, lane, 10u, (*acc)[20], (*acc)[21], (*sums)[10]);
    simd_store_row(job, z, batches, lane, 11u, (*acc)[22], (*acc)[23], (*sums)[11]);
    simd_store_row(job, z, batches, lane, 12u, (*acc)[24], (*acc)[25], (*sums)[12]);
    simd_store_row(job, z, batches, lane, 13u, (*acc)[26], (*acc)[27], (*sums)[13]);
    simd_store_row(job, z, batches, lane, 14u, (*acc)[28], (*acc)[29], (*sums)[14]);
    simd_store_row(job, z, batches, lane, 15u, (*acc)[30], (*acc)[31], (*sums)[15]);
    simd_store_row(job, z, batches, lane, 16u, (*acc)[32], (*acc)[33], (*sums)[16]);
    simd_store_row(job, z, batches, lane, 17u, (*acc)[34], (*acc)[35], (*sums)[17]);
    simd_store_row(job, z, batches, lane, 18u, (*acc)[36], (*acc)[37], (*sums)[18]);
    simd_store_row(job, z, batches, lane, 19u, (*acc)[38], (*acc)[39], (*sums)[19]);
    simd_store_row(job, z, batches, lane, 20u, (*acc)[40], (*acc)[41], (*sums)[20]);
    simd_store_row(job, z, batches, lane, 21u, (*acc)[42], (*acc)[43], (*sums)[21]);
    simd_store_row(job, z, batches, lane, 22u, (*acc)[44], (*acc)[45], (*sums)[22]);
    simd_store_row(job, z, batches, lane, 23u, (*acc)[46], (*acc)[47], (*sums)[23]);
}

// B read as scalars: any size. Columns past n are clamped to n − 1.
fn simd_tile_b1(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    let rows = simd_rows(job, z);
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    for (var kg = job.k_begin; kg < job.k_end; kg++) {
        var bs: array<f32, SIMD_COLS>;
        for (var c = 0u; c < SIMD_COLS; c++) {
            bs[c] = b_scalar(job, b_offset(job, z, kg, min(col_base + c, job.p.n - 1u)));
        }
        simd_step(rows, kg, vec4<f32>(bs[0], bs[1], bs[2], bs[3]), vec4<f32>(bs[4], bs[5], bs[6], bs[7]), &acc, &sums);
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

// B read as vec4s: along n for A·B and Aᵀ·B (n a multiple of 4: a quad's first column is
// clamped to n − 4), along k for A·Bᵀ (k a multiple of 4, and so are k_begin and k_end).
fn simd_tile_b4(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    let rows = simd_rows(job, z);
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    if (job.tb) {
        for (var k0 = job.k_begin; k0 < job.k_end; k0 += 4u) {
            // bq[c][kk] = op(B)[k0 + kk, column c]
            var bq: array<vec4<f32>, SIMD_COLS>;
            for (var c = 0u; c < SIMD_COLS; c++) {
                bq[c] = b_quad(job, b_offset(job, z, k0, min(col_base + c, job.p.n - 1u)) / 4u);
            }
            // Written out, so every index is a constant and bq stays in registers.
            simd_step(rows, k0, vec4<f32>(bq[0].x, bq[1].x, bq[2].x, bq[3].x), vec4<f32>(bq[4].x, bq[5].x, bq[6].x, bq[7].x), &acc, &sums);
            simd_step(rows, k0 + 1u, vec4<f32>(bq[0].y, bq[1].y, bq[2].y, bq[3].y), vec4<f32>(bq[4].y, bq[5].y, bq[6].y, bq[7].y), &acc, &sums);
            simd_step(rows, k0 + 2u, vec4<f32>(bq[0].z, bq[1].z, bq[2].z, bq[3].z), vec4<f32>(bq[4].z, bq[5].z, bq[6].z, bq[7].z), &acc, &sums);
            simd_step(rows, k0 + 3u, vec4<f32>(bq[0].w, bq[1].w, bq[2].w, bq[3].w), vec4<f32>(bq[4].w, bq[5].w, bq[6].w, bq[7].w), &acc, &sums);
        }
    } else {
        let q_lo = min(col_base, job.p.n - 4u);
        let q_hi = min(col_base + 4u, job.p.n - 4u);
        for (var kg = job.k_begin; kg < job.k_end; kg++) {
            let b_lo = b_quad(job, b_offset(job, z, kg, q_lo) / 4u);
            let b_hi = b_quad(job, b_offset(job, z, kg, q_hi) / 4u);
            simd_step(rows, kg, b_lo, b_hi, &acc, &sums);
        }
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

// `job` with its product's role, layout and split as constants, so each call of a tile
// function is compiled for one product of a pair: with them known only at run time, the
// CPU device runs both layouts' code in every load.
fn as_first(job: Job) -> Job {
    var j = job;
    j.second = false;
    j.ta = TRANSPOSE_A;
    j.tb = TRANSPOSE_B;
    j.splitting = SPLIT_K;
    return j;
}

fn as_second(job: Job) -> Job {
    var j = job;
    j.second = true;
    j.ta = SECOND_TRANSPOSE_A;
    j.tb = SECOND_TRANSPOSE_B;
    j.splitting = false;
    return j;
}

@compute @workgroup_size(WG_SIZE)
fn matmul_simd_b1(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (PAIR && job.valid && job.second) {
        simd_tile_b1(as_second(job), wg.z, groups.z, li);
    } else if (job.valid) {
        simd_tile_b1(as_first(job), wg.z, groups.z, li);
    }
}

@compute @workgroup_size(WG_SIZE)
fn matmul_simd_b4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
        return;
    }
    if (PAIR && job.valid && job.second) {
        simd_tile_b4(as_second(job), wg.z, groups.z, li);
    } else if (job.valid) {
        simd_tile_b4(as_first(job), wg.z, groups.z, li);
    }
}
