"""Canvas tools: brush, eraser, fill, line, rectangle, ellipse, eyedropper and pan.

Tools receive exact document coordinates from the canvas and paint only through the
document's `Stroke` primitives, which never create in-between label values. Shapes are
previewed by painting them for real into a stroke that is cancelled and redone on every mouse
move, so the preview is exactly the pixels the release will keep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath

from app.document.layers import LabelLayer, LayerLockedError
from app.document.painting import Stroke

MIN_SIZE, MAX_SIZE = 1, 512
PAINT_ERRORS = (LayerLockedError, ValueError, IndexError)


@dataclass
class ToolState:
    """What the tools share: the current class, the brush, and where problems are reported."""

    class_id: int = 0
    size: int = 12
    shape: str = "round"
    report: Callable[[str], None] = print
    picked: Callable[[int], None] = field(default=lambda class_id: None)

    def set_size(self, size: int) -> int:
        self.size = int(min(max(size, MIN_SIZE), MAX_SIZE))
        return self.size

    def grow(self, larger: bool) -> int:
        """[ and ]: steps of about 15 %, at least one pixel."""
        step = max(1, round(self.size * 0.15))
        return self.set_size(self.size + step if larger else self.size - step)


def _centre(v: float, size: int) -> float:
    """The dab centre the painting primitives use (pixel centre for odd sizes, corner for even)."""
    return math.floor(v) + 0.5 if size % 2 else float(round(v))


def dab_outline(pos: QPointF, size: int, shape: str) -> QPainterPath:
    path = QPainterPath()
    cx, cy = _centre(pos.x(), size), _centre(pos.y(), size)
    box = QRectF(cx - size / 2, cy - size / 2, size, size)
    if shape == "square":
        path.addRect(box)
    else:
        path.addEllipse(box)
    return path


def pixel_outline(pos: QPointF) -> QPainterPath:
    path = QPainterPath()
    path.addRect(QRectF(math.floor(pos.x()), math.floor(pos.y()), 1, 1))
    return path


class Tool:
    name = ""
    pans = False

    def __init__(self, state: ToolState) -> None:
        self.state = state

    def press(self, canvas, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def move(self, canvas, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def release(self, canvas, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def cancel(self, canvas) -> None:
        pass

    def outline(self, canvas, pos: QPointF) -> QPainterPath | None:
        return pixel_outline(pos)

    def paint_value(self, canvas) -> int | tuple[int, int, int, int] | None:
        """The class id on a label layer; its colour on an image layer."""
        layer = canvas.doc.active_layer
        if layer is None or isinstance(layer, LabelLayer):
            return self.state.class_id
        return canvas.doc.label_set[self.state.class_id].color + (255,)

    def begin(self, canvas, label: str) -> Stroke | None:
        try:
            return Stroke(canvas.doc, label=label)
        except PAINT_ERRORS as exc:
            self.state.report(str(exc))
            return None


class BrushTool(Tool):
    name = "brush"
    label = "Brush"

    def __init__(self, state: ToolState) -> None:
        super().__init__(state)
        self._stroke: Stroke | None = None
        self._last = QPointF()

    def value(self, canvas):
        return self.paint_value(canvas)

    def press(self, canvas, pos, modifiers) -> None:
        self._stroke = self.begin(canvas, self.label)
        if self._stroke is None:
            return
        self._last = pos
        self._paint(canvas, pos, pos)

    def move(self, canvas, pos, modifiers) -> None:
        if self._stroke is not None:
            self._paint(canvas, self._last, pos)
            self._last = pos

    def release(self, canvas, pos, modifiers) -> None:
        if self._stroke is not None:
            self._paint(canvas, self._last, pos)
            stroke, self._stroke = self._stroke, None
            stroke.finish()

    def cancel(self, canvas) -> None:
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.cancel()

    def outline(self, canvas, pos):
        return dab_outline(pos, self.state.size, self.state.shape)

    def _paint(self, canvas, a: QPointF, b: QPointF) -> None:
        try:
            self._stroke.segment(a.x(), a.y(), b.x(), b.y(), self.state.size, self.value(canvas),
                                 self.state.shape)
        except PAINT_ERRORS as exc:
            self.state.report(str(exc))
            self.cancel(canvas)


class EraserTool(BrushTool):
    name = "eraser"
    label = "Erase"

    def value(self, canvas):
        return None


class FillTool(Tool):
    name = "fill"

    def press(self, canvas, pos, modifiers) -> None:
        stroke = self.begin(canvas, "Fill")
        if stroke is None:
            return
        try:
            stroke.fill(pos.x(), pos.y(), self.paint_value(canvas))
        except PAINT_ERRORS as exc:
            stroke.cancel()
            self.state.report(str(exc))
            return
        stroke.finish()


class ShapeTool(Tool):
    """Line (brush size), rectangle and ellipse (filled); Shift keeps squares and circles."""

    def __init__(self, state: ToolState, kind: str) -> None:
        super().__init__(state)
        if kind not in ("line", "rect", "ellipse"):
            raise ValueError(f"unknown shape {kind!r}")
        self.kind = self.name = kind
        self._start: QPointF | None = None
        self._stroke: Stroke | None = None

    def press(self, canvas, pos, modifiers) -> None:
        self._start = pos
        self._redraw(canvas, pos, modifiers)

    def move(self, canvas, pos, modifiers) -> None:
        if self._start is not None:
            self._redraw(canvas, pos, modifiers)

    def release(self, canvas, pos, modifiers) -> None:
        if self._start is None:
            return
        self._redraw(canvas, pos, modifiers)
        stroke, self._stroke, self._start = self._stroke, None, None
        if stroke is not None:
            stroke.finish()

    def cancel(self, canvas) -> None:
        self._start = None
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.cancel()

    def outline(self, canvas, pos):
        if self.kind == "line":
            return dab_outline(pos, self.state.size, "round")
        return pixel_outline(pos)

    def end_point(self, pos: QPointF, modifiers) -> QPointF:
        """With Shift, rectangles and ellipses keep equal sides."""
        if self.kind == "line" or not modifiers & Qt.KeyboardModifier.ShiftModifier:
            return pos
        assert self._start is not None
        dx, dy = pos.x() - self._start.x(), pos.y() - self._start.y()
        side = max(abs(dx), abs(dy))
        return QPointF(self._start.x() + math.copysign(side, dx),
                       self._start.y() + math.copysign(side, dy))

    def _redraw(self, canvas, pos: QPointF, modifiers) -> None:
        if self._stroke is not None:
            self._stroke.cancel()
        self._stroke = self.begin(canvas, self.kind.capitalize())
        if self._stroke is None:
            self._start = None
            return
        a, b = self._start, self.end_point(pos, modifiers)
        value = self.paint_value(canvas)
        try:
            if self.kind == "line":
                self._stroke.segment(a.x(), a.y(), b.x(), b.y(), self.state.size, value, "round")
            elif self.kind == "rect":
                self._stroke.rectangle(a.x(), a.y(), b.x(), b.y(), value, filled=True)
            else:
                self._stroke.ellipse(a.x(), a.y(), b.x(), b.y(), value, filled=True)
        except PAINT_ERRORS as exc:
            self.state.report(str(exc))
            self.cancel(canvas)


class PickerTool(Tool):
    """Eyedropper: the class under the cursor in the composite becomes the current class."""

    name = "picker"

    def press(self, canvas, pos, modifiers) -> None:
        self._pick(canvas, pos)

    def move(self, canvas, pos, modifiers) -> None:
        self._pick(canvas, pos)

    def _pick(self, canvas, pos: QPointF) -> None:
        try:
            class_id = canvas.doc.pick_label(pos.x(), pos.y())
        except ValueError:
            return
        if class_id in canvas.doc.label_set:
            self.state.picked(class_id)


class PanTool(Tool):
    name = "pan"
    pans = True

    def outline(self, canvas, pos):
        return None


def make_tools(state: ToolState) -> dict[str, Tool]:
    """One instance of every tool, by name (the names the tool actions use)."""
    tools: list[Tool] = [
        BrushTool(state), EraserTool(state), FillTool(state), ShapeTool(state, "line"),
        ShapeTool(state, "rect"), ShapeTool(state, "ellipse"), PickerTool(state), PanTool(state),
    ]
    return {tool.name: tool for tool in tools}
