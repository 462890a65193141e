#!/usr/bin/env python3
"""cuFFT (through torch.fft) transforms per second at the lengths and batches of `grokgpu bench fft`,
for a same-GPU comparison. Prints one JSON object per line:
{"bench": "fft", "mode": "torch", "n": ..., "batch": ..., "transforms_per_second": ..., "device": ...}

    python3 tools/bench_torch_fft.py
"""
import json

import torch

CASES = [(97, 128), (97, 43240), (113, 37117), (96, 43690), (128, 32768), (256, 16384), (1024, 4096), (4096, 1024)]


def main():
    if not torch.cuda.is_available():
        raise SystemExit("bench_torch_fft.py needs a CUDA GPU")
    name = torch.cuda.get_device_name()
    for n, batch in CASES:
        x = torch.randn(batch, n, dtype=torch.complex64, device="cuda")
        for _ in range(3):
            torch.fft.fft(x, dim=-1)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        reps = 50
        start.record()
        for _ in range(reps):
            torch.fft.fft(x, dim=-1)
        end.record()
        torch.cuda.synchronize()
        seconds = start.elapsed_time(end) / 1000 / reps
        print(json.dumps({"bench": "fft", "mode": "torch", "n": n, "batch": batch,
                          "transforms_per_second": batch / seconds, "device": name}), flush=True)


if __name__ == "__main__":
    main()
