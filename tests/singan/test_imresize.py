"""MATLAB-style resizing and the official pyramid rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ml.singan.imresize import imresize
from ml.singan.pyramid import ImageSizeError, plan_dense_pyramid, plan_pyramid


def _pil_bicubic(a: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Pillow's antialiased bicubic (same kernel, but it clips borders instead of mirroring)."""
    img = Image.fromarray(a.astype(np.float32), mode="F")
    return np.asarray(img.resize((size_hw[1], size_hw[0]), Image.BICUBIC))


@pytest.mark.parametrize("size_hw", [(30, 39), (13, 17), (80, 100), (57, 70)])
def test_interior_matches_an_independent_bicubic(size_hw):
    a = np.random.default_rng(0).random((40, 52)).astype(np.float32)
    out = imresize(torch.from_numpy(a)[None, None], size_hw=size_hw, clamp=False)[0, 0].numpy()
    assert out.shape == size_hw
    ref = _pil_bicubic(a, size_hw)
    assert np.abs(out - ref)[4:-4, 4:-4].max() < 1e-5


def test_scale_gives_matlab_output_size_and_keeps_constants():
    img = torch.full((1, 3, 37, 50), 0.3)
    out = imresize(img, scale=0.75)
    assert out.shape == (1, 3, 28, 38)  # ceil(37 * 0.75), ceil(50 * 0.75)
    assert torch.allclose(out, torch.full_like(out, 0.3), atol=1e-6)  # borders included


def test_downscaling_is_antialiased():
    checker = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32) * 2 - 1
    out = imresize(torch.from_numpy(checker)[None, None], scale=0.5)
    # Nyquist-rate detail must blur to flat grey, not alias into a pattern.
    assert out[0, 0, 2:-2, 2:-2].abs().max() < 0.05


def test_clamps_to_image_range_and_is_differentiable():
    x = (torch.randn(1, 3, 20, 20) * 3).requires_grad_(True)
    y = imresize(x, size_hw=(31, 29))
    assert y.min() >= -1 and y.max() <= 1
    imresize(x, size_hw=(31, 29), clamp=False).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_a_resize_first_used_in_inference_mode_still_trains():
    with torch.inference_mode():
        imresize(torch.zeros(1, 3, 23, 19), size_hw=(41, 37))
    x = torch.zeros(1, 3, 23, 19, requires_grad=True)
    imresize(x, size_hw=(41, 37), clamp=False).sum().backward()
    assert x.grad is not None


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="N, C, H, W"):
        imresize(torch.zeros(3, 4, 4), scale=0.5)
    with pytest.raises(ValueError, match="positive"):
        imresize(torch.zeros(1, 3, 4, 4))


def test_official_pyramid_examples():
    # FACTS.md: a 248x186 image gives 9 scales with factor 0.778; at max_size 128, 6 / 0.764.
    plan = plan_pyramid((186, 248))
    assert plan.num_scales == 9 and abs(plan.scale_factor - 0.778) < 1e-3
    assert plan.sizes[0] == (25, 34) and plan.sizes[-1] == (186, 248)
    plan = plan_pyramid((186, 248), max_size=128)
    assert plan.num_scales == 6 and abs(plan.scale_factor - 0.764) < 1e-3
    assert plan.sizes[-1] == (96, 128)


def test_dense_pyramid_matches_consingan_sizes():
    # ConSinGAN at 250 px with 6 stages: short sides 25, 32, 42, 63, 125, 186.
    plan = plan_dense_pyramid((186, 250), 6)
    assert [min(s) for s in plan.sizes] == [25, 32, 42, 63, 125, 186]


def test_too_small_or_too_thin_images_are_refused():
    with pytest.raises(ImageSizeError, match="larger than 25 px"):
        plan_pyramid((20, 300))
    with pytest.raises(ImageSizeError, match="max_size"):
        plan_pyramid((40, 1000), max_size=250)  # short side would be 10 px
