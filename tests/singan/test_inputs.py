"""Bad and unusual training inputs: each a clear error or a documented conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ml.images import ImageReadError
from ml.singan.presets import TrainConfig
from ml.singan.pyramid import ImageSizeError
from ml.singan.train import as_rgb, preshrink, train

torch.set_num_threads(1)
TINY = TrainConfig(name="tiny", min_size=12, max_size=40, nfc=8, nfc_max=8, iterations=1)


def test_tiny_image_is_refused_with_its_size():
    with pytest.raises(ImageSizeError, match=r"20x24 px.*larger than 25 px"):
        train(np.zeros((24, 20, 3), np.uint8), "preview", device="cpu")


def test_too_elongated_image_is_refused():
    with pytest.raises(ImageSizeError, match="less elongated"):
        train(np.zeros((30, 600, 3), np.uint8), "paper", device="cpu")


def test_gray_rgba_and_16_bit_arrays_are_converted():
    gray = np.arange(30 * 40, dtype=np.uint8).reshape(30, 40)
    out = as_rgb(gray)
    assert out.shape == (30, 40, 3) and np.array_equal(out[..., 0], gray)
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :20, 3] = 255  # left opaque red, right transparent -> white
    out = as_rgb(rgba)
    assert tuple(out[0, 0]) == (200, 0, 0) and tuple(out[0, 39]) == (255, 255, 255)
    deep = np.full((30, 40), 65535, np.uint16)
    assert as_rgb(deep).min() == 255
    deep_rgb = np.full((30, 40, 3), 32896, np.uint16)
    assert np.all(as_rgb(deep_rgb) == 128)


def test_image_files_of_any_mode_train(tmp_path):
    gray16 = (np.indices((36, 44)).sum(axis=0) * 700).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(gray16).save(path)
    model = train(path, TINY, device="cpu")
    top = model.reals[-1]
    assert top.shape == (1, 3, 33, 40)  # 44 px wide -> max_size 40, height ceil(36 * 40 / 44)
    assert torch.equal(top[:, 0], top[:, 2])  # gray stays gray
    with pytest.raises(ImageReadError, match="no such file"):
        train(tmp_path / "missing.png", TINY, device="cpu")


def test_unsupported_arrays_are_refused():
    with pytest.raises(ValueError, match="8- or 16-bit"):
        as_rgb(np.zeros((30, 40, 3), np.float32))
    with pytest.raises(ValueError, match="HxWx3"):
        as_rgb(np.zeros((30, 40, 5), np.uint8))


def test_huge_image_is_shrunk_with_a_notice():
    big = np.random.default_rng(0).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    small, notice = preshrink(big, 40)
    assert max(small.shape[:2]) <= 4 * 40 * 2 and notice and "1600x1200" in notice
    notices = []
    model = train(big, TINY, device="cpu", callback=lambda p: notices.extend(p.notices))
    assert model.sizes[-1] == (30, 40)
    assert len(notices) == 1 and "1600x1200" in notices[0]
    assert model.meta["notices"] == notices


def test_a_large_image_gets_the_max_size_notice():
    img = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    notices = []
    train(img, TINY, device="cpu", callback=lambda p: notices.extend(p.notices))
    assert notices == ["the image is 120x90 px and is trained at 40x30 (max_size 40)"]


def test_bad_settings_are_clear(tiny_image):
    with pytest.raises(ValueError, match="unknown device"):
        train(tiny_image, TINY, device="tpu")
    with pytest.raises(ValueError, match="iterations must be at least 1"):
        train(tiny_image, TINY, device="cpu", iterations=0)
    with pytest.raises(ValueError, match="max_size 10 must be larger"):
        train(tiny_image, TINY, device="cpu", max_size=10)
