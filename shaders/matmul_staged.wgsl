
// ---- the staged GPU family (matmul_staged.wgsl) ----
//
// This file is appended to matmul.wgsl (WGSL has no includes) to build a module of its own.
//
// A workgroup computes a BM×BN tile of C, each invocation a TM×TN block of it (TN = 4 or
// 8 adjacent columns, TM = 4 or 8 adjacent rows) held in registers. Both operands are
// staged in workgroup memory as vec4s: A transposed (four adjacent rows at one k), B as
// it is (four adjacent columns at one k), so every read of the product's inner loop is a
// vec4. Staging is double-buffered: while the tile of depth BK in one buffer is
// multiplied, the next tile is already in registers (loaded from memory before the
// product) and is written to the other buffer after it, so a k-step needs one barrier.
// The host sets BM, BN, BK, TM, TN and WG_SIZE = (BN / TN)·(BM / TM).
//
// Operands move in units of 4×4 values: four vec4 loads along the operand's contiguous
// dimension (or 16 scalar loads in the `a1`/`b1` entries), transposed in registers when
// that dimension is k, stored as four vec4s. Out-of-range values are zero (the tiled
// family's rule), so partial tiles need no other care; every index is tested against m,
// n and k_end before it is read, and against m and n before a store.
//
// Each output sums its k terms with one fma per term in increasing k from zero, so this
// family gives the same bits as the others.

override TN: u32 = 8u;
const TN_MAX: u32 = 8u;
// A's units per tile (BM/4 · BK/4) and B's (BN/4 · BK/4), spread over the invocations.
override STAGED_A_UNITS: u32 = BM * BK / 16u;
override STAGED_B_UNITS: u32 = BN * BK / 16u;
// Units one invocation carries (at most).
const STAGED_UNITS_MAX: u32 = 4u;

// staged_a[buffer][kk][i4] = op(A)[row0 + 4·i4 … +3, k0 + kk]
var<workgroup> staged_a: array<vec4<f32>, 2u * BK * BM / 4u>;
// staged_b[buffer][kk][j4] = op(B)[k0 + kk, col0 + 4·j4 … +3]
var<workgroup> staged_b: array<vec4<f32>, 2u * BK * BN / 4u>;

// One 4×4 unit of an operand: u[r] holds four values adjacent along m (A) or n (B) at
// k step kk0 + r.
struct Unit {
    v: array<vec4<f32>, 4>,
}

// Unit `e` of A's tile at k0, as (first row, first k) within the tile: units run along
// A's contiguous dimension first, so neighbouring invocations read neighbouring memory.
fn a_unit_origin(job: Job, e: u32) -> vec2<u32> {
    if (job.ta) {
        return vec2<u32>(4u * (e % (BM / 4u)), 4u * (e / (BM / 4u)));
    }
    return vec2<u32>(4u * (e / (BK / 4u)), 4u * (e % (BK / 4u)));
}

fn a_value(job: Job, z: u32, row: u32, kg: u32) -> f32 {
    if (row >= job.p.m || kg >= job.k_end) {
        return 0.0;
    }
    let at = a_offset(job, z, row, kg);
    return gated(a[at], select(0.0, gate[at], A_GATE != ACT_NONE));
}

// Four values of A along its contiguous dimension from (row, kg), read as one vec4 (that
// dimension is a multiple of 4, so the first value's test covers the quad).
fn a_quad(job: Job, z: u32, row: u32, kg: u32) -> vec4<f32> {
    if (row >= job.p.m || kg >= job.k_end) {
        return vec4<f32>(0.0);
    }
    let at = a_offset(job, z, row, kg) / 4u;
    let v = a4[at];
    if (A_GATE == ACT_NONE) {
        return v;
    }
    let g = gate4[at];
    return vec4<f32>(gated(v.x, g.x), gated(v.y, g.y), gated(v.z, g.z), gated(v.w, g.w));
}

