"""A tiny trained SinGAN shared by the SinGAN tests (trained once per session, ~2 s).

`tiny_image` is a 36x44 procedural texture; `tiny_model_path` is a 6-scale model with 8
channels per conv trained for a few iterations per scale through the real `train()`.
Tests load their own copy with `tiny_model` so nothing leaks between them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ml.singan.model import SinGANModel
from ml.singan.presets import TrainConfig
from ml.singan.train import train

TINY_CONFIG = TrainConfig(
    name="tiny-test", min_size=12, max_size=44, nfc=8, nfc_max=8, iterations=6
)


def make_tiny_image(h: int = 36, w: int = 44, seed: int = 0) -> np.ndarray:
    """Stripes, a blob and noise: structure at every scale, deterministic per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack(
        [
            128 + 70 * np.sin(x / 3.0 + y / 5.0),
            120 + 60 * np.cos(y / 4.0),
            90 + 80 * np.exp(-((x - w * 0.6) ** 2 + (y - h * 0.4) ** 2) / 60.0),
        ],
        axis=-1,
    )
    img += rng.normal(0.0, 12.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def tiny_image() -> np.ndarray:
    return make_tiny_image()


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory, tiny_image):
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("singan") / "tiny.safetensors"
    train(tiny_image, preset=TINY_CONFIG, out=path, device="cpu", seed=0, resume=False)
    return path


@pytest.fixture
def tiny_model(tiny_model_path) -> SinGANModel:
    return SinGANModel.load(tiny_model_path)
