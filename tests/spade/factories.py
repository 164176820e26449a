"""Small random SPADE models for tests: official layout, realistic batch-norm statistics."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ml.spade import inputs
from ml.spade.config import GeneratorConfig
from ml.spade.networks import ConvEncoder, SPADEGenerator, style_encoder


def blocky_labels(
    width: int, height: int, classes: int, block: int = 8, seed: int = 0
) -> np.ndarray:
    """A label map of random `block`-pixel squares, like a coarse painted layout."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, classes, size=(-(-height // block), -(-width // block)))
    return coarse.repeat(block, 0).repeat(block, 1)[:height, :width].astype(np.uint8)


def calibrated_generator(cfg: GeneratorConfig, seed: int = 0) -> SPADEGenerator:
    """A shared calibrated generator per (config, seed): tests must not modify it."""
    return _calibrated(tuple(cfg.to_dict().items()), seed)


@cache
def _calibrated(items: tuple, seed: int) -> SPADEGenerator:
    """Random weights whose batch-norm running statistics fit their activations.

    Without that, untrained running stats blow activations up and tanh saturates, which
    would hide any numerical difference between two inference paths.
    """
    cfg = GeneratorConfig(**dict(items))
    torch.manual_seed(seed)
    gen = SPADEGenerator(cfg)
    for module in gen.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 1.0
    width, height = cfg.native_size
    classes = cfg.label_nc + int(cfg.contain_dontcare)
    segs = [
        inputs.semantic_tensor(
            inputs.prepare(
                blocky_labels(width, height, classes, 4 * (1 + i), seed + i), cfg, (width, height)
            ),
            cfg,
        )
        for i in range(4)
    ]
    seg = torch.cat(segs)
    z = torch.randn(len(segs), cfg.z_dim) if cfg.use_vae else None
    with torch.no_grad():
        gen.train()(seg, z)
    for module in gen.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.1
    return gen.eval()


def random_encoder(cfg: GeneratorConfig, seed: int = 0) -> ConvEncoder:
    torch.manual_seed(seed + 1)
    return style_encoder(cfg).eval()


def random_generator(cfg: GeneratorConfig, seed: int = 0) -> SPADEGenerator:
    """Random weights and random (but valid) batch-norm statistics, without any forward pass.

    Enough where only exact equality matters (round trips); cheap even for 184 channels.
    """
    torch.manual_seed(seed)
    gen = SPADEGenerator(cfg)
    for name, buf in gen.named_buffers():
        if name.endswith("running_mean"):
            buf.normal_(0, 0.1)
        elif name.endswith("running_var"):
            buf.uniform_(0.5, 2.0)
    return gen.eval()


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    assert all(torch.equal(sa[k].cpu(), sb[k].cpu()) for k in sa)
