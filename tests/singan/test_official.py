"""Import of a folder written by the official tamarott/SinGAN trainer (built here by hand)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F

from ml.singan.model import SinGANModel
from ml.singan.official import OfficialImportError, import_official
from ml.singan.train import retrain_scales

torch.set_num_threads(1)

SIZES = [(16, 20), (21, 26), (27, 34)]
NFC = 8
PAD = 5  # the official code pads noise and image by 5 px for its 5 valid 3x3 convs


class _Boom:
    """Unpickling this creates a folder: proof that a file was (or was not) unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _block(prefix: str, cin: int, cout: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.conv.weight": torch.randn(cout, cin, 3, 3, generator=g) * 0.1,
        f"{prefix}.conv.bias": torch.randn(cout, generator=g) * 0.01,
        f"{prefix}.norm.weight": 1 + 0.1 * torch.randn(cout, generator=g),
        f"{prefix}.norm.bias": 0.1 * torch.randn(cout, generator=g),
        f"{prefix}.norm.running_mean": 0.1 * torch.randn(cout, generator=g),
        f"{prefix}.norm.running_var": 1 + torch.rand(cout, generator=g),
        f"{prefix}.norm.num_batches_tracked": torch.tensor(2000),
    }


def official_state(kind: str, seed: int) -> dict[str, torch.Tensor]:
    """A state dict with the official models.py names (head, body.block1-3, tail)."""
    g = torch.Generator().manual_seed(seed)
    state = _block("head", 3, NFC, g)
    for i in (1, 2, 3):
        state.update(_block(f"body.block{i}", NFC, NFC, g))
    out = 3 if kind == "G" else 1
    tail = "tail.0" if kind == "G" else "tail"  # G's tail is Sequential(conv, tanh)
    state[f"{tail}.weight"] = torch.randn(out, NFC, 3, 3, generator=g) * 0.1
    state[f"{tail}.bias"] = torch.zeros(out)
    return state


def reference_g(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The official generator's forward written out by hand (eval-mode BatchNorm)."""
    for name in ("head", "body.block1", "body.block2", "body.block3"):
        x = F.conv2d(x, state[f"{name}.conv.weight"], state[f"{name}.conv.bias"])
        x = F.batch_norm(
            x,
            state[f"{name}.norm.running_mean"],
            state[f"{name}.norm.running_var"],
            state[f"{name}.norm.weight"],
            state[f"{name}.norm.bias"],
            training=False,
        )
        x = F.leaky_relu(x, 0.2)
    return torch.tanh(F.conv2d(x, state["tail.0.weight"], state["tail.0.bias"]))


@pytest.fixture
def official_folder(tmp_path):
    root = tmp_path / "TrainedModels" / "balloons" / "scale_factor=0.750000,alpha=10"
    g = torch.Generator().manual_seed(0)
    reals = [torch.rand(1, 3, h, w, generator=g) * 2 - 1 for h, w in SIZES]
    zs = []
    for n, (h, w) in enumerate(SIZES):
        folder = root / str(n)
        folder.mkdir(parents=True)
        torch.save(official_state("G", n), folder / "netG.pth")
        torch.save(official_state("D", 100 + n), folder / "netD.pth")
        if n == 0:
            z = torch.randn(1, 1, h, w, generator=g).expand(1, 3, h, w)
        else:
            z = torch.zeros(1, 3, h, w)
        z = F.pad(z, (PAD,) * 4)
        torch.save(z, folder / "z_opt.pth")
        zs.append(z)
    torch.save(zs, root / "Zs.pth")
    torch.save(reals, root / "reals.pth")
    torch.save([1, torch.tensor(0.05), torch.tensor(0.04)], root / "NoiseAmp.pth")
    marker = tmp_path / "unpickled"
    torch.save([_Boom(str(marker))], root / "Gs.pth")
    return root, reals, zs, marker


def test_import_reproduces_the_official_forward_and_never_opens_gs(official_folder, tmp_path):
    root, reals, zs, marker = official_folder
    out = tmp_path / "imported.safetensors"
    model = import_official(root, out=out)
    assert not marker.exists()
    assert model.num_scales == 3 and model.sizes == SIZES
    assert model.noise_amps == pytest.approx([1.0, 0.05, 0.04])
    assert model.discriminators is not None and len(model.discriminators) == 3
    assert torch.equal(model.z_rec[0], zs[0][:, :, PAD:-PAD, PAD:-PAD])
    assert torch.equal(model.reals[1], reals[1])
    g = torch.Generator().manual_seed(1)
    for n, (h, w) in enumerate(SIZES):
        prev = torch.rand(1, 3, h, w, generator=g) * 2 - 1
        z = torch.randn(1, 3, h, w, generator=g)
        x = F.pad(model.noise_amps[n] * z + prev, (PAD,) * 4)
        expect = reference_g(official_state("G", n), x) + prev
        assert torch.allclose(model.forward_scale(n, z, prev), expect, atol=1e-5)
    loaded = SinGANModel.load(out)
    a = model.generate(generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, loaded.generate(generator=torch.Generator().manual_seed(4)))
    assert loaded.meta["source"] == "tamarott/SinGAN" and loaded.preset == "official"


def test_parent_folder_is_accepted(official_folder):
    root, *_ = official_folder
    assert import_official(root.parent).num_scales == 3


def test_weights_only_loads_the_official_lists(official_folder):
    root, *_ = official_folder
    amps = torch.load(root / "NoiseAmp.pth", weights_only=True)
    assert amps[0] == 1 and isinstance(amps[1], torch.Tensor)
    assert len(torch.load(root / "Zs.pth", weights_only=True)) == 3


def test_unsafe_or_broken_files_are_named(official_folder, tmp_path):
    root, _, _, marker = official_folder
    torch.save([_Boom(str(marker))], root / "NoiseAmp.pth")
    with pytest.raises(OfficialImportError, match=r"NoiseAmp\.pth: holds more than tensors"):
        import_official(root)
    assert not marker.exists()
    torch.save([1, 0.05, 0.04], root / "NoiseAmp.pth")
    bad = official_state("G", 1)
    bad["extra.weight"] = torch.zeros(1)
    torch.save(bad, root / "1" / "netG.pth")
    with pytest.raises(OfficialImportError, match=r"1/netG\.pth: does not match"):
        import_official(root)
    (root / "2" / "netG.pth").unlink()
    torch.save(official_state("G", 1), root / "1" / "netG.pth")
    with pytest.raises(OfficialImportError, match=r"2/netG\.pth: missing"):
        import_official(root)
    with pytest.raises(OfficialImportError, match="not an official SinGAN model folder"):
        import_official(tmp_path)


def test_model_without_critics_imports_retrains_and_saves(official_folder, tmp_path):
    root, reals, *_ = official_folder
    for n in range(len(SIZES)):
        (root / str(n) / "netD.pth").unlink()
    model = import_official(root)
    assert model.discriminators is None
    target = ((reals[-1][0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    tuned = retrain_scales(model, target, [2], iterations=1)
    assert not torch.equal(tuned.generators[2].tail[0].weight, model.generators[2].tail[0].weight)
    tuned.save(tmp_path / "tuned.safetensors")
    assert SinGANModel.load(tmp_path / "tuned.safetensors").meta["retrained_scales"] == [2]
