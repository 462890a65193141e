"""Checks that two sweep directories hold the same runs, file for file.

    python3 tests/slurm/same_runs.py ONE_PROCESS_DIR MERGED_DIR

Every file must exist in both and be the same bytes, except for what is wall-clock time or
says how the sweep was split: `elapsed_s` in JSON and JSON-lines files, and the shard fields of
sweep.json. The run directories' lock files (the last writer's process id) and kernels.json
(the matmul variants a machine chose: every variant gives the same bits) are not run data.
Exits 1 with one line per difference.
"""

import difflib
import json
import pathlib
import sys

WALL_CLOCK_KEYS = {"elapsed_s"}
SHARD_KEYS = {"shard", "shards"}
NOT_RUN_DATA = {".grokgpu.lock", "kernels.json"}


def files(root):
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name not in NOT_RUN_DATA
    }


def without(value, keys):
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value


def normalized(path, relative):
    data = path.read_bytes()
    keys = WALL_CLOCK_KEYS | (SHARD_KEYS if relative.endswith("sweep.json") else set())
    if relative.endswith(".jsonl"):
        return [without(json.loads(line), keys) for line in data.decode().splitlines() if line]
    if relative.endswith(".json"):
        return without(json.loads(data), keys)
    return data


def main():
    one, merged = (pathlib.Path(a) for a in sys.argv[1:3])
    a, b = files(one), files(merged)
    problems = [f"only in the one-process sweep: {f}" for f in sorted(a - b)]
    problems += [f"only in the merged sweep: {f}" for f in sorted(b - a)]
    for f in sorted(a & b):
        a_value, b_value = normalized(one / f, f), normalized(merged / f, f)
        if a_value != b_value:
            problems.append(f"differs: {f}")
            if isinstance(a_value, bytes) and f.endswith((".md", ".tex")):
                lines = difflib.unified_diff(a_value.decode().splitlines(), b_value.decode().splitlines(), lineterm="", n=0)
                problems.extend("    " + line for line in list(lines)[2:8])
    for line in problems:
        print(line)
    if problems:
        sys.exit(1)
    print(f"{len(a)} files, the same in both (wall-clock and shard fields aside)")


if __name__ == "__main__":
    main()
