"""Where user data lives. `SPADEWORK_HOME` relocates all of it (tests, portable installs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Spadework"


def home() -> Path:
    """Root of all user data: `$SPADEWORK_HOME` if set, else the platform's data folder."""
    override = os.environ.get("SPADEWORK_HOME")
    root = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """The user's model library (imported SPADE checkpoints, trained SinGAN models)."""
    return _sub("models")


def logs_dir() -> Path:
    return _sub("logs")


def autosave_dir() -> Path:
    return _sub("autosave")


def settings_dir() -> Path:
    return _sub("settings")
