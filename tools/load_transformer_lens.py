#!/usr/bin/env python3
"""Build TransformerLens's HookedTransformer from a `grokgpu export --format transformer-lens`
and compare its logits with grokgpu's own.

    python3 tools/load_transformer_lens.py OUT                    # every export in the folder OUT
    python3 tools/load_transformer_lens.py OUT/step_00001000.json # one checkpoint

For each step_XXXXXXXX.json the model is built from its `hooked_transformer_config`, the
state_dict step_XXXXXXXX.safetensors is loaded strictly (every name and shape must be the
model's own), and, when the export was made with --logits, the model's logits at the readout
position are compared with grokgpu's (step_XXXXXXXX.logits.safetensors, computed by grokgpu on
its GPU over every pair of the run's dataset). The agreement of one input is
max_j |TL_j − grokgpu_j| / max_j |grokgpu_j| over its p logits; the script prints the worst
input's and exits non-zero if it exceeds --tolerance (default 1e-5).

Needs TransformerLens 3.x (`pip install "transformer-lens<4"`): 4.0 replaced HookedTransformer
with TransformerBridge, which wraps Hugging Face models.
"""

import argparse
import json
import sys
import warnings
from importlib import metadata
from pathlib import Path

INSTALL = 'pip install "transformer-lens<4"'


def transformer_lens_version():
    """The installed TransformerLens version; exits with one line when it cannot be used."""
    try:
        version = metadata.version("transformer-lens")
    except metadata.PackageNotFoundError:
        sys.exit(f"error: TransformerLens is not installed; this export needs 3.x: {INSTALL}")
    if int(version.split(".")[0]) >= 4:
        sys.exit(f"error: TransformerLens {version} has no HookedTransformer (removed in 4.0); this export needs 3.x: {INSTALL}")
    return version


def load_model(description_path, dtype):
    """(HookedTransformer, the export's description) for one step_XXXXXXXX.json."""
    import torch
    from safetensors.torch import load_file
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    try:
        description = json.loads(Path(description_path).read_text())
        description["hooked_transformer_config"], description["state_dict"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"error: {description_path} is not a grokgpu TransformerLens export ({e})")
    cfg = HookedTransformerConfig(**description["hooked_transformer_config"], dtype=dtype, device="cpu")
    model = HookedTransformer(cfg)
    state_dict = load_file(str(Path(description_path).with_name(description["state_dict"])))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state_dict.items()}
    if got != expected:
        missing, extra = sorted(expected.keys() - got.keys()), sorted(got.keys() - expected.keys())
        wrong = sorted(k for k in expected.keys() & got.keys() if expected[k] != got[k])
        sys.exit(f"error: {description['state_dict']} is not this HookedTransformer's state_dict (missing {missing}, extra {extra}, other shapes {wrong})")
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state_dict.items()}, strict=True)
    model.eval()
    return model, description


def compare(model, description, logits_path):
    """(worst relative difference, its input row, max absolute difference, argmax agreements, rows)."""
    import torch
    from safetensors.torch import load_file

    ours = load_file(str(logits_path))
    tokens, want = ours["tokens"], ours["logits"].double()
    with torch.no_grad():
        got = model(tokens)[:, description["readout_position"], :].double()
    diff = (got - want).abs()
    relative = diff.amax(dim=1) / want.abs().amax(dim=1)
    worst = int(relative.argmax())
    agree = int((got.argmax(dim=1) == want.argmax(dim=1)).sum())
    return float(relative[worst]), tokens[worst].tolist(), float(diff.max()), agree, tokens.shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="an export folder, or one step_XXXXXXXX.json in it")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest accepted relative difference per input")
    parser.add_argument("--float64", action="store_true", help="run TransformerLens in float64 (grokgpu's logits stay float32)")
    args = parser.parse_args()

    version = transformer_lens_version()
    out = Path(args.out)
    if not out.exists():
        sys.exit(f"error: {out} does not exist")
    descriptions = sorted(out.glob("step_*.json")) if out.is_dir() else [out]
    if not descriptions:
        sys.exit(f"error: {out} holds no export (step_*.json); run grokgpu export --format transformer-lens first")
    # 3.x announces HookedTransformer's removal in 4.0; this export is made for 3.x.
    warnings.filterwarnings("ignore", message="HookedTransformer is deprecated", category=DeprecationWarning)
    import torch

    dtype = torch.float64 if args.float64 else torch.float32
    print(f"TransformerLens {version}, torch {torch.__version__}, HookedTransformer in {str(dtype).removeprefix('torch.')}")
    failed = False
    for path in descriptions:
        model, description = load_model(path, dtype)
        cfg = description["hooked_transformer_config"]
        head = f"{path.name}: step {description['step']} · {cfg['n_layers']} layer(s), d_model {cfg['d_model']}, {cfg['n_heads']} heads"
        if not description.get("grokgpu_logits"):
            print(f"{head} · loaded; no grokgpu logits to compare with (export with --logits)")
            continue
        relative, row, absolute, agree, rows = compare(model, description, path.with_name(description["grokgpu_logits"]))
        ok = relative <= args.tolerance
        failed |= not ok
        print(
            f"{head} · {rows} inputs · max relative difference {relative:.2e} (input {row}) · "
            f"max |Δlogit| {absolute:.2e} · same argmax {agree}/{rows} · {'ok' if ok else f'ABOVE {args.tolerance:g}'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
