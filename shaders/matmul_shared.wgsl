
// ---- the CPU-device family with A shared through the subgroup (matmul_shared.wgsl) ----
//
// This file is appended to matmul.wgsl (WGSL has no includes) and built only on devices
// with 8-lane subgroups: it needs the subgroup operations.
//
// A software adapter runs a storage-buffer load as a loop over the lanes, whatever the
// addresses: in the SIMD family above, each A value costs every lane a load although all
// lanes read the same value. Here a workgroup is one subgroup of SHARED_LANES (8) lanes
// and each A value is loaded once: for four k steps at a time, the lanes load different
// parts of the block's TM × 4 values of op(A), a vec4 each, and subgroupBroadcast hands
// every part to every lane. Each lane owns the same 8 columns as in the SIMD family, with
// the same accumulators and stores (`simd_store`); TM is a multiple of 8, at most
// SIMD_ROWS_MAX. The host sets BM = TM, BN = 64 and WG_SIZE = 8.
//
// Part t of the block of k steps k0..k0+3 is held by lane t % 8 of load t / 8:
// - A not transposed ([m, k]): row t, its four k values;
// - A transposed ([k, m]): k step t / (TM/4), rows 4·(t % (TM/4)) … +3.
//
// Bounds guarantee: rows are clamped to m − 1 (a vec4 of transposed A starts at a
// multiple of 4 below m, as m is a multiple of 4 there), k to k_end − 1 and columns as in
// the SIMD family; vec4 loads along k start at a multiple of 4 below k_end (k is a
// multiple of 4 there). Clamped values are computed and never stored, and the k steps
// past k_end are skipped. So no load leaves its binding.
//
// Each output still sums its k terms with one fma per term in increasing k from zero, so
// this family gives the same bits as the others.

const SHARED_LANES: u32 = 8u;

// Part `t` of op(A) (after the gate) for the k steps from k0, read as a vec4. Each way
// of reading an operand has functions of its own: an entry point must not use both
// views of a binding.
fn shared_a4(job: Job, z: u32, k0: u32, t: u32) -> vec4<f32> {
    var at: u32;
    if (job.ta) {
        let quads = TM / 4u;
        let kg = min(k0 + t / quads, job.k_end - 1u);
        at = a_offset(job, z, min(job.row0 + 4u * (t % quads), job.p.m - 4u), kg) / 4u;
    } else {
        at = a_offset(job, z, min(job.row0 + t, job.p.m - 1u), k0) / 4u;
    }
    let v = a4[at];
    if (A_GATE == ACT_NONE) {
        return v;
    }
    let g = gate4[at];
    return vec4<f32>(gated(v.x, g.x), gated(v.y, g.y), gated(v.z, g.z), gated(v.w, g.w));
}

// The same part read as four scalars.
fn shared_a1(job: Job, z: u32, k0: u32, t: u32) -> vec4<f32> {
    var v: vec4<f32>;
    let last_k = job.k_end - 1u;
    for (var c = 0u; c < 4u; c++) {
        var at: u32;
        if (job.ta) {
            let quads = TM / 4u;
            let row = job.row0 + 4u * (t % quads) + c;
            at = a_offset(job, z, min(row, job.p.m - 1u), min(k0 + t / quads, last_k));
        } else {
            at = a_offset(job, z, min(job.row0 + t, job.p.m - 1u), min(k0 + c, last_k));
        }
        v[c] = a[at];
        if (A_GATE != ACT_NONE) {
            v[c] = gated(v[c], gate[at]);
        }
    }
    return v;
}

// The lane's 8 columns of op(B) at the k steps from k0 (clamped to k_end − 1), read as
// vec4s: columns 0–3 in b_lo[e], 4–7 in b_hi[e].
fn shared_b4(
    job: Job,
    z: u32,
    k0: u32,
    col_base: u32,
    b_lo: ptr<function, array<vec4<f32>, 4>>,
    b_hi: ptr<function, array<vec4<f32>, 4>>,
) {
    if (job.tb) {
        // along k: a quad per column, transposed in registers (k0 + 3 < k_end here)
        var bq: array<vec4<f32>, SIMD_COLS>;
        for (var c = 0u; c < SIMD_COLS; c++) {
            bq[c] = b_quad(job, b_offset(job, z, k0, min(col_base + c, job.p.n - 1u)) / 4u);
        }
        for (var e = 0u; e < 4u; e++) {
            (*b_lo)[e] = vec4<f32>(bq[0][e], bq[1][e], bq[2][e], bq[3][e]);
            (*b_hi)[e] = vec4<f32>(bq[4][e], bq[5][e], bq[6][e], bq[7][e]);
        }
    } else {
        // along n, a multiple of 4: a quad's first column is clamped to n − 4
        let q_lo = min(col_base, job.p.n - 4u);
        let q_hi = min(col_base + 4u, job.p.n - 4u);
        for (var e = 0u; e < 4u; e++) {
            let kg = min(k0 + e, job.k_end - 1u);
            (*b_lo)[e] = b_quad(job, b_offset(job, z, kg, q_lo) / 4u);
            (*b_hi)[e] = b_quad(job, b_offset(job, z, kg, q_hi) / 4u);
        }
    }
}

