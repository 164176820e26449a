"""Sky, sun or moon, stars, clouds on a perspective cloud plane, and fog banks."""

from __future__ import annotations

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm, smoothstep

SKY, CLOUD, FOG = 0, 1, 2


def paint_sky(canvas: Canvas, rng: np.random.Generator) -> None:
    """Fill the whole canvas with the sky: gradient, sun glow, stars, and the sun or moon disc."""
    look, h, w = canvas.look, canvas.height, canvas.width
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    t = np.clip((canvas.horizon - ys) / max(canvas.horizon, 1), 0.0, 1.0) ** 0.55
    zen, hor = np.asarray(look.zenith, np.float32), np.asarray(look.horizon, np.float32)
    sky = hor * (1.0 - t[..., None]) + zen * t[..., None]
    sky = np.broadcast_to(sky, (h, w, 3)).copy()
    sx, sy = canvas.sun
    dist = np.sqrt((xs - sx) ** 2 + (ys - sy) ** 2) / h
    glow_col = np.asarray(look.sun, np.float32)
    if look.name == "night":
        glow = 0.25 * np.exp(-dist / 0.08)
    elif look.name == "golden_hour":
        glow = 0.55 * np.exp(-dist / 0.35) + 0.6 * np.exp(-dist / 0.06)
    else:
        glow = 0.18 * np.exp(-dist / 0.5)
    sky += glow[..., None] * glow_col
    if look.stars:
        n = int(0.004 * h * w)
        px = rng.integers(0, w, n)
        py = rng.integers(0, max(canvas.horizon, 1), n)
        bright = (rng.random(n) ** 3 * 0.8 + 0.1).astype(np.float32)
        sky[py, px] += bright[:, None]
    if look.sun_disc and 0 <= sy < canvas.horizon:
        r = (0.035 if look.name == "night" else 0.045) * h
        disc = np.clip(r - np.sqrt((xs - sx) ** 2 + (ys - sy) ** 2) + 0.5, 0.0, 1.0)
        tone = (0.92, 0.93, 0.85) if look.name == "night" else (1.0, 0.93, 0.75)
        sky += (np.asarray(tone, np.float32) * 1.1 - sky) * disc[..., None]
    canvas.paint(np.ones((h, w), np.float32), sky, SKY)


def paint_clouds(canvas: Canvas, rng: np.random.Generator, cover: float) -> None:
    """Clouds on a horizontal plane above the land, so they flatten and thin to the horizon."""
    look, h, w, hz = canvas.look, canvas.height, canvas.width, canvas.horizon
    if cover <= 0.01 or hz < 4:
        return
    tex = fbm(rng, (384, 384), cell=float(rng.uniform(60, 140)), octaves=6, persistence=0.55,
              stretch=(1.0, float(rng.uniform(1.0, 2.5))))
    focal = 0.9 * w
    ys = np.arange(hz, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    depth = focal / (hz - ys + 2.0)  # distance along the cloud plane, in cloud heights
    scale = float(rng.uniform(18, 34))
    off_x, off_z = rng.uniform(0, 200, 2)
    map_x = ((xs - w / 2) * depth / focal * scale + off_x).astype(np.float32)
    map_y = (depth * scale * 0.5 + off_z).astype(np.float32)
    map_x = np.broadcast_to(map_x, (hz, w)).copy()
    map_y = np.broadcast_to(map_y, (hz, w)).copy()
    field = cv2.remap(tex, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    above = cv2.remap(tex, map_x, map_y - scale * 0.08 * depth, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REFLECT_101)
    thr = float(np.quantile(field[:: 4, :: 4], 1.0 - cover))
    soft = 0.35
    dens = smoothstep(thr, thr + soft, field)
    dens_up = smoothstep(thr, thr + soft, above)
    thick = np.clip((field - thr) / 1.5, 0.0, 1.0)
    light = np.clip(0.62 + 0.9 * (dens - dens_up) - 0.35 * thick, 0.0, 1.0) ** 0.8
    if look.shading < 0.5:
        light = 0.5 + (light - 0.5) * 0.5
    lit, shade = np.asarray(look.cloud_lit, np.float32), np.asarray(look.cloud_shade, np.float32)
    color = shade + (lit - shade) * light[..., None]
    sx, sy = canvas.sun
    near_sun = np.exp(-np.sqrt((xs - sx) ** 2 + (ys - sy) ** 2) / (0.25 * h))
    color += (0.5 * near_sun * (1.0 - dens))[..., None] * np.asarray(look.sun, np.float32)
    far = np.clip(1.0 - (hz - ys) / (0.45 * hz), 0.0, 1.0) ** 2
    color = canvas.hazed(color, np.broadcast_to(0.7 * far, (hz, w)))
    canvas.paint(dens, color, CLOUD)


def paint_fog(canvas: Canvas, rng: np.random.Generator, top: int, base: int) -> None:
    """A fog bank lying in a valley: dense at `base`, thinning upward to nothing at `top`."""
    look, h, w = canvas.look, canvas.height, canvas.width
    top, base = max(0, top), min(h, base)
    if base - top < 3:
        return
    rows = base - top
    ys = np.arange(rows, dtype=np.float32)[:, None]
    wisps = fbm(rng, (rows, w), cell=40 * canvas.unit, octaves=4, stretch=(0.5, 2.5))
    edge = rows * (0.55 + 0.15 * wisps)
    profile = smoothstep(-0.1 * rows, 0.35 * rows, ys - (rows - edge))
    alpha = np.clip(profile * (0.92 + 0.08 * wisps), 0.0, 0.97)
    fog = 0.55 * np.asarray(look.horizon, np.float32) + 0.45 * np.asarray(look.cloud_lit, np.float32)
    shade = 0.94 + 0.06 * wisps[..., None]
    color = np.broadcast_to(fog, (rows, w, 3)) * shade
    canvas.paint(alpha, color, FOG, at=(top, 0))
