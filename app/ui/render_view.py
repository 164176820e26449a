"""Where the synthesized picture is shown: a side widget and an overlay item for the canvas scene.

Usage::

    view = RenderView()                       # beside the label canvas
    view.follow(controller)                   # rendered -> set_image, busy_changed -> set_busy

    item = RenderItem(doc_width, doc_height)  # over the label canvas, in its QGraphicsScene
    scene.addItem(item); item.setOpacity(0.6); item.follow(controller)

Both scale the latest render to the space they have (the widget keeps the aspect ratio, the item
fills the document rectangle, so a half-size quick pass lines up with the labels), smoothly,
and show a "rendering…" tag while the synthesis worker is busy.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QStyleOptionGraphicsItem, QWidget

BUSY_TEXT = "rendering…"


def to_qimage(rgb: np.ndarray) -> QImage:
    """An HxWx3 uint8 array as a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def _draw_busy_tag(painter: QPainter, area: QRectF) -> None:
    metrics = painter.fontMetrics()
    box = QRectF(area.left() + 6, area.top() + 6, metrics.horizontalAdvance(BUSY_TEXT) + 12,
                 metrics.height() + 6)
    painter.fillRect(box, QColor(0, 0, 0, 160))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, BUSY_TEXT)


class _Follows:
    """What both views share: the current image, the busy flag, following a controller."""

    _image: QImage
    _busy: bool

    def set_image(self, rgb: np.ndarray) -> None:
        self._image = to_qimage(rgb)
        self.update()  # type: ignore[attr-defined]

    def set_busy(self, busy: bool) -> None:
        self._busy = bool(busy)
        self.update()  # type: ignore[attr-defined]

    def follow(self, controller) -> None:
        """Show every render of a SynthesisController and its busy state."""
        controller.rendered.connect(self._show_render)
        controller.busy_changed.connect(self.set_busy)

    def _show_render(self, image: np.ndarray, request_id: int, final: bool, seconds: float) -> None:
        self.set_image(image)

    def image(self) -> QImage:
        return self._image

    def is_busy(self) -> bool:
        return self._busy


class RenderView(_Follows, QWidget):
    """The latest render, scaled to fit with its aspect ratio kept, centred."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._busy = False
        self.setMinimumSize(64, 64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Rendered picture")

    def image_rect(self) -> QRectF:
        """Where the picture is drawn in widget coordinates (empty when there is none)."""
        if self._image.isNull():
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._image.isNull():
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No picture yet")
        else:
            painter.drawImage(self.image_rect(), self._image)
        if self._busy:
            _draw_busy_tag(painter, QRectF(self.rect()))
        painter.end()


class RenderItem(_Follows, QGraphicsItem):
    """The latest render stretched over the document rectangle (0, 0, width, height)."""

    def __init__(self, width: int, height: int, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._busy = False
        self._size = (int(width), int(height))

    def set_document_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._size = (int(width), int(height))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(0, 0, *self._size)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if not self._image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(self.boundingRect(), self._image)
        if self._busy:
            _draw_busy_tag(painter, self.boundingRect())
