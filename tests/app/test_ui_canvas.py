"""Painting on the canvas with real mouse events: exact ids at exact pixels, undo, tools."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from ui_support import drag, make_window

from app.document.document import Document
from ml.labels import load_label_set

LANDSCAPE = load_label_set("landscape")
SKY, GRASS, WATER = (LANDSCAPE.by_name(n).id for n in ("sky", "grass", "water"))


@pytest.fixture
def window(qtbot, spadework_home):
    window = make_window(qtbot)
    window.set_document(Document.new(64, 48, "landscape", fill=SKY))
    window.canvas.set_zoom(4.0)
    window.canvas.centerOn(32, 24)
    window.palette.select(GRASS)
    return window


def test_brush_stroke_paints_the_exact_capsule(qtbot, window):
    window.size_box.setValue(3)
    drag(qtbot, window, [(10.5, 10.5), (20.5, 10.5), (30.5, 10.5)])
    pixels = window.doc.active_layer.pixels
    expected = np.zeros_like(pixels, bool)
    expected[9:12, 9:32] = True  # a 3 px round brush from pixel 10 to pixel 30 on row 10
    assert np.array_equal(pixels == GRASS, expected)
    assert set(np.unique(pixels)) == {SKY, GRASS}  # nothing in between


def test_canvas_shows_painted_colours(qtbot, window):
    window.size_box.setValue(1)
    drag(qtbot, window, [(5.5, 7.5)])
    assert tuple(window.canvas.label_item.buffer[7, 5, :3]) == LANDSCAPE[GRASS].color
    assert tuple(window.canvas.label_item.buffer[7, 6, :3]) == LANDSCAPE[SKY].color


def test_undo_and_redo_through_shortcuts(qtbot, window):
    window.size_box.setValue(5)
    before = window.doc.active_layer.pixels.copy()
    drag(qtbot, window, [(20.5, 20.5), (40.5, 30.5)])
    after = window.doc.active_layer.pixels.copy()
    assert not np.array_equal(before, after)
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(window.doc.active_layer.pixels, before)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(window.doc.active_layer.pixels, after)
    window.actions["undo"].trigger()
    assert np.array_equal(window.doc.active_layer.pixels, before)
    assert window.actions["redo"].isEnabled() and not window.actions["undo"].isEnabled()


def test_tool_shortcuts_and_brush_size_keys(qtbot, window):
    window.canvas.setFocus()
    for key, tool in ((Qt.Key.Key_E, "eraser"), (Qt.Key.Key_G, "fill"), (Qt.Key.Key_I, "picker"),
                      (Qt.Key.Key_F, "fill"), (Qt.Key.Key_B, "brush")):
        qtbot.keyClick(window.canvas, key)
        assert window.canvas.tool.name == tool
    window.size_box.setValue(20)
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.tool_state.size == 23
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.tool_state.size < 23


def test_eraser_fill_and_eyedropper(qtbot, window):
    window.select_tool("fill")
    drag(qtbot, window, [(3.5, 3.5)])
    assert (window.doc.active_layer.pixels == GRASS).all()  # one region: the whole canvas
    window.select_tool("eraser")
    window.size_box.setValue(2)
    drag(qtbot, window, [(8.0, 8.0)])  # even size: centred on the pixel corner (8, 8)
    erased = window.doc.active_layer.pixels == 255
    assert np.argwhere(erased).tolist() == [[7, 7], [7, 8], [8, 7], [8, 8]]
    window.palette.select(WATER)
    window.select_tool("picker")
    drag(qtbot, window, [(30.5, 30.5)])
    assert window.palette.current == GRASS and window.tool_state.class_id == GRASS


def test_rectangle_and_ellipse_tools_with_preview_and_cancel(qtbot, window):
    window.select_tool("rect")
    drag(qtbot, window, [(4.5, 5.5), (9.5, 7.5), (12.5, 9.5)])
    mask = window.doc.active_layer.pixels == GRASS
    expected = np.zeros_like(mask)
    expected[5:10, 4:13] = True  # corner pixels (4, 5) and (12, 9) inclusive
    assert np.array_equal(mask, expected)
    steps = len(window.doc.history)
    window.select_tool("ellipse")
    viewport = window.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=window.canvas.widget_pos(
        30.5, 20.5).toPoint())
    qtbot.mouseMove(viewport, window.canvas.widget_pos(50.5, 40.5).toPoint())
    assert (window.doc.active_layer.pixels[30, 30:50] == GRASS).any()  # the live preview
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                       pos=window.canvas.widget_pos(50.5, 40.5).toPoint())
    assert np.array_equal(window.doc.active_layer.pixels == GRASS, expected)
    assert len(window.doc.history) == steps


def test_locked_layer_refuses_painting_with_a_message(qtbot, window):
    window.doc.set_locked(0, True)
    before = window.doc.active_layer.pixels.copy()
    drag(qtbot, window, [(10.5, 10.5), (12.5, 12.5)])
    assert np.array_equal(window.doc.active_layer.pixels, before)
    assert "locked" in window.statusBar().currentMessage()


def test_zoom_fit_actual_and_pan(qtbot, window):
    window.zoom_actual()
    assert window.canvas.zoom() == pytest.approx(1.0 / window.devicePixelRatioF())
    window.zoom_fit()
    view = window.canvas.viewport().rect()
    assert 64 * window.canvas.zoom() <= view.width()
    assert 48 * window.canvas.zoom() <= view.height()
    window.canvas.set_zoom(16.0)
    bar = window.canvas.horizontalScrollBar()
    start = bar.value()
    viewport = window.canvas.viewport()
    centre = viewport.rect().center()
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=centre)
    qtbot.mouseMove(viewport, centre + type(centre)(-40, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=centre + type(centre)(-40, 0))
    assert bar.value() == start + 40
    before = window.doc.active_layer.pixels.copy()
    qtbot.keyPress(window.canvas, Qt.Key.Key_Space)  # space + left drag pans with any tool
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(viewport, centre + type(centre)(-25, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=centre + type(centre)(-25, 0))
    qtbot.keyRelease(window.canvas, Qt.Key.Key_Space)
    assert bar.value() == start + 65
    assert np.array_equal(window.doc.active_layer.pixels, before)  # panning paints nothing


def test_ctrl_wheel_zooms_around_the_mouse(qtbot, window):
    window.canvas.set_zoom(4.0)
    viewport = window.canvas.viewport()
    at = viewport.rect().center()
    under = window.canvas.scene_pos(QPointF(at))
    event = QWheelEvent(QPointF(at), QPointF(viewport.mapToGlobal(at)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    assert window.canvas.zoom() == pytest.approx(4.0 * 1.25**2)
    after = window.canvas.scene_pos(QPointF(at))
    assert abs(after.x() - under.x()) < 0.5 and abs(after.y() - under.y()) < 0.5


def test_brush_outline_follows_the_mouse(qtbot, window):
    window.size_box.setValue(5)
    qtbot.mouseMove(window.canvas.viewport(), window.canvas.widget_pos(20.5, 20.5).toPoint())
    rect = window.canvas.outline_item.path().boundingRect()
    assert window.canvas.outline_item.isVisible()
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (18.0, 18.0, 5.0, 5.0)


def test_undo_in_the_middle_of_a_stroke_drops_the_stroke(qtbot, window):
    window.size_box.setValue(3)
    drag(qtbot, window, [(5.5, 5.5), (9.5, 5.5)])
    first = window.doc.active_layer.pixels.copy()
    viewport = window.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=window.canvas.widget_pos(
        20.5, 20.5).toPoint())
    qtbot.mouseMove(viewport, window.canvas.widget_pos(30.5, 30.5).toPoint())
    window.undo()  # cancels the open stroke, then undoes the first one
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                       pos=window.canvas.widget_pos(30.5, 30.5).toPoint())
    assert (window.doc.active_layer.pixels == SKY).all()
    window.redo()
    assert np.array_equal(window.doc.active_layer.pixels, first)
