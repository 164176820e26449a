"""File actions through the window: save and reopen, prompts, import/export, drops, autosave
and recovery after a real crashed process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from ui_support import ScriptedPrompts, drag, make_window

from app.document.autosave import find_recoverable
from app.document.document import Document
from app.ui import settings
from app.ui.new_document_dialog import NewDocumentSpec
from ml.labels import load_label_set

LANDSCAPE = load_label_set("landscape")
SKY, GRASS, WATER = (LANDSCAPE.by_name(n).id for n in ("sky", "grass", "water"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def prompts():
    return ScriptedPrompts()


@pytest.fixture
def window(qtbot, spadework_home, prompts):
    window = make_window(qtbot, prompts)
    window.set_document(Document.new(40, 30, "landscape", fill=SKY))
    window.canvas.set_zoom(6.0)
    window.canvas.centerOn(20, 15)
    return window


def layer_state(doc: Document) -> list[tuple]:
    return [(layer.kind, layer.name, layer.visible, layer.opacity, layer.locked,
             layer.pixels.tobytes()) for layer in doc.layers]


def test_save_as_then_reopen_gives_the_same_document(qtbot, window, prompts, tmp_path):
    window.palette.select(GRASS)
    window.size_box.setValue(4)
    drag(qtbot, window, [(5.0, 5.0), (30.0, 20.0)])
    window.actions["layer_add"].trigger()
    window.select_tool("rect")
    window.palette.select(WATER)
    drag(qtbot, window, [(2.5, 20.5), (12.5, 28.5)])
    window.doc.set_opacity(1, 0.6)
    window.doc.add_image_layer("Photo", np.full((30, 40, 3), 90, np.uint8), index=0)
    window.doc.set_visible(0, False)
    expected = layer_state(window.doc)
    assert window.isWindowModified()
    path = tmp_path / "scene.ora"
    prompts.paths = [path]
    window.actions["save_as"].trigger()
    assert path.is_file() and not window.doc.dirty and not window.isWindowModified()
    assert window.doc.path == path and "scene" in window.windowTitle()
    assert settings.recent_files()[0] == path.resolve()
    assert window.files.new(NewDocumentSpec(16, 8, "landscape"))
    assert window.doc.size == (16, 8)
    assert window.files.open(path)
    assert layer_state(window.doc) == expected
    assert window.doc.label_set_name == "landscape" and not window.doc.dirty
    assert window.canvas.label_item.buffer.shape[:2] == (30, 40)
    assert prompts.errors == []


def test_unsaved_changes_prompt_on_close(qtbot, window, prompts, tmp_path):
    window.doc.add_label_layer()
    prompts.save_answer = "cancel"
    window.close()
    assert window.isVisible()  # cancelled: nothing lost
    prompts.save_answer = "save"
    path = tmp_path / "kept.ora"
    prompts.paths = [path]
    window.close()
    assert not window.isVisible() and path.is_file()


def test_new_document_from_the_dialog_answers(qtbot, window, prompts):
    window.doc.add_label_layer()
    prompts.new_spec = NewDocumentSpec(100, 50, "landscape")
    prompts.save_answer = "discard"
    window.actions["new"].trigger()
    assert window.doc.size == (100, 50) and len(window.doc.layers) == 1
    assert window.layers.list.count() == 1


def test_import_label_map_names_unknown_colours(qtbot, window, prompts, tmp_path):
    good = np.zeros((30, 40, 3), np.uint8)
    good[:] = LANDSCAPE[WATER].color
    good[:10] = LANDSCAPE[SKY].color
    Image.fromarray(good).save(tmp_path / "good.png")
    bad = good.copy()
    bad[5, 5] = (1, 2, 3)
    Image.fromarray(bad).save(tmp_path / "bad.png")
    prompts.paths = [tmp_path / "bad.png"]
    window.actions["import_labels"].trigger()
    assert len(window.doc.layers) == 1
    assert prompts.errors and "#010203" in prompts.errors[-1][1]
    assert window.files.import_label_map(tmp_path / "good.png") == 1
    assert (window.doc.composite_labels()[10:] == WATER).all()


def test_export_label_map_reads_back(qtbot, window, prompts, tmp_path):
    window.palette.select(GRASS)
    drag(qtbot, window, [(10.5, 10.5), (20.5, 12.5)])
    out = tmp_path / "labels.png"
    prompts.paths = [out]
    window.actions["export_labels"].trigger()
    img = Image.open(out)
    assert img.mode == "P" and np.array_equal(np.asarray(img), window.doc.composite_labels())


def test_export_render_without_a_model_says_so(qtbot, window, prompts, tmp_path):
    assert window.files.export_render(tmp_path / "r.png", (64, 64)) is None
    assert "No model" in prompts.errors[-1][1]


def test_drop_an_image_and_a_label_map_onto_the_window(qtbot, window, prompts, tmp_path):
    photo = np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    labels = np.zeros((30, 40, 3), np.uint8)
    labels[:] = LANDSCAPE[GRASS].color
    Image.fromarray(labels).save(tmp_path / "map.png")
    for name in ("photo.png", "map.png"):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(tmp_path / name))])
        event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        window.dropEvent(event)
    kinds = [(layer.kind, layer.name) for layer in window.doc.layers]
    assert ("image", "photo") in kinds and ("label", "map") in kinds
    photo_layer = next(layer for layer in window.doc.layers if layer.name == "photo")
    assert np.array_equal(photo_layer.pixels[..., :3], photo)
    assert (window.doc.composite_labels() == GRASS).all()
    assert prompts.errors == []


def test_autosave_writes_only_changes(qtbot, window):
    assert window.files.autosave() is None  # clean document: nothing to keep
    window.doc.add_label_layer()
    first = window.files.autosave()
    assert first is not None and first.is_file()
    assert window.files.autosave() is None  # unchanged since
    assert window.files.timer.interval() == 30_000 and window.files.timer.isActive()


CRASHING_SESSION = textwrap.dedent("""
    import os
    from app.document.autosave import Autosaver
    from app.document.document import Document
    doc = Document.new(24, 16, "landscape", fill=0)
    with doc.begin_stroke() as stroke:
        stroke.rectangle(2, 3, 9, 7, 8, filled=True)
    Autosaver().maybe_save(doc)
    os._exit(3)  # a crash: no clean close, the lock file stays behind
