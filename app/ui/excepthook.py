"""Unexpected errors are logged and shown in a dialog instead of killing the app."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)


def format_error(exc: BaseException) -> str:
    """One line a user can read: the exception's type and message."""
    text = str(exc).strip() or "(no message)"
    return f"{type(exc).__name__}: {text}"


def _hook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    log.error("unexpected error\n%s", details)
    app = QApplication.instance()
    if app is None or app.platformName() == "offscreen":
        print(details, file=sys.stderr)
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "Spadework: unexpected error", format_error(exc))
    box.setInformativeText("Your work is kept. The details are in the log file.")
    box.setDetailedText(details)
    box.exec()


def install() -> None:
    sys.excepthook = _hook
