"""Pictures of layers: label ids in their colours, straight-alpha "over", the flattened stack.

Used for mergedimage.png and thumbnails in .ora files and for label-onto-image merges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.document.geometry import Rect, clip, slices
from app.document.layers import UNLABELED, LabelLayer
from ml.labels import LabelSet

if TYPE_CHECKING:
    from app.document.document import Document


def colorize_layer(ids: np.ndarray, label_set: LabelSet) -> np.ndarray:
    """HxW ids to HxWx4 RGBA in the label set's colours; 255 (no label) is transparent."""
    rgba = np.empty(ids.shape + (4,), np.uint8)
    rgba[..., :3] = label_set.lut()[ids]
    rgba[..., 3] = np.where(ids == UNLABELED, 0, 255)
    return rgba


def over(dst: np.ndarray, src: np.ndarray, opacity: float = 1.0) -> np.ndarray:
    """Straight-alpha `src` (times `opacity`) composited over straight-alpha `dst`."""
    sa = src[..., 3:4].astype(np.float32) / 255.0 * float(opacity)
    da = dst[..., 3:4].astype(np.float32) / 255.0
    out_a = sa + da * (1.0 - sa)
    num = src[..., :3].astype(np.float32) * sa + dst[..., :3].astype(np.float32) * da * (1.0 - sa)
    rgb = np.divide(num, out_a, out=np.zeros_like(num), where=out_a > 0)
    out = np.empty(dst.shape, np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255)
    out[..., 3:4] = np.clip(out_a * 255.0 + 0.5, 0, 255)
    return out


def flatten(doc: Document, rect: Rect | None = None) -> np.ndarray:
    """All visible layers bottom to top at their opacity; label layers in their colours."""
    r = (0, 0, doc.width, doc.height) if rect is None else clip(rect, *doc.size)
    if r is None:
        return np.zeros((0, 0, 4), np.uint8)
    sl = slices(r)
    out = np.zeros((r[3] - r[1], r[2] - r[0], 4), np.uint8)
    for layer in doc.layers:
        if not layer.visible or layer.opacity <= 0.0:
            continue
        if isinstance(layer, LabelLayer):
            src = colorize_layer(layer.pixels[sl], doc.label_set)
        else:
            src = layer.pixels[sl]
        out = over(out, src, layer.opacity)
    return out
