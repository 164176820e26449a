"""Importing official-layout checkpoints: inference, round trip, and refusing bad files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.__main__ import main as ml_main
from ml.spade import inputs
from ml.spade.checkpoint import CheckpointError, list_archive_models
from ml.spade.config import GeneratorConfig
from ml.spade.library import get_card, import_checkpoint, list_models, load_model, user_library
from tests.spade.factories import assert_same_state, blocky_labels, random_encoder, random_generator

COCO_SMALL = GeneratorConfig(182, True, False, ngf=4, crop_size=64)
LANDSCAPE_VAE = GeneratorConfig(15, True, True, ngf=4, crop_size=64, use_vae=True, z_dim=8)


def _save(state: dict, path: Path, legacy: bool = False) -> Path:
    """torch.save; `legacy` writes the pre-1.6 format the 2019 release files use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


def _render(gen, cfg, z=None) -> torch.Tensor:
    """A small render (label convs over 184 channels are heavy at the native 256 px)."""
    width, height = 2 * cfg.stride, cfg.stride
    labels = blocky_labels(width, height, cfg.label_nc)
    seg = inputs.semantic_tensor(inputs.prepare(labels, cfg, (width, height)), cfg)
    with torch.no_grad():
        return gen(seg, z)


def _library_entries() -> list[str]:
    return sorted(p.name for p in user_library().iterdir())


def test_coco_layout_is_recognised_and_round_trips(spadework_home, tmp_path, capsys):
    gen = random_generator(COCO_SMALL)
    pth = _save(gen.state_dict(), tmp_path / "coco_pretrained" / "latest_net_G.pth")
    assert ml_main(["spade", "import", str(pth), "-q"]) == 0
    model_id = capsys.readouterr().out.strip()
    card = get_card(model_id)
    assert (card.dataset, card.label_set, card.config.ngf) == ("coco", "coco", 4)
    assert card.config.num_upsampling_layers == "normal" and not card.config.use_vae
    assert card.config.semantic_nc == 184 and card.output_size == (256, 256)
    assert card.sha256 == __import__("hashlib").sha256(pth.read_bytes()).hexdigest()
    assert card.source == str(pth)
    loaded = load_model(model_id)
    cfg = loaded.card.config
    assert_same_state(gen, loaded.generator)
    assert torch.equal(_render(gen.eval(), cfg), _render(loaded.generator, cfg))
    assert [c.id for c in list_models() if not c.bundled] == [model_id]


def test_custom_vae_with_encoder_round_trips(spadework_home, tmp_path):
    gen, enc = random_generator(LANDSCAPE_VAE), random_encoder(LANDSCAPE_VAE)
    folder = tmp_path / "checkpoints" / "mine"
    _save(gen.state_dict(), folder / "latest_net_G.pth")
    _save(enc.state_dict(), folder / "latest_net_E.pth")
    (folder / "opt.txt").write_text("   crop_size: 64     [default: 256]\n aspect_ratio: 1.0\n")
    with pytest.raises(CheckpointError, match="give its label set"):
        import_checkpoint(folder)
    model_id = import_checkpoint(folder, label_set="landscape", name="My scenes")
    model = load_model(model_id)
    cfg = model.card.config
    assert model.card.has_encoder and cfg.use_vae and cfg.z_dim == 8 and cfg.crop_size == 64
    assert (cfg.label_nc, cfg.contain_dontcare, cfg.no_instance) == (15, True, True)
    assert model_id.startswith("my-scenes-")
    z = torch.randn(1, 8)
    assert_same_state(gen, model.generator)
    assert_same_state(enc, model.encoder)
    assert torch.equal(_render(gen, cfg, z), _render(model.generator, cfg, z))
    img = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(enc(img)[0], model.encoder(img)[0])


def test_narrow_label_branch_is_inferred_from_the_tensors(spadework_home, tmp_path):
    cfg = GeneratorConfig(15, True, True, ngf=4, crop_size=64, use_vae=True, z_dim=8,
                          spade_hidden=16)
    gen = random_generator(cfg)
    pth = _save(gen.state_dict(), tmp_path / "narrow" / "latest_net_G.pth")
    (pth.parent / "opt.txt").write_text("   crop_size: 64\n")
    model = load_model(import_checkpoint(pth, label_set="landscape"))
    assert model.card.config.spade_hidden == 16
    assert_same_state(gen, model.generator)
    z = torch.randn(1, 8)
    assert torch.equal(_render(gen, cfg, z), _render(model.generator, cfg, z))


def test_parametrized_spectral_norm_names_are_mapped(spadework_home, tmp_path):
    gen = random_generator(COCO_SMALL)
    renamed = {}
    for key, value in gen.state_dict().items():
        key = key.replace(".weight_orig", ".parametrizations.weight.original")
        key = key.replace(".weight_u", ".parametrizations.weight.0._u")
        key = key.replace(".weight_v", ".parametrizations.weight.0._v")
        renamed[f"module.{key}"] = value
    model = load_model(import_checkpoint(_save(renamed, tmp_path / "g.pth")))
    assert_same_state(gen, model.generator)
    assert torch.equal(_render(gen, COCO_SMALL), _render(model.generator, COCO_SMALL))


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_with_code_is_refused_and_does_not_run(spadework_home, tmp_path):
    marker = tmp_path / "pwned"
    state = random_generator(COCO_SMALL).state_dict()
    state["extra"] = _Payload(marker)
    pth = _save(state, tmp_path / "latest_net_G.pth")
    with pytest.raises(CheckpointError, match="refused") as err:
        import_checkpoint(pth)
    assert "\n" not in str(err.value)
    assert not marker.exists()
    assert _library_entries() == []


