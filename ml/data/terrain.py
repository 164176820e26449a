"""Mountain ranges with snow caps and rolling hills: silhouettes standing on the horizon."""

from __future__ import annotations

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm, fbm1d, ridged1d, smoothstep

MOUNTAIN, SNOW, HILL, TREE = 3, 4, 5, 11
ROCK_TONES = ((0.42, 0.38, 0.35), (0.38, 0.37, 0.38), (0.46, 0.40, 0.33), (0.34, 0.33, 0.35))


def _ridge_shading(ridge: np.ndarray, light: float, rows: int, reach: float) -> np.ndarray:
    """Light on the faces of a crest: slopes facing the light are bright, fading downhill."""
    slope = np.gradient(cv2.GaussianBlur(ridge[None, :], (0, 0), 1.5)[0])
    face = np.tanh(slope * light * 0.6)  # ridge rising away from the light faces it
    depth = np.arange(rows, dtype=np.float32)[:, None]
    return face[None, :] * np.exp(-depth / reach)


Band = tuple[int, int, np.ndarray, np.ndarray, np.ndarray]


def _silhouette(ridge: np.ndarray, base: int) -> Band | None:
    """Rows from the crest down to `base`: (top, rows, ys, coverage, depth below the crest).

    None when the silhouette is under three rows tall (nothing worth painting).
    """
    top = int(max(0, np.floor(ridge.min())))
    rows = base + 3 - top
    if rows < 3:
        return None
    ys = (np.arange(rows, dtype=np.float32) + top)[:, None]
    alpha = np.clip(ys - ridge[None, :] + 0.5, 0.0, 1.0)
    below = np.maximum(ys - ridge[None, :], 0.0)
    return top, rows, ys, alpha, below


def paint_mountains(canvas: Canvas, rng: np.random.Generator, base: int, height: float,
                    distance: float, snowline: float | None) -> None:
    """One range whose highest peaks reach `height` pixels above `base`.

    `snowline` is the share of the range's height above which snow lies (None: no snow).
    """
    w, u, look = canvas.width, canvas.unit, canvas.look
    crest = ridged1d(rng, w, cell=float(rng.uniform(90, 200)) * u, octaves=7)
    crest = (crest - crest.min()) / max(float(np.ptp(crest)), 1e-6)
    envelope = 0.55 + 0.45 * np.tanh(fbm1d(rng, w, cell=220 * u, octaves=2))
    ridge = base - height * (0.12 + 0.88 * crest * envelope)
    band = _silhouette(ridge, base)
    if band is None:
        return
    top, rows, ys, alpha, below = band
    elev = np.clip((base - ys) / max(height, 1.0), 0.0, 1.0)
    gully = fbm(rng, (rows, w), cell=26 * u, octaves=6, stretch=(2.2, 0.7))
    gully += 0.5 * fbm(rng, (rows, w), cell=7 * u, octaves=3, stretch=(2.5, 0.6))
    gx = cv2.Sobel(gully, cv2.CV_32F, 1, 0, ksize=3)
    gx /= max(float(np.abs(gx).mean()) * 3.0, 1e-6)
    crest_light = _ridge_shading(ridge, canvas.light, rows, reach=height * 0.35 + 4)
    k = look.shading
    shade = 0.55 + k * (0.4 * crest_light[:rows] - 0.3 * canvas.light * gx)
    shade = np.clip(shade - 0.12 * (1 - elev), 0.05, 1.2)
    patches = fbm(rng, (rows, w), cell=50 * u, octaves=3)
    tone = np.asarray(ROCK_TONES[int(rng.integers(len(ROCK_TONES)))], np.float32)
    albedo = tone * (1.0 + 0.12 * patches[..., None])
    if look.snow_cover < 0.3:
        green = np.asarray(look.hill, np.float32) * 0.7
        veg = smoothstep(0.45, 0.1, elev + 0.12 * patches)[..., None] * 0.7
        albedo = albedo * (1 - veg) + green * veg
    color = canvas.lit(albedo, shade)
    labels = np.full((rows, w), MOUNTAIN, np.uint8)
    if snowline is not None:
        drift = fbm(rng, (rows, w), cell=18 * u, octaves=4, stretch=(1.6, 0.8))
        s = elev + 0.10 * drift + 0.05 * gx - snowline
        snow_a = smoothstep(-0.01, 0.02, s) * smoothstep(0.0, 2.0 * u, below + 0.5)
        snow_shade = np.clip(0.6 + k * (0.45 * crest_light[:rows] - 0.2 * canvas.light * gx), 0.1, 1.3)
        snow = canvas.lit((0.93, 0.95, 0.98), snow_shade)
        color = color * (1 - snow_a[..., None]) + snow * snow_a[..., None]
        labels[snow_a >= 0.5] = SNOW
    color = canvas.hazed(color, np.full((rows, w), float(canvas.haze_at(distance)), np.float32))
    canvas.paint(alpha, color, None, at=(top, 0), labels_from=labels)