""")


def test_recovery_after_a_crashed_session(qtbot, spadework_home):
    env = dict(os.environ, SPADEWORK_HOME=str(spadework_home), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CRASHING_SESSION], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    locks = list((spadework_home / "autosave").glob("*.lock"))
    assert locks and len(find_recoverable()) == 1  # the stale lock of the dead session
    prompts = ScriptedPrompts()
    window = make_window(qtbot, prompts, session=True)
    assert len(prompts.recover_offers) == 1
    assert window.doc.size == (24, 16) and window.doc.dirty
    expected = np.zeros((16, 24), np.uint8)
    expected[3:8, 2:10] = 8
    assert np.array_equal(window.doc.active_layer.pixels, expected)
    assert find_recoverable() == []  # now this session's autosave; offered once only
    window.close()
    assert not list((spadework_home / "autosave").glob("*.ora"))  # clean exit cleans up


def test_discarding_recovery_deletes_the_autosaves(qtbot, spadework_home):
    env = dict(os.environ, SPADEWORK_HOME=str(spadework_home), PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", CRASHING_SESSION], env=env, cwd=REPO, timeout=120)
    prompts = ScriptedPrompts()
    prompts.recover_answer = "discard"
    window = make_window(qtbot, prompts, session=True)
    assert len(prompts.recover_offers) == 1 and window.doc.size != (24, 16)
    assert find_recoverable() == []


def test_ctrl_s_saves_in_place_and_recent_menu_reopens(qtbot, window, prompts, tmp_path):
    path = tmp_path / "doc.ora"
    assert window.files.save_as(path)
    window.palette.select(WATER)
    drag(qtbot, window, [(6.5, 6.5)])
    assert window.doc.dirty
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not window.doc.dirty and prompts.paths == []  # no dialog: saved where it was
    painted = window.doc.active_layer.pixels.copy()
    window.files.new(NewDocumentSpec(8, 8, "landscape"))
    window._fill_recent_menu()
    entry = next(a for a in window.recent_menu.actions() if a.text() == "doc.ora")
    entry.trigger()
    assert window.doc.path == path and np.array_equal(window.doc.active_layer.pixels, painted)


def test_a_failed_save_says_why_and_keeps_the_changes(qtbot, window, prompts, tmp_path):
    window.doc.add_label_layer()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert not window.files.save_as(blocker / "doc.ora")
    assert window.doc.dirty and prompts.errors and "doc.ora" in prompts.errors[-1][1]


def test_open_an_image_starts_a_document_from_it(qtbot, window, prompts, tmp_path):
    labels = np.zeros((12, 20, 3), np.uint8)
    labels[:] = LANDSCAPE[SKY].color
    labels[6:] = LANDSCAPE[GRASS].color
    Image.fromarray(labels).save(tmp_path / "map.png")
    prompts.paths = [tmp_path / "map.png"]
    window.actions["open"].trigger()
    assert window.doc.size == (20, 12) and not window.doc.dirty
    assert [(layer.kind, layer.name) for layer in window.doc.layers] == [("label", "map")]
    assert (window.doc.composite_labels()[6:] == GRASS).all()
    photo = np.random.default_rng(1).integers(0, 255, (10, 16, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert window.files.open(tmp_path / "photo.png")
    assert [layer.kind for layer in window.doc.layers] == ["image", "label"]
    assert np.array_equal(window.doc.layers[0].pixels[..., :3], photo)
    assert window.doc.active_layer.kind == "label" and not window.doc.dirty