def test_truncated_file_is_refused(spadework_home, tmp_path):
    pth = _save(random_generator(COCO_SMALL).state_dict(), tmp_path / "g.pth")
    pth.write_bytes(pth.read_bytes()[: pth.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        import_checkpoint(pth)
    assert _library_entries() == []


def test_wrong_shape_is_named(spadework_home, tmp_path):
    state = random_generator(COCO_SMALL).state_dict()
    state["up_1.conv_1.bias"] = torch.zeros(3)
    with pytest.raises(
        CheckpointError, match=r"up_1\.conv_1\.bias has shape \[3\], expected \[16\]"
    ):
        import_checkpoint(_save(state, tmp_path / "g.pth"))
    assert _library_entries() == []


def test_files_that_are_not_spade_checkpoints(spadework_home, tmp_path):
    other = _save({"conv.weight": torch.zeros(2, 2)}, tmp_path / "resnet.pth")
    with pytest.raises(CheckpointError, match="not a SPADE generator checkpoint"):
        import_checkpoint(other)
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        import_checkpoint(text)
    with pytest.raises(CheckpointError, match="no such file"):
        import_checkpoint(tmp_path / "missing.pth")
    state = random_generator(COCO_SMALL).state_dict()
    state["fc.bias"] = torch.full_like(state["fc.bias"], float("nan"))
    with pytest.raises(CheckpointError, match="NaN"):
        import_checkpoint(_save(state, tmp_path / "nan.pth"))
    with pytest.raises(CheckpointError, match="needs 151 input channels"):
        import_checkpoint(tmp_path / "nan.pth", label_set="ade20k")


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _bytes(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def test_release_archive_reads_only_the_chosen_model(spadework_home, tmp_path):
    coco = random_generator(COCO_SMALL)
    ade_cfg = GeneratorConfig(150, True, True, ngf=4, crop_size=64)
    archive = _tar(
        tmp_path / "checkpoints.tar.gz",
        {
            "checkpoints/coco_pretrained/latest_net_G.pth": _bytes(coco.state_dict()),
            "checkpoints/coco_pretrained/opt.txt": b"crop_size: 64\n",
            "checkpoints/ade20k_pretrained/latest_net_G.pth": _bytes(
                random_generator(ade_cfg).state_dict()
            ),
        },
    )
    assert list_archive_models(archive) == [
        "checkpoints/ade20k_pretrained",
        "checkpoints/coco_pretrained",
    ]
    with pytest.raises(CheckpointError, match="holds 2 models"):
        import_checkpoint(archive)
    model = load_model(import_checkpoint(archive, member="coco_pretrained"))
    assert model.card.dataset == "coco" and model.card.config.crop_size == 64
    assert model.card.source == "checkpoints.tar.gz:checkpoints/coco_pretrained/latest_net_G.pth"
    assert torch.equal(
        _render(coco, model.card.config), _render(model.generator, model.card.config)
    )
    ade = get_card(import_checkpoint(archive, member="ade20k_pretrained"))
    assert (ade.dataset, ade.config.no_instance, ade.config.semantic_nc) == ("ade20k", True, 151)


def test_archive_with_path_traversal_is_refused(spadework_home, tmp_path):
    data = _bytes(random_generator(COCO_SMALL).state_dict())
    archive = _tar(tmp_path / "evil.tar.gz", {"../../latest_net_G.pth": data})
    with pytest.raises(CheckpointError, match="unsafe member name"):
        import_checkpoint(archive)
    assert not (tmp_path.parent / "latest_net_G.pth").exists()
    assert _library_entries() == []
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(
        _tar(tmp_path / "ok.tar.gz", {"m/latest_net_G.pth": data}).read_bytes()[:500]
    )
    with pytest.raises(CheckpointError, match="tar archive|truncated"):
        import_checkpoint(broken)


def test_cityscapes_uses_more_and_render_accepts_a_pth(spadework_home, tmp_path):
    cfg = GeneratorConfig(
        35, False, False, ngf=4, num_upsampling_layers="more", crop_size=128, aspect_ratio=2.0
    )
    gen = random_generator(cfg)
    state = gen.state_dict()
    pth = _save(state, tmp_path / "latest_net_G.pth", legacy=True)
    (tmp_path / "opt.txt").write_text("crop_size: 128\n")
    labels = tmp_path / "labels.png"
    from PIL import Image

    Image.fromarray(blocky_labels(128, 64, 34, block=16)).save(labels)
    out = tmp_path / "out.png"
    assert (
        ml_main(
            ["spade", "render", "--model", str(pth), "--labels", str(labels), "--out", str(out)]
        )
        == 0
    )
    assert Image.open(out).size == (128, 64)
    assert _library_entries() == []  # rendered straight from the .pth, nothing imported
    card = get_card(import_checkpoint(pth))
    assert (card.dataset, card.config.num_upsampling_layers, card.config.latent_size) == (
        "cityscapes",
        "more",
        (2, 1),
    )
    data = json.loads((user_library() / card.id / "model.json").read_text())
    assert data["config"]["num_upsampling_layers"] == "more" and data["sha256"] == card.sha256
    assert np.isfinite(np.asarray(Image.open(out))).all()
