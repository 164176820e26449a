"""Resumable training checkpoints: every tensor in safetensors, everything else in JSON.

A checkpoint folder `step-000123/` holds `state.safetensors` (networks, optimizer moments, RNG
states as uint8 tensors) and `state.json` (step, configuration, optimizer hyper-parameters,
gradient-scaler state). `latest.txt` in the checkpoint directory names the newest one and is
replaced atomically after the folder is complete, so a crash mid-save leaves the previous
checkpoint in charge. Nothing is unpickled on load.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ml.atomic import atomic_dir, atomic_write_text

STATE_TENSORS = "state.safetensors"
STATE_JSON = "state.json"
LATEST = "latest.txt"
FORMAT = "spadework-spade-train/1"


class CheckpointStateError(ValueError):
    """A training checkpoint is missing, damaged or from another kind of run."""


def flatten_optimizer(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state dict split into named tensors and a JSON-able remainder."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.state.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                plain.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def unflatten_optimizer(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """The inverse of `flatten_optimizer`: a state dict for `Optimizer.load_state_dict`."""
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(head):
            idx, key = name[len(head) :].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for idx, entry in meta.get("plain_state", {}).items():
        state.setdefault(int(idx), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}


def rng_tensors(device: torch.device) -> tuple[dict[str, torch.Tensor], dict]:
    """Torch (CPU and CUDA), NumPy and Python RNG states: tensors plus a JSON part."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
    np_state = np.random.get_state()
    tensors["rng.numpy.keys"] = torch.from_numpy(np_state[1].astype(np.int64))
    py_state = random.getstate()
    meta = {
        "numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict, device: torch.device) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    if device.type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)
    kind, pos, has_gauss, cached = meta["numpy"]
    keys = tensors["rng.numpy.keys"].numpy().astype(np.uint32)
    np.random.set_state((kind, keys, pos, has_gauss, cached))
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))


def save_state(
    checkpoint_dir: Path, step: int, tensors: dict[str, torch.Tensor], meta: dict, keep: int = 2
) -> Path:
    """Write `step-NNNNNN/` atomically, point `latest.txt` at it, keep the newest `keep`."""
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:06d}"
    target = checkpoint_dir / name
    if target.exists():
        shutil.rmtree(target)
    with atomic_dir(target) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp / STATE_TENSORS))
        body = {"format": FORMAT, "step": step, **meta}
        (tmp / STATE_JSON).write_text(json.dumps(body, indent=1), encoding="utf-8")
    atomic_write_text(checkpoint_dir / LATEST, name + "\n")
    steps = sorted(p for p in checkpoint_dir.glob("step-*") if re.fullmatch(r"step-\d+", p.name))
    for old in steps[: max(0, len(steps) - keep)]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return target


def latest_state(checkpoint_dir: Path) -> Path | None:
    """The newest complete checkpoint folder, or None for a fresh directory."""
    pointer = checkpoint_dir / LATEST
    if not pointer.is_file():
        return None
    folder = checkpoint_dir / pointer.read_text(encoding="utf-8").strip()
    if not (folder / STATE_TENSORS).is_file() or not (folder / STATE_JSON).is_file():
        raise CheckpointStateError(f"{checkpoint_dir}: {LATEST} names a missing checkpoint")
    return folder


def load_state(folder: Path) -> tuple[dict[str, torch.Tensor], dict]:
    try:
        meta = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
        tensors = load_file(str(folder / STATE_TENSORS))
    except (OSError, ValueError) as exc:
        raise CheckpointStateError(f"{folder}: unreadable training checkpoint ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error type
        raise CheckpointStateError(f"{folder}: damaged training checkpoint ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointStateError(f"{folder}: not a Spadework SPADE training checkpoint")
    return tensors, meta


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    head = prefix + "."
    return {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
