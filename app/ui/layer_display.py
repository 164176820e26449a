"""What the canvas shows of a document region: image layers (the photo) and label layers.

Both are straight-alpha RGBA, computed per dirty rectangle so a stroke repaints only what it
touched. Label layers are composited in their label-set colours at their own opacity; the
canvas then draws them opaque (colour map) or translucent over the photo (overlay).
The common cases (opaque label layers, an opaque photo) take one table lookup or one copy
instead of float compositing, so whole-canvas refreshes (a layer shown, a stack change)
stay quick on large documents.
"""

from __future__ import annotations

import numpy as np

from app.document.compose import colorize_layer, over
from app.document.document import Document
from app.document.geometry import Rect, slices
from app.document.layers import UNLABELED, ImageLayer, LabelLayer
from ml.labels import LabelSet


def photo_rgba(doc: Document, rect: Rect) -> np.ndarray:
    """Visible image layers, bottom to top, over transparency."""
    sl = slices(rect)
    out: np.ndarray | None = None
    for layer in doc.layers:
        if not (isinstance(layer, ImageLayer) and layer.visible and layer.opacity > 0):
            continue
        src = layer.pixels[sl]
        if layer.opacity >= 1.0 and (out is None or bool((src[..., 3] == 255).all())):
            out = src.copy()  # nothing below shows through (or there is nothing below)
        else:
            base = out if out is not None else np.zeros(src.shape, np.uint8)
            out = over(base, src, layer.opacity)
    if out is None:
        return np.zeros((rect[3] - rect[1], rect[2] - rect[0], 4), np.uint8)
    return out


def labels_rgba(doc: Document, rect: Rect) -> np.ndarray:
    """Visible label layers, bottom to top, in their colours; no label stays transparent."""
    sl = slices(rect)
    shape = (rect[3] - rect[1], rect[2] - rect[0])
    layers = [layer for layer in doc.layers
              if isinstance(layer, LabelLayer) and layer.visible and layer.opacity > 0]
    if all(layer.opacity >= 1.0 for layer in layers):
        ids = np.full(shape, UNLABELED, np.uint8)
        for layer in layers:
            src = layer.pixels[sl]
            np.copyto(ids, src, where=src != UNLABELED)
        return rgba_table(doc.label_set)[ids]
    out = np.zeros(shape + (4,), np.uint8)
    for layer in layers:
        src = colorize_layer(layer.pixels[sl], doc.label_set)
        if layer.opacity >= 1.0:
            np.copyto(out, src, where=src[..., 3:4] > 0)
        else:
            out = over(out, src, layer.opacity)
    return out


def rgba_table(label_set: LabelSet) -> np.ndarray:
    """256x4 colours by id, "no label" (255) transparent."""
    table = np.zeros((256, 4), np.uint8)
    table[:, :3] = label_set.lut()[:256]
    table[:, 3] = 255
    table[UNLABELED, 3] = 0
    return table
