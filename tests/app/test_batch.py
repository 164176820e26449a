"""`spadework new` and `spadework render` end to end, through `python -m app` subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.document import Document
from app.document.labelmaps import export_label_map
from app.document.ora import load_ora, save_ora
from ml.images import read_rgb, write_image

ROOT = Path(__file__).resolve().parents[2]
SKY, HILL, WATER = 0, 5, 7


def spadework(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SPADEWORK_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "app", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def scene(width: int = 48, height: int = 32) -> np.ndarray:
    labels = np.full((height, width), SKY, np.uint8)
    labels[height // 2 :] = HILL
    labels[3 * height // 4 :, : width // 2] = WATER
    return labels


def save_tiny_model(home: Path, model_id: str = "tiny-landscape", encoder: bool = False) -> str:
    """A randomly initialised landscape generator (and style encoder) in `home`'s library."""
    import torch

    from ml.labels import load_label_set
    from ml.spade.config import GeneratorConfig
    from ml.spade.library import ModelCard, save_model
    from ml.spade.networks import ConvEncoder, SPADEGenerator

    torch.manual_seed(0)
    landscape = load_label_set("landscape")
    cfg = GeneratorConfig(
        label_nc=len(landscape.classes),
        contain_dontcare=True,
        no_instance=True,
        ngf=4,
        crop_size=32,
        z_dim=8,
        use_vae=encoder,
    )
    card = ModelCard(
        id=model_id,
        name="Tiny landscape",
        dataset="landscape",
        label_set="landscape",
        config=cfg,
        has_encoder=False,
        source="test",
        sha256="",
        bundled=False,
        licence="MIT",
        description="random weights for tests",
        extra={},
    )
    folder = home / "models" / "spade" / model_id
    enc = ConvEncoder(ngf=4, crop_size=32, z_dim=8).state_dict() if encoder else None
    save_model(folder, card, SPADEGenerator(cfg).state_dict(), enc)
    return model_id


def test_new_makes_a_document_from_a_label_map(tmp_path):
    labels = scene()
    write_image(tmp_path / "labels.png", labels)
    out = spadework(
        tmp_path / "home", "new", "--labels", tmp_path / "labels.png", "--out", tmp_path / "doc.ora"
    )
    assert out.returncode == 0, out.stderr
    assert "48x32" in out.stdout
    doc = load_ora(tmp_path / "doc.ora")
    assert doc.label_set_name == "landscape" and len(doc.layers) == 1
    assert np.array_equal(doc.composite_labels(), labels)
    again = spadework(
        tmp_path / "home", "new", "--labels", tmp_path / "labels.png", "--out", tmp_path / "doc.ora"
    )
    assert again.returncode == 1 and "--force" in again.stderr


def test_new_reports_bad_label_maps_in_one_line(tmp_path):
    bad = scene()
    bad[0, 0] = 99
    write_image(tmp_path / "bad.png", bad)
    out = spadework(
        tmp_path / "home", "new", "--labels", tmp_path / "bad.png", "--out", tmp_path / "doc.ora"
    )
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error:") and "99" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "doc.ora").exists()


