"""OpenRaster (.ora) files: the layered format Krita, GIMP and MyPaint read and write.

Layout (OpenRaster 0.0.5): `mimetype` first and stored ("image/openraster"), `stack.xml`
(layers top first), one PNG per layer under `data/`, `mergedimage.png` (the whole picture)
and `Thumbnails/thumbnail.png` (at most 256 px). Label layers are palette PNGs whose indices
are the class ids and whose palette holds the label set's colours (index 255 transparent), so
other programs show the colours and we read the ids back exactly. Our extras (label set,
model, style, layer kind and tag) are `spadework:` attributes in stack.xml; the lock state
uses the standard `edit-locked`, the active layer `selected`.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.document.compose import over
from app.document.document import MAX_SIDE, Document
from app.document.layers import UNLABELED, ImageLayer, LabelLayer, Layer
from ml.atomic import atomic_path
from ml.images import MAX_PIXELS
from ml.labels import LabelError, LabelSet

MIMETYPE = b"image/openraster"
NS = "https://spadework.invalid/ns/openraster/1"
ORA_VERSION = "0.0.5"
FORMAT_VERSION = "1"
THUMBNAIL_MAX = 256
_MAX_MEMBER = 2 * 1024**3  # uncompressed bytes of one member; more is not a real layer

ET.register_namespace("spadework", NS)


class OraError(ValueError):
    """An .ora file cannot be read (not a zip, no stack.xml, broken layer…); one line."""


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


# ----- writing -------------------------------------------------------------------------------


def label_png(ids: np.ndarray, label_set_lut: np.ndarray) -> bytes:
    """A palette PNG: indices = ids, palette = class colours, index 255 fully transparent."""
    img = Image.fromarray(np.ascontiguousarray(ids, dtype=np.uint8), mode="P")
    img.putpalette(label_set_lut[:256].astype(np.uint8).tobytes())
    alpha = bytes([255] * UNLABELED + [0] * (256 - UNLABELED))
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=alpha)
    return buf.getvalue()


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _merged_image(doc: Document, render: np.ndarray | None) -> np.ndarray:
    """The render (scaled to the canvas) over the flattened layers, else the flattened layers."""
    flat = doc.flatten()
    if render is None:
        return flat
    render = np.asarray(render, dtype=np.uint8)
    if render.ndim != 3 or render.shape[2] not in (3, 4):
        raise ValueError("the render must be an HxWx3 or HxWx4 uint8 image")
    if render.shape[:2] != (doc.height, doc.width):
        render = cv2.resize(render, doc.size, interpolation=cv2.INTER_AREA)
    if render.shape[2] == 3:
        render = np.concatenate([render, np.full(render.shape[:2] + (1,), 255, np.uint8)], 2)
    return over(flat, render)


def _stack_xml(doc: Document, sources: list[str]) -> bytes:
    root = ET.Element(
        "image",
        {
            "version": ORA_VERSION,
            "w": str(doc.width),
            "h": str(doc.height),
            _q("format"): FORMAT_VERSION,
            _q("label-set"): doc.label_set_name,
            _q("style"): json.dumps(doc.style, separators=(",", ":")),
        },
    )
    if doc.model_id is not None:
        root.set(_q("model"), doc.model_id)
    stack = ET.SubElement(root, "stack")
    for index in range(len(doc.layers) - 1, -1, -1):  # top first
        layer = doc.layers[index]
        attrs = {
            "name": layer.name,
            "src": sources[index],
            "x": "0",
            "y": "0",
            "opacity": repr(float(layer.opacity)),
            "visibility": "visible" if layer.visible else "hidden",
            "composite-op": "svg:src-over",
            "edit-locked": "true" if layer.locked else "false",
            "selected": "true" if index == doc.active_index else "false",
            _q("kind"): layer.kind,
        }
        if layer.tag:
            attrs[_q("tag")] = layer.tag
        ET.SubElement(stack, "layer", attrs)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def ora_bytes(doc: Document, render: np.ndarray | None = None) -> bytes:
    """The whole .ora file in memory."""
    lut = doc.label_set.lut()
    sources = [f"data/layer{i:03d}.png" for i in range(len(doc.layers))]
    merged = _merged_image(doc, render)
    thumb = Image.fromarray(merged)
    thumb.thumbnail((THUMBNAIL_MAX, THUMBNAIL_MAX), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", _stack_xml(doc, sources), compress_type=zipfile.ZIP_DEFLATED)
        for layer, src in zip(doc.layers, sources, strict=True):
            data = (
                label_png(layer.pixels, lut)
                if isinstance(layer, LabelLayer)
                else _png(layer.pixels)
            )
            zf.writestr(src, data, compress_type=zipfile.ZIP_STORED)
        zf.writestr("mergedimage.png", _png(merged), compress_type=zipfile.ZIP_STORED)
        zf.writestr("Thumbnails/thumbnail.png", _png(np.asarray(thumb)), zipfile.ZIP_STORED)
    return buf.getvalue()


def save_ora(
    doc: Document,
    path: str | os.PathLike,
    render: np.ndarray | None = None,
    mark_saved: bool = True,
) -> None:
    """Write `doc` atomically; with mark_saved the document becomes clean and takes `path`.

    `render` (the synthesized picture) becomes mergedimage.png and the thumbnail, so file
    browsers show the picture; without it they show the coloured labels.
    """
    path = Path(path)
    data = ora_bytes(doc, render)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    if mark_saved:
        doc.mark_saved(path)


# ----- reading -------------------------------------------------------------------------------


@dataclass
class _Entry:
    element: ET.Element
    visible: bool
    opacity: float


def _flatten_stack(stack: ET.Element, visible: bool, opacity: float) -> list[_Entry]:
    """Layers of a (possibly nested) stack, top first; groups pass on visibility and opacity."""
    out: list[_Entry] = []
    for child in stack:
        vis = visible and child.get("visibility", "visible") != "hidden"
        op = opacity * _float(child.get("opacity", "1"), "opacity")
        if child.tag == "stack":
            out.extend(_flatten_stack(child, vis, op))
        elif child.tag == "layer":
            out.append(_Entry(child, vis, op))
    return out


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OraError(f"stack.xml has a bad {what} {text!r}") from None
    return min(max(value, 0.0), 1.0)


def _int(text: str | None, what: str) -> int:
    try:
        return int(float(text if text is not None else "0"))
    except ValueError:
        raise OraError(f"stack.xml has a bad {what} {text!r}") from None


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise OraError(f"the file lists {name} but does not contain it") from None
    if info.file_size > _MAX_MEMBER:
        raise OraError(f"{name} is too large ({info.file_size} bytes)")
    return zf.read(info)


def _open_png(data: bytes, name: str) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise OraError(f"layer {name} is too large to open safely") from None
    except Exception as exc:  # Pillow raises many types for broken data
        raise OraError(f"layer {name} is not a readable image ({exc})") from None
    return img


def _placed(array: np.ndarray, x: int, y: int, w: int, h: int, fill) -> np.ndarray:
    """`array` put at (x, y) on a w x h canvas filled with `fill`, clipped."""
    if array.shape[:2] == (h, w) and x == 0 and y == 0:
        return np.ascontiguousarray(array)
    out = np.empty((h, w) + array.shape[2:], array.dtype)
    out[...] = fill
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + array.shape[1], w), min(y + array.shape[0], h)
    if x0 < x1 and y0 < y1:
        out[y0:y1, x0:x1] = array[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def _layer(zf: zipfile.ZipFile, entry: _Entry, doc: Document) -> Layer:
    el = entry.element
    src = el.get("src")
    if not src:
        raise OraError("stack.xml has a layer without a src")
    img = _open_png(_read_member(zf, src), src)
    x, y = _int(el.get("x"), "x"), _int(el.get("y"), "y")
    name = el.get("name") or Path(src).stem
    common = {
        "name": name,
        "visible": entry.visible,
        "opacity": entry.opacity,
        "locked": el.get("edit-locked", "false").lower() == "true",
        "tag": el.get(_q("tag"), ""),
    }
    if el.get(_q("kind")) == "label":
        if img.mode not in ("P", "L"):
            raise OraError(f"label layer {name!r} is not an indexed PNG (mode {img.mode})")
        ids = np.asarray(img, dtype=np.uint8)
        try:
            doc.label_set.validate(ids)
        except LabelError as exc:
            raise OraError(f"label layer {name!r}: {exc}") from None
        return LabelLayer(pixels=_placed(ids, x, y, doc.width, doc.height, UNLABELED), **common)
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8)
    ids = _painted_labels(rgba, doc.label_set)
    if ids is not None:
        return LabelLayer(pixels=_placed(ids, x, y, doc.width, doc.height, UNLABELED), **common)
    return ImageLayer(pixels=_placed(rgba, x, y, doc.width, doc.height, 0), **common)


def _painted_labels(rgba: np.ndarray, label_set: LabelSet) -> np.ndarray | None:
    """Class ids of a foreign layer that holds only class colours and clear pixels, else None.

    Krita and GIMP drop our metadata when they save, so a label layer painted or edited there
    comes back as plain RGBA. Exact class colours on fully opaque pixels, everything else fully
    transparent, cannot be a photo: it becomes a label layer again.
    """
    alpha = rgba[..., 3]
    opaque = alpha == 255
    if not opaque.any() or not (opaque | (alpha == 0)).all():
        return None
    try:
        return label_set.colors_to_ids(rgba[..., :3], alpha).astype(np.uint8)
    except LabelError:
        return None


def _document(root: ET.Element) -> Document:
    if root.tag != "image":
        raise OraError(f"stack.xml starts with <{root.tag}>, not <image>")
    w, h = _int(root.get("w"), "width"), _int(root.get("h"), "height")
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
        raise OraError(f"canvas size {w}x{h} is outside 1..{MAX_SIDE} pixels")
    style = None
    if root.get(_q("style")):
        try:
            style = json.loads(root.get(_q("style"), ""))
        except ValueError:
            raise OraError("stack.xml holds a style that is not JSON") from None
    try:
        return Document(
            w,
            h,
            label_set=root.get(_q("label-set"), "landscape"),
            model_id=root.get(_q("model")),
            style=style,
        )
    except KeyError as exc:
        raise OraError(str(exc).strip("'\"")) from None


def load_ora(path: str | os.PathLike) -> Document:
    """Read an .ora file as a clean document whose `path` is `path`.

    Files from other programs open too: their layers (of any size and offset, groups
    flattened) become image layers on a canvas of the image size, except layers holding only
    exact class colours and clear pixels, which become label layers again.
    """
    path = Path(path)
    try:
        return _load(path)
    except OraError as exc:
        raise OraError(f"{path}: {exc}") from None


def _load(path: Path) -> Document:
    if not path.is_file():
        raise OraError("no such file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise OraError(f"not an OpenRaster file ({exc})") from None
    with zf:
        names = set(zf.namelist())
        if "mimetype" in names and _read_member(zf, "mimetype").strip() != MIMETYPE:
            raise OraError("not an OpenRaster file (wrong mimetype)")
        if "stack.xml" not in names:
            raise OraError("not an OpenRaster file (no stack.xml)")
        try:
            root = ET.fromstring(_read_member(zf, "stack.xml"))
        except ET.ParseError as exc:
            raise OraError(f"stack.xml is broken ({exc})") from None
        doc = _document(root)
        stack = root.find("stack")
        entries = _flatten_stack(stack, True, 1.0) if stack is not None else []
        try:
            layers = [_layer(zf, entry, doc) for entry in entries]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise OraError(f"the archive is damaged ({exc})") from None
    layers.reverse()  # stack.xml lists the top first; documents keep the bottom first
    selected = [i for i, e in enumerate(reversed(entries)) if e.element.get("selected") == "true"]
    doc._layers = layers
    doc._active = selected[-1] if selected else len(layers) - 1
    doc.path = path
    return doc
