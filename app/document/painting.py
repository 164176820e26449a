"""Painting primitives with exact values (no antialiasing: a label id never blends).

Array-level functions take a target array (HxW uint8 ids or HxWx4 uint8 RGBA), canvas
coordinates as floats (pixel (i, j) covers [i, i+1) x [j, j+1)) and a value (an id, or an RGBA
tuple), change the target in place and return the dirty rect (x0, y0, x1, y1), or None.

Brush geometry: a dab of odd size d is centred on the pixel under the point, an even size on
the nearest pixel corner; a round dab holds the pixels whose centres lie within d/2 of its
centre, a square one the d x d block. A segment between two points holds every dab along it
(round: the exact capsule, square: squares stamped on an 8-connected path), so strokes have no
gaps at any mouse speed.

`Stroke` applies them to a document layer as one undo step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from app.document.commands import PixelCommand
from app.document.geometry import Rect, clip, slices, union
from app.document.layers import UNLABELED, LabelLayer

if TYPE_CHECKING:
    from app.document.document import Document

Value = int | Sequence[int] | None  # id, RGBA/RGB tuple, or None = erase
Mask = tuple[Rect, np.ndarray]
SHAPES = ("round", "square")
_TILE = 64


# ----- masks: (rect, boolean array of the rect's size), clipped to the canvas -------------------


def _centre(v: float, size: int) -> float:
    return math.floor(v) + 0.5 if size % 2 else float(round(v))


def _check_size(size: int) -> int:
    size = int(size)
    if size < 1:
        raise ValueError(f"brush size must be at least 1 pixel, not {size}")
    return size


def _grid(rect: Rect) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of `rect` as broadcastable column / row vectors."""
    xs = np.arange(rect[0], rect[2], dtype=np.float64) + 0.5
    ys = np.arange(rect[1], rect[3], dtype=np.float64) + 0.5
    return xs[None, :], ys[:, None]


def segment_mask(
    x0: float, y0: float, x1: float, y1: float, size: int, shape: str, width: int, height: int
) -> Mask | None:
    """Pixels covered by dabs of `size`/`shape` moved from (x0, y0) to (x1, y1)."""
    size = _check_size(size)
    if shape not in SHAPES:
        raise ValueError(f"unknown brush shape {shape!r} (use {' or '.join(SHAPES)})")
    cx0, cy0, cx1, cy1 = (
        _centre(x0, size),
        _centre(y0, size),
        _centre(x1, size),
        _centre(y1, size),
    )
    half = size / 2.0
    box = (
        math.floor(min(cx0, cx1) - half),
        math.floor(min(cy0, cy1) - half),
        math.ceil(max(cx0, cx1) + half),
        math.ceil(max(cy0, cy1) + half),
    )
    rect = clip(box, width, height)
    if rect is None:
        return None
    if shape == "round":
        px, py = _grid(rect)
        dx, dy = cx1 - cx0, cy1 - cy0
        length2 = dx * dx + dy * dy
        if length2 == 0.0:
            t = 0.0
        else:
            t = np.clip(((px - cx0) * dx + (py - cy0) * dy) / length2, 0.0, 1.0)
        dist2 = (px - (cx0 + t * dx)) ** 2 + (py - (cy0 + t * dy)) ** 2
        mask = dist2 <= half * half + 1e-9
    else:
        mask = np.zeros((rect[3] - rect[1], rect[2] - rect[0]), bool)
        steps = int(max(abs(cx1 - cx0), abs(cy1 - cy0)))
        sx = np.rint(np.linspace(cx0 - half, cx1 - half, steps + 1)).astype(int)
        sy = np.rint(np.linspace(cy0 - half, cy1 - half, steps + 1)).astype(int)
        for left, top in zip(sx, sy, strict=True):
            x_a, y_a = max(left - rect[0], 0), max(top - rect[1], 0)
            x_b, y_b = left + size - rect[0], top + size - rect[1]
            if x_b > 0 and y_b > 0:
                mask[y_a:y_b, x_a:x_b] = True
    return _trimmed(rect, mask)


