"""Running a landscape model on batches of label maps: renders and style codes.

The default model's tools (evaluation, style presets, thumbnails) need many renders at the
native size with chosen latents; this is the plain batched forward pass they share.
"""

from __future__ import annotations

import numpy as np
import torch

from ml.spade.config import GeneratorConfig
from ml.spade.inputs import prepare, semantic_tensor
from ml.spade.networks import ConvEncoder, SPADEGenerator


def semantic_batch(labels: np.ndarray, cfg: GeneratorConfig) -> torch.Tensor:
    """(N, H, W) label maps to the (N, semantic_nc, H, W) one-hot input at the native size."""
    size = cfg.native_size
    return torch.cat([semantic_tensor(prepare(lab, cfg, size), cfg) for lab in labels])


@torch.no_grad()
def render_batch(generator: SPADEGenerator, cfg: GeneratorConfig, labels: np.ndarray,
                 latents: np.ndarray | None, batch: int = 8) -> np.ndarray:
    """Renders (N, H, W, 3) uint8 of label maps (N, H, W) with one latent (N, z_dim) each."""
    out = []
    for i in range(0, len(labels), batch):
        seg = semantic_batch(labels[i : i + batch], cfg)
        z = None
        if cfg.use_vae:
            z = torch.from_numpy(np.asarray(latents[i : i + batch], np.float32))
        img = generator(seg, z)
        arr = ((img.clamp(-1, 1) + 1) / 2 * 255).permute(0, 2, 3, 1).numpy()
        out.append(arr.astype(np.uint8))
    return np.concatenate(out)


@torch.no_grad()
def encode_batch(encoder: ConvEncoder, images: np.ndarray, batch: int = 16) -> np.ndarray:
    """Style means (N, z_dim) of images (N, H, W, 3) uint8."""
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[i : i + batch])).permute(0, 3, 1, 2)
        mu, _ = encoder(x.float() / 127.5 - 1.0)
        out.append(mu.numpy())
    return np.concatenate(out)


def prior_latents(n: int, z_dim: int, seed: int) -> np.ndarray:
    """Latents drawn from the VAE prior N(0, I), fixed by `seed`."""
    return np.random.default_rng(seed).standard_normal((n, z_dim)).astype(np.float32)
