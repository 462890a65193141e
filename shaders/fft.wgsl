// Batched FFTs on interleaved complex f32 (re, im): radix-2 Stockham in workgroup memory,
// Bluestein (chirp-z) on top of it, and the gather/scatter passes of the multi-pass path.
//
// A batch of transforms lies in a row-major tensor viewed as [outer, len, inner]: transform b
// has outer index b / inner_count and inner index b % inner_count, and its element t sits at
// outer·*_outer + inner·*_inner + t·*_elem (in complex elements, or in reals when REAL_IN).
// So columns of a matrix are read in place, with no transpose pass.
//
// The inverse is conj(forward(conj(x))) scaled by 1/n, so one twiddle table (e^{-2πik/N},
// k < N/2, computed in f64 on the CPU) serves both directions.

struct Params {
    batch: u32,
    inner_count: u32,
    n_in: u32,          // elements read per transform; the rest of the N-point input is zero
    n_out: u32,         // elements written per transform
    in_outer: u32,
    in_elem: u32,
    in_inner: u32,
    scale: f32,
    out_outer: u32,
    out_elem: u32,
    out_inner: u32,
    post_modulus: u32,  // POST == 1: the four-step twiddle index is (inner·k) mod this
    twiddle_offset: u32,
    chirp_offset: u32,
    post_offset: u32,   // BLUESTEIN: the filter spectrum; POST == 1: roots e^{-2πij/M}; POST == 2: a filter
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> tables: array<vec2<f32>>;

// log2 of the FFT length N that runs in registers and workgroup memory (the padded length M
// for Bluestein and for the gather/scatter passes).
override LOG_N: u32 = 1u;
// Transforms per workgroup: every workgroup holds at least 512 points so each of its 256
// threads has a butterfly in every stage.
override PER_WG: u32 = 256u;
override REAL_IN: bool = false;
override INVERSE: bool = false;
// Fused Bluestein: chirp on load, filter and second FFT in workgroup memory, chirp on store.
override BLUESTEIN: bool = false;
// Consecutive threads load consecutive transforms: coalesced when transforms are columns.
override BATCH_FASTEST: bool = false;
// What multiplies each output before it is stored: 0 nothing, 1 the four-step twiddle
// e^{-2πi·inner·k/M}, 2 a filter at the output's position, then conjugation.
override POST: u32 = 0u;

override N: u32 = 1u << LOG_N;
override SH: u32 = PER_WG << LOG_N;
override BUTTERFLIES: u32 = SH / (2u * WG);

const WG: u32 = 256u;
// The largest transform held in workgroup memory is 4096 points: 8 butterflies a thread.
const MAX_BUTTERFLIES: u32 = 8u;

var<workgroup> sh: array<vec2<f32>, SH>;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn conj(a: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x, -a.y);
}

fn transform_base(b: u32, outer_stride: u32, inner_stride: u32) -> u32 {
    return (b / params.inner_count) * outer_stride + (b % params.inner_count) * inner_stride;
}

fn load(b: u32, t: u32) -> vec2<f32> {
    let a = transform_base(b, params.in_outer, params.in_inner) + t * params.in_elem;
    if (REAL_IN) {
        return vec2<f32>(src[a], 0.0);
    }
    return vec2<f32>(src[2u * a], src[2u * a + 1u]);
}

fn store(b: u32, k: u32, v: vec2<f32>) {
    let a = transform_base(b, params.out_outer, params.out_inner) + k * params.out_elem;
    dst[2u * a] = v.x;
    dst[2u * a + 1u] = v.y;
}

// (transform within the workgroup, element) of the i-th point a workgroup loads or stores.
fn slot(i: u32) -> vec2<u32> {
    if (BATCH_FASTEST) {
        return vec2<u32>(i % PER_WG, i / PER_WG);
    }
    return vec2<u32>(i >> LOG_N, i & (N - 1u));
}

// The input point of a transform as the FFT sees it: zero past n_in, conjugated for the
// inverse, times the chirp for Bluestein.
fn prepare(b: u32, t: u32) -> vec2<f32> {
    if (b >= params.batch || t >= params.n_in) {
        return vec2<f32>(0.0);
    }
    var v = load(b, t);
    if (INVERSE) {
        v = conj(v);
    }
    if (BLUESTEIN) {
        v = cmul(v, tables[params.chirp_offset + t]);
    }
    return v;
}

