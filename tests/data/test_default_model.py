"""The default-model pipeline on a tiny run: train, resume, export, presets, card, figures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ml.__main__ import main
from ml.data.evaluate import PatchClassifier, class_colours, crops, features, style_spread
from ml.data.export import export_from_run
from ml.data.infer import prior_latents, render_batch
from ml.data.plot import line_chart
from ml.data.scene import render_scene
from ml.images import read_raw, read_rgb
from ml.spade import train_state
from ml.spade.config import GeneratorConfig
from ml.spade.library import load_model, load_style_presets
from ml.spade.losses import pyramid_l1_loss
from ml.spade.networks import SPADEGenerator

TINY = ["--scenes", "3", "--size", "64", "--ngf", "4", "--ndf", "8", "--batch", "1",
        "--checkpoint-every", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    run_dir = root / "run"
    code = main(["data", "train-default", "--out", str(root / "unused"), "--steps", "2",
                 "--run-dir", str(run_dir), "--no-export", *TINY])
    assert code == 0
    return run_dir


def test_run_logs_losses_and_resumes_where_it_stopped(tiny_run):
    rows = [json.loads(x) for x in (tiny_run / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {"G_GAN", "G_feat", "G_L1", "G_KLD", "D_fake", "D_real"} <= set(rows[0])
    code = main(["data", "train-default", "--out", str(tiny_run / "unused"), "--steps", "3",
                 "--run-dir", str(tiny_run), "--no-export", *TINY])
    assert code == 0
    rows = [json.loads(x) for x in (tiny_run / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]


def test_other_settings_do_not_resume_a_run(tiny_run, capsys):
    code = main(["data", "train-default", "--out", str(tiny_run / "unused"), "--steps", "4",
                 "--run-dir", str(tiny_run), "--no-export", *TINY[:-2], "--threads", "1",
                 "--l1", "3"])
    assert code == 1
    assert "other settings" in capsys.readouterr().err


def test_export_writes_a_loadable_model_with_presets_and_card(tiny_run, tmp_path):
    out = export_from_run(tiny_run, tmp_path / "landscape-test", evaluate=False)
    card = json.loads((out / "model.json").read_text())
    training = card["extra"]["training"]
    assert card["label_set"] == "landscape" and card["has_encoder"]
    assert training["steps"] >= 2 and training["data_seeds"] == [0, 2]
    assert "--steps" in training["command"] and "CPU" in training["hardware"]["description"]
    readme = (out / "README.md").read_text()
    assert training["command"] in readme and "Final losses" in readme
    assert read_rgb(out / "loss.png").shape[2] == 3
    model = load_model(out)
    assert model.encoder is not None
    presets = load_style_presets(out)
    assert [p.name for p in presets] == ["Noon", "Golden hour", "Overcast", "Night", "Winter",
                                         "Autumn"]
    assert all(p.thumbnail is not None and p.thumbnail.is_file() for p in presets)
    assert not np.allclose(presets[0].latent, presets[3].latent)
    state = load_file(str(out / "generator.safetensors"))  # half precision halves the folder
    floats = [v for v in state.values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    # What ships is the moving average of the weights, with its own refreshed statistics.
    tensors, _ = train_state.load_state(train_state.latest_state(tiny_run))
    assert torch.equal(state["conv_img.weight"], tensors["G_ema.conv_img.weight"].half())
    assert not torch.equal(tensors["G_ema.conv_img.weight"], tensors["G.conv_img.weight"])
    assert model.card.config.spade_hidden == 64
    with pytest.raises(FileExistsError):
        export_from_run(tiny_run, out)


def test_render_cli_writes_pictures_and_exact_label_maps(tmp_path):
    assert main(["data", "render", "--seed", "5", "--n", "2", "--size", "64",
                 "--out", str(tmp_path), "--color"]) == 0
    scene = render_scene(5, 64)
    assert np.array_equal(read_rgb(tmp_path / "scene-000005.png"), scene.image)
    assert np.array_equal(read_raw(tmp_path / "scene-000005_labels.png"), scene.labels)
    assert (tmp_path / "scene-000006_color.png").is_file()


def test_pyramid_l1_is_zero_only_for_equal_images():
    a = torch.rand(1, 3, 16, 16) * 2 - 1
    assert float(pyramid_l1_loss(a, a)) == 0.0
    assert float(pyramid_l1_loss(a, -a)) > 0.1


def test_classifier_tells_real_scenes_from_flat_fills():
    scenes = [render_scene(s, 96) for s in range(300, 324)]
    imgs = np.stack([s.image for s in scenes])
    labs = np.stack([s.labels for s in scenes])
    clf = PatchClassifier(15).fit(imgs[:16], labs[:16])
    real = clf.fidelity(imgs[16:], labs[16:])
    flat = clf.fidelity(class_colours(imgs[:16], labs[:16], 15)[labs[16:]], labs[16:])
    noise = clf.fidelity(np.random.default_rng(0).integers(0, 255, imgs[16:].shape, np.uint8),
                         labs[16:])
    assert real > 0.5 and real > flat > noise
    assert features(imgs[0]).shape == (96, 96, 8)
    assert crops(imgs, 0)[0].shape == (64, 64, 3)


def test_line_chart_draws_each_series():
    x = np.arange(50)
    chart = line_chart({"a": (x, np.sin(x / 5)), "b": (x, np.cos(x / 5))}, "t")
    blue = np.all(chart == (31, 119, 180), axis=2).sum()
    orange = np.all(chart == (255, 127, 14), axis=2).sum()
    assert blue > 100 and orange > 100


def test_style_spread_is_zero_when_the_code_is_ignored():
    cfg = GeneratorConfig(15, True, True, ngf=4, crop_size=64, use_vae=True, z_dim=8)
    torch.manual_seed(0)
    gen = SPADEGenerator(cfg).eval()
    labels = np.stack([render_scene(s, 64).labels for s in (1, 2)])
    latents = prior_latents(2, 8, 0)
    renders = render_batch(gen, cfg, labels, latents)
    assert style_spread(gen, cfg, labels, renders, seed=1) > 1.0
    with torch.no_grad():
        gen.fc.weight.zero_()  # every code now gives the same starting grid
    renders = render_batch(gen, cfg, labels, latents)
    assert style_spread(gen, cfg, labels, renders, seed=1) == 0.0
