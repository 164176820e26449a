"""Colour swatch icons for label classes, sharp on high-DPI screens."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication


def swatch_icon(color: tuple[int, int, int], size: int = 16) -> QIcon:
    """A filled square with a thin outline, drawn at the screen's device pixel ratio."""
    app = QApplication.instance()
    ratio = app.devicePixelRatio() if app is not None else 1.0  # type: ignore[union-attr]
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(0, 0, 0, 160))
    painter.setBrush(QColor(*color))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)
