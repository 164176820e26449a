"""File menu behaviour: new, open, save, import, export, autosave, crash recovery, recent files
and drops. Questions go through `Prompts`; every path can also be passed in directly (tests,
drag and drop, the recent-files menu), so nothing here needs a dialog to work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.document.autosave import Autosaver, discard, find_recoverable, recover
from app.document.document import Document
from app.document.labelmaps import (
    document_from_label_map,
    export_label_map,
    import_image,
    import_label_map,
    read_label_map,
)
from app.document.ora import load_ora, save_ora
from app.ui import settings
from app.ui.new_document_dialog import NewDocumentSpec
from app.ui.prompts import IMAGE_FILTER, LABEL_FILTER, ORA_FILTER, RENDER_FILTER, Prompts
from ml.images import read_rgb, write_image
from ml.labels import LabelError

log = logging.getLogger(__name__)

AUTOSAVE_MS = 30_000
USER_ERRORS = (ValueError, OSError, KeyError, RuntimeError)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


class FileActions(QObject):
    """Owns the document's life cycle on disk for one window.

    `get_doc` / `set_doc` read and replace the window's document; `get_render` gives the
    latest render (saved into .ora files as the merged image) or None.
    """

    recent_changed = Signal()
    message = Signal(str)

    def __init__(
        self,
        prompts: Prompts,
        get_doc: Callable[[], Document],
        set_doc: Callable[[Document], None],
        get_render: Callable[[], np.ndarray | None],
        autosaver: Autosaver | None = None,
        autosave_ms: int = AUTOSAVE_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.prompts = prompts
        self._get_doc = get_doc
        self._set_doc = set_doc
        self._get_render = get_render
        self.autosaver = autosaver if autosaver is not None else Autosaver()
        self.timer = QTimer(self)
        self.timer.setInterval(autosave_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        self._synthesis = None
        self._render_available: Callable[[], bool] = lambda: False
        self._exports: dict[int, Path] = {}

    @property
    def doc(self) -> Document:
        return self._get_doc()

    # ----- new / open ------------------------------------------------------------------------

    def new(self, spec: NewDocumentSpec | None = None) -> bool:
        if not self.confirm_discard():
            return False
        if spec is None:
            spec = self.prompts.new_document(
                NewDocumentSpec(self.doc.width, self.doc.height, self.doc.label_set_name))
            if spec is None:
                return False
        try:
            doc = Document.new(spec.width, spec.height, spec.label_set)
        except USER_ERRORS as exc:
            self.prompts.error("New document", str(exc))
            return False
        self._replace(doc)
        return True

    def open(self, path: Path | None = None) -> bool:
        """Open a .ora document, or start a document from a label map or photo."""
        if path is None:
            path = self.prompts.open_path("Open", f"{ORA_FILTER};;{IMAGE_FILTER}")
            if path is None:
                return False
        path = Path(path)
        if not self.confirm_discard():
            return False
        try:
            doc = load_ora(path) if path.suffix.lower() == ".ora" else self._doc_from_image(path)
        except USER_ERRORS as exc:
            self.prompts.error("Open", str(exc))
            return False
        self._replace(doc)
        if doc.path is not None:
            self._remember(doc.path)
        return True

    def _doc_from_image(self, path: Path) -> Document:
        """A label map (colours of the current label set) becomes the labels, else a photo."""
        current = self.doc
        try:
            return document_from_label_map(path, current.label_set_name)
        except LabelError:
            rgb = read_rgb(path)
            doc = Document.new(rgb.shape[1], rgb.shape[0], current.label_set_name)
            doc.add_image_layer(path.stem, rgb, index=0)
            doc.set_active(1)  # paint labels over the photo
            doc.history.clear()
            return doc

    # ----- save ------------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> bool:
        if path is None and self.doc.path is None:
            return self.save_as()
        return self._write(Path(path) if path is not None else self.doc.path)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            path = self.prompts.save_path("Save As", ORA_FILTER, f"{self.doc.title}.ora")
            if path is None:
                return False
        path = Path(path)
        if path.suffix.lower() != ".ora":
            path = path.with_suffix(".ora")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            save_ora(self.doc, path, render=self._get_render())
        except USER_ERRORS as exc:
            self.prompts.error("Save", f"{path}: {exc}")
            return False
        self.autosaver.forget(self.doc)
        self._remember(path)
        self.message.emit(f"Saved {path}")
        return True

    def confirm_discard(self) -> bool:
        """True when the current document may be replaced or closed (saved or discarded)."""
        doc = self.doc
        if not doc.dirty:
            return True
        answer = self.prompts.save_changes(doc.title)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ----- import / export -------------------------------------------------------------------

    def import_label_map(self, path: Path | None = None) -> int | None:
        """Add a label map as a new label layer; unknown colours are named in the error."""
        if path is None:
            path = self.prompts.open_path("Import label map", LABEL_FILTER)
            if path is None:
                return None
        try:
            return import_label_map(self.doc, Path(path))
        except USER_ERRORS as exc:
            self.prompts.error("Import label map", str(exc))
            return None

    def import_image(self, path: Path | None = None) -> int | None:
        if path is None:
            path = self.prompts.open_path("Import image", IMAGE_FILTER)
            if path is None:
                return None
        try:
            return import_image(self.doc, Path(path))
        except USER_ERRORS as exc:
            self.prompts.error("Import image", str(exc))
            return None

    def export_labels(self, path: Path | None = None) -> bool:
        if path is None:
            path = self.prompts.save_path("Export label map", "PNG image (*.png)",
                                          f"{self.doc.title}-labels.png")
            if path is None:
                return False
        try:
            export_label_map(self.doc, Path(path), mode="color")
        except USER_ERRORS as exc:
            self.prompts.error("Export label map", str(exc))
            return False
        self.message.emit(f"Exported the label map to {path}")
        return True

    def set_synthesis(self, controller, available: Callable[[], bool] = lambda: True) -> None:
        """The SynthesisController that renders exports; `available` says whether it has a
        model for the current document's label set."""
        self._synthesis = controller
        self._render_available = available
        controller.exported.connect(self._on_exported)
        controller.export_failed.connect(self._on_export_failed)

    def export_render(self, path: Path | None = None, size: tuple[int, int] | None = None
                      ) -> int | None:
        """Ask the synthesis worker for a render at `size` (W, H); it is written when done."""
        if self._synthesis is None or not self._render_available():
            self.prompts.error("Export render", "No model for this document's label set, so "
                               "there is no render to export. Add one in Model > Models.")
            return None
        if size is None:
            size = self.prompts.render_size(self.doc.size)
            if size is None:
                return None
        if path is None:
            path = self.prompts.save_path("Export render", RENDER_FILTER,
                                          f"{self.doc.title}.png")
            if path is None:
                return None
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            path = path.with_suffix(".png")
        style = self.doc.style if self.doc.style.get("kind") != "image" else None
        export_id = self._synthesis.request_export(self.doc.composite_labels(), style, size)
        self._exports[export_id] = path
        self.message.emit(f"Rendering {size[0]}×{size[1]} for {path.name}…")
        return export_id

    def _on_exported(self, export_id: int, image: np.ndarray) -> None:
        path = self._exports.pop(export_id, None)
        if path is None:
            return
        try:
            write_image(path, image)
        except USER_ERRORS as exc:
            self.prompts.error("Export render", f"{path}: {exc}")
            return
        self.message.emit(f"Exported the render to {path}")

    def _on_export_failed(self, export_id: int, message: str) -> None:
        if self._exports.pop(export_id, None) is not None:
            self.prompts.error("Export render", message)

    # ----- drops -----------------------------------------------------------------------------

    def drop(self, path: Path) -> bool:
        """A file dropped on the window: .ora opens; an image that is a label map of the
        current label set becomes a label layer; any other image becomes an image layer."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".ora":
            return self.open(path)
        if suffix not in IMAGE_SUFFIXES:
            self.prompts.error("Drop", f"{path.name}: not a Spadework document or an image")
            return False
        try:
            read_label_map(path, self.doc.label_set)
        except LabelError:
            return self.import_image(path) is not None
        except USER_ERRORS as exc:
            self.prompts.error("Drop", str(exc))
            return False
        return self.import_label_map(path) is not None

    # ----- autosave and recovery -------------------------------------------------------------

    def autosave(self) -> Path | None:
        try:
            written = self.autosaver.maybe_save(self.doc, self._get_render())
        except USER_ERRORS as exc:
            log.warning("autosave failed: %s", exc)
            self.message.emit(f"Autosave failed: {exc}")
            return None
        if written is not None:
            self.message.emit("Autosaved")
        return written

    def offer_recovery(self) -> Document | None:
        """At start: if autosaves of a crashed session exist, ask and restore one."""
        items = find_recoverable()
        if not items:
            return None
        choice, item = self.prompts.recover(items)
        if choice == "discard":
            for each in items:
                discard(each)
            return None
        if choice != "recover" or item is None:
            return None
        try:
            doc = recover(item, self.autosaver)
        except USER_ERRORS as exc:
            self.prompts.error("Recover", str(exc))
            return None
        self._replace(doc, forget_old=False)
        self.message.emit(f"Recovered {doc.title}; save it to keep it")
        return doc

    def close(self) -> bool:
        """On window close: False when the user cancelled; a clean exit removes autosaves."""
        if not self.confirm_discard():
            return False
        self.timer.stop()
        self.autosaver.close()
        return True

    # ----- recent files ----------------------------------------------------------------------

    def _remember(self, path: Path) -> None:
        settings.add_recent_file(path)
        self.recent_changed.emit()

    def _replace(self, doc: Document, forget_old: bool = True) -> None:
        if forget_old:
            self.autosaver.forget(self.doc)
        self._set_doc(doc)
