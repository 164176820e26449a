"""Logging to a rotating file in the user's log folder (under SPADEWORK_HOME when set)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from ml.userdirs import logs_dir

LOG_NAME = "spadework.log"


def log_file() -> Path:
    return logs_dir() / LOG_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the root logger to a rotating file (1 MB x 5) and warnings to stderr."""
    path = log_file()
    root = logging.getLogger()
    if any(getattr(h, "_spadework", False) for h in root.handlers):
        return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._spadework = True  # type: ignore[attr-defined]
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    console._spadework = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.addHandler(console)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
