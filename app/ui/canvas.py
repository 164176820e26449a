"""The painting canvas: a QGraphicsView over the document, with exact pixel mapping.

Scene coordinates are document pixels: pixel (x, y) covers the square [x, x+1) x [y, y+1), so
a mouse position maps to the pixel `floor(scene_x), floor(scene_y)` at any zoom. Items, bottom
to top: the photo (image layers), the labels (colour map, or translucent overlay), the render
when shown in place, the tool preview and the brush outline.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from app.document.document import Change, Document
from app.document.geometry import Rect, clip
from app.ui.image_item import ArrayImageItem
from app.ui.layer_display import labels_rgba, photo_rgba
from app.ui.render_view import RenderItem

MIN_ZOOM, MAX_ZOOM = 1 / 32, 64.0
WHEEL_STEP = 1.25
OVERLAY_OPACITY = 0.5


class Canvas(QGraphicsView):
    """Shows a Document and forwards mouse input in document pixels to the current tool."""

    hovered = Signal(int, int)  # document pixel under the mouse
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Label canvas")
        self.setStatusTip("Paint labels here; Space or the middle button pans, Ctrl+wheel zooms")
        self.doc: Document | None = None
        self.tool = None
        self.photo_item = ArrayImageItem(1, 1)
        self.label_item = ArrayImageItem(1, 1)
        self.render_item = RenderItem(1, 1)
        self.preview_item = QGraphicsPathItem()
        self.outline_item = QGraphicsPathItem()
        for z, item in enumerate((self.photo_item, self.label_item, self.render_item,
                                  self.preview_item, self.outline_item)):
            item.setZValue(z)
            self.scene().addItem(item)
        self.render_item.setVisible(False)
        self.preview_item.setPen(_cosmetic_pen(QColor(255, 255, 255), Qt.PenStyle.DashLine))
        self.outline_item.setPen(_cosmetic_pen(QColor(255, 255, 255)))
        self.outline_item.setVisible(False)
        self._overlay = False
        self._space_down = False
        self._panning_from: QPointF | None = None
        self._tool_active = False
        self._fitting = True  # keep the whole canvas in view on resizes until the user zooms
        self.setBackgroundBrush(_checker_brush())

    # ----- document --------------------------------------------------------------------------

    def set_document(self, doc: Document) -> None:
        if self.doc is not None:
            self.doc.changed.disconnect(self._on_change)
        self.doc = doc
        doc.changed.connect(self._on_change)
        self.render_item.set_document_size(doc.width, doc.height)
        self.scene().setSceneRect(QRectF(-0.5 * doc.width, -0.5 * doc.height,
                                         2 * doc.width, 2 * doc.height))
        self.refresh()
        self.zoom_fit()

    def refresh(self, rect: Rect | None = None) -> None:
        """Recompute what is shown inside `rect` (everything when None)."""
        doc = self.doc
        if doc is None:
            return
        r = (0, 0, doc.width, doc.height) if rect is None else clip(rect, doc.width, doc.height)
        if r is None:
            return
        if rect is None:
            self.photo_item.set_pixels(photo_rgba(doc, r))
            self.label_item.set_pixels(labels_rgba(doc, r))
        else:
            self.photo_item.set_region(r, photo_rgba(doc, r))
            self.label_item.set_region(r, labels_rgba(doc, r))

    def _on_change(self, change: Change) -> None:
        if change.kind == "pixels":
            self.refresh(change.rect)
        elif change.kind in ("layers", "layer", "meta"):
            self.refresh()

    # ----- display options -------------------------------------------------------------------

    def set_labels_overlay(self, overlay: bool) -> None:
        """Labels translucent over the photo (True) or an opaque colour map (False)."""
        self._overlay = bool(overlay)
        self.label_item.setOpacity(OVERLAY_OPACITY if overlay else 1.0)

    def labels_overlay(self) -> bool:
        return self._overlay

    def set_render_in_place(self, in_place: bool) -> None:
        self.render_item.setVisible(bool(in_place))

    # ----- zoom ------------------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        self._fitting = False
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        self.setTransform(self.transform().fromScale(factor, factor))
        self.zoom_changed.emit(factor)

    def zoom_by(self, step: float) -> None:
        self.set_zoom(self.zoom() * step)

    def zoom_fit(self) -> None:
        if self.doc is None:
            return
        view = self.viewport().rect()
        if view.width() < 2 or view.height() < 2:
            return
        margin = 16
        factor = min((view.width() - margin) / self.doc.width,
                     (view.height() - margin) / self.doc.height)
        self.set_zoom(factor)
        self._fitting = True
        self.centerOn(self.doc.width / 2, self.doc.height / 2)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitting:
            self.zoom_fit()

    def zoom_actual(self) -> None:
        """One document pixel per physical screen pixel."""
        self.set_zoom(1.0 / self.devicePixelRatioF())

    # ----- pixel mapping and brush outline ---------------------------------------------------

    def scene_pos(self, widget_pos: QPointF) -> QPointF:
        """The exact scene (document pixel) coordinate of a viewport position."""
        return self.viewportTransform().inverted()[0].map(widget_pos)

    def widget_pos(self, x: float, y: float) -> QPointF:
        """Viewport position of document coordinate (x, y) (pixel centres are x+0.5, y+0.5)."""
        return self.viewportTransform().map(QPointF(x, y))

    def set_outline(self, path: QPainterPath | None) -> None:
        """The tool footprint drawn under the mouse, in document pixels."""
        self.outline_item.setVisible(path is not None)
        if path is not None:
            self.outline_item.setPath(path)

    def set_preview(self, path: QPainterPath | None) -> None:
        self.preview_item.setPath(path if path is not None else QPainterPath())

    # ----- input -----------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom_by(WHEEL_STEP ** steps)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._tool_active:
            self.cancel_tool()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self._update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._wants_pan(event):
            self._panning_from = pos
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self.doc:
            self._tool_active = True
            self.tool.press(self, self.scene_pos(pos), event.modifiers())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        scene = self.scene_pos(pos)
        self.hovered.emit(math.floor(scene.x()), math.floor(scene.y()))
        if self._panning_from is not None:
            delta = pos - self._panning_from
            self._panning_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        if self.tool is not None:
            self.set_outline(self.tool.outline(self, scene))
            if self._tool_active:
                self.tool.move(self, scene, event.modifiers())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton
        ):
            self._panning_from = None
            self._update_cursor()
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._tool_active and self.tool:
            self._tool_active = False
            self.tool.release(self, self.scene_pos(event.position()), event.modifiers())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.set_outline(None)
        super().leaveEvent(event)

    def cancel_tool(self) -> None:
        """Drop the stroke or shape in progress (Esc, a tool change, an undo mid-stroke)."""
        if self._tool_active and self.tool is not None:
            self.tool.cancel(self)
        self._tool_active = False

    def set_tool(self, tool) -> None:
        self.cancel_tool()
        self.tool = tool
        self.set_outline(None)
        self.set_preview(None)
        self._update_cursor()

    def _wants_pan(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.MiddleButton:
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        return self._space_down or getattr(self.tool, "pans", False)

    def _update_cursor(self) -> None:
        if self._space_down or getattr(self.tool, "pans", False):
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, self.palette().window())
        if self.doc is not None:
            doc_rect = QRectF(0, 0, self.doc.width, self.doc.height).intersected(rect)
            painter.fillRect(doc_rect, self.backgroundBrush())


def _cosmetic_pen(color: QColor, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, 1.5, style)
    pen.setCosmetic(True)
    return pen


def _checker_brush() -> QBrush:
    """Transparency checkerboard behind the document (8 document pixels per square)."""
    tile = QPixmap(16, 16)
    tile.fill(QColor(200, 200, 200))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(150, 150, 150))
    painter.fillRect(8, 8, 8, 8, QColor(150, 150, 150))
    painter.end()
    brush = QBrush(tile)
    return brush
