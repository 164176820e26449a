"""The ground plane seen in perspective: meadows, flowers, dirt, sand, snow fields, rock, road.

Each ground pixel is traced to world coordinates (metres across, metres away) on a flat plane
below the camera; materials and textures are noise fields in world space, so fields shrink and
textures fine out towards the horizon as in a photograph.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.data.canvas import Canvas
from ml.data.noise import fbm, smoothstep

ROCK, GRASS, FLOWER, SAND, DIRT, ROAD, SNOW = 6, 8, 9, 12, 13, 14, 4
CAMERA_HEIGHT = 1.7
FLOWER_TONES = ((0.95, 0.38, 0.62), (0.98, 0.84, 0.18), (0.96, 0.95, 0.90), (0.62, 0.40, 0.88),
                (0.92, 0.18, 0.12), (0.98, 0.58, 0.16))


@dataclass
class GroundPlan:
    """What covers the ground: shares of each material and the road, drawn per scene."""

    base: int = GRASS  # material where no patch lies
    dirt: float = 0.0
    sand: float = 0.0
    snow: float = 0.0
    flower: float = 0.0
    rock: float = 0.0
    road: bool = False
    path: bool = False


class Ground:
    """World coordinates of the rows below the horizon, and world-space texture sampling."""

    def __init__(self, canvas: Canvas, rng: np.random.Generator):
        self.canvas = canvas
        self.rng = rng
        h, w, hz = canvas.height, canvas.width, canvas.horizon
        self.top = hz
        self.focal = 0.8 * w
        rows = np.arange(hz, h, dtype=np.float32)[:, None] + 0.5
        self.z = np.broadcast_to(self.focal * CAMERA_HEIGHT / (rows - hz + 0.35), (h - hz, w)).copy()
        xs = np.arange(w, dtype=np.float32)[None, :] - w / 2 + 0.5
        self.x = (xs * self.z / self.focal).astype(np.float32)

    def screen(self, x: float, z: float) -> tuple[float, float]:
        """Screen (column, row) of the world point (x, z) on the ground."""
        c = self.canvas
        return c.width / 2 + x * self.focal / z, c.horizon + self.focal * CAMERA_HEIGHT / z

    def pixels_per_metre(self, z: float) -> float:
        return self.focal / z

    def sample(self, tex: np.ndarray, metres_per_texel: float, offset=(0.0, 0.0),
               fade: float = 60.0) -> np.ndarray:
        """`tex` laid on the ground; detail beyond `fade` metres melts into its mean."""
        mx = (self.x / metres_per_texel + offset[0]).astype(np.float32)
        mz = (self.z / metres_per_texel + offset[1]).astype(np.float32)
        mz = np.minimum(mz, 1e6)
        out = cv2.remap(tex, mx, mz, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        mean = float(tex.mean())
        keep = np.exp(-self.z / fade)
        return out * keep + mean * (1.0 - keep)

    def noise(self, metres: float, octaves: int = 4, fade: float = 400.0,
              stretch=(1.0, 1.0)) -> np.ndarray:
        """Fractal noise in world space whose coarsest features are `metres` wide."""
        tex = fbm(self.rng, (256, 256), cell=64, octaves=octaves, stretch=stretch)
        off = tuple(self.rng.uniform(0, 256, 2))
        return self.sample(tex, metres / 64.0, off, fade)


def paint_ground(canvas: Canvas, rng: np.random.Generator, plan: GroundPlan) -> Ground:
    """Paint every row below the horizon; returns the plane for placing objects on it."""
    g = Ground(canvas, rng)
    look = canvas.look
    rows, w = g.z.shape
    labels = np.full((rows, w), plan.base, np.uint8)
    # Material patches: coarse world-space fields, each taking its share of the ground.
    for mat, share, metres in ((DIRT, plan.dirt, 14.0), (SAND, plan.sand, 22.0),
                               (SNOW, plan.snow, 30.0), (ROCK, plan.rock, 9.0)):
        field = g.noise(metres, octaves=4)
        if share > 0:
            thr = float(np.quantile(field[:: 3, :: 3], 1.0 - share))
            labels[field > thr] = mat
    flowers = g.noise(6.0, octaves=4)
    if plan.flower > 0:
        grassy = labels == GRASS
        if grassy.any():
            thr = float(np.quantile(flowers[grassy], 1.0 - plan.flower))
            labels[grassy & (flowers > thr)] = FLOWER
    if plan.path:
        _strip(g, labels, DIRT, width=float(rng.uniform(1.2, 2.2)), rng=rng)
    if plan.road:
        _strip(g, labels, ROAD, width=float(rng.uniform(5.0, 8.0)), rng=rng)
    color = _material_colours(g, labels, rng)
    bumps = g.noise(1.5, octaves=4, fade=40.0)
    gx = cv2.Sobel(bumps, cv2.CV_32F, 1, 0, ksize=3)
    clouds = g.noise(120.0, octaves=2) if look.shading > 0.8 else np.zeros_like(bumps)
    shade = 0.78 - 0.06 * canvas.light * np.tanh(gx * 3) * look.shading
    shade = shade - 0.22 * look.shading * smoothstep(0.3, 1.0, clouds)
    color = canvas.lit(color, shade)
    color = canvas.hazed(color, canvas.haze_at(g.z))
    alpha = np.ones((rows, w), np.float32)
    canvas.paint(alpha, color, None, at=(g.top, 0), labels_from=labels)
    return g


def _strip(g: Ground, labels: np.ndarray, mat: int, width: float, rng: np.random.Generator) -> None:
    """A road or path winding from the camera to the horizon."""
    x0 = float(rng.uniform(-6, 6))
    bend = float(rng.uniform(-12, 12))
    period = float(rng.uniform(30, 90))
    phase = float(rng.uniform(0, 2 * np.pi))
    centre = x0 + bend * np.sin(g.z / period + phase) - bend * np.sin(phase)
    half = width / 2
    labels[np.abs(g.x - centre) < half] = mat


def _material_colours(g: Ground, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Textured albedo of every material, chosen per pixel by its label."""
    look = g.canvas.look
    rows, w = labels.shape
    fine = g.noise(0.15, octaves=3, fade=25.0)
    blades = g.noise(0.4, octaves=3, fade=20.0, stretch=(0.25, 1.0))
    patchy = g.noise(18.0, octaves=3)
    # Screen-space grain near the camera, where world textures would be magnified to blur.
    near = np.exp(-g.z / 10.0)
    grain = fbm(g.rng, (rows, w), cell=2.5 * g.canvas.unit, octaves=2, stretch=(1.8, 0.6)) * near
    specks = fbm(g.rng, (rows, w), cell=1.2 * g.canvas.unit, octaves=2) * near
    out = np.zeros((rows, w, 3), np.float32)

    def put(mat: int, albedo: np.ndarray) -> None:
        m = labels == mat
        if m.any():
            out[m] = albedo[m] if albedo.ndim == 3 else albedo

    grass = np.asarray(look.grass, np.float32)
    dry = grass * np.asarray((1.25, 1.05, 0.75), np.float32)
    mix = smoothstep(-0.5, 1.5, patchy)[..., None]
    dark = smoothstep(0.2, 1.6, -patchy)[..., None] * 0.25
    tex = 1.0 + 0.16 * blades + 0.1 * fine + 0.22 * grain
    grass_col = (grass * (1 - mix) + dry * mix) * (1.0 - dark) * tex[..., None]
    put(GRASS, grass_col)
    if (labels == FLOWER).any():
        put(FLOWER, _flowers(g, grass_col, rng))
    sand = np.asarray((0.86, 0.76, 0.54), np.float32)
    ripples = np.sin(g.z * 6.0 + 2.0 * fine) * np.exp(-g.z / 15.0)
    put(SAND, sand * (1.0 + 0.05 * fine + 0.05 * ripples + 0.05 * specks)[..., None])
    dirt = np.asarray((0.44, 0.31, 0.20), np.float32)
    pebbles = smoothstep(1.2, 1.8, specks) * 0.5
    put(DIRT, dirt * (1.0 + 0.15 * fine + 0.1 * patchy + 0.15 * grain + pebbles)[..., None])
    asphalt = np.asarray((0.27, 0.27, 0.28), np.float32)
    put(ROAD, asphalt * (1.0 + 0.06 * fine + 0.08 * specks)[..., None])
    snow = np.asarray((0.93, 0.95, 0.98), np.float32)
    put(SNOW, snow * (1.0 + 0.03 * fine[..., None] + 0.04 * patchy[..., None]))
    rock = np.asarray((0.45, 0.43, 0.41), np.float32)
    put(ROCK, rock * (1.0 + 0.18 * fine + 0.1 * patchy + 0.2 * grain)[..., None])
    return out


