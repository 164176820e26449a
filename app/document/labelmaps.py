"""Label maps and pictures in and out of documents: PNG import/export, new documents.

A label map file is either colour-coded (RGB: each class in its label-set colour; fully
transparent pixels mean "no label") or holds the ids themselves (grayscale, palette or
16-bit PNG).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.document.document import Document
from app.document.ora import label_png
from ml.atomic import atomic_write_bytes
from ml.images import encode_png, read_raw, read_rgb
from ml.labels import LabelError, LabelSet, load_label_set

EXPORT_MODES = ("color", "ids")


def read_label_map(path: str | os.PathLike, label_set: LabelSet) -> np.ndarray:
    """HxW uint8 ids from a colour-coded or id PNG, checked against `label_set`.

    Raises LabelError naming unknown colours or ids, ImageReadError for unreadable files.
    """
    path = Path(path)
    raw = read_raw(path)  # clear errors for missing, corrupt and huge files
    try:
        if raw.ndim == 2:
            label_set.validate(raw)
            return raw.astype(np.uint8)
        return label_set.colors_to_ids(raw, _alpha(path)).astype(np.uint8)
    except LabelError as exc:
        raise LabelError(f"{path.name}: {exc}") from None


def _alpha(path: Path) -> np.ndarray | None:
    with Image.open(path) as img:
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            return np.asarray(img.convert("RGBA"))[..., 3]
    return None


def document_from_label_map(
    path: str | os.PathLike, label_set: str = "landscape", name: str | None = None
) -> Document:
    """A clean, unsaved document of the label map's size holding it as its one label layer."""
    path = Path(path)
    ids = read_label_map(path, load_label_set(label_set))
    doc = Document(ids.shape[1], ids.shape[0], label_set=label_set)
    doc.add_label_layer(name or path.stem, pixels=ids)
    doc.history.clear()
    doc.mark_saved()
    return doc


def import_label_map(doc: Document, path: str | os.PathLike, name: str | None = None) -> int:
    """Add the label map in `path` as a new label layer above the active one (one undo step).

    The map must have the canvas size (ValueError otherwise, naming both sizes).
    """
    path = Path(path)
    ids = read_label_map(path, doc.label_set)
    if ids.shape != (doc.height, doc.width):
        raise ValueError(
            f"{path.name} is {ids.shape[1]}x{ids.shape[0]}, the canvas {doc.width}x{doc.height}"
        )
    return doc.add_label_layer(name or path.stem, pixels=ids)


def import_image(doc: Document, path: str | os.PathLike, name: str | None = None) -> int:
    """Add a picture as an image layer, scaled to fit inside the canvas and centred."""
    path = Path(path)
    rgb = read_rgb(path)
    return doc.add_image_layer(name or path.stem, pixels=fit_to_canvas(rgb, doc.width, doc.height))


def fit_to_canvas(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """HxWx4: `rgb` scaled (aspect kept) to fit inside width x height, centred, clear around."""
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    if (nw, nh) != (w, h):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        rgb = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((height, width, 4), np.uint8)
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw, :3] = rgb
    out[y0 : y0 + nh, x0 : x0 + nw, 3] = 255
    return out


def export_label_map(doc: Document, path: str | os.PathLike, mode: str = "color") -> None:
    """Write the composite label map as a PNG, atomically.

    mode "color": an indexed PNG showing the class colours whose indices are the ids
    ("no label" transparent), so it reads back exactly here and shows colours elsewhere;
    "ids": a grayscale PNG of the raw ids (255 = no label), the datasets' convention.
    """
    if mode not in EXPORT_MODES:
        raise ValueError(f"unknown label export mode {mode!r} (use {' or '.join(EXPORT_MODES)})")
    ids = doc.composite_labels()
    data = label_png(ids, doc.label_set.lut()) if mode == "color" else encode_png(ids)
    atomic_write_bytes(path, data)


__all__ = [
    "EXPORT_MODES",
    "document_from_label_map",
    "export_label_map",
    "fit_to_canvas",
    "import_image",
    "import_label_map",
    "read_label_map",
]
