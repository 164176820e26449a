"""Spadework, the desktop application (PySide6) around the `ml` engines."""

__version__ = "0.1.0"