// The same columns read as scalars.
fn shared_b1(
    job: Job,
    z: u32,
    k0: u32,
    col_base: u32,
    b_lo: ptr<function, array<vec4<f32>, 4>>,
    b_hi: ptr<function, array<vec4<f32>, 4>>,
) {
    for (var e = 0u; e < 4u; e++) {
        let kg = min(k0 + e, job.k_end - 1u);
        var bs: array<f32, SIMD_COLS>;
        for (var c = 0u; c < SIMD_COLS; c++) {
            bs[c] = b_scalar(job, b_offset(job, z, kg, min(col_base + c, job.p.n - 1u)));
        }
        (*b_lo)[e] = vec4<f32>(bs[0], bs[1], bs[2], bs[3]);
        (*b_hi)[e] = vec4<f32>(bs[4], bs[5], bs[6], bs[7]);
    }
}

// The fmas of part `t` (every lane holds it now), for the first `steps` k steps.
fn shared_fma(
    job: Job,
    t: u32,
    steps: u32,
    part: vec4<f32>,
    b_lo: ptr<function, array<vec4<f32>, 4>>,
    b_hi: ptr<function, array<vec4<f32>, 4>>,
    acc: ptr<function, array<vec4<f32>, SIMD_ACC>>,
    sums: ptr<function, array<f32, SIMD_ROWS_MAX>>,
) {
    if (job.ta) {
        let quads = TM / 4u;
        let e = t / quads;
        if (e < steps) {
            let row = 4u * (t % quads);
            for (var c = 0u; c < 4u; c++) {
                let i = row + c;
                (*acc)[2u * i] = fma(vec4<f32>(part[c]), (*b_lo)[e], (*acc)[2u * i]);
                (*acc)[2u * i + 1u] = fma(vec4<f32>(part[c]), (*b_hi)[e], (*acc)[2u * i + 1u]);
                if (ROW_SUMS) {
                    (*sums)[i] += part[c];
                }
            }
        }
    } else {
        for (var e = 0u; e < 4u; e++) {
            if (e < steps) {
                (*acc)[2u * t] = fma(vec4<f32>(part[e]), (*b_lo)[e], (*acc)[2u * t]);
                (*acc)[2u * t + 1u] = fma(vec4<f32>(part[e]), (*b_hi)[e], (*acc)[2u * t + 1u]);
                if (ROW_SUMS) {
                    (*sums)[t] += part[e];
                }
            }
        }
    }
}

