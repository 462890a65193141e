#!/usr/bin/env python3
"""Training steps per second of grokgpu's presets in plain PyTorch, for a same-GPU comparison.

The three configs match grokgpu's presets (shapes, optimizer, batch) as docs/runs.md fixes them:
power2022 (2-layer pre-norm Transformer, d 128, 4 heads, d_mlp 512, x/y mod 97, batch 512,
AdamW), nanda2023 (1 layer, no norm, x+y mod 113, full batch 3830, AdamW) and tian-mlp
(MLP h 128, x+y mod 97, full batch, Adam with coupled L2). Each is timed in eager mode and,
where available, under torch.compile(mode="reduce-overhead") (CUDA graphs).

Prints one JSON object per line, the same form as `grokgpu bench step --json`:
{"bench": "step", "config": ..., "mode": ..., "runs": 1, "steps_per_s": ..., "device": ...}

    python3 tools/bench_torch.py [--steps 500] [--warmup 50] [--configs power2022,nanda2023,tian-mlp]
    python3 tools/bench_torch.py --device cpu --modes eager --steps 20 --warmup 3

`--device cpu` times PyTorch on the CPU (all its threads, or --threads N), the peer of
grokgpu on a software adapter (lavapipe) on the same machine.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, d_mlp, norm):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d) if norm else nn.Identity()
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d) if norm else nn.Identity()
        self.fc1 = nn.Linear(d, d_mlp)
        self.fc2 = nn.Linear(d_mlp, d)

    def forward(self, h):
        b, t, d = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(d, dim=-1)
        split = lambda x: x.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        a = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True)
        h = h + self.out(a.transpose(1, 2).reshape(b, t, d))
        return h + self.fc2(F.relu(self.fc1(self.ln2(h))))


class Transformer(nn.Module):
    def __init__(self, p, d, heads, d_mlp, layers, norm):
        super().__init__()
        self.embed = nn.Embedding(p + 2, d)
        self.pos_embed = nn.Parameter(torch.randn(4, d))
        self.blocks = nn.ModuleList(Block(d, heads, d_mlp, norm) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d) if norm else nn.Identity()
        self.unembed = nn.Linear(d, p)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos_embed
        for blk in self.blocks:
            h = blk(h)
        return self.unembed(self.ln_f(h[:, -1]))


class Mlp(nn.Module):
    def __init__(self, p, h):
        super().__init__()
        self.embed = nn.Embedding(p, h)
        self.fc1 = nn.Linear(2 * h, h)
        self.fc2 = nn.Linear(h, p)

    def forward(self, tokens):
        e = self.embed(tokens[:, [0, 2]]).flatten(1)
        return self.fc2(F.relu(self.fc1(e)))


def make(config, device):
    if config == "power2022":
        p, n = 97, 97 * 96
        model = Transformer(p, 128, 4, 512, 2, True)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
        batch = 512
    elif config == "nanda2023":
        p, n = 113, 113 * 113
        model = Transformer(p, 128, 4, 512, 1, False)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
        batch = round(0.3 * n)
    elif config == "tian-mlp":
        p, n = 97, 97 * 97
        model = Mlp(p, 128)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        batch = round(0.5 * n)
    else:
        raise SystemExit(f"unknown config {config}")
    model.to(device)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, p, (n,), generator=g)
    y = torch.randint(1, p, (n,), generator=g)
    tokens = torch.stack([x, torch.full_like(x, p), y, torch.full_like(x, p + 1)], 1).to(device)
    target = ((x * y) % p).to(device)
    return model, opt, tokens, target, batch


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def bench(config, mode, steps, warmup, device):
    torch.manual_seed(0)
    model, opt, tokens, target, batch = make(config, device)
    n = tokens.shape[0]
    # Minibatches: a fixed permutation cycled through, as an epoch loop would.
    perm = torch.randperm(n, device=device)
    batches = max(1, n // batch)

    # The batch index tensors are made up front, so a compiled step sees one input shape and
    # no Python integers (which CUDA graphs would record once per distinct value).
    idx = [perm[b * batch:(b + 1) * batch].contiguous() for b in range(batches)]

    def step(ix):
        loss = F.cross_entropy(model(tokens[ix]), target[ix])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    if mode == "compile":
        step = torch.compile(step, mode="reduce-overhead")
    for i in range(warmup):
        step(idx[i % batches])
    sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        step(idx[i % batches])
    sync(device)
    dt = time.perf_counter() - t0
    return steps / dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--configs", default="power2022,nanda2023,tian-mlp")
    ap.add_argument("--modes", default="eager,compile")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: PyTorch's own choice)")
    args = ap.parse_args()
    device = args.device
    if device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("bench_torch.py needs a CUDA GPU (torch.cuda.is_available() is False); use --device cpu")
        name = torch.cuda.get_device_name()
        torch.backends.cuda.matmul.allow_tf32 = False  # grokgpu computes in f32; compare like for like
        torch.backends.cudnn.allow_tf32 = False
    else:
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        name = f"CPU ({torch.get_num_threads()} threads)"
    for config in args.configs.split(","):
        for mode in args.modes.split(","):
            try:
                sps = bench(config, mode, args.steps, args.warmup, device)
            except Exception as e:  # torch.compile can be unavailable; report, keep going
                print(json.dumps({"bench": "step", "config": config, "mode": mode, "error": str(e)[:200]}), flush=True)
                continue
            print(json.dumps({"bench": "step", "config": config, "mode": f"torch-{mode}", "runs": 1,
                              "steps_per_s": round(sps, 1), "device": name, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
