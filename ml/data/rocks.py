"""Boulders: faceted, cracked stones with a contact shadow on the ground beside them."""

from __future__ import annotations

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm

ROCK = 6
TONES = ((0.48, 0.46, 0.44), (0.44, 0.40, 0.36), (0.52, 0.50, 0.48), (0.40, 0.39, 0.40))


def paint_boulder(canvas: Canvas, rng: np.random.Generator, cx: float, base: float,
                  width: float, haze: float) -> None:
    """A boulder `width` pixels wide resting on the ground at row `base`."""
    if width < 2.5:
        return
    look = canvas.look
    height = width * float(rng.uniform(0.4, 0.8))
    pad = max(3, int(width * 0.15))
    bw, bh = int(np.ceil(width * 1.6)) + 2 * pad, int(np.ceil(height)) + 2 * pad
    x0, y0 = int(np.floor(cx - bw / 2)), int(np.floor(base - height)) - pad
    # The outline: a ring of jittered vertices, flattened where it meets the ground.
    n = int(rng.integers(7, 12))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.75, 1.0, n)
    px = cx - x0 + np.cos(ang) * rad * width / 2
    py = base - height / 2 - y0 - np.sin(ang) * rad * height / 2
    py = np.minimum(py, base - y0)
    scale = 8
    poly = np.stack([px * scale, py * scale], axis=1).astype(np.int32)[None]
    mask = np.zeros((bh, bw), np.uint8)
    cv2.fillPoly(mask, poly, 255, lineType=cv2.LINE_AA, shift=3)
    alpha = mask.astype(np.float32) / 255.0
    # Contact shadow on the ground, a little away from the light.
    shadow = cv2.GaussianBlur(alpha, (0, 0), max(width * 0.08, 0.7))
    shadow = np.roll(shadow, (1, int(round(-canvas.light * width * 0.1))), axis=(0, 1))
    canvas.paint(shadow * 0.45 * look.shading * (1 - alpha), np.zeros(3, np.float32), None,
                 at=(y0, x0))
    ys = (np.arange(bh, dtype=np.float32))[:, None]
    xs = (np.arange(bw, dtype=np.float32))[None, :]
    dx = (xs - (cx - x0)) / (width / 2)
    dy = (ys - (base - height / 2 - y0)) / (height / 2)
    facets = fbm(rng, (bh, bw), cell=max(width / 3, 1.5), octaves=2)
    fq = np.round(facets * 1.5) / 1.5
    cracks = np.abs(fbm(rng, (bh, bw), cell=max(width / 4, 1.5), octaves=3))
    k = look.shading
    shade = 0.6 - 0.35 * k * canvas.light * dx - 0.3 * k * dy + 0.12 * k * fq
    shade -= 0.3 * (cracks < 0.08)
    shade = np.clip(shade, 0.05, 1.2)
    tone = np.asarray(TONES[int(rng.integers(len(TONES)))], np.float32)
    grain = fbm(rng, (bh, bw), cell=1.5, octaves=2)
    color = canvas.lit(tone * (1.0 + 0.1 * grain[..., None]), shade)
    color = canvas.hazed(color, np.full(shade.shape, haze, np.float32))
    canvas.paint(alpha, color, ROCK, at=(y0, x0))
