"""The render view and overlay item show the latest picture, scaled, with a busy tag."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from app.ui.render_view import RenderItem, RenderView, to_qimage


def _picture(width: int, height: int) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (255, 0, 0)
    image[height // 2 :] = (0, 0, 255)
    return image


def test_to_qimage_keeps_pixels_and_owns_them():
    rgb = _picture(8, 6)
    qimage = to_qimage(rgb)
    rgb[:] = 0  # the QImage holds its own copy
    assert (qimage.width(), qimage.height()) == (8, 6)
    assert qimage.pixelColor(0, 0).getRgb()[:3] == (255, 0, 0)
    assert qimage.pixelColor(7, 5).getRgb()[:3] == (0, 0, 255)


def test_to_qimage_rejects_other_shapes():
    with pytest.raises(ValueError, match="HxWx3"):
        to_qimage(np.zeros((4, 4), np.uint8))


def test_view_scales_to_fit_and_keeps_aspect(qtbot):
    view = RenderView()
    qtbot.addWidget(view)
    view.resize(400, 100)
    view.set_image(_picture(64, 32))
    rect = view.image_rect()
    assert (rect.width(), rect.height()) == (200, 100)
    assert rect.left() == 100
    grab = view.grab().toImage()
    assert grab.pixelColor(200, 10).getRgb()[:3] == (255, 0, 0)
    assert grab.pixelColor(200, 90).getRgb()[:3] == (0, 0, 255)


def test_busy_tag_drawn_only_while_busy(qtbot):
    view = RenderView()
    qtbot.addWidget(view)
    view.resize(200, 200)
    view.set_image(np.full((32, 32, 3), 255, np.uint8))
    idle = view.grab().toImage()
    view.set_busy(True)
    busy = view.grab().toImage()
    assert view.is_busy()
    assert idle.pixelColor(10, 10).getRgb()[:3] == (255, 255, 255)
    assert busy.pixelColor(8, 8).getRgb()[:3] != (255, 255, 255)
    view.set_busy(False)
    assert view.grab().toImage() == idle


def test_item_stretches_over_the_document_rectangle():
    scene = QGraphicsScene()
    item = RenderItem(100, 50)
    scene.addItem(item)
    item.set_image(_picture(20, 10))  # a half- or quarter-size pass still covers the document
    assert item.boundingRect().width() == 100
    out = QImage(100, 50, QImage.Format.Format_RGB32)
    out.fill(0)
    painter = QPainter(out)
    scene.render(painter, target=out.rect(), source=item.boundingRect())
    painter.end()
    assert out.pixelColor(90, 5).getRgb()[:3] == (255, 0, 0)
    assert out.pixelColor(90, 45).getRgb()[:3] == (0, 0, 255)
    item.set_document_size(40, 40)
    assert item.boundingRect().height() == 40
