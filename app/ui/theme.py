"""Dark (default) and light themes from qdarkstyle, applied to the whole application."""

from __future__ import annotations

import qdarkstyle
from PySide6.QtWidgets import QApplication
from qdarkstyle.dark.palette import DarkPalette
from qdarkstyle.light.palette import LightPalette

from app.ui import settings

PALETTES = {"dark": DarkPalette, "light": LightPalette}


def apply_theme(app: QApplication, name: str) -> None:
    """Style the application with the named qdarkstyle palette."""
    if name not in PALETTES:
        raise ValueError(f"unknown theme {name!r} (known: {', '.join(PALETTES)})")
    app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6", palette=PALETTES[name]))
    app.setProperty("spadework_theme", name)


def current_theme(app: QApplication) -> str:
    return str(app.property("spadework_theme") or "")


def apply_saved_theme(app: QApplication) -> str:
    """Apply the theme persisted in the settings; returns its name."""
    name = settings.theme()
    apply_theme(app, name)
    return name


def switch_theme(app: QApplication, name: str) -> None:
    """Apply and persist a theme (View menu)."""
    apply_theme(app, name)
    settings.set_theme(name)
