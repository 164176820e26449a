"""Device choice shared by both engines: 'auto' picks CUDA, then MPS, then the CPU."""

from __future__ import annotations

import torch


def pick_device(choice: str | torch.device = "auto") -> torch.device:
    """Resolve a user's device choice, with a clear error for one that is not available."""
    if isinstance(choice, torch.device):
        return choice
    choice = choice.lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for, but no CUDA device is available")
    if choice == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise ValueError("MPS was asked for, but it is not available on this machine")
    if choice not in ("cpu", "mps") and not choice.startswith("cuda"):
        raise ValueError(f"unknown device {choice!r}: use auto, cpu, cuda, cuda:N or mps")
    return torch.device(choice)


def describe(device: torch.device) -> str:
    """Short human name of a device, for status bars and logs."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return device.type.upper()
