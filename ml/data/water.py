"""Lakes and the sea: a mirror image of what stands beyond the waterline, broken by ripples."""

from __future__ import annotations

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm, fbm1d, smoothstep

WATER, SAND = 7, 12


def paint_water(canvas: Canvas, rng: np.random.Generator, waterline: int, shore: float,
                beach: float, side: float) -> np.ndarray:
    """Water from `waterline` down to a wavy near shore around row `shore`.

    The reflection mirrors the canvas above the waterline as painted so far. `beach` is the
    sand strip's height in pixels at the near shore (0: none); `side` > 0 adds a bank entering
    from one side. Returns the water mask (H, W) bool.
    """
    h, w, u, look = canvas.height, canvas.width, canvas.unit, canvas.look
    rows = h - waterline
    if rows < 2:
        return np.zeros((h, w), bool)
    ys = np.arange(rows, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    depth = ys + 0.5  # rows below the waterline: distance grows toward the waterline
    near = depth / rows
    # Ripples: sideways and vertical jitter of the mirrored rows, growing toward the camera.
    wave = fbm(rng, (rows, w), cell=10 * u, octaves=3, stretch=(0.25, 2.5))
    swell = fbm(rng, (rows, w), cell=40 * u, octaves=2, stretch=(0.3, 2.0))
    amp_x = (0.5 + 5.0 * near) * u
    amp_y = (0.3 + 0.06 * depth)
    map_x = np.broadcast_to(xs + amp_x * wave, (rows, w)).astype(np.float32)
    src = waterline - depth + amp_y * swell
    map_y = np.clip(src, 0, waterline - 1).astype(np.float32)
    mirror = cv2.remap(canvas.image, map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT_101)
    fresnel = 0.92 - 0.45 * near ** 0.7
    deep = np.asarray(look.water, np.float32)
    body = canvas.lit(deep, np.full((rows, w), 0.7, np.float32)) * 1.2
    color = mirror * 0.88 * fresnel[..., None] + body * (1.0 - fresnel[..., None])
    glints = smoothstep(1.2, 2.4, wave) * (0.25 + 0.75 * near)
    sx, _ = canvas.sun
    if look.sun_disc or look.name == "noon":
        path = np.exp(-((xs - sx) / (0.07 * w + 0.25 * w * near)) ** 2)
        glints = glints + smoothstep(0.4, 2.0, wave) * path * 1.5
    color += (glints * (0.25 if look.shading > 0.5 else 0.08))[..., None] * np.asarray(look.sun, np.float32)
    color *= (1.0 - 0.06 * smoothstep(-1.0, 1.0, swell))[..., None]
    # Where the water ends: a wavy near shore, and maybe a bank from one side.
    edge = shore + 5 * u * fbm1d(rng, w, cell=70 * u, octaves=4)
    inside = (ys + waterline) < edge[None, :]
    if side != 0:
        rise = fbm1d(rng, rows, cell=30 * u, octaves=3) * 5 * u
        bank_x = w * (0.5 + 0.5 * abs(side)) - (ys[:, 0] / rows) * w * 0.9 * abs(side) + rise
        if side > 0:
            inside &= xs < bank_x[:, None]
        else:
            inside &= xs > (w - bank_x)[:, None]
    soft = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 0.6)
    alpha = np.where(inside, np.maximum(soft, 0.5), np.minimum(soft, 0.49))
    canvas.paint(alpha, color, WATER, at=(waterline, 0))
    mask = np.zeros((h, w), bool)
    mask[waterline:] = canvas.labels[waterline:] == WATER
    if beach > 0:
        _paint_beach(canvas, rng, mask, beach)
    return mask


def _paint_beach(canvas: Canvas, rng: np.random.Generator, water: np.ndarray, height: float) -> None:
    """Wet then dry sand along the near shore, below the water."""
    h, w = water.shape
    below = np.zeros((h, w), np.float32)
    col_water_bottom = np.where(water.any(axis=0), h - 1 - np.argmax(water[::-1], axis=0), -1)
    ys = np.arange(h, dtype=np.float32)[:, None]
    dist = ys - col_water_bottom[None, :].astype(np.float32)
    width = height * (1.0 + 0.4 * fbm1d(rng, w, cell=60 * canvas.unit, octaves=3))
    below = ((dist > 0) & (dist < width[None, :]) & (col_water_bottom[None, :] >= 0)).astype(np.float32)
    if not below.any():
        return
    wet = smoothstep(width[None, :] * 0.4, 0.0, dist)
    grain = fbm(rng, (h, w), cell=2 * canvas.unit, octaves=2)
    sand = np.asarray((0.86, 0.76, 0.54), np.float32) * (1.0 + 0.05 * grain[..., None])
    sand = sand * (1.0 - 0.35 * wet[..., None] * below[..., None])
    color = canvas.lit(sand, np.full((h, w), 0.8, np.float32))
    color = canvas.hazed(color, canvas.haze_at(np.full((h, w), 30.0, np.float32)))
    canvas.paint(below, color, SAND)
