"""Offered at start when autosaves of unsaved work survived a crash."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def describe_recoverable(item) -> str:
    """One line per autosave: the document, where it came from, when it was written."""
    when = datetime.fromtimestamp(item.saved_at).strftime("%Y-%m-%d %H:%M")
    origin = str(item.original_path) if item.original_path else "never saved"
    return f"{item.title} ({origin}), autosaved {when}"


class RecoveryDialog(QDialog):
    """Lists the autosaves; Recover restores the selected one, Discard deletes them all."""

    RECOVER, DISCARD, LATER = "recover", "discard", "later"

    def __init__(self, items: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.items = list(items)
        self.choice = self.LATER
        self.list = QListWidget()
        for item in self.items:
            row = QListWidgetItem(describe_recoverable(item))
            row.setData(Qt.ItemDataRole.UserRole, item)
            self.list.addItem(row)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox()
        recover = QPushButton("Recover")
        recover.setToolTip("Open the selected autosave as an unsaved document")
        discard = QPushButton("Discard All")
        discard.setToolTip("Delete these autosaves; the work in them is lost")
        later = QPushButton("Decide Later")
        later.setToolTip("Keep the autosaves and ask again at the next start")
        buttons.addButton(recover, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(discard, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(later, QDialogButtonBox.ButtonRole.RejectRole)
        recover.clicked.connect(lambda: self._finish(self.RECOVER))
        discard.clicked.connect(lambda: self._finish(self.DISCARD))
        later.clicked.connect(lambda: self._finish(self.LATER))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Spadework did not close properly. These documents had unsaved "
                                "changes:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def selected(self):
        row = self.list.currentItem()
        return row.data(Qt.ItemDataRole.UserRole) if row is not None else None

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.accept()
