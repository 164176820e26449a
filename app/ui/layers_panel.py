"""The layer panel: the stack top to bottom, with visibility, rename, drag reorder, opacity
and lock; every edit goes through the document's undoable operations.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.document.document import Change, Document
from app.document.layers import LabelLayer
from app.ui.icons import painted_icon

UID_ROLE = Qt.ItemDataRole.UserRole
USER_ERRORS = (ValueError, RuntimeError, KeyError, IndexError)


class _LayerList(QListWidget):
    """A list whose drops are turned into one `move_layer` by the panel."""

    dropped = Signal()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        super().dropEvent(event)
        self.dropped.emit()


class LayersPanel(QWidget):
    """Row 0 is the top layer. Problems (a locked layer, a refused merge) go to `error`."""

    error = Signal(str)

    def __init__(self, actions: list[QAction] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self._syncing = False
        self._label_icon = painted_icon("labels")
        self._photo_icon = painted_icon("photo")
        self.list = _LayerList()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Layers, top first: tick to show, double-click to rename, drag to "
                             "reorder")
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.model().rowsMoved.connect(self._sync_order_from_list)
        self.list.dropped.connect(self._sync_order_from_list)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the active layer")
        self.opacity.setStatusTip("Drag to change how opaque the active layer is drawn")
        self.opacity.valueChanged.connect(self._on_opacity)
        self.locked = QCheckBox("Lock")
        self.locked.setToolTip("Protect the active layer from painting and merging")
        self.locked.toggled.connect(self._on_locked)
        props = QHBoxLayout()
        props.addWidget(QLabel("Opacity"))
        props.addWidget(self.opacity, 1)
        props.addWidget(self.locked)
        buttons = QHBoxLayout()
        for action in actions or []:
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(props)
        layout.addLayout(buttons)

    def set_document(self, doc: Document) -> None:
        if self.doc is not None:
            self.doc.changed.disconnect(self._on_change)
        self.doc = doc
        doc.changed.connect(self._on_change)
        self.rebuild()

    # ----- doc -> view -----------------------------------------------------------------------

    def rebuild(self) -> None:
        """Show the document's stack. Rows are updated in place when the order is unchanged,
        so an item that is being edited or dropped is never deleted under Qt's feet."""
        doc = self.doc
        if doc is None:
            return
        self._syncing = True
        try:
            layers = list(reversed(doc.layers))
            listed = [self.list.item(r).data(UID_ROLE) for r in range(self.list.count())]
            if listed != [layer.uid for layer in layers]:
                self.list.clear()
                for layer in layers:
                    item = QListWidgetItem()
                    item.setData(UID_ROLE, layer.uid)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable
                                  | Qt.ItemFlag.ItemIsDragEnabled)
                    self.list.addItem(item)
            for row, layer in enumerate(layers):
                self._show_layer(self.list.item(row), layer)
            if doc.active_index >= 0:
                self.list.setCurrentRow(self.row_of(doc.active_index))
            self._show_props()
        finally:
            self._syncing = False

    def _show_layer(self, item: QListWidgetItem, layer) -> None:
        icon = self._label_icon if isinstance(layer, LabelLayer) else self._photo_icon
        if item.icon().cacheKey() != icon.cacheKey():
            item.setIcon(icon)
        if item.text() != layer.name:
            item.setText(layer.name)
        state = Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
        if item.checkState() != state:
            item.setCheckState(state)
        kind = "label layer" if isinstance(layer, LabelLayer) else "image layer"
        lock = ", locked" if layer.locked else ""
        item.setToolTip(f"{layer.name}: {kind}, opacity {layer.opacity:.0%}{lock}; tick to "
                        "show, double-click to rename, drag to reorder")
        font = item.font()
        font.setItalic(layer.locked)
        item.setFont(font)

    def row_of(self, index: int) -> int:
        """List row of document layer `index` (row 0 is the top layer)."""
        assert self.doc is not None
        return len(self.doc.layers) - 1 - index

    def index_of_row(self, row: int) -> int:
        assert self.doc is not None
        return len(self.doc.layers) - 1 - row

    def _show_props(self) -> None:
        layer = self.doc.active_layer if self.doc is not None else None
        self.opacity.blockSignals(True)
        self.locked.blockSignals(True)
        self.opacity.setEnabled(layer is not None)
        self.locked.setEnabled(layer is not None)
        if layer is not None:
            self.opacity.setValue(round(layer.opacity * 100))
            self.locked.setChecked(layer.locked)
        self.opacity.blockSignals(False)
        self.locked.blockSignals(False)

    def _on_change(self, change: Change) -> None:
        if change.kind in ("layers", "layer"):
            self.rebuild()
        elif change.kind == "active" and self.doc is not None:
            self._syncing = True
            self.list.setCurrentRow(self.row_of(self.doc.active_index))
            self._syncing = False
            self._show_props()

    # ----- view -> doc -----------------------------------------------------------------------

    def _run(self, operation, *args) -> None:
        """Apply one document operation; a refusal becomes a message, never an exception."""
        try:
            operation(*args)
        except USER_ERRORS as exc:
            self.error.emit(str(exc))
            self.rebuild()

    def _on_row_changed(self, row: int) -> None:
        if self._syncing or self.doc is None or row < 0:
            return
        self._run(self.doc.set_active, self.index_of_row(row))
        self._show_props()

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing or self.doc is None:
            return
        index = self._index_of_uid(item.data(UID_ROLE))
        if index is None:
            return
        layer = self.doc.layers[index]
        visible = item.checkState() == Qt.CheckState.Checked
        if visible != layer.visible:
            self._run(self.doc.set_visible, index, visible)
        elif item.text() != layer.name:
            self._run(self.doc.rename_layer, index, item.text())

    def _on_opacity(self, value: int) -> None:
        if self.doc is not None and self.doc.active_index >= 0:
            self._run(self.doc.set_opacity, self.doc.active_index, value / 100.0)

    def _on_locked(self, locked: bool) -> None:
        if self.doc is not None and self.doc.active_index >= 0:
            self._run(self.doc.set_locked, self.doc.active_index, locked)

    def _sync_order_from_list(self, *_args: QModelIndex | int) -> None:
        """After a drag (or a model move), move the one layer whose place changed."""
        if self._syncing or self.doc is None:
            return
        listed = [self.list.item(r).data(UID_ROLE) for r in range(self.list.count())]
        current = [layer.uid for layer in reversed(self.doc.layers)]
        if listed == current or sorted(listed) != sorted(current):
            return
        for uid in current:
            if [u for u in current if u != uid] == [u for u in listed if u != uid]:
                old_index = self._index_of_uid(uid)
                new_index = self.index_of_row(listed.index(uid))
                self._run(self.doc.move_layer, old_index, new_index)
                return
        self.rebuild()

    def _index_of_uid(self, uid: int) -> int | None:
        assert self.doc is not None
        for index, layer in enumerate(self.doc.layers):
            if layer.uid == uid:
                return index
        return None
