"""Layers: label layers (class ids, 255 = no label) and image layers (straight-alpha RGBA).

Every layer covers the whole canvas. Change layers through `Document` methods, which record
undo steps and notify views; the dataclass fields are public for reading.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

UNLABELED = 255
_ids = itertools.count(1)


class LayerLockedError(RuntimeError):
    """An edit was attempted on a locked layer."""


@dataclass(eq=False)
class Layer:
    """Common properties. `uid` is unique in the process and stable across moves (for views)."""

    name: str
    pixels: np.ndarray
    visible: bool = True
    opacity: float = 1.0
    locked: bool = False
    tag: str = ""  # free role marker saved in files, e.g. "render" for the synthesis output
    uid: int = field(default_factory=lambda: next(_ids))

    kind: ClassVar[str] = ""

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def require_unlocked(self) -> None:
        if self.locked:
            raise LayerLockedError(f"layer {self.name!r} is locked; unlock it to edit")

    def copy(self, name: str | None = None) -> Layer:
        """A deep copy with a new uid."""
        return type(self)(
            name=self.name if name is None else name,
            pixels=self.pixels.copy(),
            visible=self.visible,
            opacity=self.opacity,
            locked=self.locked,
            tag=self.tag,
        )

    def transparent_mask(self) -> np.ndarray:
        raise NotImplementedError


@dataclass(eq=False)
class LabelLayer(Layer):
    """HxW uint8 class ids; 255 means "no label here" and is transparent."""

    kind: ClassVar[str] = "label"

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or self.pixels.dtype != np.uint8:
            raise ValueError("a label layer holds an HxW uint8 array")
        self.pixels = np.ascontiguousarray(self.pixels)

    @classmethod
    def empty(cls, width: int, height: int, name: str = "Labels") -> LabelLayer:
        return cls(name=name, pixels=np.full((height, width), UNLABELED, np.uint8))

    def transparent_mask(self) -> np.ndarray:
        return self.pixels == UNLABELED


@dataclass(eq=False)
class ImageLayer(Layer):
    """HxWx4 uint8 straight (not premultiplied) RGBA: photos, pasted objects, renders."""

    kind: ClassVar[str] = "image"

    def __post_init__(self) -> None:
        self.pixels = as_rgba(self.pixels)

    @classmethod
    def empty(cls, width: int, height: int, name: str = "Image") -> ImageLayer:
        return cls(name=name, pixels=np.zeros((height, width, 4), np.uint8))

    def transparent_mask(self) -> np.ndarray:
        return self.pixels[..., 3] == 0


def as_rgba(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 or HxWx4 uint8 as a contiguous HxWx4 array (RGB gets full alpha)."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError("an image layer holds an HxWx3 or HxWx4 uint8 array")
    if pixels.shape[2] == 3:
        alpha = np.full(pixels.shape[:2] + (1,), 255, np.uint8)
        pixels = np.concatenate([pixels, alpha], axis=2)
    return np.ascontiguousarray(pixels)
