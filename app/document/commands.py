"""The undoable commands: pixel diffs, layer stack changes, layer and document properties.

Commands refer to layers by `uid`, so they stay valid when layers are moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.document.geometry import Rect

if TYPE_CHECKING:
    from app.document.document import Document
    from app.document.layers import Layer


@dataclass(eq=False)
class PixelCommand:
    """One stroke (or any pixel edit): old and new pixels of the changed bounding box."""

    label: str
    layer_uid: int
    rect: Rect
    old: np.ndarray
    new: np.ndarray

    def undo(self, doc: Document) -> None:
        doc._write_pixels(self.layer_uid, self.rect, self.old)

    def redo(self, doc: Document) -> None:
        doc._write_pixels(self.layer_uid, self.rect, self.new)

    def nbytes(self) -> int:
        return int(self.old.nbytes + self.new.nbytes)

    def absorb(self, other: Any) -> bool:
        return False


@dataclass(eq=False)
class StackCommand:
    """A change of the layer list (add, delete, duplicate, move, merge): before/after lists.

    Layers are shared by reference; pixel edits in between are undone first, so the
    objects in both lists are in the right state whenever the list is restored.
    """

    label: str
    before: list[Layer]
    after: list[Layer]
    active_before: int
    active_after: int

    def undo(self, doc: Document) -> None:
        doc._set_stack(list(self.before), self.active_before)

    def redo(self, doc: Document) -> None:
        doc._set_stack(list(self.after), self.active_after)

    def nbytes(self) -> int:
        known = {id(layer) for layer in self.before}
        return sum(int(layer.pixels.nbytes) for layer in self.after if id(layer) not in known)

    def absorb(self, other: Any) -> bool:
        return False


@dataclass(eq=False)
class LayerPropCommand:
    """A layer property (name, visible, opacity, locked, tag); drags of one slider merge."""

    label: str
    layer_uid: int
    attr: str
    old: Any
    new: Any

    def undo(self, doc: Document) -> None:
        doc._write_layer_prop(self.layer_uid, self.attr, self.old)

    def redo(self, doc: Document) -> None:
        doc._write_layer_prop(self.layer_uid, self.attr, self.new)

    def nbytes(self) -> int:
        return 64

    def absorb(self, other: Any) -> bool:
        if (
            isinstance(other, LayerPropCommand)
            and other.attr == self.attr == "opacity"
            and other.layer_uid == self.layer_uid
        ):
            self.new = other.new
            return True
        return False


@dataclass(eq=False)
class MetaCommand:
    """A document property: label set name, model id or style."""

    label: str
    attr: str
    old: Any
    new: Any

    def undo(self, doc: Document) -> None:
        doc._write_meta(self.attr, self.old)

    def redo(self, doc: Document) -> None:
        doc._write_meta(self.attr, self.new)

    def nbytes(self) -> int:
        return 256

    def absorb(self, other: Any) -> bool:
        if (
            isinstance(other, MetaCommand)
            and other.attr == self.attr == "style"
            and _is_latent(self.new)
            and _is_latent(other.new)
        ):
            self.new = other.new
            return True
        return False


def _is_latent(style: Any) -> bool:
    """Latent styles come from sliders: a drag is one undo step."""
    return isinstance(style, dict) and style.get("kind") == "latent"
