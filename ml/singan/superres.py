"""Super-resolution as in the SinGAN paper: many small upscales, each refined by the finest G.

The official SR script upsamples in steps of about 2 ** (1/3) (x1.26): the number of steps is
round(log(F) / log(2 ** (1/3))) and the per-step factor is then F ** (1 / steps) (x4 gives
6 steps of 1.26). After each bicubic step the finest generator adds detail, fed with fresh
noise at the finest scale's amplitude. The paper trains SR models with a reconstruction
weight of 100 and a 0.79 factor; any model works, such a model works best.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ml.singan.imresize import imresize
from ml.singan.model import SinGANModel
from ml.singan.sampling import MAX_SIDE
from ml.singan.train import to_uint8

STEP = 2.0 ** (1.0 / 3.0)


def sr_steps(factor: float) -> tuple[int, float]:
    """(number of steps, per-step factor) for an overall upscale `factor` (official rule)."""
    if not 1.0 < factor <= 16.0:
        raise ValueError(
            f"super-resolution factor {factor} is out of range: use more than 1, up to 16"
        )
    steps = max(1, round(math.log(factor) / math.log(STEP)))
    return steps, factor ** (1.0 / steps)


@torch.no_grad()
def super_resolve(
    model: SinGANModel,
    factor: float = 4.0,
    seed: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """The training image upscaled by `factor` (HxWx3 uint8, each side round(side * factor))."""
    steps, per_step = sr_steps(factor)
    h, w = model.sizes[-1]
    final = (round(h * factor), round(w * factor))
    if max(final) > MAX_SIDE:
        raise ValueError(
            f"x{factor} would make a {final[1]}x{final[0]} image; the limit is {MAX_SIDE} px"
        )
    gen = torch.Generator(device=model.device)
    gen.manual_seed(0 if seed is None else int(seed))
    finest = model.num_scales - 1
    cur = model.reals[-1]
    for k in range(1, steps + 1):
        size = final if k == steps else (round(h * per_step**k), round(w * per_step**k))
        prev = imresize(cur, size_hw=size)
        cur = model.forward_scale(finest, model.draw_noise(finest, size, gen), prev)
        if progress is not None:
            progress(k, steps)
    return to_uint8(cur)
