"""Every question the window asks the user, in one replaceable object.

The main window and its file actions never open a dialog directly: they call a `Prompts`
method. Tests pass a subclass that answers at once, so no modal dialog blocks them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.ui.new_document_dialog import NewDocumentSpec, ask_new_document
from app.ui.recovery_dialog import RecoveryDialog

ORA_FILTER = "OpenRaster documents (*.ora)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
LABEL_FILTER = "Label maps (*.png *.bmp *.tif *.tiff)"
RENDER_FILTER = "PNG image (*.png);;JPEG image (*.jpg *.jpeg)"


class Prompts:
    """The real dialogs, parented to the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def new_document(self, default: NewDocumentSpec) -> NewDocumentSpec | None:
        return ask_new_document(self.parent, default)

    def open_path(self, title: str, filters: str) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", filters)
        return Path(path) if path else None

    def save_path(self, title: str, filters: str, suggested: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return Path(path) if path else None

    def render_size(self, default: tuple[int, int]) -> tuple[int, int] | None:
        """Width of the exported render; the height follows the canvas aspect ratio."""
        width, ok = QInputDialog.getInt(
            self.parent, "Export render", "Width in pixels (the height keeps the aspect ratio):",
            default[0], 16, 8192, 16,
        )
        if not ok:
            return None
        return width, max(16, round(width * default[1] / default[0]))

    def save_changes(self, title: str) -> str:
        """'save', 'discard' or 'cancel' for a document with unsaved changes."""
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        answer = QMessageBox.question(
            self.parent, "Unsaved changes", f"Save the changes to {title}?", buttons,
            QMessageBox.StandardButton.Save,
        )
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def recover(self, items: list) -> tuple[str, object | None]:
        """('recover', item) | ('discard', None) | ('later', None)."""
        dialog = RecoveryDialog(items, self.parent)
        dialog.exec()
        return dialog.choice, dialog.selected()

    def error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.parent, title, message)

    def info(self, title: str, message: str) -> None:
        QMessageBox.information(self.parent, title, message)
