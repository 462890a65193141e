// Minibatch gather: copies the rows of this step's minibatch out of each run's training
// set. The index table holds the rows of every step of one submit (drawn on the CPU from
// each epoch's seeded permutation); the step within the submit is the run's GPU update
// counter minus its value at the submit's start, so a replayed program needs no CPU patching.

struct Params {
    runs: u32,
    batch: u32,        // rows per minibatch
    width: u32,        // tokens per row (T)
    table_steps: u32,  // steps covered by the index table
    train_rows: u32,   // rows of each run's training set
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> step: array<u32>;        // [R] updates done so far
@group(0) @binding(2) var<storage, read> first_step: array<u32>;  // [R] updates done at the submit's start
@group(0) @binding(3) var<storage, read> table: array<u32>;       // [R, table_steps, batch]
@group(0) @binding(4) var<storage, read> train_tokens: array<u32>;  // [R, train_rows, width]
@group(0) @binding(5) var<storage, read> train_targets: array<u32>; // [R, train_rows]
@group(0) @binding(6) var<storage, read_write> batch_tokens: array<u32>;  // [R, batch, width]
@group(0) @binding(7) var<storage, read_write> batch_targets: array<u32>; // [R, batch]

@compute @workgroup_size(64)
fn gather_batch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let r = gid.y;
    if (i >= params.batch || r >= params.runs) { return; }
    let s = step[r] - first_step[r];
    let row = table[(r * params.table_steps + s) * params.batch + i];
    let src = r * params.train_rows + row;
    let dst = r * params.batch + i;
    for (var t = 0u; t < params.width; t = t + 1u) {
        batch_tokens[dst * params.width + t] = train_tokens[src * params.width + t];
    }
    batch_targets[dst] = train_targets[src];
}
