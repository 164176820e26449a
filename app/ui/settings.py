"""Persistent UI settings (theme, recent files, window state) in an INI file.

The file lives in `ml.userdirs.settings_dir()`, so `SPADEWORK_HOME` relocates it (tests,
portable installs) instead of the platform registry.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ml.userdirs import settings_dir

SETTINGS_FILE = "spadework.ini"
MAX_RECENT = 10
THEMES = ("dark", "light")


def settings() -> QSettings:
    """The settings store; re-created per call so a changed SPADEWORK_HOME is honoured."""
    return QSettings(str(settings_dir() / SETTINGS_FILE), QSettings.Format.IniFormat)


def theme() -> str:
    value = str(settings().value("view/theme", "dark"))
    return value if value in THEMES else "dark"


def set_theme(name: str) -> None:
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r} (known: {', '.join(THEMES)})")
    store = settings()
    store.setValue("view/theme", name)
    store.sync()


def recent_files() -> list[Path]:
    """Recently opened or saved documents, newest first, only those still on disk."""
    raw = settings().value("files/recent", [])
    if isinstance(raw, str):
        raw = [raw]
    return [Path(p) for p in (raw or []) if Path(p).is_file()]


def add_recent_file(path: Path) -> list[Path]:
    path = Path(path).resolve()
    paths = [path] + [p for p in recent_files() if p.resolve() != path]
    paths = paths[:MAX_RECENT]
    store = settings()
    store.setValue("files/recent", [str(p) for p in paths])
    store.sync()
    return paths


def clear_recent_files() -> None:
    store = settings()
    store.setValue("files/recent", [])
    store.sync()


def save_window_state(geometry: QByteArray, state: QByteArray) -> None:
    store = settings()
    store.setValue("window/geometry", geometry)
    store.setValue("window/state", state)
    store.sync()


def window_state() -> tuple[QByteArray | None, QByteArray | None]:
    """Saved (geometry, dock/toolbar state), each None when never saved."""
    store = settings()
    geometry = store.value("window/geometry")
    state = store.value("window/state")
    return (
        geometry if isinstance(geometry, QByteArray) else None,
        state if isinstance(state, QByteArray) else None,
    )
