"""Stopping a training step part-way through when the user cancels.

One training step on a CPU can take seconds (a SPADE step at 256 px, a SinGAN iteration at
250 px), longer than a cancel may take to answer. `CancelWatch` checks a flag between the
step's pieces of work: before every forward of the watched modules, and during backward
passes every time autograd reads back a tensor it saved (once per differentiable op), so a
cancel is answered within one layer's forward or backward. Nothing is checked when no flag
is given; a step that completes is computed exactly as without the watch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import torch
from torch import nn


class CancelWatch:
    """While entered, raises `error()` from inside the work once `event` is set.

    The saved-tensor hooks are thread-local: only autograd work started in the entering
    thread is watched; forward hooks sit on the given modules only.
    """

    def __init__(
        self,
        event: threading.Event | None,
        error: Callable[[], BaseException],
        modules: Iterable[nn.Module] = (),
    ) -> None:
        self.event = event
        self.error = error
        self.modules = list(modules)
        self._handles: list = []
        self._saved = None

    def check(self) -> None:
        """Raise now if the flag is set."""
        if self.event is not None and self.event.is_set():
            raise self.error()

    def _unpack(self, tensor: torch.Tensor) -> torch.Tensor:
        self.check()
        return tensor

    def __enter__(self) -> CancelWatch:
        if self.event is None:
            return self
        for module in self.modules:
            self._handles.append(module.register_forward_pre_hook(lambda *_: self.check()))
        self._saved = torch.autograd.graph.saved_tensors_hooks(lambda t: t, self._unpack)
        self._saved.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            self._saved.__exit__(*exc)
            self._saved = None
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def layers(*nets: nn.Module | None) -> list[nn.Module]:
    """The conv and linear layers of the networks: fine-grained points to check a flag."""
    return [
        m
        for net in nets
        if net is not None
        for m in net.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
