#!/usr/bin/env bash
# The Slurm test: on a throwaway single-node cluster, submit examples/slurm's array job on a tiny
# sweep (CPU device), requeue one task while it trains, run the analysis job after the array,
# and check the merged directory against the same sweep trained and analyzed in one process:
# the same bytes in every file, wall-clock fields aside.
#
#   bash tests/slurm/run.sh          (as root on Debian 12; installs Slurm and munge if missing)
#
# It starts its own munged, slurmctld and slurmd with every file under a temporary directory,
# stops them by PID on any exit, and removes that directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/tests/slurm/cluster.sh"

work=$(mktemp -d /tmp/grokgpu-slurm.XXXXXX)
cleanup() {
    cluster_stop "$work/cluster" || true
    rm -rf "$work"
}
trap cleanup EXIT

cluster_install
(cd "$repo" && cargo build --release --locked --quiet)
binary="$repo/target/release/grokgpu"

# The example's scripts, unchanged, with a tiny sweep: 2 weight decays × 2 seeds of the quick
# MLP, short enough for the CPU device, in 3 array tasks (so the shares are uneven).
mkdir -p "$work/submit"
cp "$repo"/examples/slurm/*.sbatch "$work/submit/"
cat >"$work/submit/sweep.env" <<ENV
GROKGPU=$binary
SWEEP_DIR=$work/submit/runs/sweep
SWEEP_ARGS=(--preset quick --steps 300 --eval-every 50 --ckpt-every 50 --seeds 0,1 --sweep weight_decay=0.001,0.003)
ENV
source "$work/submit/sweep.env"
tasks=3

echo "== one process: the same sweep, for comparison"
reference="$work/reference"
"$binary" train "${SWEEP_ARGS[@]}" --out-dir "$reference" >"$work/reference-train.log"
"$binary" analyze --run-dir "$reference" >"$work/reference-analyze.log"
"$binary" summarize "$reference" >"$work/reference-summarize.log"
"$binary" plot --run-dir "$reference" >"$work/reference-plot.log"

echo "== Slurm: bringing up a single-node cluster"
cluster_start "$work/cluster"

cd "$work/submit"
# The test cluster has no GPUs to hand out: --gres=none overrides the scripts' request.
array=$(sbatch --parsable --gres=none --array=0-$((tasks - 1)) train_array.sbatch)
analysis=$(sbatch --parsable --gres=none --dependency=afterok:"$array" analyze.sbatch)
echo "array job $array, analysis job $analysis (after the array)"

# Requeue task 0 once it has written a checkpoint past initialization: Slurm kills it, and the
# same command must resume its runs from their last checkpoints.
first_run_of_task0() {
    ls -d "$SWEEP_DIR"/*/checkpoints/step_00000050.safetensors 2>/dev/null | head -1
}
if cluster_wait_for 300 first_run_of_task0 && squeue -h -j "${array}_0" | grep -q .; then
    scontrol requeue "${array}_0"
    # A requeued job waits two minutes before it may start again; let it start now.
    sleep 1
    scontrol update JobId="${array}_0" StartTime=now
    echo "requeued task 0 while it was training"
    requeued=1
else
    echo "task 0 finished before it could be requeued" >&2
    requeued=0
fi

jobs_done() { [ -z "$(squeue -h -j "$array,$analysis" 2>/dev/null)" ]; }
cluster_wait_for 1200 jobs_done || { echo "the jobs did not finish in 20 minutes" >&2; squeue; exit 1; }

for job in "${array}_0" "${array}_1" "${array}_2" "$analysis"; do
    state=$(scontrol show job "$job" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
    if [ "$state" != COMPLETED ]; then
        echo "job $job ended $state; its output:" >&2
        cat "$work/submit"/grokgpu-*.out >&2 || true
        exit 1
    fi
done
if [ "$requeued" = 1 ] && ! grep -q "resum" "$work/submit"/grokgpu-train-"${array}"_0.out; then
    echo "task 0 was requeued but did not say it resumed:" >&2
    cat "$work/submit"/grokgpu-train-"${array}"_0.out >&2
    exit 1
fi

echo "== comparing the merged directory with the one-process sweep"
python3 "$repo/tests/slurm/same_runs.py" "$reference" "$SWEEP_DIR"
echo "slurm test passed: $tasks array tasks (one requeued: $requeued) equal one process"
