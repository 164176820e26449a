"""Palette, theme, settings and the --screenshot flow of the main window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from ui_support import make_window

from app.ui import settings, theme
from app.ui.palette import MaterialPalette
from ml.labels import load_label_set

LANDSCAPE = load_label_set("landscape")
REPO = Path(__file__).resolve().parents[2]


def test_palette_groups_search_and_recent(qtbot):
    palette = MaterialPalette(LANDSCAPE)
    qtbot.addWidget(palette)
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert groups == [g.capitalize() for g in LANDSCAPE.groups()]
    assert palette.visible_class_ids() == LANDSCAPE.ids
    qtbot.keyClicks(palette.search, "wa")
    assert palette.visible_class_ids() == [LANDSCAPE.by_name("water").id]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "PLANT")  # a group name shows its classes
    assert [LANDSCAPE[c].name for c in palette.visible_class_ids()] == [
        "grass", "flower", "bush", "tree"]
    palette.search.clear()
    assert palette.visible_class_ids() == LANDSCAPE.ids
    with qtbot.waitSignal(palette.class_selected) as picked:
        palette.select(LANDSCAPE.by_name("tree").id)
    assert picked.args == [LANDSCAPE.by_name("tree").id]
    palette.select(LANDSCAPE.by_name("sand").id)
    assert palette.recent[:2] == [LANDSCAPE.by_name("sand").id, LANDSCAPE.by_name("tree").id]


def test_window_starts_on_the_demo_scene_and_is_ready_without_a_model(qtbot, spadework_home):
    window = make_window(qtbot)
    assert window.is_ready()
    assert window.doc.label_set_name == "landscape" and len(window.doc.labels_used()) > 3
    assert not window.render_view.isVisible()  # no model: the canvas gets the room
    assert window.actions["undo"].shortcut().toString() == "Ctrl+Z"
    assert window.actions["save"].shortcut().toString() == "Ctrl+S"
    assert window.actions["zoom_fit"].shortcut().toString() == "Ctrl+0"
    assert all(action.toolTip() and action.statusTip() for action in window.actions.values())


def test_theme_switch_is_applied_and_persisted(qtbot, spadework_home):
    window = make_window(qtbot)
    app = QApplication.instance()
    theme.apply_theme(app, "dark")
    dark_sheet = app.styleSheet()
    assert "QMainWindow" in dark_sheet
    window.actions["theme_light"].trigger()
    assert settings.theme() == "light" and app.styleSheet() != dark_sheet
    window.actions["theme_dark"].trigger()
    assert settings.theme() == "dark" and app.styleSheet() == dark_sheet
    assert theme.current_theme(app) == "dark"


def test_window_state_is_saved_and_restored(qtbot, spadework_home):
    window = make_window(qtbot, session=True)
    window.layers_dock.hide()
    window.close()
    again = make_window(qtbot, session=True)
    assert not again.layers_dock.isVisible() and again.palette_dock.isVisible()


def test_screenshot_of_the_demo_scene(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, SPADEWORK_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "app", "--screenshot", str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[:2] == (800, 1280)
    colours = {tuple(c) for c in image[::4, ::4].reshape(-1, 3)}
    assert len(colours) > 50 and image.std() > 20
    sky = LANDSCAPE.by_name("sky").color
    assert (np.abs(image.astype(int) - sky).sum(axis=2) == 0).sum() > 10_000  # the demo's sky


def test_new_document_and_recovery_dialogs_report_the_choice(qtbot, tmp_path):
    from app.document.autosave import Recoverable
    from app.ui.new_document_dialog import NewDocumentDialog, NewDocumentSpec
    from app.ui.recovery_dialog import RecoveryDialog

    dialog = NewDocumentDialog(NewDocumentSpec(320, 200, "landscape"))
    qtbot.addWidget(dialog)
    dialog.width_box.setValue(640)
    assert dialog.spec() == NewDocumentSpec(640, 200, "landscape")
    items = [Recoverable(tmp_path / "a.ora", None, 1.7e9, "Untitled", "s1"),
             Recoverable(tmp_path / "b.ora", tmp_path / "b.ora", 1.6e9, "b", "s2")]
    recovery = RecoveryDialog(items)
    qtbot.addWidget(recovery)
    assert recovery.list.count() == 2 and "never saved" in recovery.list.item(0).text()
    recovery.list.setCurrentRow(1)
    recover_button = next(b for b in recovery.findChildren(QPushButton) if b.text() == "Recover")
    qtbot.mouseClick(recover_button, Qt.MouseButton.LeftButton)
    assert recovery.choice == "recover" and recovery.selected() is items[1]


def test_typing_in_the_palette_search_does_not_switch_tools(qtbot, spadework_home):
    window = make_window(qtbot)
    window.activateWindow()
    window.palette.search.setFocus()
    qtbot.keyClicks(window.palette.search, "beige")
    assert window.palette.search.text() == "beige"
    assert window.canvas.tool.name == "brush"
