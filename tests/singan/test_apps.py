"""SinGAN applications on a tiny trained model: sizes, exactness outside masks, bad input."""

from __future__ import annotations

import cv2
import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from ml.singan.animate import _walk, animate, looped_walk, save_animation
from ml.singan.inject import (
    EDIT_RADIUS,
    HARMONIZE_RADIUS,
    MaskError,
    edit,
    harmonize,
    paint2image,
    paint_palette,
    quantize_to,
    quantizer,
    soft_mask,
)
from ml.singan.sampling import sample, scale_sizes, training_image
from ml.singan.superres import sr_steps, super_resolve


def _dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), disk) > 0


def _state(model) -> list[torch.Tensor]:
    return [p.clone() for g in model.generators for p in g.state_dict().values()]


# ------------------------------------------------------------------------ sampling
def test_samples_are_seeded_and_varied(tiny_model):
    a = sample(tiny_model, 3, seed=5)
    b = sample(tiny_model, 3, seed=5)
    assert all(x.shape == (36, 44, 3) and x.dtype == np.uint8 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1])


def test_any_size_and_aspect_ratio(tiny_model):
    for out_hw in ((20, 80), (60, 30), (36, 44)):
        (img,) = sample(tiny_model, 1, out_hw=out_hw, seed=0)
        assert img.shape == (*out_hw, 3)
    sizes = scale_sizes(tiny_model, (20, 88))
    assert sizes[-1] == (20, 88) and len(sizes) == tiny_model.num_scales
    assert all(w / h > 3 for h, w in sizes)  # every scale has the new aspect ratio
    with pytest.raises(ValueError, match="too small"):
        sample(tiny_model, 1, out_hw=(6, 6))


def test_start_scale_follows_reconstruction(tiny_model):
    rec = training_image(tiny_model)  # the tiny model reconstructs closely enough to compare
    top = tiny_model.num_scales - 1
    far = np.mean([np.abs(s.astype(int) - rec).mean() for s in sample(tiny_model, 3, seed=1)])
    near = np.mean(
        [np.abs(s.astype(int) - rec).mean() for s in sample(tiny_model, 3, start_scale=top, seed=1)]
    )
    assert near < far
    # Arbitrary sizes work from a start scale too (the reconstruction is resized).
    (wide,) = sample(tiny_model, 1, out_hw=(30, 70), start_scale=2, seed=1)
    assert wide.shape == (30, 70, 3)
    with pytest.raises(ValueError, match="out of range"):
        sample(tiny_model, 1, start_scale=top + 1)


# ------------------------------------------------------------------------ masks
def test_soft_mask_is_zero_outside_the_dilated_mask():
    mask = np.zeros((60, 70), bool)
    mask[20:35, 25:40] = True
    for radius in (HARMONIZE_RADIUS, EDIT_RADIUS):
        m = soft_mask(mask, radius)
        dil = _dilated(mask, radius)
        assert m.min() == 0.0 and m.max() == 1.0
        assert (m[~dil] == 0).all()
        assert (m[mask] > 0.5).all()
        # Soft: values between 0 and 1 along the edge.
        assert ((m > 0.05) & (m < 0.95)).sum() > 20
    assert (soft_mask(mask, EDIT_RADIUS) > 0).sum() > (soft_mask(mask, HARMONIZE_RADIUS) > 0).sum()


