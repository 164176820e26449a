"""The File > New dialog: canvas size and label set."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from ml.labels import available_label_sets, load_label_set

MAX_SIDE = 8192


@dataclass(frozen=True)
class NewDocumentSpec:
    width: int
    height: int
    label_set: str


class NewDocumentDialog(QDialog):
    def __init__(self, default: NewDocumentSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New document")
        self.width_box = _side_box(default.width, "Width of the label map in pixels")
        self.height_box = _side_box(default.height, "Height of the label map in pixels")
        self.label_sets = QComboBox()
        for name in available_label_sets():
            self.label_sets.addItem(load_label_set(name).title, name)
        index = self.label_sets.findData(default.label_set)
        self.label_sets.setCurrentIndex(max(index, 0))
        self.label_sets.setToolTip("The classes you can paint; pick the one your model knows")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Width:", self.width_box)
        form.addRow("Height:", self.height_box)
        form.addRow("Label set:", self.label_sets)
        form.addRow(buttons)

    def spec(self) -> NewDocumentSpec:
        return NewDocumentSpec(
            self.width_box.value(), self.height_box.value(), str(self.label_sets.currentData())
        )


def _side_box(value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(8, MAX_SIDE)
    box.setValue(value)
    box.setSuffix(" px")
    box.setToolTip(tip)
    return box


def ask_new_document(parent: QWidget, default: NewDocumentSpec) -> NewDocumentSpec | None:
    """Show the dialog modally; None when cancelled."""
    dialog = NewDocumentDialog(default, parent)
    return dialog.spec() if dialog.exec() == QDialog.DialogCode.Accepted else None