def test_render_without_any_model_is_a_clear_error(tmp_path, spadework_home, monkeypatch, capsys):
    pytest.importorskip("ml.spade.synthesizer")
    from app.main import main
    from ml.spade import library

    monkeypatch.setattr(library, "bundled_library", lambda: tmp_path / "no-bundled-models")
    save_ora(Document.new(16, 16, fill=SKY), tmp_path / "doc.ora")
    assert main(["render", str(tmp_path / "doc.ora"), "--out", str(tmp_path / "o.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no SPADE model is installed") and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()


def main_in_process(*args) -> int:
    """The same entry point in this process (torch is imported once for all the tests)."""
    from app.main import main

    return main([str(a) for a in args])


def test_render_document_and_label_map_end_to_end(tmp_path, spadework_home):
    pytest.importorskip("ml.spade.synthesizer")
    model = save_tiny_model(spadework_home)
    doc = Document.new(48, 32, model_id=model)
    doc.replace_pixels(0, scene())
    doc.set_style({"kind": "seed", "seed": 4})
    save_ora(doc, tmp_path / "doc.ora")
    out = spadework(
        spadework_home,
        "render",
        tmp_path / "doc.ora",
        "--out",
        tmp_path / "a.png",
        "--device",
        "cpu",
    )
    assert out.returncode == 0, out.stderr
    assert f"model {model}" in out.stdout
    picture = read_rgb(tmp_path / "a.png")
    assert picture.shape == (32, 48, 3) and picture.std() > 0
    # The document's seed given on the command line instead: the same picture.
    args = ["--seed", "4", "--model", model, "--size", "48x32", "--device", "cpu"]
    assert main_in_process("render", tmp_path / "doc.ora", "--out", tmp_path / "b.png", *args) == 0
    assert np.array_equal(read_rgb(tmp_path / "b.png"), picture)
    # Another seed changes the picture; a label map PNG uses the model's label set.
    export_label_map(doc, tmp_path / "labels.png")
    args = ["--seed", "5", "--size", "64x40", "--device", "cpu"]
    assert (
        main_in_process("render", tmp_path / "labels.png", "--out", tmp_path / "c.png", *args) == 0
    )
    other = read_rgb(tmp_path / "c.png")
    assert other.shape == (40, 64, 3)
    assert not np.array_equal(read_rgb(tmp_path / "b.png"), other[:32, :48])


def test_render_errors_are_one_line(tmp_path, spadework_home, capsys):
    pytest.importorskip("ml.spade.synthesizer")
    model = save_tiny_model(spadework_home)
    save_ora(Document.new(16, 16, fill=SKY), tmp_path / "doc.ora")
    write_image(tmp_path / "photo.png", np.full((8, 8, 3), 100, np.uint8))
    cases = [
        (["--model", "nope"], "nope"),
        (["--style", tmp_path / "photo.png", "--model", model], "no style encoder"),
    ]
    for extra, message in cases:
        assert (
            main_in_process("render", tmp_path / "doc.ora", "--out", tmp_path / "x.png", *extra)
            == 1
        )
        err = capsys.readouterr().err
        assert err.startswith("error:") and message in err and err.count("\n") == 1, err
    with pytest.raises(SystemExit):
        main_in_process(
            "render", tmp_path / "doc.ora", "--out", tmp_path / "x.png", "--size", "12by9"
        )
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_render_with_a_style_image_needs_and_uses_the_encoder(tmp_path, spadework_home):
    pytest.importorskip("ml.spade.synthesizer")
    model = save_tiny_model(spadework_home, "tiny-vae", encoder=True)
    doc = Document.new(32, 32, model_id=model)
    doc.replace_pixels(0, scene(32, 32))
    save_ora(doc, tmp_path / "doc.ora")
    pictures = []
    for value in (20, 230):
        write_image(tmp_path / f"style{value}.png", np.full((32, 32, 3), value, np.uint8))
        out = tmp_path / f"out{value}.png"
        args = ["--style", tmp_path / f"style{value}.png", "--device", "cpu"]
        assert main_in_process("render", tmp_path / "doc.ora", "--out", out, *args) == 0
        pictures.append(read_rgb(out))
    assert pictures[0].shape == (32, 32, 3)
    assert not np.array_equal(pictures[0], pictures[1])  # the style image matters


def test_document_styles_map_to_synthesizer_styles(spadework_home):
    pytest.importorskip("ml.spade.synthesizer")
    from app.batch import style_from_document
    from ml.spade.library import StylePreset, save_style_presets

    model = save_tiny_model(spadework_home)
    dusk = np.arange(8, dtype=np.float32)
    save_style_presets(spadework_home / "models" / "spade" / model, [StylePreset("dusk", dusk)])
    doc = Document.new(4, 4)
    photo = np.zeros((4, 4, 4), np.uint8)
    photo[..., 0] = 200
    photo[0, 0, 3] = 255  # one opaque red pixel, the rest transparent (shown on white)
    doc.add_image_layer("Ref", photo)
    assert style_from_document(doc, {"kind": "seed", "seed": 9}, model).seed == 9
    latent = style_from_document(doc, {"kind": "latent", "values": [1, 2]}, model).latent
    assert latent.dtype == np.float32 and latent.tolist() == [1.0, 2.0]
    assert np.array_equal(
        style_from_document(doc, {"kind": "preset", "name": "dusk"}, model).latent, dusk
    )
    image = style_from_document(doc, {"kind": "image", "layer": "Ref"}, model).image
    assert tuple(image[0, 0]) == (200, 0, 0) and tuple(image[1, 1]) == (255, 255, 255)
    with pytest.raises(KeyError, match="no style preset named 'dawn'"):
        style_from_document(doc, {"kind": "preset", "name": "dawn"}, model)
    with pytest.raises(KeyError, match="'Gone'"):
        style_from_document(doc, {"kind": "image", "layer": "Gone"}, model)
