"""Synthesizer and model library: renders, styles, sizes, presets, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ml.__main__ import main as ml_main
from ml.labels import LabelError, load_label_set
from ml.spade import library
from ml.spade.config import GeneratorConfig
from ml.spade.library import (
    ModelCard,
    ModelNotFound,
    StylePreset,
    list_models,
    load_model,
    load_style_presets,
    save_model,
    save_style_presets,
)
from ml.spade.synthesizer import Style, StyleError, Synthesizer
from tests.spade.factories import blocky_labels, calibrated_generator, random_encoder

LANDSCAPE = load_label_set("landscape")
VAE = GeneratorConfig(15, True, True, ngf=4, crop_size=64, use_vae=True, z_dim=8)
PLAIN = GeneratorConfig(15, True, True, ngf=4, crop_size=64)


def _save(folder, cfg, encoder=True) -> ModelCard:
    card = ModelCard(folder.name, "Tiny", "landscape", "landscape", cfg, description="test")
    gen = calibrated_generator(cfg)
    enc = random_encoder(cfg).state_dict() if encoder else None
    save_model(folder, card, gen.state_dict(), enc)
    return card


@pytest.fixture
def vae_model(spadework_home):
    folder = library.user_library() / "tiny-vae"
    _save(folder, VAE)
    return folder


def test_render_matches_plain_and_styles_differ(vae_model):
    synth = Synthesizer("tiny-vae", device="cpu")
    assert (
        synth.native_size == (64, 64) and synth.has_encoder and synth.label_set.name == "landscape"
    )
    labels = blocky_labels(80, 80, 15)
    labels[:8] = 255
    a = synth.render(labels, style=Style(seed=1))
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - synth.render_plain(labels, style=Style(seed=1))).max() <= 1
    b = synth.render(labels, style=Style(seed=2))
    assert np.abs(a.astype(int) - b).mean() > 1
    assert np.array_equal(synth.render(labels, style=Style(seed=1)), a)
    latent = synth.encode_style(a)
    assert latent.shape == (8,)
    from_image = synth.render(labels, style=Style(image=a))
    assert np.array_equal(from_image, synth.render(labels, style=Style(latent=latent)))
    sampled = synth.render(labels, style=Style(image=a, sample=True, seed=5))
    assert not np.array_equal(sampled, from_image)


def test_wide_canvas_and_dirty_rect(vae_model):
    synth = Synthesizer("tiny-vae", device="cpu")
    labels = blocky_labels(320, 180, 15, block=20)
    assert synth.render_size((320, 180)) == (320, 192)
    wide = synth.render(labels, size=(320, 180))
    assert wide.shape == (180, 320, 3)
    edited = labels.copy()
    edited[50:70, 100:120] = LANDSCAPE.by_name("water").id
    after = synth.render(edited, size=(320, 180), dirty_rect=(100, 50, 120, 70))
    fresh = Synthesizer("tiny-vae", device="cpu").render(edited, size=(320, 180))
    assert np.abs(after.astype(int) - fresh).max() <= 1
    assert np.abs(after.astype(int) - wide).max() > 10


def test_bad_inputs_get_clear_errors(vae_model, spadework_home):
    synth = Synthesizer("tiny-vae", device="cpu")
    with pytest.raises(LabelError, match="not in the Landscape label set: 99"):
        synth.render(np.full((32, 32), 99, np.uint8))
    with pytest.raises(ValueError, match="empty"):
        synth.render(np.zeros((0, 10), np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        synth.render(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="integer ids"):
        synth.render(np.zeros((4, 4), np.float32))
    with pytest.raises(StyleError, match="has 3 values"):
        synth.render(np.zeros((8, 8), np.uint8), style=Style(latent=np.zeros(3)))
    synth.render(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="dirty_rect"):
        synth.render(np.zeros((8, 8), np.uint8), dirty_rect=(0, 0, 50, 50))
    with pytest.raises(ModelNotFound, match="no SPADE model 'nope'"):
        Synthesizer("nope")
    _save(library.user_library() / "plain", PLAIN, encoder=False)
    plain = Synthesizer("plain", device="cpu")
    assert not plain.has_style_input
    labels = blocky_labels(64, 64, 15)
    assert np.array_equal(
        plain.render(labels, style=Style(seed=1)), plain.render(labels, style=Style(seed=9))
    )
    with pytest.raises(StyleError, match="no style encoder"):
        plain.encode_style(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(StyleError, match="no style input"):
        plain.render(labels, style=Style(image=np.zeros((8, 8, 3), np.uint8)))


def test_library_lists_bundled_and_user_models_and_presets(vae_model, tmp_path, monkeypatch):
    bundled = tmp_path / "resources-models"
    bundled.mkdir()
    _save(bundled / "default", VAE)
    (bundled / "broken").mkdir()
    (bundled / "broken" / "model.json").write_text("{not json")
    monkeypatch.setattr(library, "bundled_library", lambda: bundled)
    cards = list_models()
    assert [(c.id, c.bundled) for c in cards] == [("default", True), ("tiny-vae", False)]
    with pytest.raises(FileExistsError):
        _save(vae_model, VAE)
    presets = [StylePreset("dusk", np.arange(8, dtype=np.float32)), StylePreset("noon", np.ones(8))]
    save_style_presets(bundled / "default", presets, {"dusk": np.zeros((8, 8, 3), np.uint8)})
    loaded = load_style_presets("default")
    assert [p.name for p in loaded] == ["dusk", "noon"]
    assert np.array_equal(loaded[0].latent, np.arange(8)) and loaded[0].thumbnail.is_file()
    assert loaded[1].thumbnail is None
    save_style_presets(bundled / "default", presets[:1])
    assert [p.name for p in load_style_presets(bundled / "default")] == ["dusk"]
    with pytest.raises(ValueError, match="expected 8"):
        save_style_presets(bundled / "default", [StylePreset("x", np.zeros(3))])
    assert load_style_presets("tiny-vae") == []
    model = load_model("default")
    assert model.card.bundled and model.encoder is not None


def test_cli_render_with_colour_labels_and_errors(vae_model, tmp_path, capsys):
    labels = blocky_labels(96, 54, 15)
    colour = tmp_path / "labels.png"
    Image.fromarray(LANDSCAPE.colorize(labels)).save(colour)
    ids = tmp_path / "ids.png"
    Image.fromarray(labels).save(ids)
    out = tmp_path / "out.png"
    args = [
        "spade",
        "render",
        "--model",
        "tiny-vae",
        "--seed",
        "3",
        "--size",
        "96x54",
        "--device",
        "cpu",
    ]
    assert ml_main([*args, "--labels", str(colour), "--out", str(out)]) == 0
    first = np.asarray(Image.open(out))
    assert first.shape == (54, 96, 3)
    assert ml_main([*args, "--labels", str(ids), "--out", str(out)]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), first)
    bad = tmp_path / "bad.png"
    Image.fromarray(np.full((8, 8, 3), (1, 2, 3), np.uint8)).save(bad)
    capsys.readouterr()
    assert ml_main([*args, "--labels", str(bad), "--out", str(out)]) == 1
    assert "#010203" in capsys.readouterr().err
    notimg = tmp_path / "x.png"
    notimg.write_text("nope")
    assert ml_main([*args, "--labels", str(notimg), "--out", str(out)]) == 1
    assert "not an image file" in capsys.readouterr().err
    assert ml_main(["spade", "models"]) == 0
    assert "tiny-vae" in capsys.readouterr().out


def test_a_library_id_wins_over_a_same_named_folder(vae_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny-vae").mkdir()  # e.g. an unrelated folder in the working directory
    model = load_model("tiny-vae")
    assert model.card.id == "tiny-vae" and model.encoder is not None
