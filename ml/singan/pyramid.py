"""The training pyramid: how many scales, which factor, which sizes (official rules).

`plan_pyramid` follows SinGAN's `adjust_scales2image`: the number of scales is chosen from
the image's short side and the nominal factor, then the factor is refitted so the coarsest
scale's short side is exactly `min_size`. `plan_dense_pyramid` is ConSinGAN's rescaled variant
that puts more scales at low resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ml.singan.imresize import imresize, output_size


class ImageSizeError(ValueError):
    """The image cannot be trained on at this size; the message says what to change."""


@dataclass(frozen=True)
class PyramidPlan:
    """Sizes of a pyramid, coarsest first, and the factor between neighbouring scales."""

    scale_factor: float
    resize: float  # factor applied to the input image first (<= 1)
    scales: tuple[float, ...]  # each level's factor relative to the resized image
    sizes: tuple[tuple[int, int], ...]

    @property
    def num_scales(self) -> int:
        return len(self.sizes)


def plan_pyramid(
    size_hw: tuple[int, int], min_size: int = 25, max_size: int = 250, factor: float = 0.75
) -> PyramidPlan:
    """SinGAN's pyramid for an image of `size_hw` (official adjust_scales2image)."""
    h, w = size_hw
    if max_size < min_size + 1:
        raise ImageSizeError(f"max_size {max_size} must be larger than min_size {min_size}")
    if min(h, w) <= min_size:
        raise ImageSizeError(
            f"the image is {w}x{h} px; its short side must be larger than {min_size} px"
        )
    num_scales = math.ceil(math.log(min_size / min(h, w), factor)) + 1
    to_stop = math.ceil(math.log(min(max_size, max(h, w)) / max(h, w), factor))
    stop_scale = num_scales - to_stop
    resize = min(max_size / max(h, w), 1.0)
    rh, rw = output_size((h, w), resize)
    if stop_scale < 1 or min(rh, rw) <= min_size:
        raise ImageSizeError(
            f"the image is {w}x{h} px; at max_size {max_size} its short side would be "
            f"{min(rh, rw)} px, not more than min_size {min_size}: use a larger max_size "
            "or a less elongated image"
        )
    fitted = (min_size / min(rh, rw)) ** (1.0 / stop_scale)
    scales = tuple(fitted ** (stop_scale - i) for i in range(stop_scale + 1))
    sizes = tuple(output_size((rh, rw), s) for s in scales)
    return PyramidPlan(scale_factor=fitted, resize=resize, scales=scales, sizes=sizes)


def plan_dense_pyramid(
    size_hw: tuple[int, int], num_scales: int, min_size: int = 25, max_size: int = 250
) -> PyramidPlan:
    """ConSinGAN's pyramid: `num_scales` levels, denser at low resolution.

    With S = num_scales - 1 and f = (min_size / short side) ** (1 / S), level i < S is the
    image times `f ** (((S - 1) / ln S) * ln(S - i) + 1)`; level S is the image itself.
    """
    if num_scales < 3:
        raise ValueError("a dense pyramid needs at least 3 scales")
    h, w = size_hw
    resize = min(max_size / max(h, w), 1.0)
    rh, rw = output_size((h, w), resize)
    if min(rh, rw) <= min_size:
        raise ImageSizeError(
            f"the image is {w}x{h} px; at max_size {max_size} its short side would be "
            f"{min(rh, rw)} px, not more than min_size {min_size}"
        )
    s = num_scales - 1
    f = (min_size / min(rh, rw)) ** (1.0 / s)
    scales = tuple(f ** (((s - 1) / math.log(s)) * math.log(s - i) + 1) for i in range(s))
    scales = scales + (1.0,)
    sizes = tuple(output_size((rh, rw), x) for x in scales)
    return PyramidPlan(scale_factor=f, resize=resize, scales=scales, sizes=sizes)


def build_reals(image: torch.Tensor, plan: PyramidPlan) -> list[torch.Tensor]:
    """The image resized by `plan.resize`, then each level resized straight from it."""
    full = imresize(image, scale=plan.resize) if plan.resize != 1.0 else image.clamp(-1, 1)
    return [imresize(full, scale=s) if s != 1.0 else full for s in plan.scales]
