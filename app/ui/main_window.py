"""The main window. (Grown by the painting-app work; this is its frame.)"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    ready = Signal()

    def __init__(self, document: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Spadework")
        self.resize(1280, 800)
        self.setCentralWidget(QLabel("Spadework"))
        self._ready = True

    def is_ready(self) -> bool:
        return self._ready
