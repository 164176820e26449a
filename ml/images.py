"""Reading and writing images with clear errors: corrupt, huge, odd modes, 16-bit.

Everything returns plain NumPy arrays: RGB images as HxWx3 uint8, label maps as HxW ints.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ml.atomic import atomic_path

# 16k x 16k: large photos pass, decompression bombs do not.
MAX_PIXELS = 16384 * 16384


class ImageReadError(ValueError):
    """An image file could not be read; the message says why, in one line."""


def _open(path: str | os.PathLike) -> Image.Image:
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            if img.width * img.height > MAX_PIXELS:
                raise ImageReadError(
                    f"{path}: {img.width}x{img.height} is larger than the {MAX_PIXELS // 1_000_000} "
                    "megapixel limit"
                )
            img.load()
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(f"{path}: image is too large to open safely") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file (or a format Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path}: image is corrupt or truncated ({exc})") from None
    return img


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any Pillow image as HxWx3 uint8: 16-bit scaled down, alpha composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 else 255.0
        gray = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3:4] / 255.0
        rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB."""
    return to_rgb_array(_open(path))


def read_raw(path: str | os.PathLike) -> np.ndarray:
    """Read an image's stored values unchanged (id label maps, 16-bit instance maps).

    Palette images give their indices; RGB images give HxWx3.
    """
    img = _open(path)
    if img.mode == "P":
        return np.asarray(img, dtype=np.uint8).copy()
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(img, dtype=np.int64).astype(np.int32)
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an HxW (gray / ids < 256) or HxWx3 / HxWx4 uint8 array."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        if array.min(initial=0) < 0 or array.max(initial=0) > 255:
            raise ValueError("only 8-bit arrays can be written as PNG here")
        array = array.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def write_image(path: str | os.PathLike, array: np.ndarray, quality: int = 95) -> None:
    """Write an image atomically; the format follows the suffix (.png, .jpg, .webp…)."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}")
    img = Image.fromarray(np.ascontiguousarray(array))
    with atomic_path(path) as tmp:
        if fmt == "JPEG":
            img.convert("RGB").save(tmp, format=fmt, quality=quality)
        else:
            img.save(tmp, format=fmt)