fn load_a_unit1(job: Job, z: u32, k0: u32, e: u32) -> Unit {
    let o = a_unit_origin(job, e);
    var u: Unit;
    for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) {
            u.v[r][c] = a_value(job, z, job.row0 + o.x + c, k0 + o.y + r);
        }
    }
    return u;
}

fn load_a_unit4(job: Job, z: u32, k0: u32, e: u32) -> Unit {
    let o = a_unit_origin(job, e);
    var u: Unit;
    if (job.ta) {
        // quads along m: already four rows at one k
        for (var r = 0u; r < 4u; r++) {
            u.v[r] = a_quad(job, z, job.row0 + o.x, k0 + o.y + r);
        }
    } else {
        // quads along k: one per row, transposed
        var q: array<vec4<f32>, 4>;
        for (var c = 0u; c < 4u; c++) {
            q[c] = a_quad(job, z, job.row0 + o.x + c, k0 + o.y);
        }
        for (var r = 0u; r < 4u; r++) {
            u.v[r] = vec4<f32>(q[0][r], q[1][r], q[2][r], q[3][r]);
        }
    }
    return u;
}

// Unit `e` of B's tile at k0, as (first column, first k) within the tile.
fn b_unit_origin(job: Job, e: u32) -> vec2<u32> {
    if (job.tb) {
        return vec2<u32>(4u * (e / (BK / 4u)), 4u * (e % (BK / 4u)));
    }
    return vec2<u32>(4u * (e % (BN / 4u)), 4u * (e / (BN / 4u)));
}

fn b_value(job: Job, z: u32, kg: u32, col: u32) -> f32 {
    if (col >= job.p.n || kg >= job.k_end) {
        return 0.0;
    }
    return b_scalar(job, b_offset(job, z, kg, col));
}

fn b_quad_at(job: Job, z: u32, kg: u32, col: u32) -> vec4<f32> {
    if (col >= job.p.n || kg >= job.k_end) {
        return vec4<f32>(0.0);
    }
    return b_quad(job, b_offset(job, z, kg, col) / 4u);
}

fn load_b_unit1(job: Job, z: u32, k0: u32, e: u32) -> Unit {
    let o = b_unit_origin(job, e);
    var u: Unit;
    for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) {
            u.v[r][c] = b_value(job, z, k0 + o.y + r, job.col0 + o.x + c);
        }
    }
    return u;
}

fn load_b_unit4(job: Job, z: u32, k0: u32, e: u32) -> Unit {
    let o = b_unit_origin(job, e);
    var u: Unit;
    if (job.tb) {
        // quads along k: one per column, transposed
        var q: array<vec4<f32>, 4>;
        for (var c = 0u; c < 4u; c++) {
            q[c] = b_quad_at(job, z, k0 + o.y, job.col0 + o.x + c);
        }
        for (var r = 0u; r < 4u; r++) {
            u.v[r] = vec4<f32>(q[0][r], q[1][r], q[2][r], q[3][r]);
        }
    } else {
        for (var r = 0u; r < 4u; r++) {
            u.v[r] = b_quad_at(job, z, k0 + o.y + r, job.col0 + o.x);
        }
    }
    return u;
}

// The units an invocation carries from memory to the staging buffers.
struct Carried {
    a: array<Unit, STAGED_UNITS_MAX>,
    b: array<Unit, STAGED_UNITS_MAX>,
}

fn stage(job: Job, buffer: u32, li: u32, carried: ptr<function, Carried>) {
    for (var s = 0u; s < STAGED_UNITS_MAX; s++) {
        let e = li + s * WG_SIZE;
        if (e < STAGED_A_UNITS) {
            let o = a_unit_origin(job, e);
            for (var r = 0u; r < 4u; r++) {
                staged_a[(buffer * BK + o.y + r) * (BM / 4u) + o.x / 4u] = (*carried).a[s].v[r];
            }
        }
        if (e < STAGED_B_UNITS) {
            let o = b_unit_origin(job, e);
            for (var r = 0u; r < 4u; r++) {
                staged_b[(buffer * BK + o.y + r) * (BN / 4u) + o.x / 4u] = (*carried).b[s].v[r];
            }
        }
    }
}

