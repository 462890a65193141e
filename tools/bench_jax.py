#!/usr/bin/env python3
"""Training steps per second of R runs of grokgpu's presets trained side by side in JAX.

The peer of tools/bench_torch.py for the run axis: grokgpu trains R independent runs of one
preset in a single step, and the fair outside figure for that is not R sequential PyTorch
steps but JAX's `jax.jit(jax.vmap(step))` over R stacked parameter and optimizer states. Each
run has its own init seed; all runs see the same minibatch indices, as grokgpu's runs of one
dataset do. The three configs are bench_torch.py's (shapes, optimizer, batch, data):
power2022 (2-layer pre-norm Transformer, d 128, 4 heads, d_mlp 512, mod 97, batch 512, AdamW),
nanda2023 (1 layer, no norm, mod 113, batch 0.3·n, AdamW) and tian-mlp (MLP h 128, mod 97,
batch 0.5·n, Adam with coupled L2). The models and optimizers are plain jax.numpy with
explicit parameter pytrees, so nothing beyond jax is needed.

Prints one JSON object per line, the same form as `grokgpu bench step --json`:
{"bench": "step", "config": ..., "mode": "jax-jit-vmap", "runs": R, "steps_per_s": ...,
 "aggregate_steps_per_s": ..., "device": ..., "jax": ...}
where steps_per_s is per run and aggregate_steps_per_s = R · steps / seconds.

    python3 tools/bench_jax.py [--steps 500] [--warmup 50] [--runs 1,64] [--configs power2022,nanda2023,tian-mlp]
    python3 tools/bench_jax.py --device cpu --configs tian-mlp --runs 1,4 --steps 20 --warmup 3

`--device` defaults to JAX's default backend; `--device gpu` fails with one line when JAX
has no GPU backend (the CPU-only jax wheel).
"""
import argparse
import json
import math
import os
import time

import numpy as np

import jax
import jax.numpy as jnp

# grokgpu computes in f32 and bench_torch.py turns TF32 off; without this XLA may run f32
# matmuls in TF32 on recent NVIDIA GPUs, which would flatter JAX.
jax.config.update("jax_default_matmul_precision", "highest")


# ---- initialisation: PyTorch's defaults, so the runs start from the same distributions ----

def linear(key, fan_in, fan_out):
    """nn.Linear's init: weight and bias uniform in ±1/√fan_in. Weight stored (in, out)."""
    kw, kb = jax.random.split(key)
    bound = 1.0 / math.sqrt(fan_in)
    return {"w": jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound),
            "b": jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound)}


def layer_norm_params(d):
    return {"g": jnp.ones((d,), jnp.float32), "b": jnp.zeros((d,), jnp.float32)}


def init_transformer(key, p, d, heads, d_mlp, layers, norm):
    keys = jax.random.split(key, 3 + layers)
    params = {
        "embed": jax.random.normal(keys[0], (p + 2, d), jnp.float32),  # nn.Embedding: N(0, 1)
        "pos_embed": jax.random.normal(keys[1], (4, d), jnp.float32),
        "unembed": linear(keys[2], d, p),
        "blocks": [],
    }
    for i in range(layers):
        k = jax.random.split(keys[3 + i], 4)
        blk = {"qkv": linear(k[0], d, 3 * d), "out": linear(k[1], d, d),
               "fc1": linear(k[2], d, d_mlp), "fc2": linear(k[3], d_mlp, d)}
        if norm:
            blk["ln1"], blk["ln2"] = layer_norm_params(d), layer_norm_params(d)
        params["blocks"].append(blk)
    if norm:
        params["ln_f"] = layer_norm_params(d)
    return params


def init_mlp(key, p, h):
    k = jax.random.split(key, 3)
    return {"embed": jax.random.normal(k[0], (p, h), jnp.float32),
            "fc1": linear(k[1], 2 * h, h), "fc2": linear(k[2], h, p)}


# ---- forward passes ----

def dense(lin, x):
    return x @ lin["w"] + lin["b"]


