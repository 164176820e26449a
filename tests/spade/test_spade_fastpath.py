"""The fast path computes what the plain forward computes (within 1e-4 in fp32)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ml.spade import inputs
from ml.spade.config import GeneratorConfig
from ml.spade.fastpath import FastGenerator, OneHotConv, folded_weight, label_codes
from tests.spade.factories import blocky_labels, calibrated_generator

TOL = 1e-4
CONFIGS = {
    "coco-like": GeneratorConfig(20, True, False, ngf=8, crop_size=64),
    "vae-no-dontcare": GeneratorConfig(
        12, False, True, ngf=8, crop_size=64, use_vae=True, z_dim=16
    ),
    "most": GeneratorConfig(6, True, False, ngf=4, num_upsampling_layers="most", crop_size=256),
    "narrow-label-branch": GeneratorConfig(
        15, True, True, ngf=8, crop_size=64, use_vae=True, z_dim=16, spade_hidden=24
    ),
}


def _plain(gen, cfg, labels, size, z=None, instances=None):
    seg = inputs.semantic_tensor(inputs.prepare(labels, cfg, size, instances), cfg)
    with torch.inference_mode():
        return gen(seg, z)


def _z(cfg, seed=0):
    return (
        torch.randn(1, cfg.z_dim, generator=torch.Generator().manual_seed(seed))
        if cfg.use_vae
        else None
    )


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_full_render_matches_plain(name):
    cfg = CONFIGS[name]
    gen = calibrated_generator(cfg)
    fast = FastGenerator(gen)
    size = cfg.native_size
    labels = blocky_labels(*size, cfg.label_nc)
    labels[:4, :4] = 255  # don't-care, or the fallback class without that channel
    state = fast.prepare(inputs.prepare(labels, cfg, size))
    with torch.inference_mode():
        out = fast.render(state, _z(cfg))
    ref = _plain(gen, cfg, labels, size, _z(cfg))
    assert out.shape == ref.shape
    assert (out - ref).abs().max() < TOL
    assert ref.std() > 0.05  # not saturated: the comparison means something


def test_other_aspect_and_instances_match_plain():
    cfg = CONFIGS["coco-like"]
    gen = calibrated_generator(cfg)
    fast = FastGenerator(gen)
    labels = blocky_labels(200, 90, cfg.label_nc, block=10)
    instances = np.arange(200 * 90).reshape(90, 200) // 700
    size = (224, 128)  # ~16:9, a multiple of the stride 32
    inp = inputs.prepare(labels, cfg, size, instances)
    with torch.inference_mode():
        out = fast.render(fast.prepare(inp))
    ref = _plain(gen, cfg, labels, size, instances=instances)
    assert out.shape == (1, 3, 128, 224)
    assert (out - ref).abs().max() < TOL


@pytest.mark.parametrize("name", ["coco-like", "vae-no-dontcare"])
def test_stroke_update_matches_fresh_render(name):
    cfg = CONFIGS[name]
    gen = calibrated_generator(cfg)
    fast = FastGenerator(gen)
    size = (128, 64)
    labels = blocky_labels(*size, cfg.label_nc)
    state = fast.prepare(inputs.prepare(labels, cfg, size))
    before = {k: (a.clone(), b.clone()) for k, (a, b) in state.mods.items()}
    edited = labels.copy()
    edited[20:31, 90:101] = 3  # an 11-pixel brush dab
    with torch.inference_mode():
        touched = fast.update(state, inputs.prepare(edited, cfg, size), window=(88, 18, 103, 33))
        out = fast.render(state, _z(cfg))
    ref = _plain(gen, cfg, edited, size, _z(cfg))
    assert touched > 0
    assert (out - ref).abs().max() < TOL
    # Far from the stroke nothing was recomputed: the cached values are bit-identical.
    a_new, _ = state.mods["up_3.norm_0"]
    a_old, _ = before["up_3.norm_0"]
    assert torch.equal(a_new[..., :, :80], a_old[..., :, :80])
    assert not torch.equal(a_new, a_old)


def test_style_change_reuses_label_cache():
    cfg = CONFIGS["vae-no-dontcare"]
    gen = calibrated_generator(cfg)
    fast = FastGenerator(gen)
    size = cfg.native_size
    labels = blocky_labels(*size, cfg.label_nc)
    state = fast.prepare(inputs.prepare(labels, cfg, size))
    cached = {k: v[0].data_ptr() for k, v in state.mods.items()}
    with torch.inference_mode():
        touched = fast.update(state, inputs.prepare(labels, cfg, size))
        one, two = fast.render(state, _z(cfg, 1)), fast.render(state, _z(cfg, 2))
    assert touched == 0
    assert {k: v[0].data_ptr() for k, v in state.mods.items()} == cached
    assert (one - _plain(gen, cfg, labels, size, _z(cfg, 1))).abs().max() < TOL
    assert (two - _plain(gen, cfg, labels, size, _z(cfg, 2))).abs().max() < TOL
    assert (one - two).abs().max() > 1e-3


def test_one_hot_lookup_equals_dense_conv_and_folding_equals_spectral_norm():
    torch.manual_seed(0)
    classes = 184
    conv = torch.nn.Conv2d(classes + 1, 16, 3, padding=1)
    lookup = OneHotConv([conv], classes, has_edge=True, device=torch.device("cpu"))
    index = torch.randint(0, classes, (20, 30))
    edges = (torch.rand(1, 1, 20, 30) > 0.7).float()
    dense_in = torch.cat([F.one_hot(index, classes).permute(2, 0, 1)[None].float(), edges], 1)
    codes = torch.from_numpy(label_codes(index.numpy(), edges[0, 0].numpy() > 0, classes))
    with torch.no_grad():
        assert (lookup(codes) - conv(dense_in)).abs().max() < 1e-5
    gen = calibrated_generator(CONFIGS["coco-like"])
    sn_conv = gen.up_0.conv_0
    x = torch.randn(1, sn_conv.in_channels, 8, 8)
    with torch.no_grad():
        assert (
            F.conv2d(x, folded_weight(sn_conv), sn_conv.bias, padding=1) - sn_conv(x)
        ).abs().max() < 1e-5
