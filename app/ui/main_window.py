"""The main window: canvas and render side by side, palette, layers and style docks, menus.

Actions live in `actions.py`, tools in `tools.py`, file behaviour in `file_actions.py`; this
module wires them to one document and to the synthesis controller.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QFileInfo, Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSpinBox,
    QSplitter,
    QToolBar,
)

from app import __version__
from app.document.demo import demo_document
from app.document.document import Change, Document
from app.ui import settings, theme
from app.ui.actions import MENUS, TOOLBARS, create_actions, fill_menu, fill_toolbar
from app.ui.canvas import Canvas
from app.ui.file_actions import FileActions
from app.ui.layers_panel import LayersPanel
from app.ui.palette import MaterialPalette
from app.ui.prompts import Prompts
from app.ui.render_view import RenderView
from app.ui.tools import ToolState, make_tools
from ml.labels import LabelError
from ml.resources import RESOURCES

log = logging.getLogger(__name__)

AUTO = "auto"
USER_GUIDE = RESOURCES.parent / "docs" / "user-guide.md"
LAYER_ERRORS = (ValueError, RuntimeError, IndexError, KeyError)


def _native_size(model_id: str) -> tuple[int, int] | None:
    from ml.spade.library import get_card

    try:
        return tuple(get_card(model_id).config.native_size)  # type: ignore[return-value]
    except (KeyError, ValueError, OSError):
        return None  # the worker will say what is wrong with the model


def default_model(label_set: str, *preferred: str | None) -> str | None:
    """The model to render with: the first installed of `preferred` (the document's choice,
    then the session's model) whose label set fits, else the first model (bundled first) for
    `label_set`; None when there is none."""
    from ml.spade.library import list_models

    cards = {card.id: card for card in list_models()}
    for model_id in preferred:
        if model_id in cards and cards[model_id].label_set == label_set:
            return model_id
    for card in cards.values():
        if card.label_set == label_set:
            return card.id
    return None


def picture_size(native: tuple[int, int], canvas: tuple[int, int]) -> tuple[int, int]:
    """Render size (W, H) with the canvas' aspect ratio and about the model's native pixel
    count, so the picture matches the painting without costing more than a native render."""
    area = native[0] * native[1]
    aspect = canvas[0] / canvas[1]
    width = max(1, round(math.sqrt(area * aspect)))
    return width, max(1, round(width / aspect))


class MainWindow(QMainWindow):
    """`ready` fires once the first full render is shown, or at once when no model exists."""

    ready = Signal()

    def __init__(
        self,
        document: Path | None = None,
        prompts: Prompts | None = None,
        model_id: str | None = AUTO,
        session: bool = True,
    ) -> None:
        """`session=False` (screenshots, tests) skips crash recovery and the saved window
        geometry, so nothing modal appears and the size is the default one."""
        super().__init__()
        self.setObjectName("MainWindow")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self._ready = False
        self._latest_render: np.ndarray | None = None
        self.synthesis = None
        self._model_in_use: str | None = None
        self._native_size: tuple[int, int] | None = None
        self._session_model: str | None = None
        self.prompts = prompts if prompts is not None else Prompts(self)
        self.doc: Document = demo_document()
        self._connected_doc: Document | None = None  # the document whose signals we follow
        self.tool_state = ToolState(report=self.report, picked=self._on_picked)
        self.tools = make_tools(self.tool_state)
        self.actions = create_actions(self)
        self._build_views()
        self._build_docks()
        self._build_menus_and_toolbars()
        self._build_status_bar()
        self.files = FileActions(self.prompts, lambda: self.doc, self.set_document,
                                 lambda: self._latest_render, parent=self)
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self._session = session
        if session:
            self._restore_state()
        self.actions["tool_brush"].setChecked(True)
        self.actions[f"theme_{settings.theme()}"].setChecked(True)
        self.set_document(self.doc)
        if document is not None:
            self.files.open(Path(document))
        if session:
            self.files.offer_recovery()
        self._start_synthesis(model_id)

    # ----- construction ----------------------------------------------------------------------

    def _build_views(self) -> None:
        self.canvas = Canvas()
        self.canvas.hovered.connect(self._on_hover)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))
        self.render_view = RenderView()
        self.render_view.setToolTip("The picture the model makes of your labels")
        self.render_view.setVisible(False)  # until a model renders
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("CanvasSplitter")
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.render_view)
        self.splitter.setSizes([640, 640])
        self.setCentralWidget(self.splitter)

    def _build_docks(self) -> None:
        self.palette = MaterialPalette(self.doc.label_set)
        self.palette.class_selected.connect(self._on_class_selected)
        self.palette_dock = self._dock("Materials", "MaterialsDock", self.palette,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.layers = LayersPanel([self.actions[n] for n in
                                   ("layer_add", "layer_duplicate", "layer_delete",
                                    "layer_merge_down")])
        self.layers.error.connect(self.report)
        self.layers_dock = self._dock("Layers", "LayersDock", self.layers,
                                      Qt.DockWidgetArea.RightDockWidgetArea)
        self.style_dock = None
        self.resizeDocks([self.palette_dock, self.layers_dock], [210, 230],
                         Qt.Orientation.Horizontal)

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.toggleViewAction().setStatusTip(f"Show or hide the {title.lower()} panel")
        self.addDockWidget(area, dock)
        return dock

    def _build_menus_and_toolbars(self) -> None:
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.docks_menu = QMenu("&Panels", self)
        extra = {"recent": self.recent_menu, "docks": self.docks_menu}
        for title, names in MENUS.items():
            fill_menu(self.menuBar().addMenu(title), self.actions, names, extra)
        self.model_menu = self.menuBar().addMenu("&Model")
        models = self.model_menu.addAction("&Models…")
        models.setStatusTip("Choose the model that renders the picture, or import one")
        models.triggered.connect(self.show_models)
        for title, names in TOOLBARS.items():
            toolbar = QToolBar(title, self)
            toolbar.setObjectName(f"{title}Toolbar")
            fill_toolbar(toolbar, self.actions, names)
            self.addToolBar(toolbar)
            if title == "Tools":
                self._add_brush_controls(toolbar)
        for dock in (self.palette_dock, self.layers_dock):
            self.docks_menu.addAction(dock.toggleViewAction())

    def _add_brush_controls(self, toolbar: QToolBar) -> None:
        self.size_box = QSpinBox()
        self.size_box.setRange(1, 512)
        self.size_box.setValue(self.tool_state.size)
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Brush size in document pixels ([ and ])")
        self.size_box.setStatusTip("Brush size in document pixels; [ and ] change it")
        self.size_box.valueChanged.connect(self._on_size)
        toolbar.addWidget(QLabel(" Size "))
        toolbar.addWidget(self.size_box)

    def _build_status_bar(self) -> None:
        self.pixel_label = QLabel("")
        self.pixel_label.setToolTip("Document pixel and class under the mouse")
        self.zoom_label = QLabel("")
        self.zoom_label.setToolTip("Zoom (Ctrl+wheel, Ctrl+0 fits, Ctrl+1 is 100%)")
        self.statusBar().addPermanentWidget(self.pixel_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

    def _restore_state(self) -> None:
        geometry, state = settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # ----- the document ----------------------------------------------------------------------

    def set_document(self, doc: Document) -> None:
        """Show `doc` everywhere: canvas, layers, palette, style; render it."""
        self.canvas.cancel_tool()
        old = self._connected_doc
        if old is not None:
            old.changed.disconnect(self._on_change)
            old.dirty_changed.disconnect(self._on_dirty)
            old.history.changed.disconnect(self._update_undo_actions)
        self.doc = doc
        self._connected_doc = doc
        doc.changed.connect(self._on_change)
        doc.dirty_changed.connect(self._on_dirty)
        doc.history.changed.connect(self._update_undo_actions)
        self.canvas.set_document(doc)
        self.layers.set_document(doc)
        if self.palette.label_set != doc.label_set:
            self.palette.set_label_set(doc.label_set)
        self.tool_state.class_id = self.palette.current if self.palette.current is not None else 0
        if self.style_dock is not None:
            self.style_dock.set_style(doc.style)
        self._latest_render = None
        self._update_title()
        self._update_undo_actions()
        self._sync_model()
        self.request_render()

    def _sync_model(self) -> None:
        """Render with the document's model (or the default one for its label set); with
        none installed for the label set, stop rendering rather than use the wrong classes."""
        if self.synthesis is None:
            return
        wanted = default_model(self.doc.label_set_name, self.doc.model_id, self._session_model)
        if wanted is None and self._model_in_use is not None:
            self.statusBar().showMessage(
                f"No model for the {self.doc.label_set.title} label set: Model > Models adds one")
        elif wanted is not None and wanted != self._model_in_use:
            self.synthesis.set_model(wanted)
            self._native_size = _native_size(wanted)
        self._model_in_use = wanted
        self._show_render_views()

    def _show_render_views(self) -> None:
        rendering = self.synthesis is not None and self._model_in_use is not None
        in_place = self.actions["render_in_place"].isChecked()
        self.render_view.setVisible(rendering and not in_place)
        self.canvas.set_render_in_place(rendering and in_place)

    def _on_change(self, change: Change) -> None:
        if change.kind == "meta":  # label set, model or style (also by undo): show and render
            if self.palette.label_set != self.doc.label_set:
                self.palette.set_label_set(self.doc.label_set)
            if self.style_dock is not None:
                self.style_dock.set_style(self.doc.style)
            self._sync_model()
            self.request_render()
        if change.composite:
            self.request_render(change.rect)

    def request_render(self, rect=None) -> None:
        if self.synthesis is None or self._model_in_use is None:
            return
        style = self.doc.style
        if style.get("kind") == "image":
            style = None
        size = picture_size(self._native_size, self.doc.size) if self._native_size else None
        self.synthesis.request(self.doc.composite_labels(), style, size, rect)

    def _on_dirty(self, _dirty: bool) -> None:
        self._update_title()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.title}[*] — Spadework")
        self.setWindowModified(self.doc.dirty)
        self.setWindowFilePath(str(self.doc.path) if self.doc.path else "")

    def _update_undo_actions(self) -> None:
        history = self.doc.history
        for name, can, label in (("undo", history.can_undo, history.undo_label),
                                 ("redo", history.can_redo, history.redo_label)):
            action = self.actions[name]
            action.setEnabled(can)
            text = "&Undo" if name == "undo" else "&Redo"
            action.setText(f"{text} {label}" if label else text)

    # ----- synthesis ---------------------------------------------------------------------------

    def _start_synthesis(self, model_id: str | None) -> None:
        if model_id == AUTO:
            model_id = default_model(self.doc.label_set_name, self.doc.model_id)
        self._session_model = model_id  # documents without a model choice render with it
        if model_id is None:
            self.statusBar().showMessage("No model for this label set: Model > Models adds one")
            self._become_ready()
            return
        self.use_model(model_id)

    def use_model(self, model_id: str) -> None:
        """Render with `model_id` (starting the synthesis worker on first use)."""
        if self.synthesis is None:
            from app.ui.style_picker import StylePicker
            from app.ui.synthesis import SynthesisController

            self.synthesis = SynthesisController(parent=self)
            self.render_view.follow(self.synthesis)
            self.canvas.render_item.follow(self.synthesis)
            self.synthesis.rendered.connect(self._on_rendered)
            self.synthesis.first_render_done.connect(self._on_first_render)
            self.synthesis.busy_changed.connect(lambda busy: busy or self._ready_when_idle())
            self.synthesis.failed.connect(self._on_synthesis_failed)
            self.synthesis.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
            self.files.set_synthesis(self.synthesis, lambda: self._model_in_use is not None)
            self.style_dock = StylePicker(self.synthesis, self)
            self.style_dock.style_changed.connect(self._on_style_chosen)
            self.style_dock.set_style(self.doc.style)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.style_dock)
            self.resizeDocks([self.layers_dock, self.style_dock], [300, 400],
                             Qt.Orientation.Vertical)
            if self._session:
                self.restoreDockWidget(self.style_dock)  # made after restoreState()
            self.docks_menu.addAction(self.style_dock.toggleViewAction())
        self._model_in_use = model_id
        self._native_size = _native_size(model_id)
        self.synthesis.set_model(model_id)
        self._show_render_views()
        self.request_render()

    def _on_rendered(self, image: np.ndarray, _rid: int, final: bool, _seconds: float) -> None:
        if final:
            self._latest_render = image

    def _on_synthesis_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        self._become_ready()  # nothing more will come; never leave a screenshot waiting

    def _on_style_chosen(self, style: dict | None) -> None:
        if style is None:
            return
        try:
            self.doc.set_style(style)  # its "meta" change renders
        except ValueError as exc:
            self.report(str(exc))

    def show_models(self) -> None:
        from app.ui.models_dialog import ModelsDialog

        current = getattr(self.synthesis.card, "id", None) if self.synthesis else None
        dialog = ModelsDialog(current, self.doc.label_set_name, self)
        dialog.model_chosen.connect(self.choose_model)
        dialog.open()

    def choose_model(self, model_id: str) -> bool:
        """Switch the document (and its label set, if the model's differs) to `model_id`."""
        from ml.spade.library import get_card

        card = get_card(model_id)
        if card.label_set != self.doc.label_set_name:
            try:
                self.doc.set_label_set(card.label_set)
            except (LabelError, KeyError) as exc:
                self.prompts.error("Model", f"{card.name} uses other classes: {exc}")
                return False
        self.doc.set_model(model_id)  # the "meta" change switches the worker once it runs
        if self.synthesis is None:
            self.use_model(model_id)
        return True

    def _on_first_render(self) -> None:
        self._rendered_once = True
        self._ready_when_idle()

    def _ready_when_idle(self) -> None:
        """Ready once the first render is shown and the worker has settled (no busy tag)."""
        if getattr(self, "_rendered_once", False) and not self.synthesis.is_busy():
            self._become_ready()

    def _become_ready(self) -> None:
        if not self._ready:
            self._ready = True
            self.ready.emit()

    def is_ready(self) -> bool:
        return self._ready

    # ----- tools and palette -----------------------------------------------------------------

    def select_tool(self, name: str) -> None:
        self.actions[f"tool_{name}"].setChecked(True)
        self.canvas.set_tool(self.tools[name])

    def _tool_slot(name: str):  # noqa: N805 - builds methods below
        def slot(self, checked: bool) -> None:
            if checked:
                self.canvas.set_tool(self.tools[name])
        return slot

    select_tool_brush = _tool_slot("brush")
    select_tool_eraser = _tool_slot("eraser")
    select_tool_fill = _tool_slot("fill")
    select_tool_line = _tool_slot("line")
    select_tool_rect = _tool_slot("rect")
    select_tool_ellipse = _tool_slot("ellipse")
    select_tool_picker = _tool_slot("picker")
    select_tool_pan = _tool_slot("pan")
    del _tool_slot

    def _on_class_selected(self, class_id: int) -> None:
        self.tool_state.class_id = class_id
        cls = self.doc.label_set[class_id]
        self.statusBar().showMessage(f"Painting with {cls.name}", 3000)

    def _on_picked(self, class_id: int) -> None:
        self.palette.select(class_id)

    def _on_size(self, size: int) -> None:
        self.tool_state.set_size(size)

    def brush_smaller(self) -> None:
        self.size_box.setValue(self.tool_state.grow(False))

    def brush_larger(self) -> None:
        self.size_box.setValue(self.tool_state.grow(True))

    def set_square_brush(self, square: bool) -> None:
        self.tool_state.shape = "square" if square else "round"

    def _on_hover(self, x: int, y: int) -> None:
        if 0 <= x < self.doc.width and 0 <= y < self.doc.height:
            class_id = self.doc.pick_label(x, y)
            name = self.doc.label_set[class_id].name if class_id in self.doc.label_set else "—"
            self.pixel_label.setText(f"{x}, {y}  {name}")
        else:
            self.pixel_label.setText("")

    def report(self, message: str) -> None:
        """A refused edit (locked layer, impossible merge): say why, keep going."""
        self.statusBar().showMessage(message, 8000)

    # ----- edit, view, layer actions -----------------------------------------------------------

    def undo(self) -> None:
        self.canvas.cancel_tool()  # a half-made stroke is not in the history yet
        self.doc.undo()

    def redo(self) -> None:
        self.canvas.cancel_tool()
        self.doc.redo()

    def zoom_in(self) -> None:
        self.canvas.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.canvas.zoom_by(0.8)

    def zoom_fit(self) -> None:
        self.canvas.zoom_fit()

    def zoom_actual(self) -> None:
        self.canvas.zoom_actual()

    def set_render_in_place(self, _in_place: bool) -> None:
        """The render over the labels on the canvas, or in its own view beside them."""
        self._show_render_views()

    def set_labels_overlay(self, overlay: bool) -> None:
        self.canvas.set_labels_overlay(overlay)

    def set_theme_dark(self, checked: bool) -> None:
        self._set_theme("dark", checked)

    def set_theme_light(self, checked: bool) -> None:
        self._set_theme("light", checked)

    def _set_theme(self, name: str, checked: bool) -> None:
        app = QApplication.instance()
        if checked and theme.current_theme(app) != name:
            theme.switch_theme(app, name)

    def _layer_op(self, operation, *args) -> None:
        try:
            operation(*args)
        except LAYER_ERRORS as exc:
            self.report(str(exc))

    def layer_add(self) -> None:
        self._layer_op(self.doc.add_label_layer)

    def layer_duplicate(self) -> None:
        self._layer_op(self.doc.duplicate_layer, self.doc.active_index)

    def layer_delete(self) -> None:
        if len(self.doc.layers) <= 1:
            self.report("the last layer cannot be deleted")
            return
        self._layer_op(self.doc.delete_layer, self.doc.active_index)

    def layer_merge_down(self) -> None:
        self._layer_op(self.doc.merge_down, self.doc.active_index)

    # ----- file actions (menu slots) -----------------------------------------------------------

    def file_new(self) -> None:
        self.files.new()

    def file_open(self) -> None:
        self.files.open()

    def file_save(self) -> None:
        self.files.save()

    def file_save_as(self) -> None:
        self.files.save_as()

    def file_import_labels(self) -> None:
        self.files.import_label_map()

    def file_import_image(self) -> None:
        self.files.import_image()

    def file_export_render(self) -> None:
        self.files.export_render()

    def file_export_labels(self) -> None:
        self.files.export_labels()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = settings.recent_files()
        for path in paths:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.setStatusTip(f"Open {path}")
            action.triggered.connect(lambda _=False, p=path: self.files.open(p))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent Files")
            clear.triggered.connect(settings.clear_recent_files)

    def show_user_guide(self) -> None:
        if USER_GUIDE.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(USER_GUIDE)))
        else:
            self.prompts.info("User guide", "The user guide is docs/user-guide.md in the "
                              "Spadework sources.")

    def show_about(self) -> None:
        self.prompts.info("About Spadework", f"Spadework {__version__}\nPaint semantic labels; "
                          "a SPADE model turns them into a picture.\nMIT licence.")

    # ----- window events -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.files.drop(Path(QFileInfo(url.toLocalFile()).absoluteFilePath()))
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.close():
            event.ignore()
            return
        if self._session:
            settings.save_window_state(self.saveGeometry(), self.saveState())
        if self.synthesis is not None:
            self.synthesis.shutdown()
        event.accept()
