#!/usr/bin/env python3
"""grokgpu's training throughput against PyTorch's and JAX's on the same device, as ratio tables.

Reads JSON lines from `grokgpu bench step --json` (or `grokgpu bench all --json`), from
tools/bench_torch.py and from tools/bench_jax.py, in files or concatenated on stdin; other
lines are skipped. Prints, per config, grokgpu's steps/s at R = 1 divided by torch eager's, by
torch.compile's and by JAX's, and for R > 1 grokgpu's aggregate steps/s (R models trained per
step) against the same torch figures (torch trains one model per step, so R models cost it R
steps) and against JAX's jit + vmap of the same R runs.

    grokgpu bench step --json > grokgpu.jsonl
    python3 tools/bench_torch.py > torch.jsonl
    python3 tools/bench_jax.py --runs 1,64 > jax.jsonl
    python3 tools/compare_bench.py grokgpu.jsonl torch.jsonl jax.jsonl
    cat grokgpu.jsonl torch.jsonl | python3 tools/compare_bench.py
"""
import argparse
import json
import re
import sys


def read_lines(paths):
    """Every JSON object line of the files (stdin for none or '-')."""
    streams = [sys.stdin] if not paths else [sys.stdin if p == "-" else open(p, encoding="utf-8") for p in paths]
    for stream in streams:
        for line in stream:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def collect(records):
    """(grokgpu[config][runs], torch[config][mode], jax[config][runs], devices, errors) from
    step records (torch from tools/bench_torch.py, jax from tools/bench_jax.py)."""
    ours, torch, jax, devices, errors = {}, {}, {}, set(), []
    for r in records:
        if r.get("bench") != "step" or "config" not in r:
            continue
        if "error" in r:
            errors.append(f"{r['config']} {r.get('mode', '?')}: {r['error']}")
            continue
        devices.add((r.get("mode", "?").split("-")[0], r.get("device", "?")))
        if r.get("mode") == "grokgpu":
            ours.setdefault(r["config"], {})[r["runs"]] = r
        elif str(r.get("mode", "")).startswith("torch-"):
            torch.setdefault(r["config"], {})[r["mode"][len("torch-"):]] = r["steps_per_s"]
        elif str(r.get("mode", "")).startswith("jax-"):
            jax.setdefault(r["config"], {})[r["runs"]] = r.get("aggregate_steps_per_s", r["runs"] * r["steps_per_s"])
    return ours, torch, jax, devices, errors


def ratio(a, b):
    return f"{a / b:8.2f}×" if a and b else f"{'–':>9}"


def number(x):
    return f"{x:12.1f}" if x else f"{'–':>12}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="JSON-lines files (default: stdin)")
    args = ap.parse_args()
    ours, torch, jax, devices, errors = collect(read_lines(args.files))
    if not ours:
        raise SystemExit("no grokgpu step records (mode 'grokgpu') in the input")
    for tool, device in sorted(devices):
        print(f"{tool}: {device}")
    # grokgpu names the adapter with its backend, "NVIDIA H100 80GB HBM3 (Vulkan)".
    if len({re.sub(r"\s*\((Vulkan|Metal|Dx12|Gl)\)$", "", d) for _, d in devices}) > 1:
        print("warning: the records come from different devices; the ratios compare unlike hardware")

    print("\nR = 1: steps per second")
    print(f"{'config':>12} {'grokgpu':>12} {'torch eager':>12} {'torch compile':>14} {'jax':>12} {'÷ eager':>9} {'÷ compile':>10} {'÷ jax':>9}")
    for config in sorted(ours):
        single = ours[config].get(1)
        if single is None:
            continue
        sps = single["steps_per_s"]
        eager, compiled = torch.get(config, {}).get("eager"), torch.get(config, {}).get("compile")
        j = jax.get(config, {}).get(1)
        print(f"{config:>12} {number(sps)} {number(eager)} {number(compiled):>14} {number(j)} {ratio(sps, eager)} {ratio(sps, compiled):>10} {ratio(sps, j)}")

    multi = [(config, runs, r) for config in sorted(ours) for runs, r in sorted(ours[config].items()) if runs > 1]
    if multi:
        print("\nR > 1: models trained per second (grokgpu aggregate = R · steps/s; torch trains one per step;")
        print("jax trains the same R runs per step under jit + vmap)")
        print(f"{'config':>12} {'R':>4} {'grokgpu':>12} {'jax vmap':>12} {'÷ eager':>9} {'÷ compile':>10} {'÷ jax':>9}")
        for config, runs, r in multi:
            agg = r.get("aggregate_steps_per_s", runs * r["steps_per_s"])
            eager, compiled = torch.get(config, {}).get("eager"), torch.get(config, {}).get("compile")
            j = jax.get(config, {}).get(runs)
            print(f"{config:>12} {runs:>4} {number(agg)} {number(j)} {ratio(agg, eager)} {ratio(agg, compiled):>10} {ratio(agg, j)}")
    for e in errors:
        print(f"error: {e}")


if __name__ == "__main__":
    main()
