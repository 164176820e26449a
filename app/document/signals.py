"""A tiny Qt-free signal: plain callbacks, so the document never depends on a GUI toolkit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """Callbacks connected in order, called synchronously by `emit`.

    The Qt side connects a slot that forwards to its own signals or repaints; exceptions in a
    callback propagate to the caller of `emit` (a broken view should fail loudly in tests).
    """

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        """Remove `slot`; a slot that is not connected is ignored."""
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
