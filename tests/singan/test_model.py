"""SinGANModel: sampling paths, residual structure, files (safetensors + JSON, no pickle)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from ml.singan.imresize import imresize
from ml.singan.model import ModelFileError, SinGANModel, read_info, sidecar_path


def _seeded(seed: int = 3) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_save_load_round_trip_gives_identical_samples(tiny_model, tmp_path):
    path = tmp_path / "copy.safetensors"
    tiny_model.save(path)
    again = SinGANModel.load(path)
    assert again.sizes == tiny_model.sizes and again.noise_amps == tiny_model.noise_amps
    assert torch.equal(
        tiny_model.generate(generator=_seeded()), again.generate(generator=_seeded())
    )
    assert torch.equal(tiny_model.reconstruct(), again.reconstruct())
    info = json.loads(sidecar_path(path).read_text())
    assert info["num_scales"] == tiny_model.num_scales and info == read_info(path)
    assert info["meta"]["image_sha256"] == tiny_model.meta["image_sha256"]


def test_reconstruction_noise_reproduces_reconstruct(tiny_model):
    rec = tiny_model.reconstruct()
    assert torch.allclose(tiny_model.generate(noises=tiny_model.z_rec), rec, atol=1e-6)
    # From a later start scale the lower scales follow the reconstruction path.
    later = tiny_model.generate(start_scale=3, noises=tiny_model.z_rec)
    assert torch.allclose(later, rec, atol=1e-6)
    assert rec.shape[2:] == tiny_model.reals[-1].shape[2:]


def test_samples_vary_with_seed_and_honour_sizes(tiny_model):
    a = tiny_model.generate(generator=_seeded(1))
    b = tiny_model.generate(generator=_seeded(2))
    assert not torch.equal(a, b)
    sizes = [(h, w * 2) for h, w in tiny_model.sizes]
    wide = tiny_model.generate(sizes=sizes, generator=_seeded(1))
    assert wide.shape == (1, 3, sizes[-1][0], sizes[-1][1])
    assert wide.min() >= -2 and wide.max() <= 2


def test_start_image_path_and_bad_start_scales(tiny_model):
    n = tiny_model.num_scales
    img = tiny_model.reals[1]
    out = tiny_model.generate(start_scale=2, start_image=img, generator=_seeded())
    assert out.shape == tiny_model.reals[-1].shape
    for bad in (-1, n):
        with pytest.raises(ValueError, match=f"out of range.*0-{n - 1}"):
            tiny_model.generate(start_scale=bad)
    with pytest.raises(ValueError, match="start scale of 1"):
        tiny_model.generate(start_scale=0, start_image=img)


def test_forward_scale_is_residual(tiny_model):
    g = tiny_model.generators[2]
    with torch.no_grad():
        g.tail[0].weight.zero_()
        g.tail[0].bias.zero_()
    prev = torch.rand(1, 3, *tiny_model.sizes[2]) * 2 - 1
    z = tiny_model.draw_noise(2, tiny_model.sizes[2], _seeded())
    assert torch.equal(tiny_model.forward_scale(2, z, prev), prev)


def test_coarsest_noise_is_one_channel_repeated(tiny_model):
    z0 = tiny_model.draw_noise(0, (7, 9), _seeded())
    assert z0.shape == (1, 3, 7, 9) and torch.equal(z0[:, 0], z0[:, 2])
    z1 = tiny_model.draw_noise(1, (7, 9), _seeded())
    assert not torch.equal(z1[:, 0], z1[:, 2])


def test_upsample_follows_the_official_factor_then_crop(tiny_model):
    small = tiny_model.reals[2]
    target = tiny_model.sizes[3]
    expect = imresize(small, scale=1 / tiny_model.scale_factor)[:, :, : target[0], : target[1]]
    assert torch.equal(tiny_model.upsample(small, target), expect)
    assert tiny_model.upsample(small, (50, 61)).shape[2:] == (50, 61)


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        SinGANModel.load(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        SinGANModel.load(junk)
    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(2)}, str(other))
    with pytest.raises(ModelFileError, match="not a SinGAN model"):
        SinGANModel.load(other)


def test_weights_not_matching_description_are_refused(tiny_model, tmp_path):
    tensors = tiny_model.tensors()
    del tensors["G.1.head.conv.weight"]
    path = tmp_path / "broken.safetensors"
    save_file(tensors, str(path), metadata={"spadework-singan": json.dumps(tiny_model.describe())})
    with pytest.raises(ModelFileError, match="do not match"):
        SinGANModel.load(path)