def _paste(model, scale: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pasted bright square on the training image at `scale` times its size, and the mask."""
    real = training_image(model)
    h, w = real.shape[:2]
    big = cv2.resize(real, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros(big.shape[:2], np.uint8)
    mask[6 * scale : 14 * scale, 8 * scale : 18 * scale] = 255
    big[mask > 0] = (250, 40, 40)
    return big, mask, real


def test_harmonize_keeps_everything_outside_the_mask(tiny_model):
    pasted, mask, real = _paste(tiny_model)
    notices: list[str] = []
    out = harmonize(tiny_model, pasted, mask, start_scale=2, notify=notices.append)
    assert out.shape == real.shape and out.dtype == np.uint8
    small_mask = cv2.resize(mask, (44, 36), interpolation=cv2.INTER_NEAREST) > 0
    outside = ~_dilated(small_mask, HARMONIZE_RADIUS)
    assert outside.sum() > 200
    assert np.array_equal(out[outside], real[outside])  # bit-exact
    assert not np.array_equal(out[small_mask], real[small_mask])
    assert any("resized" in n for n in notices)


def test_edit_uses_the_wider_mask(tiny_model):
    pasted, mask, real = _paste(tiny_model, scale=1)
    out = edit(tiny_model, pasted, mask, start_scale=1)
    outside = ~_dilated(mask > 0, EDIT_RADIUS)
    assert np.array_equal(out[outside], real[outside])
    assert out.shape == real.shape


def test_harmonize_fine_tune_leaves_the_model_alone(tiny_model):
    pasted, mask, real = _paste(tiny_model, scale=1)
    before = _state(tiny_model)
    out = harmonize(tiny_model, pasted, mask, start_scale=3, fine_tune=2)
    outside = ~_dilated(mask > 0, HARMONIZE_RADIUS)
    assert np.array_equal(out[outside], real[outside])
    assert all(torch.equal(a, b) for a, b in zip(before, _state(tiny_model), strict=True))


def test_bad_masks_and_scales(tiny_model):
    pasted, mask, _ = _paste(tiny_model, scale=1)
    with pytest.raises(MaskError, match="empty"):
        harmonize(tiny_model, pasted, np.zeros_like(mask), start_scale=2)
    with pytest.raises(MaskError, match="aspect ratio"):
        harmonize(tiny_model, pasted, np.full((10, 40), 255, np.uint8), start_scale=2)
    notices: list[str] = []
    big_mask = cv2.resize(mask, (88, 72), interpolation=cv2.INTER_NEAREST)
    harmonize(tiny_model, pasted, big_mask, start_scale=2, notify=notices.append)
    assert any("mask was resized" in n for n in notices)
    for bad in (0, tiny_model.num_scales):
        with pytest.raises(ValueError, match="out of range"):
            harmonize(tiny_model, pasted, mask, start_scale=bad)


# ------------------------------------------------------------------------ paint2image
def test_paint2image_outputs_full_resolution(tiny_model):
    paint = np.zeros((72, 88, 3), np.uint8)
    paint[:36] = (200, 120, 60)
    paint[36:] = (40, 90, 200)
    out = paint2image(tiny_model, paint, start_scale=2)
    assert out.shape == (36, 44, 3)
    # The layout of the painting survives: the output's top-minus-bottom colour points the
    # way the painting's does (an output that ignored the painting would score about 0).
    # The tiny model's residuals recolour each half, so no single channel is compared.
    painted = np.array([200, 120, 60]) - np.array([40, 90, 200])
    got = out[:12].reshape(-1, 3).mean(0) - out[-12:].reshape(-1, 3).mean(0)
    assert got @ painted > 0.1 * (painted @ painted)


def test_quantization_uses_five_training_colours(tiny_model):
    palette = paint_palette(tiny_model, 2)
    assert palette.shape == (5, 3)
    real = training_image(tiny_model)
    q = quantize_to(real, palette)
    assert len(np.unique(q.reshape(-1, 3), axis=0)) <= 5
    t = torch.from_numpy(real).permute(2, 0, 1)[None].float() / 127.5 - 1
    qt = ((quantizer(palette)(t)[0].permute(1, 2, 0) + 1) * 127.5).round().numpy()
    assert np.abs(qt - q).max() <= 1


def test_quantized_paint2image_retrains_a_copy(tiny_model):
    before = _state(tiny_model)
    paint = np.full((36, 44, 3), 90, np.uint8)
    paint[:, 22:] = 200
    out = paint2image(tiny_model, paint, start_scale=2, quantize=True, retrain=2)
    assert out.shape == (36, 44, 3)
    assert all(torch.equal(a, b) for a, b in zip(before, _state(tiny_model), strict=True))


# ------------------------------------------------------------------------ super-resolution
def test_sr_steps_follow_the_paper():
    assert sr_steps(4.0)[0] == 6 and sr_steps(4.0)[1] == pytest.approx(4 ** (1 / 6))
    assert sr_steps(2.0)[0] == 3
    with pytest.raises(ValueError, match="out of range"):
        sr_steps(1.0)


def test_super_resolution_size_and_content(tiny_model):
    out = super_resolve(tiny_model, 2.0, seed=0)
    assert out.shape == (72, 88, 3)
    real = training_image(tiny_model)
    bicubic = cv2.resize(real, (88, 72), interpolation=cv2.INTER_CUBIC).astype(float)
    corr = np.corrcoef(out.astype(float).ravel(), bicubic.ravel())[0, 1]
    assert corr > 0.6


# ------------------------------------------------------------------------ animation
def test_looped_walk_wraps_without_a_jump(tiny_model):
    frames = 40
    gen = torch.Generator().manual_seed(0)
    z = looped_walk(tiny_model, 1, frames, 0.1, 0.9, gen)
    steps = [float((z[t + 1] - z[t]).abs().mean()) for t in range(frames - 1)]
    wrap = float((z[0] - z[-1]).abs().mean())
    raw = _walk(tiny_model, 1, frames, 0.1, 0.9, torch.Generator().manual_seed(0))
    raw_wrap = float((raw[0] - raw[-1]).abs().mean())
    assert wrap < 2.0 * np.mean(steps)
    assert raw_wrap > 2.0 * wrap


def test_animation_frames_and_files(tiny_model, tmp_path):
    frames = animate(tiny_model, start_scale=1, alpha=0.1, beta=0.9, frames=8, seed=0)
    assert len(frames) == 8 and frames[0].shape == (36, 44, 3)
    assert not np.array_equal(frames[0], frames[4])
    fixed = animate(tiny_model, start_scale=tiny_model.num_scales - 1, frames=8, seed=0)
    motion = np.mean([np.abs(frames[i].astype(int) - frames[0]).mean() for i in range(8)])
    still = np.mean([np.abs(fixed[i].astype(int) - fixed[0]).mean() for i in range(8)])
    assert still < motion

    gif = tmp_path / "a.gif"
    save_animation(gif, frames, fps=10)
    back = iio.imread(gif, index=None)
    assert back.shape[:3] == (8, 36, 44)
    assert iio.immeta(gif)["loop"] == 0

    odd = [f[:35, :43] for f in frames]
    mp4 = tmp_path / "a.mp4"
    save_animation(mp4, odd, fps=12)
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    assert meta["size"] == (44, 36) and sum(1 for _ in reader) == 8

    with pytest.raises(ValueError, match=".gif or .mp4"):
        save_animation(tmp_path / "a.avi", frames)
    with pytest.raises(ValueError, match="alpha"):
        animate(tiny_model, alpha=1.5, frames=4)
