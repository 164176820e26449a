"""A scene item backed by a NumPy RGBA buffer, repainted only where it changed.

The QImage shares memory with the buffer, so updating a dirty rectangle is a slice assignment
plus `update(rect)`; `paint` draws only the exposed part. Pixels are never smoothed, so one
document pixel is one crisp square at any zoom.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.document.geometry import Rect


class ArrayImageItem(QGraphicsItem):
    def __init__(self, width: int, height: int, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._buffer = np.zeros((0, 0, 4), np.uint8)
        self._image = QImage()
        self.resize(width, height)

    @property
    def buffer(self) -> np.ndarray:
        """The HxWx4 straight-alpha RGBA pixels on screen (read them, write via `set_region`)."""
        return self._buffer

    def resize(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._buffer = np.zeros((height, width, 4), np.uint8)
        self._image = QImage(
            self._buffer.data, width, height, width * 4, QImage.Format.Format_RGBA8888
        )

    def set_pixels(self, rgba: np.ndarray) -> None:
        """Replace everything (new document, resize, full refresh)."""
        height, width = rgba.shape[:2]
        if (height, width) != self._buffer.shape[:2]:
            self.resize(width, height)
        self._buffer[...] = rgba
        self.update()

    def set_region(self, rect: Rect, rgba: np.ndarray) -> None:
        """Replace the pixels inside `rect` (x0, y0, x1, y1) and repaint just that area."""
        x0, y0, x1, y1 = rect
        self._buffer[y0:y1, x0:x1] = rgba
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(0, 0, self._buffer.shape[1], self._buffer.shape[0])

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        exposed = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()  # type: ignore[attr-defined]
        if exposed.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(exposed, self._image, exposed)