def paint_hills(canvas: Canvas, rng: np.random.Generator, base: int, height: float,
                distance: float, forest: float, snow: float) -> None:
    """Rolling hills; `forest` and `snow` are the shares of their face under trees and snow."""
    w, u, look = canvas.width, canvas.unit, canvas.look
    line = fbm1d(rng, w, cell=float(rng.uniform(120, 260)) * u, octaves=3, persistence=0.4)
    line = (line - line.min()) / max(float(np.ptp(line)), 1e-6)
    ridge = base - height * (0.25 + 0.75 * line)
    band = _silhouette(ridge, base)
    if band is None:
        return
    top, rows, ys, alpha, below = band
    swell = fbm(rng, (rows, w), cell=60 * u, octaves=4)
    gx = cv2.Sobel(swell, cv2.CV_32F, 1, 0, ksize=3)
    gx /= max(float(np.abs(gx).mean()) * 3.0, 1e-6)
    crest_light = _ridge_shading(ridge, canvas.light, rows, reach=height * 0.5 + 4)
    k = look.shading
    shade = np.clip(0.62 + k * (0.3 * crest_light - 0.15 * canvas.light * gx), 0.1, 1.2)
    fields = fbm(rng, (rows, w), cell=30 * u, octaves=3, stretch=(0.6, 1.4))
    albedo = np.asarray(look.hill, np.float32) * (1.0 + 0.12 * fields[..., None])
    color = canvas.lit(albedo, shade)
    labels = np.full((rows, w), HILL, np.uint8)
    woods = fbm(rng, (rows, w), cell=36 * u, octaves=4)
    if forest > 0:
        thr = float(np.quantile(woods, 1.0 - forest))
        wood_a = smoothstep(thr, thr + 0.15, woods) * smoothstep(1.0, 3.0, below)
        crowns = fbm(rng, (rows, w), cell=3 * u, octaves=2)
        tone = np.asarray(look.conifer, np.float32) * 1.3
        tree_col = canvas.lit(tone * (1.0 + 0.25 * crowns[..., None]), shade * 0.85)
        color = color * (1 - wood_a[..., None]) + tree_col * wood_a[..., None]
        labels[wood_a >= 0.5] = TREE
    if snow > 0:
        drift = fbm(rng, (rows, w), cell=45 * u, octaves=5, stretch=(0.6, 1.5))
        drift -= 0.6 * crest_light * canvas.light  # snow lingers on the faces away from the sun
        thr = float(np.quantile(drift, 1.0 - snow))
        snow_a = smoothstep(thr, thr + 0.5, drift) * (labels == HILL)
        snow_col = canvas.lit((0.92, 0.94, 0.97), shade)
        color = color * (1 - snow_a[..., None]) + snow_col * snow_a[..., None]
        labels[snow_a >= 0.5] = SNOW
    color = canvas.hazed(color, np.full((rows, w), float(canvas.haze_at(distance)), np.float32))
    canvas.paint(alpha, color, None, at=(top, 0), labels_from=labels)
