"""One procedural landscape per seed: the layout is drawn, then painted back to front.

Painting order: sky, clouds, mountain ranges, a valley fog bank, hills, the ground plane,
a far-shore tree line, water (mirroring all of the above), then trees, bushes and boulders
standing on the ground from far to near, and finally a light photographic grade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.data.canvas import Canvas
from ml.data.ground import ROAD, SAND, GroundPlan, paint_ground
from ml.data.looks import LOOK_NAMES, Look, get_look, jitter
from ml.data.plants import paint_broadleaf, paint_bush, paint_conifer, paint_tree_line
from ml.data.rocks import paint_boulder
from ml.data.sky import paint_clouds, paint_fog, paint_sky
from ml.data.terrain import paint_hills, paint_mountains
from ml.data.water import WATER, paint_water

MIN_SIZE = 32


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8 landscape label ids
    look: str
    seed: int


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if w < MIN_SIZE or h < MIN_SIZE:
        raise ValueError(f"scene size {w}x{h} is too small (at least {MIN_SIZE}x{MIN_SIZE})")
    return w, h


def look_of(seed: int) -> str:
    """The look a seed gets when none is asked for: the six looks in equal shares."""
    return LOOK_NAMES[int(np.random.default_rng([seed, 1]).integers(len(LOOK_NAMES)))]


def render_scene(seed: int, size: int | tuple[int, int] = 256, look: str | None = None) -> Scene:
    """The scene of `seed` at `size` (pixels, or (width, height)); the same seed, same scene.

    `look` overrides the seed's own look; the layout then stays close to the seed's layout.
    """
    w, h = _size(size)
    name = look if look is not None else look_of(seed)
    lk = jitter(get_look(name), np.random.default_rng([seed, 2]))
    canvas = _compose(seed, lk, w, h)
    image = _grade(canvas, np.random.default_rng([seed, 3]))
    return Scene(image=image, labels=canvas.labels.copy(), look=name, seed=seed)


def _compose(seed: int, look: Look, w: int, h: int) -> Canvas:
    """Every element draws from its own generator, so a look that changes one element (snow
    instead of flowers, say) leaves the others where they were."""

    def part(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, 100 + k])

    rng = part(0)
    horizon = int(h * rng.uniform(0.36, 0.62))
    light = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0))
    rise = float(rng.uniform(*look.sun_height))
    sun = (w * (0.5 + 0.42 * light), horizon - rise * horizon)
    water = rng.choice(["none", "lake", "sea"], p=[0.45, 0.38, 0.17])
    canvas = Canvas.blank(w, h, look, horizon, sun, light)
    paint_sky(canvas, part(1))
    rng = part(2)
    paint_clouds(canvas, rng, float(rng.uniform(*look.cloud_cover)))
    winter = look.snow_cover > 0
    rng = part(3)
    if rng.random() < 0.68:
        far_snow = _snowline(rng, winter, 0.6)
        near, near_snow = rng.random() < 0.4, _snowline(rng, winter, 0.35)
        paint_mountains(canvas, rng, horizon + 1, horizon * rng.uniform(0.3, 0.8),
                        rng.uniform(2500, 5000), far_snow)
        if near:
            paint_mountains(canvas, rng, horizon + 1, horizon * rng.uniform(0.15, 0.45),
                            rng.uniform(1200, 2500), near_snow)
    rng = part(4)
    if rng.random() < look.fog_chance:
        paint_fog(canvas, rng, int(horizon - h * rng.uniform(0.06, 0.22)), horizon + 2)
    rng = part(5)
    if water != "sea" and rng.random() < 0.72:
        layers = 1 + int(rng.random() < 0.45)
        for i in range(layers):
            near = i == layers - 1
            paint_hills(canvas, rng, horizon + 1, h * rng.uniform(0.05, 0.2 if near else 0.28),
                        rng.uniform(500, 1000) if near else rng.uniform(1000, 2200),
                        forest=float(rng.uniform(0.1, 0.45)) if rng.random() < 0.45 else 0.0,
                        snow=float(rng.uniform(0.3, 0.8)) * look.snow_cover)
    plan = _ground_plan(part(6), look, water == "sea")
    ground = paint_ground(canvas, part(7), plan)
    if water != "none":
        rng = part(8)
        if water == "lake":
            waterline = int(horizon + 1 + (h - horizon) * rng.uniform(0.03, 0.25))
            if rng.random() < 0.65:
                z = ground.focal * 1.7 / max(waterline - horizon, 1)
                paint_tree_line(canvas, rng, waterline + 0.5, h * rng.uniform(0.03, 0.1),
                                float(canvas.haze_at(z)), conifers=float(rng.random()))
        else:
            waterline = horizon
        rng = part(9)
        reach = waterline + (h - waterline) * rng.uniform(0.45, 1.15)
        beach = h * rng.uniform(0.05, 0.2) if rng.random() < (0.8 if water == "sea" else 0.3) else 0.0
        side = float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)) if rng.random() < 0.35 else 0.0
        paint_water(canvas, rng, waterline, reach, beach, side)
    _place_objects(canvas, part(10), ground, look)
    return canvas


def _snowline(rng: np.random.Generator, winter: bool, chance: float) -> float | None:
    """Snow share of a range: low in winter, else high and only sometimes."""
    roll, low, high = rng.random(), rng.uniform(0.1, 0.45), rng.uniform(0.5, 0.8)
    if winter:
        return float(low)
    return float(high) if roll < chance else None


def _ground_plan(rng: np.random.Generator, look: Look, coast: bool) -> GroundPlan:
    plan = GroundPlan()
    if coast and rng.random() < 0.5:
        plan.base = SAND
    if rng.random() < 0.4:
        plan.dirt = float(rng.uniform(0.04, 0.2))
    if rng.random() < 0.15:
        plan.sand = float(rng.uniform(0.05, 0.2))
    snow, roll, flower = rng.uniform(0.3, 0.8), rng.random(), rng.uniform(0.08, 0.35)
    if look.snow_cover > 0:
        plan.snow = float(snow) * look.snow_cover / 0.55
    elif roll < 0.5:
        plan.flower = float(flower)
    if rng.random() < 0.3:
        plan.rock = float(rng.uniform(0.03, 0.1))
    plan.road = bool(rng.random() < 0.22)
    plan.path = not plan.road and bool(rng.random() < 0.25)
    return plan


def _place_objects(canvas: Canvas, rng: np.random.Generator, ground, look: Look) -> None:
    """Trees, bushes and boulders at world positions, painted from far to near."""
    h, w = canvas.height, canvas.width
    items: list[tuple[float, str, float]] = []
    spread = w / ground.focal * 0.65

    def scatter(kind: str, n: int, z_lo: float, z_hi: float, clustered: bool) -> None:
        centres = [(rng.uniform(-1, 1), np.exp(rng.uniform(np.log(z_lo), np.log(z_hi))))
                   for _ in range(max(1, n // 5))]
        for _ in range(n):
            if clustered:
                cu, cz = centres[int(rng.integers(len(centres)))]
                z = float(np.clip(cz * np.exp(rng.normal(0, 0.25)), z_lo, z_hi))
                u = cu + rng.normal(0, 0.15)
            else:
                z = float(np.exp(rng.uniform(np.log(z_lo), np.log(z_hi))))
                u = rng.uniform(-1, 1)
            items.append((z, kind, float(u * spread * z)))

    if rng.random() < 0.72:
        scatter("tree", int(rng.integers(2, 26)), 9.0, 160.0, clustered=rng.random() < 0.6)
    if rng.random() < 0.6:
        scatter("bush", int(rng.integers(2, 14)), 4.0, 60.0, clustered=rng.random() < 0.5)
    if rng.random() < 0.5:
        scatter("rock", int(rng.integers(1, 9)), 3.0, 60.0, clustered=False)
    conifer_share = float(rng.random())
    snowy = look.snow_cover > 0
    for z, kind, x in sorted(items, key=lambda t: -t[0]):
        cx, base = ground.screen(x, z)
        if not (-0.2 * w < cx < 1.2 * w) or base >= h + 4:
            continue
        under = int(canvas.labels[min(int(base), h - 1), int(np.clip(cx, 0, w - 1))])
        if under == ROAD or (under == WATER and (kind != "rock" or z > 25.0)):
            continue
        ppm = ground.pixels_per_metre(z)
        haze = float(canvas.haze_at(z))
        if kind == "tree":
            tall = rng.uniform(5.0, 15.0) * ppm
            if rng.random() < conifer_share:
                paint_conifer(canvas, rng, cx, base, tall, haze, snowy)
            else:
                paint_broadleaf(canvas, rng, cx, base, tall, haze, look.leaves)
        elif kind == "bush":
            paint_bush(canvas, rng, cx, base, rng.uniform(1.0, 3.0) * ppm, haze, look.bush)
        else:
            paint_boulder(canvas, rng, cx, base, rng.uniform(0.5, 2.5) * ppm, haze)


def _grade(canvas: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Saturation, contrast, vignette and a faint grain, then 8-bit."""
    look, img = canvas.look, canvas.image
    gray = img.mean(axis=2, keepdims=True)
    img = gray + (img - gray) * look.saturation
    img = 0.5 + (img - 0.5) * look.contrast
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2
    img = img * (1.0 - 0.25 * r2)[..., None]
    img = img + rng.normal(0.0, 0.008, img.shape).astype(np.float32)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
