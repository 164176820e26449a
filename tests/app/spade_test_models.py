"""Tiny random SPADE models saved into the test's SPADEWORK_HOME (for the synthesis UI tests)."""

from __future__ import annotations

import numpy as np
import torch

from ml.labels import load_label_set
from ml.spade.config import GeneratorConfig
from ml.spade.library import ModelCard, StylePreset, save_model, save_style_presets
from ml.spade.networks import ConvEncoder, SPADEGenerator
from ml.userdirs import models_dir

LANDSCAPE = load_label_set("landscape")
# Two shared cores: torch's default intra-op pool makes every tiny op wait on the other
# thread (renders several times slower), so these tests run torch single-threaded.
torch.set_num_threads(1)


def tiny_config(use_vae: bool, crop_size: int = 64, ngf: int = 4) -> GeneratorConfig:
    return GeneratorConfig(
        label_nc=len(LANDSCAPE.classes), contain_dontcare=True, no_instance=True, ngf=ngf,
        crop_size=crop_size, use_vae=use_vae, z_dim=8,
    )


def save_tiny_model(
    model_id: str,
    use_vae: bool = True,
    encoder: bool = True,
    presets: tuple[str, ...] = (),
    crop_size: int = 64,
    ngf: int = 4,
    label_set: str = "landscape",
    seed: int = 0,
) -> ModelCard:
    """A randomly initialised landscape generator (and encoder) in the user library."""
    torch.manual_seed(seed)
    cfg = tiny_config(use_vae, crop_size, ngf)
    generator = SPADEGenerator(cfg).eval()
    enc = ConvEncoder(ngf=ngf, crop_size=crop_size, z_dim=cfg.z_dim).eval() if encoder else None
    card = ModelCard(
        id=model_id, name=f"Tiny {model_id}", dataset="landscape", label_set=label_set,
        config=cfg, has_encoder=enc is not None, source="test", sha256="", bundled=False,
        licence="MIT", description="random weights for tests", extra={},
    )
    folder = models_dir() / "spade" / model_id
    save_model(folder, card, generator.state_dict(), enc.state_dict() if enc else None)
    if presets:
        rng = np.random.default_rng(seed)
        styles = [StylePreset(n, rng.standard_normal(cfg.z_dim).astype(np.float32), None)
                  for n in presets]
        thumbs = {n: np.full((16, 16, 3), 40 * (i + 1), np.uint8) for i, n in enumerate(presets)}
        save_style_presets(folder, styles, thumbs)
    return card


def scene_labels(width: int = 64, height: int = 64) -> np.ndarray:
    """Sky over a hill over water: a label map with three landscape classes."""
    labels = np.full((height, width), LANDSCAPE.by_name("sky").id, np.uint8)
    labels[height // 3 :] = LANDSCAPE.by_name("hill").id
    labels[2 * height // 3 :] = LANDSCAPE.by_name("water").id
    return labels
