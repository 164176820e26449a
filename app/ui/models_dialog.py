"""The model library dialog: list models, import official GauGAN checkpoints, pick the document's.

Usage::

    dialog = ModelsDialog(current_model_id=doc_model, current_label_set=doc.label_set, parent=w)
    dialog.model_chosen.connect(on_model_chosen)   # the document switches model (and label set)
    dialog.open()

`choose(model_id)` asks before switching to a model whose label set differs from the
document's (the label set change itself is the document's business); `confirm` is the question
asked, replaceable (tests answer it without a modal box). `import_from(path)` imports a
checkpoint file or archive in a worker thread with a progress bar; its result is `imported(id)`
or a one-line message in the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from app.ui.synthesis import one_line
from ml.labels import load_label_set
from ml.spade.checkpoint import is_archive, list_archive_models
from ml.spade.library import ModelCard, import_checkpoint, list_models, model_folder

COLUMNS = ("Name", "Dataset", "Label set", "Output", "Size", "Source", "Licence", "Style input")
CHECKPOINT_FILTER = "GauGAN checkpoints (*.pth *.tar.gz *.tgz *.tar);;All files (*)"
WEIGHTS_NOTE = (
    "<p><b>Official GauGAN weights</b> (COCO-Stuff, ADE20K, Cityscapes) come from NVIDIA's "
    "NVlabs/SPADE project: its README links the <i>checkpoints.tar.gz</i> archive "
    "(GitHub release / Google Drive). Download it yourself, then import the archive or a "
    "<i>latest_net_G.pth</i> from it here. Nothing is downloaded by Spadework.</p>"
    "<p>Those weights are licensed <b>CC BY-NC-SA 4.0</b>: non-commercial use only, with "
    "attribution, and derivatives under the same licence. Spadework never bundles them; its "
    "own default model is trained by the project and carries its own licence.</p>"
    "<p>The released GauGAN generators were trained without the style encoder, so they "
    "have no style input: each label map gives one picture.</p>"
)


def style_input_text(card: ModelCard) -> str:
    if not card.config.use_vae:
        return "no"
    return "yes (with encoder)" if card.has_encoder else "yes (seeds only)"


def size_on_disk(card: ModelCard) -> str:
    """Megabytes of the model's folder (weights, card, presets)."""
    try:
        folder, _ = model_folder(card.id)
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    except (OSError, KeyError):
        return "?"
    return f"{total / 1e6:.1f} MB"


def label_set_title(name: str) -> str:
    try:
        return load_label_set(name).title
    except KeyError:
        return name


def import_job(
    path: Path, member: str | None, label_set: str | None, name: str | None,
    progress: Callable[[float, str], None],
) -> tuple[str, str | list[str]]:
    """Worker-thread body: ("imported", id), or ("choose", models) for a multi-model archive."""
    if member is None and (path.is_dir() or is_archive(path)):
        progress(0.0, "looking for models in the archive")
        models = list_archive_models(path)
        if len(models) > 1:
            return "choose", models
    model_id = import_checkpoint(path, label_set=label_set, name=name, progress=progress,
                                 member=member)
    return "imported", model_id


class _ImportProgress(QObject):
    """Carries the engine's progress callback (worker thread) to the dialog (UI thread)."""

    progress = Signal(float, str)


