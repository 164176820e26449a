"""The layer panel drives the document's undoable layer operations; the canvas follows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit
from ui_support import drag, make_window

from app.document.document import Document
from ml.labels import load_label_set

LANDSCAPE = load_label_set("landscape")
SKY, GRASS, WATER = (LANDSCAPE.by_name(n).id for n in ("sky", "grass", "water"))


@pytest.fixture
def window(qtbot, spadework_home):
    window = make_window(qtbot)
    doc = Document.new(32, 24, "landscape", fill=SKY)
    window.set_document(doc)
    window.canvas.set_zoom(8.0)
    window.canvas.centerOn(16, 12)
    return window


def shown(window, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in window.canvas.label_item.buffer[y, x, :3])


def test_add_paint_reorder_and_hide_show_in_the_composite(qtbot, window):
    panel = window.layers
    qtbot.mouseClick(_button(panel, "action_layer_add"), Qt.MouseButton.LeftButton)
    assert [layer.name for layer in window.doc.layers] == ["Labels", "Labels 2"]
    assert panel.list.count() == 2 and panel.list.currentRow() == 0  # the new top layer
    window.palette.select(WATER)
    window.select_tool("fill")
    drag(qtbot, window, [(5.5, 5.5)])  # fills the whole new layer (composite region = all)
    assert (window.doc.composite_labels() == WATER).all()
    assert shown(window, 3, 3) == LANDSCAPE[WATER].color
    # drag-reorder in the list (a model row move is what a drop does)
    panel.list.model().moveRow(QModelIndex(), 1, QModelIndex(), 0)
    assert [layer.name for layer in window.doc.layers] == ["Labels 2", "Labels"]
    assert (window.doc.composite_labels() == SKY).all()
    assert shown(window, 3, 3) == LANDSCAPE[SKY].color
    # hide the top layer with its check box
    top = panel.list.item(0)
    assert top.text() == "Labels"
    top.setCheckState(Qt.CheckState.Unchecked)
    assert window.doc.layers[1].visible is False
    assert (window.doc.composite_labels() == WATER).all()
    assert shown(window, 3, 3) == LANDSCAPE[WATER].color
    window.undo()
    assert window.doc.layers[1].visible is True
    assert panel.list.item(0).checkState() == Qt.CheckState.Checked


def test_rename_duplicate_delete_merge_and_lock(qtbot, window):
    panel = window.layers
    panel.list.editItem(panel.list.item(0))  # the real in-place editor, committed with Enter
    qtbot.waitUntil(lambda: panel.list.findChild(QLineEdit) is not None)
    editor = panel.list.findChild(QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "Ground")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.doc.layers[0].name == "Ground")
    assert window.doc.layers[0].name == "Ground" and panel.list.item(0).text() == "Ground"
    window.actions["layer_duplicate"].trigger()
    assert [layer.name for layer in window.doc.layers] == ["Ground", "Ground copy"]
    window.palette.select(GRASS)
    window.size_box.setValue(1)
    drag(qtbot, window, [(2.5, 2.5)])
    window.actions["layer_merge_down"].trigger()
    assert [layer.name for layer in window.doc.layers] == ["Ground"]
    assert window.doc.layers[0].pixels[2, 2] == GRASS
    window.actions["layer_delete"].trigger()  # the last layer stays
    assert len(window.doc.layers) == 1
    assert "last layer" in window.statusBar().currentMessage()
    panel.locked.setChecked(True)
    assert window.doc.layers[0].locked
    window.actions["layer_add"].trigger()
    window.doc.set_active(1)
    window.actions["layer_merge_down"].trigger()  # onto a locked layer: refused, said why
    assert len(window.doc.layers) == 2
    assert "locked" in window.statusBar().currentMessage()


def test_opacity_slider_is_one_undo_step(qtbot, window):
    panel = window.layers
    steps = len(window.doc.history)
    for value in (90, 70, 40):
        panel.opacity.setValue(value)
    assert window.doc.layers[0].opacity == pytest.approx(0.4)
    assert len(window.doc.history) == steps + 1
    window.undo()
    assert window.doc.layers[0].opacity == 1.0 and panel.opacity.value() == 100


def test_overlay_mode_draws_labels_translucent_over_the_photo(qtbot, window):
    photo = np.zeros((24, 32, 3), np.uint8)
    photo[..., 0] = 200
    window.doc.add_image_layer("Photo", photo, index=0)
    assert tuple(window.canvas.photo_item.buffer[0, 0]) == (200, 0, 0, 255)
    window.actions["labels_overlay"].trigger()
    assert window.canvas.label_item.opacity() == pytest.approx(0.5)
    window.actions["labels_overlay"].trigger()
    assert window.canvas.label_item.opacity() == 1.0


def _button(panel, name):
    from PySide6.QtWidgets import QToolButton

    for button in panel.findChildren(QToolButton):
        if button.defaultAction() is not None and button.defaultAction().objectName() == name:
            return button
    raise AssertionError(f"no button {name!r}")


@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_canvas_label_colours_match_the_documents_flattened_picture(opacity):
    from app.ui.layer_display import labels_rgba

    doc = Document.new(20, 10, "landscape", fill=SKY)
    ids = np.full((10, 20), 255, np.uint8)
    ids[3:8, 5:15] = WATER
    doc.add_label_layer(pixels=ids)
    doc.set_opacity(1, opacity)
    doc.set_visible(0, True)
    assert np.array_equal(labels_rgba(doc, (0, 0, 20, 10)), doc.flatten())
    assert np.array_equal(labels_rgba(doc, (4, 2, 9, 6)), doc.flatten((4, 2, 9, 6)))