def layer_norm(ln, x):
    if ln is None:  # nanda2023 has no norms: identity, as bench_torch.py's nn.Identity
        return x
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + 1e-5) * ln["g"] + ln["b"]


def transformer_logits(params, tokens, heads):
    h = params["embed"][tokens] + params["pos_embed"]
    b, t, d = h.shape
    dh = d // heads
    causal = jnp.tril(jnp.ones((t, t), bool))
    for blk in params["blocks"]:
        q, k, v = jnp.split(dense(blk["qkv"], layer_norm(blk.get("ln1"), h)), 3, axis=-1)
        q, k, v = (a.reshape(b, t, heads, dh) for a in (q, k, v))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
        scores = jnp.where(causal, scores, -jnp.inf)
        a = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v).reshape(b, t, d)
        h = h + dense(blk["out"], a)
        h = h + dense(blk["fc2"], jax.nn.relu(dense(blk["fc1"], layer_norm(blk.get("ln2"), h))))
    # Readout at the last position (the "=" token), as grokgpu's presets read it.
    return dense(params["unembed"], layer_norm(params.get("ln_f"), h[:, -1]))


def mlp_logits(params, tokens):
    # Embeds x and y (positions 0 and 2) and concatenates them; the op tokens are not seen.
    e = params["embed"][tokens[:, jnp.array([0, 2])]].reshape(tokens.shape[0], -1)
    return dense(params["fc2"], jax.nn.relu(dense(params["fc1"], e)))


def cross_entropy(logits, target):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, target[:, None], axis=-1).mean()


# ---- optimizers, by hand, with PyTorch's update formulas ----

def adam_init(params):
    zeros = lambda p: jnp.zeros_like(p)
    return {"m": jax.tree.map(zeros, params), "v": jax.tree.map(zeros, params),
            "t": jnp.zeros((), jnp.int32)}


def adam_update(params, grads, opt, lr, betas, eps, wd, decoupled):
    """torch.optim.AdamW (decoupled: param *= 1 − lr·wd first) or torch.optim.Adam (coupled
    L2: grad += wd·param before the moments), with torch's bias-correction arithmetic."""
    b1, b2 = betas
    t = opt["t"] + 1
    bc1 = 1 - b1 ** t.astype(jnp.float32)
    bc2 = 1 - b2 ** t.astype(jnp.float32)
    if not decoupled and wd:
        grads = jax.tree.map(lambda g, p: g + wd * p, grads, params)
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, opt["m"], grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, opt["v"], grads)

    def apply(p, m, v):
        if decoupled:
            p = p * (1 - lr * wd)
        return p - (lr / bc1) * m / (jnp.sqrt(v) / jnp.sqrt(bc2) + eps)

    return jax.tree.map(apply, params, m, v), {"m": m, "v": v, "t": t}


# ---- the configs ----

def make(config):
    """(init(key) -> params, logits(params, tokens), optimizer kwargs, tokens, target, batch)."""
    if config == "power2022":
        p, n = 97, 97 * 96
        init = lambda key: init_transformer(key, p, 128, 4, 512, 2, True)
        logits = lambda params, tok: transformer_logits(params, tok, 4)
        opt = dict(lr=1e-3, betas=(0.9, 0.98), eps=1e-8, wd=1.0, decoupled=True)
        batch = 512
    elif config == "nanda2023":
        p, n = 113, 113 * 113
        init = lambda key: init_transformer(key, p, 128, 4, 512, 1, False)
        logits = lambda params, tok: transformer_logits(params, tok, 4)
        opt = dict(lr=1e-3, betas=(0.9, 0.98), eps=1e-8, wd=1.0, decoupled=True)
        batch = round(0.3 * n)
    elif config == "tian-mlp":
        p, n = 97, 97 * 97
        init = lambda key: init_mlp(key, p, 128)
        logits = mlp_logits
        opt = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, wd=1e-4, decoupled=False)
        batch = round(0.5 * n)
    else:
        raise ValueError(f"unknown config {config}")
    rng = np.random.default_rng(0)
    x = rng.integers(0, p, n)
    y = rng.integers(1, p, n)
    tokens = np.stack([x, np.full_like(x, p), y, np.full_like(x, p + 1)], 1).astype(np.int32)
    target = ((x * y) % p).astype(np.int32)
    return init, logits, opt, tokens, target, batch