def _flowers(g: Ground, grass_col: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Meadow flowers: coloured dots over grass, dense near the camera, a tint far away."""
    size = 256
    dots = np.zeros((size, size, 3), np.float32)
    n = int(size * size * 0.10)
    main = int(rng.integers(len(FLOWER_TONES)))
    picks = np.where(rng.random(n) < 0.7, main, rng.integers(0, len(FLOWER_TONES), n))
    tones = np.asarray(FLOWER_TONES, np.float32)[picks]
    py, px = rng.integers(0, size, n), rng.integers(0, size, n)
    dots[py, px] = tones
    cover = np.zeros((size, size), np.float32)
    cover[py, px] = 1.0
    mx = (g.x / 0.04).astype(np.float32)
    mz = (g.z / 0.04).astype(np.float32)
    cover_near = cv2.remap(cover, mx, mz, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    sum_near = cv2.remap(dots, mx, mz, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    tone_near = sum_near / np.maximum(cover_near, 1e-3)[..., None]
    near = np.exp(-g.z / 25.0)
    a = np.clip((cover_near * near + 0.3 * (1.0 - near)) * 1.6, 0.0, 1.0)[..., None]
    tone = tone_near * near[..., None] + tones.mean(axis=0) * (1.0 - near[..., None])
    return grass_col * 0.85 * (1 - a) + tone * a
