"""The document: canvas size, a stack of layers, the composite label map, metadata, undo.

Layer index 0 is the bottom of the stack; the last layer is on top. Every change goes through
a method here (or a `Stroke` from `app.document.painting`), which records one undo step and
announces a `Change` on `doc.changed`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.document.commands import LayerPropCommand, MetaCommand, PixelCommand, StackCommand
from app.document.compose import colorize_layer, over
from app.document.geometry import Rect, clip, slices
from app.document.history import Command, History
from app.document.layers import UNLABELED, ImageLayer, LabelLayer, Layer, LayerLockedError, as_rgba
from app.document.painting import Stroke
from app.document.signals import Signal
from ml.labels import LabelSet, load_label_set

MAX_SIDE = 16384
STYLE_KINDS = ("seed", "preset", "latent", "image")


class LayerMergeError(ValueError):
    """Two layers cannot be merged (an image layer onto a label layer, a hidden layer)."""


@dataclass(frozen=True)
class Change:
    """What changed, so views repaint only that.

    kind: "pixels" (layer, rect), "layers" (the stack itself: added, removed, moved, merged;
    repaint all), "layer" (one layer's properties: name, visible, opacity, locked, tag),
    "active" (the active layer index), "meta" (label set, model or style).
    composite: True when the composite label map may have changed (inside `rect`, or
    anywhere when rect is None), i.e. a new render is due.
    """

    kind: str
    layer: int | None = None
    rect: Rect | None = None
    composite: bool = False


class Document:
    """A label painting. Create with `Document.new(...)` or `app.document.ora.load_ora(path)`."""

    def __init__(
        self,
        width: int,
        height: int,
        label_set: str = "landscape",
        model_id: str | None = None,
        style: dict | None = None,
    ) -> None:
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
            raise ValueError(f"canvas size {width}x{height} is outside 1..{MAX_SIDE} pixels")
        self.width = int(width)
        self.height = int(height)
        self._label_set_name = label_set
        self._label_set = load_label_set(label_set)
        self._model_id = model_id
        self._style = _checked_style(style or {"kind": "seed", "seed": 0})
        self._layers: list[Layer] = []
        self._active = -1
        self.path: Path | None = None
        self.history = History()
        self.changed = Signal()  # emits Change
        self.dirty_changed = Signal()  # emits bool
        self._revision = 0
        self._untracked = False  # a change outside the undo history (e.g. a new render)
        self._was_dirty = False
        self.history.changed.connect(self._announce_dirty)  # clear(), mark_saved(), steps

    @classmethod
    def new(
        cls,
        width: int,
        height: int,
        label_set: str = "landscape",
        fill: int | None = None,
        **kwargs: Any,
    ) -> Document:
        """A clean document with one label layer, filled with class `fill` (or empty)."""
        doc = cls(width, height, label_set, **kwargs)
        layer = LabelLayer.empty(width, height, "Labels")
        if fill is not None:
            doc._check_label_value(fill)
            layer.pixels[:] = fill
        doc._layers.append(layer)
        doc._active = 0
        return doc

    # ----- reading ------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return (self.width, self.height)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Bottom to top. Read-only view: edit through the methods."""
        return tuple(self._layers)

    def layer(self, index: int) -> Layer:
        return self._layers[self._index(index)]

    def index_of(self, layer: Layer) -> int:
        for i, candidate in enumerate(self._layers):
            if candidate is layer:
                return i
        raise ValueError(f"layer {layer.name!r} is not in this document")

    def find_tag(self, tag: str) -> int | None:
        """Index of the topmost layer with `tag`, or None."""
        for i in range(len(self._layers) - 1, -1, -1):
            if self._layers[i].tag == tag:
                return i
        return None

    @property
    def active_index(self) -> int:
        """Index of the layer tools paint on; -1 when there are no layers."""
        return self._active

    @property
    def active_layer(self) -> Layer | None:
        return self._layers[self._active] if self._active >= 0 else None

    @property
    def label_set_name(self) -> str:
        return self._label_set_name

    @property
    def label_set(self) -> LabelSet:
        return self._label_set

    @property
    def model_id(self) -> str | None:
        return self._model_id

    @property
    def style(self) -> dict:
        """A copy of the style dict ({"kind": "seed", "seed": 3}, ...)."""
        return copy.deepcopy(self._style)

    @property
    def revision(self) -> int:
        """Increases with every change (undo and redo included); autosave compares it."""
        return self._revision

    @property
    def dirty(self) -> bool:
        """Unsaved changes: False after save, and again after undoing back to the saved state."""
        return self._untracked or not self.history.at_saved_state

    @property
    def title(self) -> str:
        return self.path.stem if self.path is not None else "Untitled"

    def composite_labels(self, rect: Rect | None = None) -> np.ndarray:
        """HxW uint8 label map: per pixel the topmost visible label layer's id; 255 if none.

        Image layers and hidden layers do not take part; opacity does not matter here.
        """
        r = (0, 0, self.width, self.height) if rect is None else clip(rect, *self.size)
        if r is None:
            return np.zeros((0, 0), np.uint8)
        sl = slices(r)
        out = np.full((r[3] - r[1], r[2] - r[0]), UNLABELED, np.uint8)
        for layer in self._layers:
            if layer.visible and isinstance(layer, LabelLayer):
                src = layer.pixels[sl]
                np.copyto(out, src, where=src != UNLABELED)
        return out

    def pick_label(self, x: float, y: float) -> int:
        """Eyedropper: the class id of the composite at canvas point (x, y); 255 if none."""
        px, py = int(np.floor(x)), int(np.floor(y))
        if not (0 <= px < self.width and 0 <= py < self.height):
            raise ValueError(f"point ({x}, {y}) is outside the {self.width}x{self.height} canvas")
        return int(self.composite_labels((px, py, px + 1, py + 1))[0, 0])

    def flatten(self, rect: Rect | None = None) -> np.ndarray:
        """HxWx4 uint8 picture of all visible layers, labels in their label-set colours."""
        from app.document.compose import flatten

        return flatten(self, rect)

    def labels_used(self) -> list[int]:
        comp = self.composite_labels()
        return [int(v) for v in np.unique(comp) if v != UNLABELED]

    # ----- painting ------------------------------------------------------------------------

    def begin_stroke(self, label: str = "Brush", index: int | None = None) -> Stroke:
        """Start painting on the active layer (or `index`); `finish()` makes it one undo step.

        Raises LayerLockedError when the layer is locked.
        """
        if not self._layers:
            raise IndexError("the document has no layer to paint on")
        return Stroke(self, index, label)

    # ----- layer operations (each one undo step) -------------------------------------------

    def add_label_layer(
        self, name: str | None = None, index: int | None = None, pixels: np.ndarray | None = None
    ) -> int:
        """Insert a label layer above the active one (or at `index`); returns its index."""
        if pixels is None:
            layer = LabelLayer.empty(self.width, self.height, name or self._free_name("Labels"))
        else:
            pixels = np.asarray(pixels)
            self._check_shape(pixels.shape[:2])
            if pixels.min(initial=0) < 0 or pixels.max(initial=0) > 255:
                raise ValueError("label ids must be 0..255")
            pixels = pixels.astype(np.uint8)
            self._label_set.validate(pixels)
            layer = LabelLayer(name or self._free_name("Labels"), pixels.copy())
        return self._insert(layer, index, "Add label layer")

    def add_image_layer(
        self,
        name: str | None = None,
        pixels: np.ndarray | None = None,
        index: int | None = None,
        tag: str = "",
    ) -> int:
        """Insert an image layer (HxWx3/4 uint8, canvas size; empty when None)."""
        if pixels is None:
            data = np.zeros((self.height, self.width, 4), np.uint8)
        else:
            data = as_rgba(pixels).copy()
            self._check_shape(data.shape[:2])
        layer = ImageLayer(name or self._free_name("Image"), data, tag=tag)
        return self._insert(layer, index, "Add image layer")

    def delete_layer(self, index: int) -> None:
        index = self._index(index)
        after = self._layers[:index] + self._layers[index + 1 :]
        active = self._active - 1 if self._active >= index else self._active
        if after:
            active = max(active, 0)
        self._push_stack(f"Delete layer {self._layers[index].name!r}", after, active)

    def duplicate_layer(self, index: int) -> int:
        index = self._index(index)
        source = self._layers[index]
        dup = source.copy(name=self._free_name(f"{source.name} copy"))
        dup.locked = False
        after = self._layers[: index + 1] + [dup] + self._layers[index + 1 :]
        self._push_stack(f"Duplicate layer {source.name!r}", after, index + 1)
        return index + 1

    def move_layer(self, index: int, new_index: int) -> None:
        """Move the layer at `index` so that it ends up at `new_index` (0 = bottom)."""
        index = self._index(index)
        new_index = self._index(new_index)
        if index == new_index:
            return
        after = list(self._layers)
        layer = after.pop(index)
        after.insert(new_index, layer)
        active_layer = self.active_layer
        active = after.index(active_layer) if active_layer is not None else -1
        self._push_stack(f"Move layer {layer.name!r}", after, active)

    def merge_down(self, index: int) -> int:
        """Merge the layer at `index` into the one below; returns the merged layer's index.

        label onto label: the upper layer's labels win where it has one (not 255).
        image onto image: the upper layer, at its opacity, is alpha-composited over the lower.
        label onto image: the labels are painted in their colours (at the upper opacity).
        image onto label: refused (pixels have no class ids), LayerMergeError.
        The lower layer keeps its name and properties. Hidden upper layers are refused.
        """
        index = self._index(index)
        if index == 0:
            raise LayerMergeError("the bottom layer has no layer below to merge into")
        upper, lower = self._layers[index], self._layers[index - 1]
        upper.require_unlocked()
        lower.require_unlocked()
        if not upper.visible:
            raise LayerMergeError(f"layer {upper.name!r} is hidden; show it before merging down")
        merged = lower.copy(name=lower.name)
        if isinstance(lower, LabelLayer):
            if not isinstance(upper, LabelLayer):
                raise LayerMergeError(
                    f"cannot merge image layer {upper.name!r} onto label layer {lower.name!r}"
                )
            np.copyto(merged.pixels, upper.pixels, where=upper.pixels != UNLABELED)
        else:
            if isinstance(upper, LabelLayer):
                src = colorize_layer(upper.pixels, self._label_set)
            else:
                src = upper.pixels
            merged.pixels = over(merged.pixels, src, upper.opacity)
        after = self._layers[: index - 1] + [merged] + self._layers[index + 1 :]
        self._push_stack(f"Merge {upper.name!r} down", after, index - 1)
        return index - 1

    def rename_layer(self, index: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a layer name cannot be empty")
        self._set_prop(index, "name", name, "Rename layer")

    def set_visible(self, index: int, visible: bool) -> None:
        self._set_prop(index, "visible", bool(visible), "Show layer" if visible else "Hide layer")

    def set_opacity(self, index: int, opacity: float) -> None:
        """Opacity 0..1; successive changes of one layer's opacity are one undo step."""
        if not 0.0 <= float(opacity) <= 1.0:
            raise ValueError(f"opacity {opacity} is outside 0..1")
        self._set_prop(index, "opacity", float(opacity), "Layer opacity")

    def set_locked(self, index: int, locked: bool) -> None:
        self._set_prop(index, "locked", bool(locked), "Lock layer" if locked else "Unlock layer")

    def set_tag(self, index: int, tag: str) -> None:
        self._set_prop(index, "tag", str(tag), "Tag layer")

    def set_active(self, index: int) -> None:
        """Choose the layer tools paint on (not an undo step; not a change of the file)."""
        index = self._index(index)
        if index != self._active:
            self._active = index
            self.changed.emit(Change("active", index))

    def replace_pixels(
        self,
        index: int,
        pixels: np.ndarray,
        rect: Rect | None = None,
        label: str = "Replace pixels",
        undoable: bool = True,
    ) -> None:
        """Overwrite a layer's pixels (all, or the region `rect` with an array of its size).

        For pastes and renders. With undoable=False (a fresh render into its layer) nothing
        is recorded, but the document stays dirty until saved.
        """
        index = self._index(index)
        layer = self._layers[index]
        layer.require_unlocked()
        r = (0, 0, self.width, self.height) if rect is None else rect
        if clip(r, *self.size) != tuple(r):
            raise ValueError(f"rect {r} is not inside the {self.width}x{self.height} canvas")
        if isinstance(layer, LabelLayer):
            data = np.asarray(pixels)
            if data.min(initial=0) < 0 or data.max(initial=0) > 255:
                raise ValueError("label ids must be 0..255")
            data = data.astype(np.uint8)
            self._label_set.validate(data)
        else:
            data = as_rgba(pixels)
        target = layer.pixels[slices(r)]
        if data.shape != target.shape:
            raise ValueError(f"pixels of shape {data.shape} do not fit the region {target.shape}")
        if undoable:
            self._push(PixelCommand(label, layer.uid, r, target.copy(), data.copy()))
        else:
            self._untracked = True
        target[...] = data
        self._pixels_changed(layer, r)
        self._after_change()

    # ----- metadata ------------------------------------------------------------------------

    def set_label_set(self, name: str) -> None:
        """Switch the label set; the painted ids must all be classes of the new set."""
        new = load_label_set(name)
        for layer in self._layers:
            if isinstance(layer, LabelLayer):
                new.validate(layer.pixels)
        self._push(MetaCommand("Change label set", "label_set", self._label_set_name, name))
        self._write_meta("label_set", name)

    def set_model(self, model_id: str | None) -> None:
        if model_id == self._model_id:
            return
        self._push(MetaCommand("Change model", "model_id", self._model_id, model_id))
        self._write_meta("model_id", model_id)

    def set_style(self, style: dict) -> None:
        """Set the style: {"kind": "seed", "seed": 3}, {"kind": "preset", "name": ...},
        {"kind": "latent", "values": [...]} or {"kind": "image", "layer": name}."""
        style = _checked_style(style)
        if style == self._style:
            return
        self._push(MetaCommand("Change style", "style", self.style, style))
        self._write_meta("style", style)

    # ----- undo ----------------------------------------------------------------------------

    def undo(self) -> bool:
        """Undo one step; False when there was nothing to undo."""
        if not self.history.can_undo:
            return False
        self.history.step_back().undo(self)
        self._after_change()
        return True

    def redo(self) -> bool:
        if not self.history.can_redo:
            return False
        self.history.step_forward().redo(self)
        self._after_change()
        return True

    def mark_saved(self, path: Path | None = None) -> None:
        """Called by the file writers: the current state is what is on disk."""
        if path is not None:
            self.path = Path(path)
        self._untracked = False
        self.history.mark_saved()
        self._after_change(bump=False)

    def mark_modified(self) -> None:
        """Make the document dirty without an undo step (a recovered autosave)."""
        self._untracked = True
        self._after_change()

    # ----- internals used by commands, painting and file readers ---------------------------

    def _index(self, index: int) -> int:
        n = len(self._layers)
        if not -n <= index < n:
            raise IndexError(f"no layer {index} (the document has {n})")
        return index % n

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        if tuple(shape) != (self.height, self.width):
            raise ValueError(
                f"a {shape[1]}x{shape[0]} image does not fit the {self.width}x{self.height} canvas"
            )

    def _check_label_value(self, value: int) -> None:
        if value != UNLABELED and value not in self._label_set:
            raise ValueError(f"{value} is not a class of the {self._label_set.title} label set")

    def _free_name(self, base: str) -> str:
        names = {layer.name for layer in self._layers}
        if base not in names:
            return base
        n = 2
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"

    def _layer_by_uid(self, uid: int) -> tuple[int, Layer]:
        for i, layer in enumerate(self._layers):
            if layer.uid == uid:
                return i, layer
        raise LookupError(f"layer {uid} is not in the document")  # a history bug

    def _insert(self, layer: Layer, index: int | None, label: str) -> int:
        if index is None:
            index = self._active + 1 if self._active >= 0 else len(self._layers)
        index = max(0, min(int(index), len(self._layers)))
        after = self._layers[:index] + [layer] + self._layers[index:]
        self._push_stack(label, after, index)
        return index

    def _push_stack(self, label: str, after: list[Layer], active: int) -> None:
        command = StackCommand(label, list(self._layers), after, self._active, active)
        self._push(command)
        command.redo(self)
        self._after_change()

    def _push(self, command: Command) -> None:
        self.history.push(command)

    def _set_stack(self, layers: list[Layer], active: int) -> None:
        self._layers = layers
        self._active = active if layers else -1
        self.changed.emit(Change("layers", composite=True))

    def _set_prop(self, index: int, attr: str, value: Any, label: str) -> None:
        index = self._index(index)
        layer = self._layers[index]
        old = getattr(layer, attr)
        if old == value:
            return
        self._push(LayerPropCommand(label, layer.uid, attr, old, value))
        self._write_layer_prop(layer.uid, attr, value)
        self._after_change()

    def _write_layer_prop(self, uid: int, attr: str, value: Any) -> None:
        index, layer = self._layer_by_uid(uid)
        setattr(layer, attr, value)
        composite = attr == "visible" and isinstance(layer, LabelLayer)
        self.changed.emit(Change("layer", index, composite=composite))

    def _write_meta(self, attr: str, value: Any) -> None:
        if attr == "label_set":
            self._label_set = load_label_set(value)
            self._label_set_name = value
        elif attr == "model_id":
            self._model_id = value
        elif attr == "style":
            self._style = copy.deepcopy(value)
        self.changed.emit(Change("meta"))
        self._after_change()

    def _write_pixels(self, uid: int, rect: Rect, data: np.ndarray) -> None:
        _, layer = self._layer_by_uid(uid)
        layer.pixels[slices(rect)] = data
        self._pixels_changed(layer, rect)

    def _pixels_changed(self, layer: Layer, rect: Rect) -> None:
        index = self.index_of(layer)
        self.changed.emit(
            Change("pixels", index, rect, composite=isinstance(layer, LabelLayer) and layer.visible)
        )
        self._revision += 1

    def _after_change(self, bump: bool = True) -> None:
        if bump:
            self._revision += 1
        self._announce_dirty()

    def _announce_dirty(self) -> None:
        dirty = self.dirty
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.dirty_changed.emit(dirty)


def _checked_style(style: dict) -> dict:
    if not isinstance(style, dict) or style.get("kind") not in STYLE_KINDS:
        raise ValueError(f"a style is a dict whose 'kind' is one of {', '.join(STYLE_KINDS)}")
    try:
        return json.loads(json.dumps(style))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a style must be plain JSON data ({exc})") from None


__all__ = ["Change", "Document", "LayerLockedError", "LayerMergeError"]
