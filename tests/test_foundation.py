"""The project's frame: entry points, user folders, atomic writes, label sets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app import __version__
from ml import atomic, labels, userdirs
from ml.images import ImageReadError, read_rgb, write_image

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env_home: Path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, SPADEWORK_HOME=str(env_home), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )


def test_version_flag(tmp_path):
    out = run("-m", "app", "--version", env_home=tmp_path)
    assert out.returncode == 0
    assert __version__ in out.stdout


def test_help_mentions_screenshot(tmp_path):
    out = run("-m", "app", "--help", env_home=tmp_path)
    assert out.returncode == 0
    assert "--screenshot" in out.stdout


def test_screenshot_writes_nonblank_png_and_logs(tmp_path):
    shot = tmp_path / "shot.png"
    out = run("-m", "app", "--screenshot", str(shot), env_home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    img = read_rgb(shot)
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert img.std() > 1.0, "screenshot is blank"
    assert (tmp_path / "home" / "logs" / "spadework.log").is_file()


def test_help_lists_batch_commands(tmp_path):
    out = run("-m", "app", "--help", env_home=tmp_path)
    assert "render" in out.stdout and "new" in out.stdout


def test_engine_cli_help(tmp_path):
    out = run("-m", "ml", "--help", env_home=tmp_path)
    assert out.returncode == 0
    assert "ENGINE" in out.stdout


def test_spadework_home_relocates_user_data(spadework_home):
    assert userdirs.models_dir() == spadework_home / "models"
    assert userdirs.models_dir().is_dir()


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "doc.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        atomic.atomic_write_text(tmp_path / "new.txt", "x")
        with atomic.atomic_dir(tmp_path / "folder") as folder:
            (folder / "inside.txt").write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o755
    existing = tmp_path / "shared.txt"
    existing.write_text("old")
    existing.chmod(0o664)
    atomic.atomic_write_text(existing, "new")
    assert existing.stat().st_mode & 0o777 == 0o664
    assert existing.read_text() == "new"


def test_images_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ImageReadError, match="bad.png"):
        read_rgb(bad)
    with pytest.raises(ImageReadError, match="no such file"):
        read_rgb(tmp_path / "missing.png")


def test_images_roundtrip_modes(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    write_image(tmp_path / "a.png", rgba)
    rgb = read_rgb(tmp_path / "a.png")
    assert rgb.shape == (4, 5, 3)
    assert tuple(rgb[1, 1]) == (200, 0, 0)
    assert tuple(rgb[0, 0]) == (255, 255, 255)  # transparent pixels over white


def test_label_set_colour_roundtrip_and_unknown_colour():
    ls = labels.load_label_set("landscape")
    ids = np.array([[0, 7, 8], [11, 14, 4]])
    assert np.array_equal(ls.colors_to_ids(ls.colorize(ids)), ids)
    img = ls.colorize(ids)
    img[0, 0] = (1, 2, 3)
    with pytest.raises(labels.LabelError, match="#010203"):
        ls.colors_to_ids(img)
    with pytest.raises(labels.LabelError, match="99"):
        ls.validate(np.array([[99]]))
