#!/usr/bin/env python3
"""Load a grokgpu checkpoint into numpy arrays and a PyTorch state_dict.

    python tools/load_checkpoint.py runs/power2022/checkpoints/step_00001000.safetensors

The safetensors format is parsed here in plain Python (8-byte little-endian header length,
JSON header, raw little-endian data), so only numpy is needed; torch is optional. The
parameter names and shapes are PyTorch's state_dict names and shapes (docs/runs.md), so
`model.load_state_dict(state_dict)` works on a matching PyTorch module.
"""

import json
import struct
import sys

DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "U8": "u1", "U32": "<u4", "U64": "<u8"}


def read_header(path):
    """(tensor entries in data order, metadata dict, data offset in the file)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    metadata = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return entries, metadata, 8 + n


def load_numpy(path):
    """({name: numpy array}, metadata) in file order; f16 weights are widened to f32."""
    import numpy as np

    entries, metadata, start = read_header(path)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    arrays = {}
    for name, info in entries:
        begin, end = info["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        arrays[name] = a.astype(np.float32) if info["dtype"] == "F16" else a.copy()
    return arrays, metadata


def to_state_dict(arrays):
    """The same tensors as a PyTorch state_dict (name -> torch.Tensor)."""
    import torch

    return {name: torch.from_numpy(a) for name, a in arrays.items()}


def main(path):
    entries, metadata, _ = read_header(path)
    about = json.loads(metadata["config"]) if "config" in metadata else metadata
    step = f"step {metadata['step']}, " if "step" in metadata else ""
    print(f"{path}: {step}task {about.get('task')} mod {about.get('p')}")
    for name, info in entries:
        print(f"  {name:32s} {info['dtype']:4s} {info['shape']}")
    try:
        arrays, _ = load_numpy(path)
    except ImportError:
        print("numpy is not installed: shapes only")
        return
    norm = sum(float((a.astype("float64") ** 2).sum()) for a in arrays.values()) ** 0.5
    print(f"loaded {len(arrays)} arrays into numpy; global L2 norm {norm:.6g}")
    try:
        state_dict = to_state_dict(arrays)
    except ImportError:
        print("torch is not installed: numpy only")
        return
    print(f"state_dict with {len(state_dict)} tensors: {next(iter(state_dict))} {tuple(next(iter(state_dict.values())).shape)} …")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