// acc[i·(TN/4) + q] += row i of my block × my columns 4q … 4q+3, over one staged tile.
fn staged_multiply(
    buffer: u32,
    lid: vec3<u32>,
    acc: ptr<function, array<vec4<f32>, 2u * TM_MAX>>,
    sums: ptr<function, array<f32, TM_MAX>>,
    sum_rows: bool,
) {
    for (var kk = 0u; kk < BK; kk++) {
        let a_row = (buffer * BK + kk) * (BM / 4u) + lid.y * (TM / 4u);
        let b_row = (buffer * BK + kk) * (BN / 4u) + lid.x * (TN / 4u);
        var bv: array<vec4<f32>, 2>;
        for (var q = 0u; q < TN / 4u; q++) {
            bv[q] = staged_b[b_row + q];
        }
        for (var i4 = 0u; i4 < TM / 4u; i4++) {
            let av = staged_a[a_row + i4];
            for (var c = 0u; c < 4u; c++) {
                let i = 4u * i4 + c;
                for (var q = 0u; q < TN / 4u; q++) {
                    (*acc)[i * (TN / 4u) + q] = fma(vec4<f32>(av[c]), bv[q], (*acc)[i * (TN / 4u) + q]);
                }
                if (ROW_SUMS && sum_rows) {
                    (*sums)[i] += av[c];
                }
            }
        }
    }
}

fn staged_store(
    job: Job,
    z: u32,
    batches: u32,
    lid: vec3<u32>,
    acc: ptr<function, array<vec4<f32>, 2u * TM_MAX>>,
    sums: ptr<function, array<f32, TM_MAX>>,
    sum_rows: bool,
) {
    for (var i = 0u; i < TM; i++) {
        let row = job.row0 + lid.y * TM + i;
        if (row < job.p.m) {
            if (ROW_SUMS && sum_rows) {
                store_row_sum(job, z, batches, row, (*sums)[i]);
            }
            for (var c = 0u; c < TN; c++) {
                let col = job.col0 + lid.x * TN + c;
                if (col < job.p.n) {
                    store_output(job, z, batches, row, col, (*acc)[i * (TN / 4u) + c / 4u][c % 4u]);
                }
            }
        }
    }
}

// ---- entry points: one per (A read width, B read width); they differ only in the loads ----

fn carry_a1_b1(job: Job, z: u32, k0: u32, li: u32) -> Carried {
    var c: Carried;
    for (var s = 0u; s < STAGED_UNITS_MAX; s++) {
        let e = li + s * WG_SIZE;
        if (e < STAGED_A_UNITS) {
            c.a[s] = load_a_unit1(job, z, k0, e);
        }
        if (e < STAGED_B_UNITS) {
            c.b[s] = load_b_unit1(job, z, k0, e);
        }
    }
    return c;
}

