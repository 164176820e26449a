"""Small tool icons drawn with QPainter: no image files to ship, sharp at any pixel ratio."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication

SIZE = 24
INK = QColor(150, 165, 180)  # readable on the dark and on the light theme
ACCENT = QColor(92, 170, 235)


def _brush(p: QPainter) -> None:
    p.setBrush(ACCENT)
    p.drawEllipse(QRectF(6, 6, 12, 12))


def _eraser(p: QPainter) -> None:
    p.translate(12, 12)
    p.rotate(-35)
    p.setBrush(QColor(235, 140, 160))
    p.drawRect(QRectF(-8, -4, 16, 8))
    p.drawLine(QPointF(-2, -4), QPointF(-2, 4))


def _fill(p: QPainter) -> None:
    bucket = QPainterPath()
    bucket.moveTo(5, 9)
    bucket.lineTo(15, 9)
    bucket.lineTo(13, 20)
    bucket.lineTo(7, 20)
    bucket.closeSubpath()
    p.drawPath(bucket)
    drop = QPainterPath()
    drop.moveTo(19, 10)
    drop.cubicTo(22, 15, 22, 17, 19, 18)
    drop.cubicTo(16, 17, 16, 15, 19, 10)
    p.setBrush(ACCENT)
    p.drawPath(drop)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(5, 3, 10, 12), 0, 180 * 16)


def _line(p: QPainter) -> None:
    p.drawLine(QPointF(5, 19), QPointF(19, 5))


def _rect(p: QPainter) -> None:
    p.setBrush(ACCENT)
    p.drawRect(QRectF(5, 7, 14, 10))


def _ellipse(p: QPainter) -> None:
    p.setBrush(ACCENT)
    p.drawEllipse(QRectF(4, 6, 16, 12))


def _picker(p: QPainter) -> None:
    p.drawLine(QPointF(5, 19), QPointF(14, 10))
    p.setBrush(INK)
    p.drawEllipse(QRectF(13, 5, 6, 6))


def _pan(p: QPainter) -> None:
    for dx, dy in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        tip = QPointF(12 + 8 * dx, 12 + 8 * dy)
        p.drawLine(QPointF(12, 12), tip)
        side = QPointF(3 * dy, 3 * dx)
        back = QPointF(12 + 5 * dx, 12 + 5 * dy)
        p.drawLine(tip, back + side)
        p.drawLine(tip, back - side)


def _square(p: QPainter) -> None:
    p.setBrush(ACCENT)
    p.drawRect(QRectF(6, 6, 12, 12))


def _photo(p: QPainter) -> None:
    p.drawRect(QRectF(4, 6, 16, 12))
    hill = QPainterPath()
    hill.moveTo(5, 17)
    hill.lineTo(10, 11)
    hill.lineTo(13, 14)
    hill.lineTo(15, 12)
    hill.lineTo(19, 17)
    p.setBrush(ACCENT)
    p.drawPath(hill)


def _labels(p: QPainter) -> None:
    for i, colour in enumerate((QColor(117, 182, 240), QColor(95, 138, 58), QColor(31, 95, 191))):
        p.setBrush(colour)
        p.drawRect(QRectF(5, 5 + i * 5, 14, 5))


PAINTERS: dict[str, Callable[[QPainter], None]] = {
    "brush": _brush, "eraser": _eraser, "fill": _fill, "line": _line, "rect": _rect,
    "ellipse": _ellipse, "picker": _picker, "pan": _pan, "square": _square,
    "photo": _photo, "labels": _labels,
}


def device_pixmap(size: int) -> QPixmap:
    """A transparent size x size pixmap at the screen's device pixel ratio (sharp on high DPI)."""
    app = QApplication.instance()
    ratio = app.devicePixelRatio() if app is not None else 1.0  # type: ignore[union-attr]
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    return pixmap


def painted_icon(name: str) -> QIcon:
    """The named tool icon at the screen's device pixel ratio."""
    pixmap = device_pixmap(SIZE)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(INK, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                        Qt.PenJoinStyle.RoundJoin))
    PAINTERS[name](painter)
    painter.end()
    return QIcon(pixmap)