def rectangle_mask(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    filled: bool,
    line_width: int,
    width: int,
    height: int,
) -> Mask | None:
    """The pixel box spanned by the two corner pixels (inclusive); outline `line_width` inward."""
    line_width = _check_size(line_width)
    ax, bx = sorted((math.floor(x0), math.floor(x1)))
    ay, by = sorted((math.floor(y0), math.floor(y1)))
    box = (ax, ay, bx + 1, by + 1)
    rect = clip(box, width, height)
    if rect is None:
        return None
    px = np.arange(rect[0], rect[2])[None, :]
    py = np.arange(rect[1], rect[3])[:, None]
    mask = np.ones((rect[3] - rect[1], rect[2] - rect[0]), bool)
    if not filled:
        inner = (px >= ax + line_width) & (px <= bx - line_width)
        inner = inner & (py >= ay + line_width) & (py <= by - line_width)
        mask &= ~inner
    return _trimmed(rect, mask)


def ellipse_mask(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    filled: bool,
    line_width: int,
    width: int,
    height: int,
) -> Mask | None:
    """The ellipse inscribed in the pixel box of the two corner pixels (OpenCV, LINE_8)."""
    line_width = _check_size(line_width)
    ax, bx = sorted((math.floor(x0), math.floor(x1)))
    ay, by = sorted((math.floor(y0), math.floor(y1)))
    pad = line_width
    box = (ax - pad, ay - pad, bx + 1 + pad, by + 1 + pad)
    rect = clip(box, width, height)
    if rect is None:
        return None
    # Draw in a local canvas holding the whole ellipse (pixel centres are integer coordinates
    # for OpenCV); shift=1 gives the half-pixel centres of even-sized boxes.
    local = np.zeros((box[3] - box[1], box[2] - box[0]), np.uint8)
    centre = (ax + bx - 2 * box[0], ay + by - 2 * box[1])  # doubled, for shift=1
    # Doubled half-extents, less the outline width, so that a thick outline stays in the box.
    inset = 0 if filled else line_width - 1
    axes = (max(bx - ax - inset, 0), max(by - ay - inset, 0))
    thickness = -1 if filled else line_width
    cv2.ellipse(local, centre, axes, 0, 0, 360, 1, thickness, cv2.LINE_8, 1)
    if not filled:  # the box is a hard limit, as for the rectangle tool
        local[:pad, :] = 0
        local[-pad:, :] = 0
        local[:, :pad] = 0
        local[:, -pad:] = 0
    sub = local[rect[1] - box[1] : rect[3] - box[1], rect[0] - box[0] : rect[2] - box[0]]
    return _trimmed(rect, sub.astype(bool))


def fill_mask(sample: np.ndarray, x: float, y: float) -> Mask | None:
    """The 4-connected region of pixels equal to the one at (x, y) in `sample`."""
    height, width = sample.shape[:2]
    px, py = math.floor(x), math.floor(y)
    if not (0 <= px < width and 0 <= py < height):
        return None
    same = sample == sample[py, px]
    if same.ndim == 3:
        same = same.all(axis=2)
    _, components = cv2.connectedComponents(same.astype(np.uint8), connectivity=4)
    region = components == components[py, px]
    return _trimmed((0, 0, width, height), region)