def build(config, runs, device):
    """The jitted, vmapped step, the stacked initial state and the minibatch index arrays."""
    init, logits, opt, tokens, target, batch = make(config)
    tokens, target = jax.device_put(tokens, device), jax.device_put(target, device)

    def one_step(state, ix):
        params, opt_state = state
        loss, grads = jax.value_and_grad(lambda p: cross_entropy(logits(p, tokens[ix]), target[ix]))(params)
        params, opt_state = adam_update(params, grads, opt_state, **opt)
        return (params, opt_state), loss

    # Runs differ only in their init seed; the index array is shared (in_axes None), so
    # every run sees the same minibatch, as grokgpu's R runs over one dataset do. The state
    # is donated so the update happens in place instead of copying R models every step.
    step = jax.jit(jax.vmap(one_step, in_axes=(0, None)), donate_argnums=0)
    keys = jax.random.split(jax.random.PRNGKey(0), runs)
    params = jax.device_put(jax.vmap(init)(keys), device)
    state = (params, jax.vmap(adam_init)(params))

    # Minibatches: a fixed permutation cycled through, as bench_torch.py's epoch loop. The
    # index arrays are on the device up front, so the timed loop moves nothing per step.
    n = tokens.shape[0]
    perm = np.random.default_rng(1).permutation(n).astype(np.int32)
    batches = max(1, n // batch)
    idx = [jax.device_put(perm[b * batch:(b + 1) * batch], device) for b in range(batches)]
    return step, state, idx


def bench(config, runs, steps, warmup, device):
    step, state, idx = build(config, runs, device)
    # Compile ahead so a --warmup 0 run does not time XLA's compiler.
    step = step.lower(state, idx[0]).compile()
    for i in range(warmup):
        state, loss = step(state, idx[i % len(idx)])
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for i in range(steps):
        state, loss = step(state, idx[i % len(idx)])
    jax.block_until_ready((state, loss))
    dt = time.perf_counter() - t0
    return steps / dt


def pick_device(name):
    if name is None:
        return jax.devices()[0]
    try:
        return jax.devices(name)[0]
    except RuntimeError:
        raise SystemExit(f"bench_jax.py: JAX has no {name} backend here (backends: {jax.default_backend()}); "
                         f"install a CUDA jax build or use --device cpu")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--configs", default="power2022,nanda2023,tian-mlp")
    ap.add_argument("--runs", default="1,64", help="comma-separated run counts R")
    ap.add_argument("--device", choices=["cpu", "gpu"], default=None,
                    help="default: JAX's default backend")
    args = ap.parse_args()
    runs_list = [int(r) for r in args.runs.split(",")]
    if any(r < 1 for r in runs_list):
        raise SystemExit(f"bench_jax.py: --runs takes run counts of at least 1, got {args.runs}")
    device = pick_device(args.device)
    if device.platform == "cpu":
        name = f"CPU ({os.cpu_count()} cores)"
    else:
        name = device.device_kind
    for config in args.configs.split(","):
        for runs in runs_list:
            try:
                sps = bench(config, runs, args.steps, args.warmup, device)
            except Exception as e:  # out of memory at large R, unknown config: report, keep going
                print(json.dumps({"bench": "step", "config": config, "mode": "jax-jit-vmap", "runs": runs,
                                  "error": str(e)[:200]}), flush=True)
                continue
            print(json.dumps({"bench": "step", "config": config, "mode": "jax-jit-vmap", "runs": runs,
                              "steps_per_s": round(sps, 1), "aggregate_steps_per_s": round(runs * sps, 1),
                              "device": name, "jax": jax.__version__}), flush=True)


if __name__ == "__main__":
    main()
