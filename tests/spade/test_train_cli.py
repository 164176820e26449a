"""`python -m ml spade train`: a plain folder to a library model, refusing to clobber, resuming."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

from ml.images import write_image
from ml.labels import load_label_set
from ml.spade import cli

sys.path.insert(0, str(Path(__file__).parent))
from test_train_spade import one_thread  # noqa: E402, F401

TINY = ["--ngf", "8", "--ndf", "8", "--n-layers-d", "3", "--crop-size", "32", "--batch-size", "2"]


def run(*argv: str) -> int:
    root = argparse.ArgumentParser()
    cli.register(root.add_subparsers())
    args = root.parse_args(["spade", "train", *argv])
    return args.func(args)


@pytest.fixture
def folder(tmp_path) -> Path:
    """Four colour-coded landscape pairs in images/ + labels/."""
    labels = load_label_set("landscape")
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for i in range(4):
        lab = np.zeros((36, 40), np.uint8)
        lab[rng.integers(8, 28) :] = 8  # grass under sky
        write_image(root / "images" / f"{i:03d}.png", labels.colorize(lab))
        write_image(root / "labels" / f"{i:03d}.png", labels.colorize(lab))
    return root


def test_train_saves_a_library_model_and_resumes(folder, tmp_path, spadework_home, capsys):
    from ml.spade.library import list_models

    out = tmp_path / "run"
    assert run(str(folder), "--label-set", "landscape", *TINY, "--out", str(out), "--steps", "2",
               "--model-name", "Tiny CLI") == 0
    printed = capsys.readouterr()
    assert "4 training pairs, 2 per step, from step 0 to 2" in printed.err
    assert "step 2/2" in printed.err
    cards = [c for c in list_models() if c.name == "Tiny CLI"]
    assert len(cards) == 1 and cards[0].label_set == "landscape" and cards[0].dataset == "landscape"
    assert cards[0].config.label_nc == 15 and cards[0].config.contain_dontcare
    assert printed.out.strip().endswith(cards[0].id)

    with pytest.raises(ValueError, match="holds a training run.*--resume"):
        run(str(folder), "--label-set", "landscape", *TINY, "--out", str(out), "--steps", "3")
    assert run(str(folder), "--out", str(out), "--steps", "3", "--resume") == 0
    assert (out / "latest.txt").read_text().strip() == "step-000003"


def test_plain_folders_need_a_label_set(folder, tmp_path):
    with pytest.raises(ValueError, match="needs --label-set"):
        run(str(folder), *TINY, "--out", str(tmp_path / "run"), "--steps", "1")


def test_coco_layout_gets_the_official_channels(tmp_path):
    from ml.spade.library import load_model

    root = tmp_path / "coco"
    for i in range(2):
        lab = np.full((32, 32), 156, np.uint8)  # sky-other
        lab[20:] = 123  # grass
        lab[0, 0] = 255  # unlabeled: the don't-care channel
        write_image(root / "train_img" / f"{i:012d}.jpg", np.full((32, 32, 3), 120, np.uint8))
        write_image(root / "train_label" / f"{i:012d}.png", lab)
        write_image(root / "train_inst" / f"{i:012d}.png", lab)
    model = tmp_path / "model"
    assert run(str(root), "--layout", "coco", *TINY, "--out", str(tmp_path / "run"),
               "--steps", "1", "--save-model", str(model)) == 0
    card = load_model(model).card
    assert card.dataset == "coco" and card.label_set == "coco"
    cfg = card.config
    assert (cfg.label_nc, cfg.contain_dontcare, cfg.no_instance, cfg.semantic_nc) == (182, True, False, 184)


def test_options_beyond_the_official_recipe_reach_the_run(folder, tmp_path, spadework_home):
    from ml.spade import train_state
    from ml.spade.library import load_model

    out, model = tmp_path / "run", tmp_path / "model"
    assert run(str(folder), "--label-set", "landscape", *TINY, "--use-vae", "--z-dim", "8",
               "--spade-hidden", "16", "--ema", "0.9", "--kld-warmup", "5",
               "--out", str(out), "--steps", "2", "--save-model", str(model)) == 0
    tensors, meta = train_state.load_state(train_state.latest_state(out))
    assert meta["config"]["ema_decay"] == 0.9 and meta["config"]["kld_warmup"] == 5
    assert "G_ema.conv_img.weight" in tensors
    saved = load_model(model)
    assert saved.card.config.spade_hidden == 16
    exported = saved.generator.state_dict()["conv_img.weight"]
    assert np.array_equal(exported.numpy(), tensors["G_ema.conv_img.weight"].numpy())
