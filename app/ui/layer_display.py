"""What the canvas shows of a document region: image layers (the photo) and label layers.

Both are straight-alpha RGBA, computed per dirty rectangle so a stroke repaints only what it
touched. Label layers are composited in their label-set colours at their own opacity; the
canvas then draws them opaque (colour map) or translucent over the photo (overlay).
"""

from __future__ import annotations

import numpy as np

from app.document.compose import colorize_layer, over
from app.document.document import Document
from app.document.geometry import Rect, slices
from app.document.layers import ImageLayer, LabelLayer


def photo_rgba(doc: Document, rect: Rect) -> np.ndarray:
    """Visible image layers, bottom to top, over transparency."""
    sl = slices(rect)
    out = np.zeros((rect[3] - rect[1], rect[2] - rect[0], 4), np.uint8)
    for layer in doc.layers:
        if isinstance(layer, ImageLayer) and layer.visible and layer.opacity > 0:
            out = over(out, layer.pixels[sl], layer.opacity)
    return out


def labels_rgba(doc: Document, rect: Rect) -> np.ndarray:
    """Visible label layers, bottom to top, in their colours; no label stays transparent."""
    sl = slices(rect)
    out = np.zeros((rect[3] - rect[1], rect[2] - rect[0], 4), np.uint8)
    for layer in doc.layers:
        if isinstance(layer, LabelLayer) and layer.visible and layer.opacity > 0:
            src = colorize_layer(layer.pixels[sl], doc.label_set)
            if layer.opacity >= 1.0:
                np.copyto(out, src, where=src[..., 3:4] > 0)
            else:
                out = over(out, src, layer.opacity)
    return out
