"""The canvas a scene is painted on: an RGB float image and its label map, kept in step.

Every element paints a soft coverage (for antialiased pictures) and writes its label where its
coverage is at least one half, so the label map is exact where the picture is smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.data.looks import Look


@dataclass
class Canvas:
    image: np.ndarray  # (H, W, 3) float32 in [0, 1]
    labels: np.ndarray  # (H, W) uint8 class ids
    look: Look
    horizon: int  # row of the horizon
    sun: tuple[float, float]  # (x, y) of the sun or moon in pixels; y may be above the frame
    light: float  # -1: light comes from the left, +1: from the right

    @classmethod
    def blank(cls, width: int, height: int, look: Look, horizon: int, sun, light) -> Canvas:
        return cls(
            image=np.zeros((height, width, 3), np.float32),
            labels=np.zeros((height, width), np.uint8),
            look=look,
            horizon=horizon,
            sun=sun,
            light=light,
        )

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def unit(self) -> float:
        """Pixels per unit of a 256-pixel-high scene: sizes scale with the output."""
        return self.height / 256.0

    def lit(self, albedo, shade: np.ndarray) -> np.ndarray:
        """Surface colour under the look's light: albedo x (sky light + sun light x shade)."""
        look = self.look
        s = np.clip(shade, 0.0, 1.5)[..., None]
        light = np.asarray(look.ambient, np.float32) + np.asarray(look.sun, np.float32) * s
        return np.asarray(albedo, np.float32) * light

    def hazed(self, color: np.ndarray, amount) -> np.ndarray:
        """Atmospheric perspective: mix in the horizon colour by `amount` (0 near, 1 lost)."""
        a = np.clip(np.asarray(amount, np.float32), 0.0, 1.0)
        if a.ndim == 2:
            a = a[..., None]
        return color * (1.0 - a) + np.asarray(self.look.horizon, np.float32) * a

    def haze_at(self, distance) -> np.ndarray:
        """Haze share of a surface `distance` metres away under this look."""
        d = np.asarray(distance, np.float32)
        return 1.0 - np.exp(-d * (self.look.haze / 4000.0))

    def paint(self, alpha: np.ndarray, color, label: int | None, at: tuple[int, int] = (0, 0),
              labels_from: np.ndarray | None = None) -> None:
        """Blend `color` by coverage `alpha` into the box whose top-left corner is `at` (y, x).

        The box may hang over the canvas edges. `label` is written where alpha >= 0.5;
        `labels_from` (same shape as alpha) gives per-pixel labels instead.
        """
        y0, x0 = at
        h, w = alpha.shape
        cy0, cx0 = max(y0, 0), max(x0, 0)
        cy1, cx1 = min(y0 + h, self.height), min(x0 + w, self.width)
        if cy0 >= cy1 or cx0 >= cx1:
            return
        sy, sx = slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0)
        a = np.clip(alpha[sy, sx], 0.0, 1.0)
        c = np.asarray(color, np.float32)
        if c.ndim == 3:
            c = c[sy, sx]
        region = self.image[cy0:cy1, cx0:cx1]
        region += (c - region) * a[..., None]
        hard = a >= 0.5
        target = self.labels[cy0:cy1, cx0:cx1]
        if labels_from is not None:
            target[hard] = labels_from[sy, sx][hard]
        elif label is not None:
            target[hard] = label