// Parts t … t + 7, one per lane in `part`, handed to every lane in turn. The lane to
// broadcast from must be a constant: written out.
fn shared_broadcast(
    job: Job,
    t: u32,
    steps: u32,
    part: vec4<f32>,
    b_lo: ptr<function, array<vec4<f32>, 4>>,
    b_hi: ptr<function, array<vec4<f32>, 4>>,
    acc: ptr<function, array<vec4<f32>, SIMD_ACC>>,
    sums: ptr<function, array<f32, SIMD_ROWS_MAX>>,
) {
    shared_fma(job, t, steps, subgroupBroadcast(part, 0u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 1u, steps, subgroupBroadcast(part, 1u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 2u, steps, subgroupBroadcast(part, 2u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 3u, steps, subgroupBroadcast(part, 3u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 4u, steps, subgroupBroadcast(part, 4u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 5u, steps, subgroupBroadcast(part, 5u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 6u, steps, subgroupBroadcast(part, 6u), b_lo, b_hi, acc, sums);
    shared_fma(job, t + 7u, steps, subgroupBroadcast(part, 7u), b_lo, b_hi, acc, sums);
}

// The tile of each entry point: the four differ only in the loads they call.
fn shared_tile_a1_b1(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += 4u) {
        var b_lo: array<vec4<f32>, 4>;
        var b_hi: array<vec4<f32>, 4>;
        shared_b1(job, z, k0, col_base, &b_lo, &b_hi);
        // Groups of 8 rows written out, not looped: TM is known when the pipeline is
        // built, and with a loop the CPU device indexes the accumulators at run time.
        let steps = min(job.k_end - k0, 4u);
        shared_broadcast(job, 0u, steps, shared_a1(job, z, k0, lane), &b_lo, &b_hi, &acc, &sums);
        if (TM > 8u) {
            shared_broadcast(job, 8u, steps, shared_a1(job, z, k0, 8u + lane), &b_lo, &b_hi, &acc, &sums);
        }
        if (TM > 16u) {
            shared_broadcast(job, 16u, steps, shared_a1(job, z, k0, 16u + lane), &b_lo, &b_hi, &acc, &sums);
        }
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

fn shared_tile_a1_b4(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += 4u) {
        var b_lo: array<vec4<f32>, 4>;
        var b_hi: array<vec4<f32>, 4>;
        shared_b4(job, z, k0, col_base, &b_lo, &b_hi);
        // Groups of 8 rows written out, not looped: TM is known when the pipeline is
        // built, and with a loop the CPU device indexes the accumulators at run time.
        let steps = min(job.k_end - k0, 4u);
        shared_broadcast(job, 0u, steps, shared_a1(job, z, k0, lane), &b_lo, &b_hi, &acc, &sums);
        if (TM > 8u) {
            shared_broadcast(job, 8u, steps, shared_a1(job, z, k0, 8u + lane), &b_lo, &b_hi, &acc, &sums);
        }
        if (TM > 16u) {
            shared_broadcast(job, 16u, steps, shared_a1(job, z, k0, 16u + lane), &b_lo, &b_hi, &acc, &sums);
        }
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

fn shared_tile_a4_b1(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += 4u) {
        var b_lo: array<vec4<f32>, 4>;
        var b_hi: array<vec4<f32>, 4>;
        shared_b1(job, z, k0, col_base, &b_lo, &b_hi);
        // Groups of 8 rows written out, not looped: TM is known when the pipeline is
        // built, and with a loop the CPU device indexes the accumulators at run time.
        let steps = min(job.k_end - k0, 4u);
        shared_broadcast(job, 0u, steps, shared_a4(job, z, k0, lane), &b_lo, &b_hi, &acc, &sums);
        if (TM > 8u) {
            shared_broadcast(job, 8u, steps, shared_a4(job, z, k0, 8u + lane), &b_lo, &b_hi, &acc, &sums);
        }
        if (TM > 16u) {
            shared_broadcast(job, 16u, steps, shared_a4(job, z, k0, 16u + lane), &b_lo, &b_hi, &acc, &sums);
        }
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

fn shared_tile_a4_b4(job: Job, z: u32, batches: u32, lane: u32) {
    let col_base = job.col0 + SIMD_COLS * lane;
    var acc: array<vec4<f32>, SIMD_ACC>;
    var sums: array<f32, SIMD_ROWS_MAX>;
    for (var k0 = job.k_begin; k0 < job.k_end; k0 += 4u) {
        var b_lo: array<vec4<f32>, 4>;
        var b_hi: array<vec4<f32>, 4>;
        shared_b4(job, z, k0, col_base, &b_lo, &b_hi);
        // Groups of 8 rows written out, not looped: TM is known when the pipeline is
        // built, and with a loop the CPU device indexes the accumulators at run time.
        let steps = min(job.k_end - k0, 4u);
        shared_broadcast(job, 0u, steps, shared_a4(job, z, k0, lane), &b_lo, &b_hi, &acc, &sums);
        if (TM > 8u) {
            shared_broadcast(job, 8u, steps, shared_a4(job, z, k0, 8u + lane), &b_lo, &b_hi, &acc, &sums);
        }
        if (TM > 16u) {
            shared_broadcast(job, 16u, steps, shared_a4(job, z, k0, 16u + lane), &b_lo, &b_hi, &acc, &sums);
        }
    }
    simd_store(job, z, batches, lane, &acc, &sums);
}

// One entry per way of reading A and B (vec4 or scalar), as in the other families.
@compute @workgroup_size(SHARED_LANES)
fn matmul_shared_a1_b1(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
    } else if (PAIR && job.valid && job.second) {
        shared_tile_a1_b1(as_second(job), wg.z, groups.z, lane);
    } else if (job.valid) {
        shared_tile_a1_b1(as_first(job), wg.z, groups.z, lane);
    }
}

@compute @workgroup_size(SHARED_LANES)
fn matmul_shared_a1_b4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
    } else if (PAIR && job.valid && job.second) {
        shared_tile_a1_b4(as_second(job), wg.z, groups.z, lane);
    } else if (job.valid) {
        shared_tile_a1_b4(as_first(job), wg.z, groups.z, lane);
    }
}

@compute @workgroup_size(SHARED_LANES)
fn matmul_shared_a4_b1(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
    } else if (PAIR && job.valid && job.second) {
        shared_tile_a4_b1(as_second(job), wg.z, groups.z, lane);
    } else if (job.valid) {
        shared_tile_a4_b1(as_first(job), wg.z, groups.z, lane);
    }
}

@compute @workgroup_size(SHARED_LANES)
fn matmul_shared_a4_b4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let job = job_of(wg, groups);
    if (job.reduces) {
        reduce_split(job, wg.z, groups.z, li);
    } else if (PAIR && job.valid && job.second) {
        shared_tile_a4_b4(as_second(job), wg.z, groups.z, lane);
    } else if (job.valid) {
        shared_tile_a4_b4(as_first(job), wg.z, groups.z, lane);
    }
}
