"""Trees (conifers and broadleaf), bushes and distant tree lines, each lit from the sun's side."""

from __future__ import annotations

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm, smoothstep

BUSH, TREE = 10, 11
BARK = (0.22, 0.16, 0.11)


def _box(cx: float, base: float, half_w: float, height: float) -> tuple[int, int, int, int]:
    x0, y0 = int(np.floor(cx - half_w - 2)), int(np.floor(base - height - 2))
    return y0, x0, int(np.ceil(height + 4)), int(np.ceil(2 * half_w + 4))


def paint_conifer(canvas: Canvas, rng: np.random.Generator, cx: float, base: float,
                  height: float, haze: float, snowy: bool) -> None:
    """A fir: stacked, ragged tiers narrowing to a point, on a short trunk."""
    if height < 3:
        return
    look = canvas.look
    half = height * float(rng.uniform(0.18, 0.28))
    y0, x0, bh, bw = _box(cx, base, half, height)
    ys = (np.arange(bh, dtype=np.float32) + y0)[:, None]
    xs = (np.arange(bw, dtype=np.float32) + x0)[None, :]
    r = np.clip((ys - (base - height)) / height, 0.0, 1.0)  # 0 at the tip, 1 at the ground
    tiers = float(rng.uniform(4, 8))
    saw = (r * tiers) % 1.0
    crown_r = np.clip(r / 0.9, 0, 1)
    jag = fbm(rng, (bh, bw), cell=max(height / 10, 1.5), octaves=2)
    width = half * crown_r * (0.55 + 0.45 * saw) * (1.0 + 0.12 * jag)
    dx = xs - cx
    crown = np.clip(width - np.abs(dx) + 0.5, 0.0, 1.0) * (r < 0.92)
    trunk_w = max(height * 0.035, 0.6)
    trunk = np.clip(trunk_w - np.abs(dx) + 0.5, 0.0, 1.0) * (r >= 0.85) * (ys <= base)
    alpha = np.maximum(crown, trunk)
    side = dx / np.maximum(width, 0.5)
    clumps = fbm(rng, (bh, bw), cell=max(height / 14, 1.2), octaves=2)
    shade = 0.45 - 0.35 * canvas.light * side * look.shading + 0.25 * saw * 0.0 - 0.25 * (1 - saw)
    shade = np.clip(shade + 0.35 + 0.15 * clumps, 0.05, 1.0)
    leaf = np.asarray(look.conifer, np.float32) * (1.0 + 0.2 * clumps[..., None])
    color = canvas.lit(leaf, shade)
    bark = canvas.lit(BARK, np.full_like(shade, 0.4))
    color = np.where((crown > 0)[..., None], color, bark)
    if snowy:
        snow_a = smoothstep(0.35, 0.15, saw) * smoothstep(0.0, 0.6, clumps) * (crown > 0.5)
        snow = canvas.lit((0.9, 0.93, 0.97), np.clip(shade + 0.2, 0, 1.2))
        color = color * (1 - snow_a[..., None]) + snow * snow_a[..., None]
    color = canvas.hazed(color, np.full(shade.shape, haze, np.float32))
    canvas.paint(alpha, color, TREE, at=(y0, x0))