@compute @workgroup_size(BN / TN, BM / TM)
fn matmul_staged_a1_b1(
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
    var acc: array<vec4<f32>, 2u * TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    var carried = carry_a1_b1(job, wg.z, job.k_begin, li);
    stage(job, 0u, li, &carried);
    workgroupBarrier();
    var buffer = 0u;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        let more = k0 + BK < job.k_end;
        if (more) {
            carried = carry_a1_b1(job, wg.z, k0 + BK, li);
        }
        staged_multiply(buffer, lid, &acc, &sums, sum_rows);
        if (more) {
            stage(job, 1u - buffer, li, &carried);
        }
        workgroupBarrier();
        buffer = 1u - buffer;
    }
    staged_store(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

fn carry_a1_b4(job: Job, z: u32, k0: u32, li: u32) -> Carried {
    var c: Carried;
    for (var s = 0u; s < STAGED_UNITS_MAX; s++) {
        let e = li + s * WG_SIZE;
        if (e < STAGED_A_UNITS) {
            c.a[s] = load_a_unit1(job, z, k0, e);
        }
        if (e < STAGED_B_UNITS) {
            c.b[s] = load_b_unit4(job, z, k0, e);
        }
    }
    return c;
}

@compute @workgroup_size(BN / TN, BM / TM)
fn matmul_staged_a1_b4(
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
    var acc: array<vec4<f32>, 2u * TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    var carried = carry_a1_b4(job, wg.z, job.k_begin, li);
    stage(job, 0u, li, &carried);
    workgroupBarrier();
    var buffer = 0u;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        let more = k0 + BK < job.k_end;
        if (more) {
            carried = carry_a1_b4(job, wg.z, k0 + BK, li);
        }
        staged_multiply(buffer, lid, &acc, &sums, sum_rows);
        if (more) {
            stage(job, 1u - buffer, li, &carried);
        }
        workgroupBarrier();
        buffer = 1u - buffer;
    }
    staged_store(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

fn carry_a4_b1(job: Job, z: u32, k0: u32, li: u32) -> Carried {
    var c: Carried;
    for (var s = 0u; s < STAGED_UNITS_MAX; s++) {
        let e = li + s * WG_SIZE;
        if (e < STAGED_A_UNITS) {
            c.a[s] = load_a_unit4(job, z, k0, e);
        }
        if (e < STAGED_B_UNITS) {
            c.b[s] = load_b_unit1(job, z, k0, e);
        }
    }
    return c;
}

@compute @workgroup_size(BN / TN, BM / TM)
fn matmul_staged_a4_b1(
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
    var acc: array<vec4<f32>, 2u * TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    var carried = carry_a4_b1(job, wg.z, job.k_begin, li);
    stage(job, 0u, li, &carried);
    workgroupBarrier();
    var buffer = 0u;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        let more = k0 + BK < job.k_end;
        if (more) {
            carried = carry_a4_b1(job, wg.z, k0 + BK, li);
        }
        staged_multiply(buffer, lid, &acc, &sums, sum_rows);
        if (more) {
            stage(job, 1u - buffer, li, &carried);
        }
        workgroupBarrier();
        buffer = 1u - buffer;
    }
    staged_store(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}

fn carry_a4_b4(job: Job, z: u32, k0: u32, li: u32) -> Carried {
    var c: Carried;
    for (var s = 0u; s < STAGED_UNITS_MAX; s++) {
        let e = li + s * WG_SIZE;
        if (e < STAGED_A_UNITS) {
            c.a[s] = load_a_unit4(job, z, k0, e);
        }
        if (e < STAGED_B_UNITS) {
            c.b[s] = load_b_unit4(job, z, k0, e);
        }
    }
    return c;
}

@compute @workgroup_size(BN / TN, BM / TM)
fn matmul_staged_a4_b4(
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
    var acc: array<vec4<f32>, 2u * TM_MAX>;
    var sums: array<f32, TM_MAX>;
    let sum_rows = sums_rows(job, lid);
    var carried = carry_a4_b4(job, wg.z, job.k_begin, li);
    stage(job, 0u, li, &carried);
    workgroupBarrier();
    var buffer = 0u;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += BK) {
        let more = k0 + BK < job.k_end;
        if (more) {
            carried = carry_a4_b4(job, wg.z, k0 + BK, li);
        }
        staged_multiply(buffer, lid, &acc, &sums, sum_rows);
        if (more) {
            stage(job, 1u - buffer, li, &carried);
        }
        workgroupBarrier();
        buffer = 1u - buffer;
    }
    staged_store(job, wg.z, groups.z, lid, &acc, &sums, sum_rows);
}
