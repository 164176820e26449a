"""Colour swatch icons for label classes, sharp on high-DPI screens."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPainter

from app.ui.icons import device_pixmap


def swatch_icon(color: tuple[int, int, int], size: int = 16) -> QIcon:
    """A filled square with a thin outline, drawn at the screen's device pixel ratio."""
    pixmap = device_pixmap(size)
    painter = QPainter(pixmap)
    painter.setPen(QColor(0, 0, 0, 160))
    painter.setBrush(QColor(*color))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)
