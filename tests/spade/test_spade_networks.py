"""The networks have the official layout: keys, shapes, dtypes and parameter counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ml.spade.config import GeneratorConfig
from ml.spade.networks import (
    SPADE,
    ConvEncoder,
    MultiscaleDiscriminator,
    SPADEGenerator,
    style_encoder,
)

REF = Path("/work/shared/reference/spade")
RELEASED = {
    "coco": GeneratorConfig(182, True, False),
    "ade20k": GeneratorConfig(150, True, True),
    "cityscapes": GeneratorConfig(35, False, False, 64, "more", 512, 2.0),
}

pytestmark = pytest.mark.skipif(not REF.is_dir(), reason="reference facts not available")


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_generator_state_dict_matches_official(name):
    ref = json.loads((REF / f"keys_{name}.json").read_text())
    with torch.device("meta"):
        gen = SPADEGenerator(RELEASED[name])
    params = {n for n, _ in gen.named_parameters()}
    mine = [
        (k, list(v.shape), str(v.dtype), "param" if k in params else "buffer")
        for k, v in gen.state_dict().items()
    ]
    theirs = [(k["key"], k["shape"], k["dtype"], k["kind"]) for k in ref["keys"]]
    assert mine == theirs
    assert list(RELEASED[name].latent_size) == ref["sw_sh"]


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_parameter_counts(name):
    counts = json.loads((REF / "param_counts.json").read_text())[name]
    cfg = RELEASED[name]
    with torch.device("meta"):
        gen, enc = SPADEGenerator(cfg), ConvEncoder(64, 256, 256)
        disc = MultiscaleDiscriminator(cfg.semantic_nc + 3)
    assert (_count(gen), _count(enc), _count(disc)) == (
        counts["G_params"],
        counts["E_params"],
        counts["D_params"],
    )
    assert sum(b.numel() for b in gen.buffers()) == counts["G_buffer_elems"]


def test_vae_and_most_variants():
    counts = json.loads((REF / "param_counts.json").read_text())
    with torch.device("meta"):
        vae = SPADEGenerator(GeneratorConfig(182, True, False, use_vae=True))
        most = SPADEGenerator(GeneratorConfig(182, True, False, 64, "most", 512))
        enc = ConvEncoder()
    assert _count(vae) == counts["coco_vae"]["G_params"]
    assert _count(most) == counts["coco_most_512"]["G_params"]
    assert {k: list(v.shape) for k, v in enc.state_dict().items()} == counts["coco_vae"]["E_keys"]


def test_spade_hidden_sets_every_label_branch_width():
    narrow = SPADEGenerator(GeneratorConfig(5, True, False, ngf=4, crop_size=64, spade_hidden=8))
    widths = {m.mlp_shared[0].out_channels for m in narrow.modules() if isinstance(m, SPADE)}
    assert widths == {8}
    assert {m.mlp_gamma.in_channels for m in narrow.modules() if isinstance(m, SPADE)} == {8}
    official = SPADEGenerator(GeneratorConfig(5, True, False, ngf=4, crop_size=64))
    assert {m.hidden for m in official.modules() if isinstance(m, SPADE)} == {128}
    with pytest.raises(ValueError, match="spade_hidden"):
        GeneratorConfig(5, True, False, spade_hidden=0)


def test_small_generator_runs_at_native_and_other_sizes():
    cfg = GeneratorConfig(5, True, False, ngf=4, crop_size=64)
    gen = SPADEGenerator(cfg).eval()
    seg = torch.zeros(1, cfg.semantic_nc, 64, 128)
    seg[:, 2] = 1
    with torch.no_grad():
        out = gen(seg)
    assert out.shape == (1, 3, 64, 128)
    assert out.abs().max() <= 1
    with pytest.raises(ValueError, match="multiple of 32"):
        gen(torch.zeros(1, cfg.semantic_nc, 50, 64))


def test_discriminator_returns_features_per_scale():
    disc = MultiscaleDiscriminator(8, ndf=4, num_D=2, n_layers=4)
    out = disc(torch.randn(1, 8, 32, 32))
    assert len(out) == 2 and all(len(feats) == 5 for feats in out)
    assert out[0][-1].shape[1] == 1
    assert out[1][0].shape[-1] < out[0][0].shape[-1]


def test_encoder_small_crop_runs():
    enc = ConvEncoder(ngf=4, crop_size=128, z_dim=8)
    mu, logvar = enc(torch.randn(2, 3, 40, 60))
    assert mu.shape == logvar.shape == (2, 8)


def test_encoder_thumbnail_reaches_the_head_as_the_averaged_picture():
    cfg = GeneratorConfig(5, True, True, ngf=4, crop_size=128, use_vae=True, z_dim=12,
                          encoder_thumbnail=2)
    enc = style_encoder(cfg).eval()
    official = style_encoder(GeneratorConfig(5, True, True, ngf=4, crop_size=128, use_vae=True))
    assert enc.fc_mu.in_features == official.fc_mu.in_features + 3 * 2 * 2
    with torch.no_grad():
        enc.fc_mu.weight.zero_()
        enc.fc_mu.weight[:, -12:] = torch.eye(12)  # read only the thumbnail
        enc.fc_mu.bias.zero_()
        image = torch.rand(1, 3, 128, 128) * 2 - 1
        mu, _ = enc(image)
    assert torch.allclose(mu, F.adaptive_avg_pool2d(image, 2).flatten(1), atol=1e-6)
