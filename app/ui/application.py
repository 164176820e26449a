"""The QApplication: identity, theme, exception hook; and the --screenshot flow."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from app import __version__
from app.ui import excepthook, theme
from ml.resources import resource_path

log = logging.getLogger(__name__)

SCREENSHOT_TIMEOUT_MS = 180_000


def create_application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([])
    app.setApplicationName("Spadework")
    app.setOrganizationName("Spadework")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(resource_path("icons", "spadework.svg"))))
    theme.apply_saved_theme(app)
    excepthook.install()
    return app  # type: ignore[return-value]


def wait_until_ready(window: QWidget, timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> bool:
    """Spin the event loop until the window says its first render is done."""
    if getattr(window, "is_ready", lambda: True)():
        return True
    loop = QEventLoop()
    window.ready.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return window.is_ready()  # type: ignore[attr-defined]


def take_screenshot(app: QApplication, window: QWidget, path: Path) -> int:
    """Save a PNG of the window once it is ready; 0 on success."""
    if not wait_until_ready(window):
        log.error("the first render did not finish in time; screenshot not taken")
        return 1
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        log.error("could not write %s", path)
        return 1
    window.close()
    return 0