def _blob(rng: np.random.Generator, bh: int, bw: int, centre: tuple[float, float],
          radius: tuple[float, float], lobes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A leafy mass: a union of round lobes with a ragged rim; returns alpha, (dy, dx) offsets."""
    cy, cx = centre
    ry, rx = radius
    ys = np.arange(bh, dtype=np.float32)[:, None]
    xs = np.arange(bw, dtype=np.float32)[None, :]
    field = np.full((bh, bw), -1e3, np.float32)
    for _ in range(lobes):
        ly = cy + rng.uniform(-0.45, 0.35) * ry
        lx = cx + rng.uniform(-0.55, 0.55) * rx
        lr = rng.uniform(0.45, 0.7) * min(rx, ry) * 1.1
        d = lr - np.sqrt((ys - ly) ** 2 + (xs - lx) ** 2)
        field = np.maximum(field, d)
    rag = fbm(rng, (bh, bw), cell=max(min(rx, ry) / 4, 1.2), octaves=3)
    field = field + 0.09 * min(rx, ry) * rag
    alpha = np.clip(field + 0.5, 0.0, 1.0)
    return alpha, (ys - cy) / ry, (xs - cx) / rx


def paint_broadleaf(canvas: Canvas, rng: np.random.Generator, cx: float, base: float,
                    height: float, haze: float, leaves) -> None:
    """A broadleaf tree: a trunk under a lobed crown of leaf clumps."""
    if height < 3:
        return
    look = canvas.look
    half = height * float(rng.uniform(0.28, 0.42))
    y0, x0, bh, bw = _box(cx, base, half, height)
    crown_h = height * float(rng.uniform(0.55, 0.72))
    ccy = (base - height + crown_h / 2) - y0
    ccx = cx - x0
    alpha, dy, dx = _blob(rng, bh, bw, (ccy, ccx), (crown_h / 2, half), int(rng.integers(5, 10)))
    ys = np.arange(bh, dtype=np.float32)[:, None] + y0
    xs = np.arange(bw, dtype=np.float32)[None, :] + x0
    trunk_w = max(height * 0.04, 0.6)
    trunk = np.clip(trunk_w - np.abs(xs - cx) + 0.5, 0.0, 1.0) * (ys <= base) * (ys > base - height * 0.6)
    clumps = fbm(rng, (bh, bw), cell=max(height / 9, 1.5), octaves=3)
    cgx = cv2.Sobel(clumps, cv2.CV_32F, 1, 0, ksize=3)
    cgy = cv2.Sobel(clumps, cv2.CV_32F, 0, 1, ksize=3)
    k = look.shading
    shade = 0.55 - 0.3 * k * canvas.light * dx - 0.25 * k * dy
    shade += 0.2 * k * np.tanh(-canvas.light * cgx - cgy)
    shade = np.clip(shade - 0.1 * (1 - np.clip(alpha * 3, 0, 1)), 0.04, 1.1)
    tone = np.asarray(leaves[int(rng.integers(len(leaves)))], np.float32)
    color = canvas.lit(tone * (1.0 + 0.15 * clumps[..., None]), shade)
    bark = canvas.lit(BARK, np.full_like(shade, 0.35))
    color = np.where((alpha > 0.05)[..., None], color, bark)
    color = canvas.hazed(color, np.full(shade.shape, haze, np.float32))
    canvas.paint(np.maximum(alpha, trunk), color, TREE, at=(y0, x0))


def paint_bush(canvas: Canvas, rng: np.random.Generator, cx: float, base: float, width: float,
               haze: float, tones) -> None:
    """A low shrub: a wide leafy mound sitting on the ground."""
    if width < 3:
        return
    look = canvas.look
    height = width * float(rng.uniform(0.45, 0.75))
    y0, x0, bh, bw = _box(cx, base, width / 2, height)
    alpha, dy, dx = _blob(rng, bh, bw, (base - height / 2 - y0 + 0.1 * height, cx - x0),
                          (height / 2, width / 2), int(rng.integers(3, 7)))
    ys = np.arange(bh, dtype=np.float32)[:, None] + y0
    alpha = alpha * (ys <= base + 0.5)
    clumps = fbm(rng, (bh, bw), cell=max(width / 8, 1.2), octaves=3)
    k = look.shading
    shade = 0.55 - 0.28 * k * canvas.light * dx - 0.3 * k * dy + 0.18 * clumps
    tone = np.asarray(tones[int(rng.integers(len(tones)))], np.float32)
    color = canvas.lit(tone * (1.0 + 0.15 * clumps[..., None]), np.clip(shade, 0.04, 1.1))
    color = canvas.hazed(color, np.full(shade.shape, haze, np.float32))
    canvas.paint(alpha, color, BUSH, at=(y0, x0))


def paint_tree_line(canvas: Canvas, rng: np.random.Generator, base: float, height: float,
                    haze: float, conifers: float, x_range: tuple[float, float] | None = None) -> None:
    """A distant wood edge: many crowns merged into one serrated or billowing silhouette."""
    look, w, u = canvas.look, canvas.width, canvas.unit
    xs = np.arange(w, dtype=np.float32)
    top = np.zeros(w, np.float32)
    n = int(w / max(height * 0.35, 1.5)) + 4
    for _ in range(n * 2):
        x = rng.uniform(-height, w + height)
        th = height * rng.uniform(0.55, 1.0)
        if rng.random() < conifers:
            prof = th - np.abs(xs - x) * rng.uniform(2.2, 3.5)
        else:
            r = th * rng.uniform(0.35, 0.55)
            prof = (th - r) + np.sqrt(np.maximum(r * r - (xs - x) ** 2, 0.0)) - 1e3 * (np.abs(xs - x) > r)
        top = np.maximum(top, prof)
    if x_range is not None:
        lo, hi = x_range
        top = np.where((xs >= lo) & (xs <= hi), top, 0.0)
    if top.max() < 1:
        return
    y0 = int(np.floor(base - top.max())) - 1
    rows = int(np.ceil(base)) + 2 - y0
    ys = (np.arange(rows, dtype=np.float32) + y0)[:, None]
    alpha = np.clip(ys - (base - top[None, :]) + 0.5, 0.0, 1.0) * (top[None, :] > 0.5)
    clumps = fbm(rng, (rows, w), cell=max(height / 4, 1.5), octaves=3)
    gx = cv2.Sobel(clumps, cv2.CV_32F, 1, 0, ksize=3)
    shade = 0.5 + 0.25 * look.shading * np.tanh(-canvas.light * gx) + 0.1 * clumps
    shade -= 0.25 * smoothstep(base - height * 0.6, base, ys)
    tone = np.asarray(look.conifer if conifers > 0.5 else look.leaves[0], np.float32)
    color = canvas.lit(tone * (1.0 + 0.15 * clumps[..., None]), np.clip(shade, 0.04, 1.0))
    color = canvas.hazed(color, np.full(shade.shape, haze, np.float32))
    canvas.paint(alpha, color, TREE, at=(y0, 0))
    del u
