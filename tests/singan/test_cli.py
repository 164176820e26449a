"""`python -m ml singan ...` end to end: files written, messages, exit codes, Ctrl+C + resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from ml.__main__ import main
from ml.images import read_rgb, write_image
from ml.singan.inject import HARMONIZE_RADIUS
from ml.singan.model import SinGANModel
from ml.singan.sampling import training_image

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> int:
    return main(["singan", *map(str, argv)])


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        run("--help")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("train", "import", "sample", "harmonize", "edit", "paint2image", "sr", "animate"):
        assert name in out


def test_sample_any_size(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "samples"
    assert (
        run("sample", tiny_model_path, "--n", 2, "--size", "60x24", "--seed", 1, "--out", out) == 0
    )
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == ["sample_000.png", "sample_001.png"]
    assert read_rgb(files[0]).shape == (24, 60, 3)
    assert "seed 1" in capsys.readouterr().err
    assert run("sample", tiny_model_path, "--scale-h", 2, "--out", out) == 0
    assert read_rgb(out / "sample_000.png").shape == (36, 88, 3)


def test_sample_errors(tiny_model_path, tmp_path, capsys):
    assert run("sample", tiny_model_path, "--size", "60x24", "--scale-h", 2, "--out", tmp_path) == 1
    assert "either --size" in capsys.readouterr().err
    assert run("sample", tiny_model_path, "--start-scale", 99, "--out", tmp_path) == 1
    assert "start scale 99 is out of range" in capsys.readouterr().err
    assert run("sample", tmp_path / "missing.safetensors", "--out", tmp_path) == 1
    assert "no such model file" in capsys.readouterr().err


def test_harmonize_with_rgba_paste_and_gray_mask(tiny_model_path, tmp_path, capsys):
    real = training_image(SinGANModel.load(tiny_model_path))
    big = cv2.resize(real, (88, 72), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros((72, 88), np.uint8)
    mask[20:40, 30:56] = 255
    big[mask > 0] = (30, 220, 60)
    rgba = np.dstack([big, np.full((72, 88), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "paste.png")
    Image.fromarray(mask, "L").save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    args = ["--paste", tmp_path / "paste.png", "--mask", tmp_path / "mask.png"]
    assert run("harmonize", tiny_model_path, *args, "--start-scale", 2, "--out", out) == 0
    err = capsys.readouterr().err
    assert "resized to the model's 44x36" in err and "wrote" in err
    result = read_rgb(out)
    small = cv2.resize(mask, (44, 36), interpolation=cv2.INTER_NEAREST) > 0
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HARMONIZE_RADIUS + 1,) * 2)
    outside = cv2.dilate(small.astype(np.uint8), disk) == 0
    assert np.array_equal(result[outside], real[outside])


def test_edit_with_an_empty_mask_fails_clearly(tiny_model_path, tmp_path, capsys):
    write_image(tmp_path / "edit.png", np.full((36, 44, 3), 100, np.uint8))
    write_image(tmp_path / "mask.png", np.zeros((36, 44), np.uint8))
    args = ["--edited", tmp_path / "edit.png", "--mask", tmp_path / "mask.png"]
    rc = run("edit", tiny_model_path, *args, "--start-scale", 1, "--out", tmp_path / "o.png")
    assert rc == 1
    assert "error: the mask is empty" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_paint2image_quantized_full_size(tiny_model_path, tmp_path):
    paint = np.zeros((18, 22, 3), np.uint8)  # smaller than the model: output is still full size
    paint[:9] = (180, 120, 60)
    write_image(tmp_path / "paint.png", paint)
    out = tmp_path / "p.png"
    args = ["--paint", tmp_path / "paint.png", "--quantize", "--iterations", 2]
    assert run("paint2image", tiny_model_path, *args, "--start-scale", 2, "--out", out) == 0
    assert read_rgb(out).shape == (36, 44, 3)


def test_sr_and_animate(tiny_model_path, tmp_path, capsys):
    assert run("sr", tiny_model_path, "--factor", 2, "--out", tmp_path / "sr.png") == 0
    assert read_rgb(tmp_path / "sr.png").shape == (72, 88, 3)
    gif = tmp_path / "a.gif"
    assert run("animate", tiny_model_path, "--frames", 5, "--start-scale", 1, "--out", gif) == 0
    assert iio.imread(gif, index=None).shape[:3] == (5, 36, 44)
    assert run("animate", tiny_model_path, "--out", tmp_path / "a.avi") == 1
    assert ".gif or .mp4" in capsys.readouterr().err


def test_train_in_process(tiny_image, tmp_path, capsys):
    write_image(tmp_path / "img.png", tiny_image)
    out = tmp_path / "m.safetensors"
    args = ["--preset", "preview", "--max-size", 44, "--iterations", 2, "--device", "cpu"]
    assert run("train", tmp_path / "img.png", *args, "--out", out) == 0
    err = capsys.readouterr().err
    assert "scale 1/" in err and "ETA" in err and f"saved {out}" in err
    assert SinGANModel.load(out).preset == "preview"
    assert run("train", tmp_path / "img.png", "--preset", "nope", "--out", out) == 1
    assert "unknown SinGAN preset" in capsys.readouterr().err


def test_ctrl_c_cancels_cleanly_and_the_rerun_resumes(tiny_image, tmp_path):
    write_image(tmp_path / "img.png", tiny_image)
    out = tmp_path / "m.safetensors"
    cmd = [sys.executable, "-m", "ml", "singan", "train", str(tmp_path / "img.png"),
           "--preset", "preview", "--max-size", "44", "--iterations", "12",
           "--device", "cpu", "--out", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("scale 2/") or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    err = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert "training cancelled" in err and "run the same command again to resume" in err
    assert not out.exists() and out.with_name(out.name + ".partial").exists()

    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    first = next(ln for ln in again.stderr.splitlines() if ln.startswith("scale "))
    assert not first.startswith("scale 1/")  # finished scales were not trained again
    assert SinGANModel.load(out).num_scales == 5


def _write_official(model: SinGANModel, root: Path) -> None:
    """The files the official trainer leaves (state dicts and tensor lists; no Gs.pth)."""
    root.mkdir(parents=True)
    zs = []
    for n, g in enumerate(model.generators):
        (root / str(n)).mkdir()
        torch.save(g.state_dict(), root / str(n) / "netG.pth")
        z = torch.nn.functional.pad(model.z_rec[n], (5, 5, 5, 5))
        torch.save(z, root / str(n) / "z_opt.pth")
        zs.append(z)
    torch.save(zs, root / "Zs.pth")
    torch.save([r.clone() for r in model.reals], root / "reals.pth")
    torch.save([torch.tensor(a) for a in model.noise_amps], root / "NoiseAmp.pth")


def test_import_official_folder(tiny_model_path, tmp_path, capsys):
    model = SinGANModel.load(tiny_model_path)
    root = tmp_path / "TrainedModels" / "tiny" / "scale_factor=0.750000,alpha=10"
    _write_official(model, root)
    out = tmp_path / "imported.safetensors"
    assert run("import", root, "--out", out) == 0
    assert "imported 6 scales" in capsys.readouterr().err
    imported = SinGANModel.load(out)
    diff = (imported.reconstruct() - model.reconstruct()).abs().max()
    assert float(diff) < 1e-4
    assert run("import", tmp_path / "nothing", "--out", out) == 1
    assert "error:" in capsys.readouterr().err
