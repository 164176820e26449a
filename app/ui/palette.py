"""The material palette: the label set's classes by group, a search box, recently used."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.swatches import swatch_icon
from ml.labels import LabelSet

MAX_RECENT = 8
CLASS_ID_ROLE = Qt.ItemDataRole.UserRole


class MaterialPalette(QWidget):
    """Pick the class to paint with; emits `class_selected(id)`."""

    class_selected = Signal(int)

    def __init__(self, label_set: LabelSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label_set = label_set
        self._current: int | None = None
        self._recent: list[int] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search classes…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the classes by name or group")
        self.search.setStatusTip("Type part of a class or group name to filter the palette")
        self.search.textChanged.connect(self.apply_filter)
        self.recent_row = QHBoxLayout()
        self.recent_row.setContentsMargins(0, 0, 0, 0)
        self.recent_row.setSpacing(2)
        recent_box = QWidget()
        recent_box.setLayout(self.recent_row)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setToolTip("Classes of the active label set; click one to paint with it")
        self.tree.currentItemChanged.connect(self._on_item_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(QLabel("Recently used:"))
        layout.addWidget(recent_box)
        layout.addWidget(self.tree, 1)
        self.set_label_set(label_set)

    @property
    def label_set(self) -> LabelSet:
        return self._label_set

    @property
    def current(self) -> int | None:
        return self._current

    @property
    def recent(self) -> list[int]:
        return list(self._recent)

    def set_label_set(self, label_set: LabelSet) -> None:
        """Show another label set's classes; the recent list is cleared."""
        self._label_set = label_set
        self._recent = []
        self.tree.blockSignals(True)
        self.tree.clear()
        for group, classes in label_set.groups().items():
            top = QTreeWidgetItem([group.capitalize()])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            for cls in classes:
                item = QTreeWidgetItem([cls.name])
                item.setIcon(0, swatch_icon(cls.color))
                item.setData(0, CLASS_ID_ROLE, cls.id)
                item.setToolTip(0, f"{cls.name} (id {cls.id}, {_hex(cls.color)}, group {group})")
                item.setStatusTip(0, f"Paint with {cls.name}")
                top.addChild(item)
        self.tree.expandAll()
        self.tree.blockSignals(False)
        self._rebuild_recent()
        self.apply_filter(self.search.text())
        first = label_set.classes[0].id if label_set.classes else None
        self._current = None
        if first is not None:
            self.select(first)

    def select(self, class_id: int) -> None:
        """Make `class_id` the current class (from a click, the eyedropper or the recent row)."""
        if class_id not in self._label_set:
            raise KeyError(f"class id {class_id} is not in the {self._label_set.title} label set")
        item = self._item_for(class_id)
        if item is not None and self.tree.currentItem() is not item:
            self.tree.setCurrentItem(item)
            return  # _on_item_changed finishes the job
        self._set_current(class_id)

    def visible_class_ids(self) -> list[int]:
        """Ids of the classes the search filter leaves visible, in palette order."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                if not child.isHidden():
                    out.append(int(child.data(0, CLASS_ID_ROLE)))
        return out

    def apply_filter(self, text: str) -> None:
        """Hide classes whose name and group do not contain `text` (case-insensitive)."""
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            group_hit = needle in top.text(0).lower()
            shown = 0
            for j in range(top.childCount()):
                child = top.child(j)
                hide = bool(needle) and not (group_hit or needle in child.text(0).lower())
                child.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)

    def _item_for(self, class_id: int) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, CLASS_ID_ROLE) == class_id:
                    return top.child(j)
        return None

    def _on_item_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        if item is None or item.data(0, CLASS_ID_ROLE) is None:
            return
        self._set_current(int(item.data(0, CLASS_ID_ROLE)))

    def _set_current(self, class_id: int) -> None:
        if class_id == self._current:
            return
        self._current = class_id
        self._recent = ([class_id] + [c for c in self._recent if c != class_id])[:MAX_RECENT]
        self._rebuild_recent()
        self.class_selected.emit(class_id)

    def _rebuild_recent(self) -> None:
        while self.recent_row.count():
            widget = self.recent_row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for class_id in self._recent:
            cls = self._label_set[class_id]
            button = QToolButton()
            button.setIcon(swatch_icon(cls.color, 18))
            button.setAutoRaise(True)
            button.setToolTip(f"{cls.name} (id {cls.id})")
            button.setStatusTip(f"Paint with {cls.name} again")
            button.clicked.connect(lambda _=False, cid=class_id: self.select(cid))
            self.recent_row.addWidget(button)
        self.recent_row.addStretch(1)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)