// Every radix-2 Stockham stage over the PER_WG transforms in `sh`, in natural order in and
// out. Stage s combines pairs of 2^s-point transforms: butterfly j reads j and j + N/2 and
// writes 2(j − k) + k and that + 2^s, with k = j mod 2^s and twiddle e^{-2πik/2^{s+1}}.
fn stockham(lid: u32) {
    let half = max(N >> 1u, 1u);
    let log_half = max(LOG_N, 1u) - 1u;
    for (var s = 0u; s < LOG_N; s++) {
        let span = 1u << s;
        var sum: array<vec2<f32>, MAX_BUTTERFLIES>;
        var diff: array<vec2<f32>, MAX_BUTTERFLIES>;
        for (var r = 0u; r < BUTTERFLIES; r++) {
            let g = lid + r * WG;
            let j = g & (half - 1u);
            let base = (g >> log_half) << LOG_N;
            let k = j & (span - 1u);
            let a = sh[base + j];
            let b = cmul(sh[base + j + half], tables[params.twiddle_offset + (k << (log_half - s))]);
            sum[r] = a + b;
            diff[r] = a - b;
        }
        workgroupBarrier();
        for (var r = 0u; r < BUTTERFLIES; r++) {
            let g = lid + r * WG;
            let j = g & (half - 1u);
            let base = (g >> log_half) << LOG_N;
            let k = j & (span - 1u);
            let to = base + 2u * (j - k) + k;
            sh[to] = sum[r];
            sh[to + span] = diff[r];
        }
        workgroupBarrier();
    }
}

// PER_WG transforms of N points per workgroup, loaded with strides, transformed in workgroup
// memory and stored with strides. The launch grid may be 2D (more than 65535 workgroups).
@compute @workgroup_size(256)
fn fft_shared(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let first = (wid.x + wid.y * groups.x) * PER_WG;
    for (var i = lid; i < SH; i += WG) {
        let s = slot(i);
        sh[(s.x << LOG_N) + s.y] = prepare(first + s.x, s.y);
    }
    workgroupBarrier();
    stockham(lid);
    if (BLUESTEIN) {
        // Convolution with the chirp filter: multiply by its spectrum (already scaled by
        // 1/N) and conjugate, so a second forward FFT computes the conjugated inverse.
        for (var i = lid; i < SH; i += WG) {
            sh[i] = conj(cmul(sh[i], tables[params.post_offset + (i & (N - 1u))]));
        }
        workgroupBarrier();
        stockham(lid);
    }
    for (var i = lid; i < SH; i += WG) {
        let s = slot(i);
        let b = first + s.x;
        let k = s.y;
        if (b >= params.batch || k >= params.n_out) {
            continue;
        }
        var v = sh[(s.x << LOG_N) + k];
        if (BLUESTEIN) {
            v = cmul(conj(v), tables[params.chirp_offset + k]);
        }
        if (POST == 1u) {
            let inner = b % params.inner_count;
            v = cmul(v, tables[params.post_offset + (inner * k) % params.post_modulus]);
        }
        if (POST == 2u) {
            let position = (b % params.inner_count) * params.out_inner + k * params.out_elem;
            v = conj(cmul(v, tables[params.post_offset + position]));
        }
        if (INVERSE) {
            v = conj(v);
        }
        store(b, k, v * params.scale);
    }
}

// Multi-pass path, first pass: each transform's input, prepared as in fft_shared, into a
// contiguous zero-padded scratch of N points per transform.
@compute @workgroup_size(256)
fn fft_gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG;
    if (i >= params.batch * N) {
        return;
    }
    let v = prepare(i >> LOG_N, i & (N - 1u));
    dst[2u * i] = v.x;
    dst[2u * i + 1u] = v.y;
}

// Multi-pass path, last pass: the first n_out points of each contiguous N-point result,
// finished as in fft_shared, to their strided places in the output.
@compute @workgroup_size(256)
fn fft_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WG;
    if (i >= params.batch * params.n_out) {
        return;
    }
    let b = i / params.n_out;
    let k = i % params.n_out;
    let p = (b << LOG_N) + k;
    var v = vec2<f32>(src[2u * p], src[2u * p + 1u]);
    if (BLUESTEIN) {
        v = cmul(conj(v), tables[params.chirp_offset + k]);
    }
    if (INVERSE) {
        v = conj(v);
    }
    store(b, k, v * params.scale);
}