class ModelsDialog(QDialog):
    model_chosen = Signal(str)
    imported = Signal(str)
    import_finished = Signal(bool)  # True on success; the message label says why not

    def __init__(
        self,
        current_model_id: str | None = None,
        current_label_set: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(900, 560)
        self.current_model_id = current_model_id
        self.current_label_set = current_label_set
        self.confirm: Callable[[str], bool] = self._ask_confirmation
        self.pick_member: Callable[[list[str]], str | None] = self._ask_member
        self._cards: list[ModelCard] = []
        self._worker = None
        self._job: tuple[Path, str | None, str | None] | None = None
        self._progress = _ImportProgress(self)
        self._progress.progress.connect(self._on_progress)
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.choose(self._cards[row].id))
        layout.addWidget(self.table, 1)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setVisible(False)
        layout.addWidget(self.progress_bar)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        note = QLabel(WEIGHTS_NOTE)
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(note)

        row = QHBoxLayout()
        self.import_button = QPushButton("Import official GauGAN checkpoint…")
        self.import_button.clicked.connect(self._ask_checkpoint)
        self.use_button = QPushButton("Use for this document")
        self.use_button.clicked.connect(self._use_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row.addWidget(self.import_button)
        row.addStretch(1)
        row.addWidget(self.use_button)
        row.addWidget(close)
        layout.addLayout(row)

    # -- the list -------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the library; select `select` (or the document's model)."""
        self._cards = list_models()
        self.table.setRowCount(len(self._cards))
        for row, card in enumerate(self._cards):
            width, height = card.config.native_size
            name = card.name + ("  (current)" if card.id == self.current_model_id else "")
            values = (name, card.dataset, label_set_title(card.label_set), f"{width}×{height}",
                      size_on_disk(card), "bundled" if card.bundled else card.source,
                      card.licence, style_input_text(card))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(card.description or value)
                self.table.setItem(row, col, item)
        target = select or self.current_model_id
        rows = [r for r, c in enumerate(self._cards) if c.id == target]
        if rows:
            self.table.selectRow(rows[0])
        self._on_selection()

    def cards(self) -> list[ModelCard]:
        return list(self._cards)

    def selected_card(self) -> ModelCard | None:
        rows = self.table.selectionModel().selectedRows()
        return self._cards[rows[0].row()] if rows else None

    def _on_selection(self) -> None:
        card = self.selected_card()
        self.use_button.setEnabled(card is not None)
        if card is None:
            self.details.setText("")
            return
        cfg = card.config
        self.details.setText(
            f"{card.name}: {card.description or 'no description'}\n"
            f"{cfg.label_nc} classes, ngf {cfg.ngf}, upsampling '{cfg.num_upsampling_layers}', "
            f"id {card.id}" + (f", sha256 {card.sha256[:12]}…" if card.sha256 else "")
        )

    # -- choosing -------------------------------------------------------------------------------
    def _use_selected(self) -> None:
        card = self.selected_card()
        if card is not None:
            self.choose(card.id)

    def choose(self, model_id: str) -> bool:
        """Make `model_id` the document's model; a label-set change must be confirmed."""
        card = next((c for c in self._cards if c.id == model_id), None)
        if card is None:
            self.message.setText(f"There is no model {model_id!r} in the library.")
            return False
        if self.current_label_set is not None and card.label_set != self.current_label_set:
            question = (
                f"{card.name} uses the {label_set_title(card.label_set)} label set, the document "
                f"uses {label_set_title(self.current_label_set)}. Switch the document's label set?"
            )
            if not self.confirm(question):
                return False
        self.current_model_id = model_id
        self.current_label_set = card.label_set
        self.model_chosen.emit(model_id)
        self.refresh(select=model_id)
        return True

    def _ask_member(self, models: list[str]) -> str | None:
        item, ok = QInputDialog.getItem(
            self, "Import checkpoint", "The archive holds several models; import:", models, 0, False
        )
        return item if ok else None

    def _ask_confirmation(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Switch label set", question)
        return answer == QMessageBox.StandardButton.Yes

    # -- importing ------------------------------------------------------------------------------
    def _ask_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import official GauGAN checkpoint", "", CHECKPOINT_FILTER
        )
        if path:
            self.import_from(Path(path))

    def is_importing(self) -> bool:
        return self._worker is not None

    def import_from(
        self, path: Path, label_set: str | None = None, name: str | None = None,
        member: str | None = None,
    ) -> None:
        """Import a checkpoint file or archive in a worker thread (progress bar, message).

        An archive holding several models (the official checkpoints.tar.gz has coco, ade20k
        and cityscapes) asks `pick_member` which one, then imports that.
        """
        if self._worker is not None:
            self.message.setText("An import is already running.")
            return
        self.import_button.setEnabled(False)
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.message.setText(f"Importing {Path(path).name}…")
        emit = self._progress.progress.emit
        self._job = (Path(path), label_set, name)
        self._worker = create_worker(
            import_job,
            Path(path),
            member,
            label_set,
            name,
            lambda fraction, text: emit(float(fraction), str(text)),
            _connect={"returned": self._on_imported, "errored": self._on_import_error},
            _ignore_errors=True,
        )

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(round(100 * min(max(fraction, 0.0), 1.0)))
        if text:
            self.message.setText(text)

    def _on_imported(self, result: tuple[str, str | list[str]]) -> None:
        self._end_import()
        kind, value = result
        if kind == "choose":
            member = self.pick_member(list(value))
            if member is None:
                self.message.setText("Import cancelled.")
                self.import_finished.emit(False)
                return
            path, label_set, name = self._job
            self.import_from(path, label_set, name, member)
            return
        model_id = str(value)
        self.refresh(select=model_id)
        card = next((c for c in self._cards if c.id == model_id), None)
        self.message.setText(f"Imported {card.name if card else model_id}.")
        self.imported.emit(model_id)
        self.import_finished.emit(True)

    def _on_import_error(self, exc: BaseException) -> None:
        self._end_import()
        self.message.setText(f"Import failed: {one_line(exc)}")
        self.import_finished.emit(False)

    def _end_import(self) -> None:
        self._worker = None
        self.import_button.setEnabled(True)
        self.progress_bar.setVisible(False)
