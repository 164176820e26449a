"""Shared pieces of the main-window tests: prompts that answer at once, a window factory."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt

from app.ui.main_window import MainWindow
from app.ui.prompts import Prompts


class ScriptedPrompts(Prompts):
    """Answers every question from its attributes and records the messages shown."""

    def __init__(self) -> None:
        super().__init__(None)
        self.new_spec = None
        self.paths: list[Path] = []
        self.size: tuple[int, int] | None = None
        self.save_answer = "discard"
        self.recover_answer = "recover"
        self.recover_offers: list[list] = []
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []

    def new_document(self, default):
        return self.new_spec

    def open_path(self, title, filters):
        return self.paths.pop(0) if self.paths else None

    def save_path(self, title, filters, suggested):
        return self.paths.pop(0) if self.paths else None

    def render_size(self, default):
        return self.size

    def save_changes(self, title):
        return self.save_answer

    def recover(self, items):
        self.recover_offers.append(list(items))
        return self.recover_answer, (items[0] if self.recover_answer == "recover" else None)

    def error(self, title, message):
        self.errors.append((title, message))

    def info(self, title, message):
        self.infos.append((title, message))


def make_window(qtbot, prompts: ScriptedPrompts | None = None, **kwargs) -> MainWindow:
    kwargs.setdefault("model_id", None)
    kwargs.setdefault("session", False)
    window = MainWindow(prompts=prompts or ScriptedPrompts(), **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def viewport_point(window: MainWindow, x: float, y: float) -> QPoint:
    """Where document coordinate (x, y) is on the canvas viewport."""
    return window.canvas.widget_pos(x, y).toPoint()


def drag(qtbot, window: MainWindow, points: list[tuple[float, float]],
         modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first document point, move through the others, release at the last."""
    viewport = window.canvas.viewport()
    first = viewport_point(window, *points[0])
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, first)
    for point in points[1:]:
        qtbot.mouseMove(viewport, viewport_point(window, *point))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier,
                       viewport_point(window, *points[-1]))
