"""Looks: the light, sky and season of a scene (noon, golden hour, overcast, night, winter, autumn).

A look sets colours only; the layout (what stands where) comes from the scene's own random
draws, so one layout can be shown under every look. Colours are display-referred RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Look:
    name: str
    zenith: RGB  # sky colour overhead
    horizon: RGB  # sky colour at the horizon, also the haze colour
    sun: RGB  # direct light colour times intensity
    ambient: RGB  # sky light colour times intensity
    cloud_lit: RGB
    cloud_shade: RGB
    cloud_cover: tuple[float, float]  # range of the sky's cloud share
    sun_height: tuple[float, float]  # sun height above the horizon, as a share of the sky
    sun_disc: bool  # whether the sun (or moon) itself is drawn
    shading: float  # strength of directional shading (0 = flat overcast light)
    haze: float  # how fast distance fades to the horizon colour
    water: RGB  # colour of deep water seen from above
    grass: RGB
    hill: RGB
    leaves: tuple[RGB, ...]  # deciduous crown colours to choose from
    conifer: RGB
    bush: tuple[RGB, ...]
    snow_cover: float  # share of the ground turned to snow fields, and how far snow comes down
    saturation: float = 1.0
    contrast: float = 1.0
    stars: bool = False
    fog_chance: float = 0.3
    extra: dict = field(default_factory=dict)


LOOKS: dict[str, Look] = {
    "noon": Look(
        name="noon",
        zenith=(0.16, 0.40, 0.82),
        horizon=(0.68, 0.80, 0.94),
        sun=(0.95, 0.92, 0.84),
        ambient=(0.34, 0.40, 0.52),
        cloud_lit=(1.0, 1.0, 1.0),
        cloud_shade=(0.60, 0.65, 0.76),
        cloud_cover=(0.08, 0.40),
        sun_height=(1.2, 1.6),
        sun_disc=False,
        shading=1.0,
        haze=1.0,
        water=(0.04, 0.20, 0.30),
        grass=(0.28, 0.47, 0.14),
        hill=(0.27, 0.43, 0.16),
        leaves=((0.20, 0.42, 0.12), (0.26, 0.48, 0.14), (0.16, 0.36, 0.12)),
        conifer=(0.09, 0.24, 0.12),
        bush=((0.20, 0.40, 0.13), (0.24, 0.44, 0.16)),
        snow_cover=0.0,
    ),
    "golden_hour": Look(
        name="golden_hour",
        zenith=(0.22, 0.30, 0.60),
        horizon=(1.0, 0.64, 0.34),
        sun=(1.0, 0.68, 0.40),
        ambient=(0.30, 0.24, 0.34),
        cloud_lit=(1.0, 0.72, 0.46),
        cloud_shade=(0.45, 0.32, 0.42),
        cloud_cover=(0.08, 0.45),
        sun_height=(0.02, 0.25),
        sun_disc=True,
        shading=1.3,
        haze=1.2,
        water=(0.08, 0.12, 0.22),
        grass=(0.36, 0.52, 0.14),
        hill=(0.34, 0.44, 0.16),
        leaves=((0.24, 0.42, 0.10), (0.32, 0.46, 0.12)),
        conifer=(0.10, 0.22, 0.10),
        bush=((0.22, 0.38, 0.12),),
        snow_cover=0.0,
        saturation=1.1,
    ),
    "overcast": Look(
        name="overcast",
        zenith=(0.52, 0.55, 0.60),
        horizon=(0.74, 0.76, 0.78),
        sun=(0.25, 0.25, 0.25),
        ambient=(0.70, 0.72, 0.74),
        cloud_lit=(0.80, 0.81, 0.84),
        cloud_shade=(0.48, 0.50, 0.55),
        cloud_cover=(0.70, 0.97),
        sun_height=(0.6, 1.0),
        sun_disc=False,
        shading=0.35,
        haze=1.6,
        water=(0.12, 0.18, 0.20),
        grass=(0.28, 0.46, 0.18),
        hill=(0.26, 0.40, 0.19),
        leaves=((0.20, 0.36, 0.14), (0.24, 0.40, 0.16)),
        conifer=(0.10, 0.22, 0.13),
        bush=((0.20, 0.34, 0.15),),
        snow_cover=0.0,
        saturation=0.8,
        contrast=0.9,
        fog_chance=0.5,
    ),
    "night": Look(
        name="night",
        zenith=(0.01, 0.02, 0.07),
        horizon=(0.07, 0.10, 0.20),
        sun=(0.32, 0.36, 0.50),
        ambient=(0.10, 0.12, 0.21),
        cloud_lit=(0.22, 0.24, 0.32),
        cloud_shade=(0.06, 0.07, 0.12),
        cloud_cover=(0.0, 0.30),
        sun_height=(0.35, 0.75),
        sun_disc=True,
        shading=1.0,
        haze=0.8,
        water=(0.01, 0.03, 0.07),
        grass=(0.26, 0.44, 0.20),
        hill=(0.24, 0.38, 0.20),
        leaves=((0.18, 0.34, 0.14),),
        conifer=(0.10, 0.20, 0.12),
        bush=((0.18, 0.32, 0.14),),
        snow_cover=0.0,
        saturation=0.7,
        stars=True,
        fog_chance=0.25,
    ),
    "winter": Look(
        name="winter",
        zenith=(0.36, 0.52, 0.80),
        horizon=(0.82, 0.86, 0.92),
        sun=(0.85, 0.84, 0.82),
        ambient=(0.46, 0.52, 0.64),
        cloud_lit=(0.96, 0.97, 0.99),
        cloud_shade=(0.64, 0.67, 0.74),
        cloud_cover=(0.15, 0.65),
        sun_height=(0.5, 1.0),
        sun_disc=False,
        shading=0.9,
        haze=1.3,
        water=(0.08, 0.16, 0.24),
        grass=(0.58, 0.54, 0.40),
        hill=(0.50, 0.48, 0.38),
        leaves=((0.36, 0.30, 0.24), (0.30, 0.26, 0.22)),
        conifer=(0.10, 0.20, 0.14),
        bush=((0.36, 0.30, 0.24),),
        snow_cover=0.55,
        saturation=0.85,
        fog_chance=0.4,
    ),
    "autumn": Look(
        name="autumn",
        zenith=(0.24, 0.44, 0.78),
        horizon=(0.84, 0.80, 0.72),
        sun=(0.98, 0.86, 0.66),
        ambient=(0.36, 0.36, 0.44),
        cloud_lit=(1.0, 0.97, 0.92),
        cloud_shade=(0.60, 0.60, 0.66),
        cloud_cover=(0.10, 0.50),
        sun_height=(0.6, 1.2),
        sun_disc=False,
        shading=1.0,
        haze=1.2,
        water=(0.06, 0.16, 0.22),
        grass=(0.42, 0.46, 0.17),
        hill=(0.46, 0.42, 0.18),
        leaves=((0.80, 0.36, 0.06), (0.88, 0.62, 0.12), (0.66, 0.16, 0.05), (0.70, 0.48, 0.10)),
        conifer=(0.10, 0.22, 0.11),
        bush=((0.66, 0.26, 0.07), (0.72, 0.46, 0.10)),
        snow_cover=0.0,
        saturation=1.05,
        fog_chance=0.45,
    ),
}

LOOK_NAMES: tuple[str, ...] = tuple(LOOKS)


def get_look(name: str) -> Look:
    """A look by name, with the known names in the error."""
    try:
        return LOOKS[name]
    except KeyError:
        raise KeyError(f"unknown look {name!r} (known: {', '.join(LOOK_NAMES)})") from None


def jitter(look: Look, rng: np.random.Generator, amount: float = 0.06) -> Look:
    """The look with its colours varied a little, so no two scenes share exact colours."""

    def vary(c: RGB) -> RGB:
        gain = 1.0 + rng.normal(0.0, amount)
        tint = rng.normal(0.0, amount * 0.5, 3)
        return tuple(float(np.clip(v * gain + t * v, 0.0, 1.0)) for v, t in zip(c, tint, strict=True))

    return replace(
        look,
        zenith=vary(look.zenith),
        horizon=vary(look.horizon),
        sun=vary(look.sun),
        ambient=vary(look.ambient),
        water=vary(look.water),
        grass=vary(look.grass),
        hill=vary(look.hill),
        leaves=tuple(vary(c) for c in look.leaves),
        conifer=vary(look.conifer),
        bush=tuple(vary(c) for c in look.bush),
    )
