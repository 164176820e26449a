"""Random samples of any size and aspect ratio, and the image conversions every app shares.

Arbitrary sizes: the target output size fixes one ratio per axis against the model's finest
scale, and every scale's noise map is the training size times that ratio (the official code
scales only the noise of a model sampled from scale 0; here any start scale works). From a
start scale K > 0 the scales below K follow the reconstruction path, as the official code
does; when the size differs from the training size, the reconstruction at scale K - 1 is
resized (stretched) to the new size before the generators take over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ml.singan.imresize import imresize
from ml.singan.model import SinGANModel
from ml.singan.train import to_tensor, to_uint8

# Output sides beyond this are refused: one sample would take minutes and gigabytes.
MAX_SIDE = 4096
# The coarsest noise map must keep a few pixels, or the layout collapses to noise.
MIN_COARSE_SIDE = 4


def training_image(model: SinGANModel) -> np.ndarray:
    """The model's training image at its finest scale, HxWx3 uint8."""
    return to_uint8(model.reals[-1])


def resize_to(arr: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize an HxWx3 uint8 image with the project's MATLAB-style bicubic (no-op if equal)."""
    if arr.shape[:2] == tuple(size_hw):
        return arr
    return to_uint8(imresize(to_tensor(arr), size_hw=size_hw))


def check_start_scale(model: SinGANModel, start_scale: int, lowest: int = 0) -> None:
    """A clear error for a start scale the model does not have (lowest: smallest allowed)."""
    top = model.num_scales - 1
    if not lowest <= start_scale <= top:
        raise ValueError(
            f"start scale {start_scale} is out of range: use {lowest}-{top} for this "
            f"{model.num_scales}-scale model"
        )


def output_size(
    model: SinGANModel,
    size_wh: tuple[int, int] | None = None,
    scale_h: float = 1.0,
    scale_v: float = 1.0,
) -> tuple[int, int]:
    """(h, w) of the output: an explicit (W, H), else the training size times the scales."""
    th, tw = model.sizes[-1]
    if size_wh is not None:
        w, h = int(size_wh[0]), int(size_wh[1])
    else:
        if scale_h <= 0 or scale_v <= 0:
            raise ValueError("scale factors must be positive")
        h, w = round(th * scale_v), round(tw * scale_h)
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise ValueError(f"output size {w}x{h} is out of range: each side must be 1-{MAX_SIDE}")
    return h, w


def scale_sizes(model: SinGANModel, out_hw: tuple[int, int]) -> list[tuple[int, int]]:
    """Per-scale (h, w) for an output of `out_hw`: each training size times the axis ratio."""
    th, tw = model.sizes[-1]
    rh, rw = out_hw[0] / th, out_hw[1] / tw
    sizes = [(max(1, round(h * rh)), max(1, round(w * rw))) for h, w in model.sizes[:-1]]
    sizes.append((int(out_hw[0]), int(out_hw[1])))
    if min(sizes[0]) < MIN_COARSE_SIDE:
        raise ValueError(
            f"output {out_hw[1]}x{out_hw[0]} is too small for this model: its coarsest scale "
            f"would be {sizes[0][1]}x{sizes[0][0]} px (at least {MIN_COARSE_SIDE} needed)"
        )
    return sizes


def sample(
    model: SinGANModel,
    n: int = 1,
    out_hw: tuple[int, int] | None = None,
    start_scale: int = 0,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """`n` random samples (HxWx3 uint8); the same seed gives the same samples."""
    if n < 1:
        raise ValueError("the number of samples must be at least 1")
    check_start_scale(model, start_scale)
    sizes: Sequence[tuple[int, int]] | None = None
    if out_hw is not None and tuple(out_hw) != model.sizes[-1]:
        sizes = scale_sizes(model, out_hw)
    gen = torch.Generator(device=model.device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    out = []
    for i in range(n):
        out.append(to_uint8(model.generate(start_scale, sizes=sizes, generator=gen)))
        if progress is not None:
            progress(i + 1, n)
    return out