def _trimmed(rect: Rect, mask: np.ndarray) -> Mask | None:
    """Shrink (rect, mask) to the bounding box of the mask's True pixels."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return (rect[0] + c0, rect[1] + r0, rect[0] + c1, rect[1] + r1), mask[r0:r1, c0:c1]


# ----- array-level operations -----------------------------------------------------------------


def apply_mask(target: np.ndarray, mask: Mask | None, value: int | Sequence[int]) -> Rect | None:
    """Set the masked pixels of `target` to `value`; returns the dirty rect."""
    if mask is None:
        return None
    rect, m = mask
    target[slices(rect)][m] = value
    return rect


def dab(
    target: np.ndarray, x: float, y: float, size: int, value, shape: str = "round"
) -> Rect | None:
    h, w = target.shape[:2]
    return apply_mask(target, segment_mask(x, y, x, y, size, shape, w, h), value)


def segment(
    target: np.ndarray,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    size: int,
    value,
    shape: str = "round",
) -> Rect | None:
    h, w = target.shape[:2]
    return apply_mask(target, segment_mask(x0, y0, x1, y1, size, shape, w, h), value)


def rectangle(
    target: np.ndarray,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    value,
    filled: bool = False,
    line_width: int = 1,
) -> Rect | None:
    h, w = target.shape[:2]
    return apply_mask(target, rectangle_mask(x0, y0, x1, y1, filled, line_width, w, h), value)


def ellipse(
    target: np.ndarray,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    value,
    filled: bool = False,
    line_width: int = 1,
) -> Rect | None:
    h, w = target.shape[:2]
    return apply_mask(target, ellipse_mask(x0, y0, x1, y1, filled, line_width, w, h), value)


def flood_fill(
    target: np.ndarray, x: float, y: float, value, sample: np.ndarray | None = None
) -> Rect | None:
    """Fill the 4-connected region around (x, y) of equal pixels of `sample` (default target)."""
    return apply_mask(target, fill_mask(target if sample is None else sample, x, y), value)


# ----- strokes on a document --------------------------------------------------------------------


class Stroke:
    """One undo step of painting on one layer: press = `doc.begin_stroke()`, moves = `segment`,
    release = `finish()`. Also a context manager (finishes, or cancels on an exception).

    Values: a class id (label layers; 255 erases) or an RGBA/RGB tuple (image layers;
    (0, 0, 0, 0) erases); None erases on both. Only the bounding box of pixels that really
    changed is stored in the undo step. Raises LayerLockedError on a locked layer.
    """

    def __init__(self, doc: Document, index: int | None = None, label: str = "Brush") -> None:
        if index is None:
            index = doc.active_index
        self.doc = doc
        self.layer = doc.layer(index)
        self.layer.require_unlocked()
        self.label = label
        self._tiles: dict[tuple[int, int], np.ndarray] = {}
        self._open = True

    @property
    def is_label(self) -> bool:
        return isinstance(self.layer, LabelLayer)

    @property
    def erase_value(self) -> int | tuple[int, int, int, int]:
        return UNLABELED if self.is_label else (0, 0, 0, 0)

    # painting -------------------------------------------------------------------------------

    def dab(self, x: float, y: float, size: int, value: Value, shape: str = "round") -> Rect | None:
        return self.segment(x, y, x, y, size, value, shape)

    def segment(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        size: int,
        value: Value,
        shape: str = "round",
    ) -> Rect | None:
        return self._paint(segment_mask(x0, y0, x1, y1, size, shape, *self.doc.size), value)

    def line(
        self, x0: float, y0: float, x1: float, y1: float, value: Value, line_width: int = 1
    ) -> Rect | None:
        return self.segment(x0, y0, x1, y1, line_width, value, "round")

    def rectangle(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        value: Value,
        filled: bool = False,
        line_width: int = 1,
    ) -> Rect | None:
        return self._paint(
            rectangle_mask(x0, y0, x1, y1, filled, line_width, *self.doc.size), value
        )

    def ellipse(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        value: Value,
        filled: bool = False,
        line_width: int = 1,
    ) -> Rect | None:
        return self._paint(ellipse_mask(x0, y0, x1, y1, filled, line_width, *self.doc.size), value)

    def fill(self, x: float, y: float, value: Value, sample: str | None = None) -> Rect | None:
        """Bucket fill. sample="composite" (default on label layers): the region is the
        4-connected area of one class in the composite label map (what you see), painted
        into this layer. sample="layer" (default on image layers): equal pixels of this layer.
        """
        sample = sample or ("composite" if self.is_label else "layer")
        if sample == "composite":
            source = self.doc.composite_labels()
        elif sample == "layer":
            source = self.layer.pixels
        else:
            raise ValueError(f"fill samples 'composite' or 'layer', not {sample!r}")
        return self._paint(fill_mask(source, x, y), value)

    # ending ---------------------------------------------------------------------------------

    def finish(self) -> Rect | None:
        """Record the stroke as one undo step; returns the rect of changed pixels (or None)."""
        self._require_open()
        self._open = False
        rect = self._changed_rect()
        if rect is not None:
            new = self.layer.pixels[slices(rect)].copy()
            old = self._old_pixels(rect)
            self.doc._push(PixelCommand(self.label, self.layer.uid, rect, old, new))
            self.doc._after_change()
        return rect

    def cancel(self) -> None:
        """Put back the pixels as they were before the stroke; records nothing."""
        self._require_open()
        self._open = False
        for (tx, ty), old in self._tiles.items():
            rect = (tx, ty, tx + old.shape[1], ty + old.shape[0])
            self.layer.pixels[slices(rect)] = old
            self.doc._pixels_changed(self.layer, rect)

    def __enter__(self) -> Stroke:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._open:
            return
        if exc_type is None:
            self.finish()
        else:
            self.cancel()

    # internals ------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("this stroke is already finished")

    def _value(self, value: Value) -> int | tuple[int, ...]:
        if value is None:
            return self.erase_value
        if self.is_label:
            if not isinstance(value, int | np.integer):
                raise ValueError(f"label layer {self.layer.name!r} takes a class id, not {value!r}")
            self.doc._check_label_value(int(value))
            return int(value)
        rgba = tuple(int(v) for v in value)  # type: ignore[union-attr]
        if len(rgba) == 3:
            rgba = rgba + (255,)
        if len(rgba) != 4 or not all(0 <= v <= 255 for v in rgba):
            raise ValueError(f"image layer {self.layer.name!r} takes an RGBA colour, not {value!r}")
        return rgba

    def _paint(self, mask: Mask | None, value: Value) -> Rect | None:
        self._require_open()
        self.layer.require_unlocked()
        v = self._value(value)
        if mask is None:
            return None
        self._backup(mask[0])
        rect = apply_mask(self.layer.pixels, mask, v)
        assert rect is not None
        self.doc._pixels_changed(self.layer, rect)
        return rect

    def _backup(self, rect: Rect) -> None:
        """Keep the original pixels of every tile that `rect` touches, once."""
        h, w = self.layer.pixels.shape[:2]
        for ty in range(rect[1] // _TILE * _TILE, rect[3], _TILE):
            for tx in range(rect[0] // _TILE * _TILE, rect[2], _TILE):
                if (tx, ty) not in self._tiles:
                    tile = (tx, ty, min(tx + _TILE, w), min(ty + _TILE, h))
                    self._tiles[(tx, ty)] = self.layer.pixels[slices(tile)].copy()

    def _changed_rect(self) -> Rect | None:
        rect: Rect | None = None
        for (tx, ty), old in self._tiles.items():
            now = self.layer.pixels[ty : ty + old.shape[0], tx : tx + old.shape[1]]
            diff = now != old
            if diff.ndim == 3:
                diff = diff.any(axis=2)
            rows = np.flatnonzero(diff.any(axis=1))
            if rows.size:
                cols = np.flatnonzero(diff.any(axis=0))
                found = (
                    tx + int(cols[0]),
                    ty + int(rows[0]),
                    tx + int(cols[-1]) + 1,
                    ty + int(rows[-1]) + 1,
                )
                rect = union(rect, found)
        return rect

    def _old_pixels(self, rect: Rect) -> np.ndarray:
        """The pre-stroke pixels of `rect`: current ones with the backed-up tiles put back."""
        old = self.layer.pixels[slices(rect)].copy()
        for (tx, ty), tile in self._tiles.items():
            x0, y0 = max(rect[0], tx), max(rect[1], ty)
            x1, y1 = min(rect[2], tx + tile.shape[1]), min(rect[3], ty + tile.shape[0])
            if x0 < x1 and y0 < y1:
                old[y0 - rect[1] : y1 - rect[1], x0 - rect[0] : x1 - rect[0]] = tile[
                    y0 - ty : y1 - ty, x0 - tx : x1 - tx
                ]
        return old


__all__ = [
    "SHAPES",
    "Stroke",
    "dab",
    "segment",
    "rectangle",
    "ellipse",
    "flood_fill",
    "apply_mask",
    "segment_mask",
    "rectangle_mask",
    "ellipse_mask",
    "fill_mask",
]
