"""MATLAB-style bicubic resizing with antialiasing, as SinGAN builds its pyramids with.

SinGAN's official code resizes with a NumPy port of MATLAB's `imresize` (bicubic kernel,
kernel widened by 1/scale when shrinking, mirrored borders). Here the same filter is written
as two dense weight matrices per (input length, output length) pair, so a resize is two
matrix products: fast on any device, differentiable, and the weights are cached.

One deliberate difference: the official code rounds images to uint8 before resizing; this
module stays in floating point (the result differs by at most half a grey level per pixel
before the filter). Outputs are clamped to [-1, 1] like the official `norm`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


@lru_cache(maxsize=256)
def _weights(in_len: int, out_len: int, scale: float) -> np.ndarray:
    """(out_len, in_len) matrix resizing one axis by `scale` with mirrored borders."""
    antialias = scale < 1.0
    width = 4.0 / scale if antialias else 4.0
    out_coords = np.arange(1, out_len + 1, dtype=np.float64)
    # Pixel centres map so that the image borders (not the first/last centres) line up.
    match = out_coords / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(match - width / 2.0)
    taps = int(math.ceil(width)) + 2
    fov = left[:, None] + np.arange(taps)[None, :] - 1.0
    dist = match[:, None] - fov - 1.0
    w = scale * _cubic(scale * dist) if antialias else _cubic(dist)
    sums = w.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1.0
    w = w / sums
    # Mirror-reflect indices that fall outside the image (period 2 * in_len).
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    idx = mirror[np.mod(fov.astype(np.int64), 2 * in_len)]
    mat = np.zeros((out_len, in_len), dtype=np.float64)
    rows = np.repeat(np.arange(out_len), taps)
    np.add.at(mat, (rows, idx.ravel()), w.ravel())
    return mat


@lru_cache(maxsize=512)
def resize_matrix(
    in_len: int, out_len: int, scale: float, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """The resize matrix for one axis as a tensor on `device`, cached per device.

    Converted to `dtype` on the CPU first (MPS has no float64), and made outside inference
    mode so a matrix first needed by a sampler can later be used in training.
    """
    with torch.inference_mode(False):
        mat = torch.from_numpy(_weights(int(in_len), int(out_len), float(scale))).to(dtype)
        return mat.to(device)


def output_size(size_hw: tuple[int, int], scale: float) -> tuple[int, int]:
    """Size MATLAB's imresize gives for a scale factor: ceil of each side times the scale."""
    return tuple(int(math.ceil(s * scale - 1e-9)) for s in size_hw)  # type: ignore[return-value]


def imresize(
    img: torch.Tensor,
    scale: float | None = None,
    size_hw: tuple[int, int] | None = None,
    clamp: bool = True,
) -> torch.Tensor:
    """Resize (N, C, H, W) images by `scale` or to `size_hw` with antialiased bicubic.

    With `size_hw`, each axis uses its own scale (out / in), as MATLAB does. `clamp` keeps
    input and output in [-1, 1] (the image range); turn it off to resize noise or masks.
    """
    if img.dim() != 4:
        raise ValueError(f"imresize expects (N, C, H, W), got shape {tuple(img.shape)}")
    h, w = int(img.shape[2]), int(img.shape[3])
    if size_hw is None:
        if scale is None or scale <= 0:
            raise ValueError("imresize needs a positive scale or an output size")
        out_h, out_w = output_size((h, w), scale)
        sh = sw = float(scale)
    else:
        out_h, out_w = int(size_hw[0]), int(size_hw[1])
        if out_h < 1 or out_w < 1:
            raise ValueError(f"imresize output size must be positive, got {size_hw}")
        sh, sw = out_h / h, out_w / w
    dtype = img.dtype if img.dtype in (torch.float32, torch.float64) else torch.float32
    x = img.to(dtype)
    if clamp:  # the official code clamps on its way to uint8 and back
        x = x.clamp(-1.0, 1.0)
    if sh != 1.0:
        x = torch.matmul(resize_matrix(h, out_h, sh, x.device, dtype), x)
    if sw != 1.0:
        x = torch.matmul(x, resize_matrix(w, out_w, sw, x.device, dtype).T)
    if clamp:
        x = x.clamp(-1.0, 1.0)
    return x
