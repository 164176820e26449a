"""Fractal value noise, the raw material of every texture and silhouette in a scene.

Noise is made by upsampling grids of Gaussian random values with bicubic interpolation and
summing octaves; all randomness comes from the caller's generator, so a seed fixes a scene.
"""

from __future__ import annotations

import cv2
import numpy as np


def _octave(rng: np.random.Generator, h: int, w: int, cy: float, cx: float) -> np.ndarray:
    """One octave: a random grid with cells of cy x cx pixels, bicubically upsampled."""
    cy, cx = max(cy, 1.0), max(cx, 1.0)
    gh, gw = int(np.ceil(h / cy)) + 3, int(np.ceil(w / cx)) + 3
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    if cy <= 1.0 and cx <= 1.0:
        return grid[:h, :w]
    up = cv2.resize(grid, (int(gw * cx), int(gh * cy)), interpolation=cv2.INTER_CUBIC)
    oy = int(rng.integers(0, max(1, up.shape[0] - h - int(cy))))
    ox = int(rng.integers(0, max(1, up.shape[1] - w - int(cx))))
    return up[oy : oy + h, ox : ox + w]


def _line(rng: np.random.Generator, n: int, cell: float) -> np.ndarray:
    """One 1-D octave with cells of `cell` samples."""
    c = max(cell, 1.0)
    g = int(np.ceil(n / c)) + 3
    grid = rng.standard_normal((1, g)).astype(np.float32)
    up = cv2.resize(grid, (int(g * c), 1), interpolation=cv2.INTER_CUBIC)[0]
    off = int(rng.integers(0, max(1, up.shape[0] - n - int(c))))
    return up[off : off + n]


def _standardize(a: np.ndarray) -> np.ndarray:
    std = float(a.std())
    return ((a - a.mean()) / (std if std > 1e-8 else 1.0)).astype(np.float32)


def fbm(
    rng: np.random.Generator,
    shape: tuple[int, int],
    cell: float,
    octaves: int = 4,
    persistence: float = 0.5,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Fractal noise of `shape` (h, w), standardised to zero mean and unit deviation.

    `cell` is the size in pixels of the coarsest features; `stretch` (y, x) elongates them.
    """
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        size = cell / (2.0**o)
        out += amp * _octave(rng, h, w, size * stretch[0], size * stretch[1])
        amp *= persistence
    return _standardize(out)


def fbm1d(
    rng: np.random.Generator, n: int, cell: float, octaves: int = 5, persistence: float = 0.5
) -> np.ndarray:
    """Fractal noise along one axis (ridgelines, shorelines), zero mean, unit deviation."""
    out = np.zeros(n, np.float32)
    amp = 1.0
    for o in range(octaves):
        out += amp * _line(rng, n, cell / (2.0**o))
        amp *= persistence
    return _standardize(out)


def ridged1d(rng: np.random.Generator, n: int, cell: float, octaves: int = 6) -> np.ndarray:
    """Sharp-peaked noise for mountain crests: 1 - |noise| per octave, larger at peaks."""
    out = np.zeros(n, np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        out += amp * (1.0 - np.abs(_line(rng, n, cell / (2.0**o))))
        norm += amp
        amp *= 0.5
    return out / np.float32(norm)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite ramp from 0 at edge0 to 1 at edge1."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
