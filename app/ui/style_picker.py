"""The style dock: presets, seeds, style from a photo, favourites; emits the document's style dict.

Usage::

    picker = StylePicker(controller)          # follows controller.model_loaded by itself
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, picker)
    picker.style_changed.connect(on_style)    # store in the document, then controller.request(...)
    picker.set_style(document_style)          # show a document's style (emits nothing)

Style dicts (what the document stores and `SynthesisController.request` takes):
    {"kind": "preset", "name": n}   a latent stored with the model (styles/presets.*)
    {"kind": "latent", "values": [...]}   e.g. from a reference photo through the VAE encoder
    {"kind": "seed", "seed": n}     a latent drawn from the VAE prior with that seed
    None                            the model's only output (models without style input)

The official GauGAN checkpoints were trained without the VAE: their output depends on the label
map alone, and a seed changes nothing. For such models the dock says so and disables every
control instead of offering a knob that does nothing.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.settings import settings
from ml.images import read_rgb
from ml.spade.library import ModelCard, load_style_presets

THUMB = QSize(72, 72)
MAX_SEED = 2**31 - 1
NO_STYLE_NOTE = (
    "This model has no style input: it was trained without the style encoder (VAE), so its "
    "picture depends only on the label map. Seeds and styles would change nothing."
)
NO_ENCODER_NOTE = "This model has no style encoder, so a style cannot be taken from a photo."
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


def _placeholder_icon(name: str) -> QIcon:
    pixmap = QPixmap(THUMB)
    pixmap.fill(QColor(90, 90, 90))
    painter = QPainter(pixmap)
    painter.setPen(QColor(235, 235, 235))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, name)
    painter.end()
    return QIcon(pixmap)


def _preset_icon(name: str, thumbnail: Path | None) -> QIcon:
    if thumbnail is not None:
        pixmap = QPixmap(str(thumbnail))
        if not pixmap.isNull():
            return QIcon(pixmap.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation))
    return _placeholder_icon(name)


def describe_style(style: dict | None) -> str:
    """A short label for a style dict (favourites list, tooltips)."""
    if not style:
        return "default"
    kind = style.get("kind")
    if kind == "preset":
        return f"preset {style.get('name')}"
    if kind == "seed":
        return f"seed {style.get('seed')}"
    if kind == "latent":
        return "style from a photo"
    return str(kind)


class Favourites:
    """Favourite styles per model, kept in the app's QSettings as JSON."""

    def __init__(self, model_id: str) -> None:
        self._key = f"styles/favourites/{model_id}"

    def load(self) -> list[dict]:
        raw = settings().value(self._key, "[]")
        try:
            items = json.loads(str(raw))
        except json.JSONDecodeError:
            return []
        if not isinstance(items, list):
            return []
        return [i for i in items if isinstance(i, dict) and "name" in i and "style" in i]

    def save(self, items: list[dict]) -> None:
        store = settings()
        store.setValue(self._key, json.dumps(items))
        store.sync()


class StylePicker(QDockWidget):
    """Dock for choosing the style of the rendered picture."""

    style_changed = Signal(object)  # the document style dict, or None

    def __init__(self, controller=None, parent: QWidget | None = None) -> None:
        super().__init__("Style", parent)
        self.setObjectName("StylePicker")
        self._controller = controller
        self._card: ModelCard | None = None
        self._style: dict | None = None
        self._encode_job: int | None = None
        self._favourites: Favourites | None = None
        self._favourite_entries: list[dict] = []
        self._build()
        self._set_enabled_for(None)
        if controller is not None:
            controller.model_loaded.connect(self.set_model)
            controller.style_encoded.connect(self._on_style_encoded)
            controller.style_failed.connect(self._on_style_failed)
            if controller.card is not None:
                self.set_model(controller.card)

    # -- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

        self.presets = QListWidget()
        self.presets.setViewMode(QListWidget.ViewMode.IconMode)
        self.presets.setIconSize(THUMB)
        self.presets.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.presets.setMovement(QListWidget.Movement.Static)
        self.presets.itemClicked.connect(self._on_preset_clicked)
        layout.addWidget(QLabel("Presets"))
        layout.addWidget(self.presets, 2)

        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setPrefix("seed ")
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(self._on_seed)
        self.random_button = QPushButton("Random")
        self.random_button.clicked.connect(self.pick_random)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_button)
        layout.addLayout(seed_row)

        self.from_image_button = QPushButton("Style from image…")
        self.from_image_button.clicked.connect(self._ask_image)
        layout.addWidget(self.from_image_button)

        box = QGroupBox("Favourites")
        box_layout = QVBoxLayout(box)
        self.favourites = QListWidget()
        self.favourites.itemClicked.connect(self._on_favourite_clicked)
        box_layout.addWidget(self.favourites)
        row = QHBoxLayout()
        self.add_favourite_button = QPushButton("Add current")
        self.add_favourite_button.clicked.connect(self._ask_favourite_name)
        self.remove_favourite_button = QPushButton("Remove")
        self.remove_favourite_button.clicked.connect(self.remove_selected_favourite)
        row.addWidget(self.add_favourite_button)
        row.addWidget(self.remove_favourite_button)
        box_layout.addLayout(row)
        layout.addWidget(box, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.setWidget(body)

    # -- model ----------------------------------------------------------------------------------
    def set_model(self, card: ModelCard) -> None:
        """Show the presets, controls and favourites of a model (emits nothing)."""
        self._card = card
        self._favourites = Favourites(card.id)
        self.presets.clear()
        self.message.clear()
        try:
            presets = load_style_presets(card.id) if card.config.use_vae else []
        except (OSError, ValueError, KeyError) as exc:
            presets = []
            self.message.setText(f"Style presets not loaded: {exc}")
        for preset in presets:
            item = QListWidgetItem(_preset_icon(preset.name, preset.thumbnail), preset.name)
            item.setData(Qt.ItemDataRole.UserRole, preset.name)
            self.presets.addItem(item)
        self._reload_favourites()
        self._set_enabled_for(card)

    def has_style_input(self) -> bool:
        return self._card is not None and bool(self._card.config.use_vae)

    def _set_enabled_for(self, card: ModelCard | None) -> None:
        styled = card is not None and bool(card.config.use_vae)
        encoder = styled and bool(card.has_encoder)
        for widget in (self.presets, self.seed, self.random_button, self.favourites,
                       self.add_favourite_button, self.remove_favourite_button):
            widget.setEnabled(styled)
        self.from_image_button.setEnabled(encoder)
        if card is None:
            self.note.setText("No model loaded.")
        elif not styled:
            self.note.setText(NO_STYLE_NOTE)
        elif not encoder:
            self.note.setText(NO_ENCODER_NOTE)
        elif self.presets.count() == 0:
            self.note.setText("This model has no saved presets: use a seed or a photo.")
        else:
            self.note.setText("")
        self.note.setVisible(bool(self.note.text()))

    # -- the current style ----------------------------------------------------------------------
    def current_style(self) -> dict | None:
        return self._style

    def set_style(self, style: dict | None) -> None:
        """Reflect a style (e.g. the opened document's) in the controls without emitting."""
        self._style = style
        if style and style.get("kind") == "seed":
            self.seed.blockSignals(True)
            self.seed.setValue(int(style["seed"]) % (MAX_SEED + 1))
            self.seed.blockSignals(False)
        name = style.get("name") if style and style.get("kind") == "preset" else None
        for row in range(self.presets.count()):
            item = self.presets.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == name)

    def _choose(self, style: dict | None) -> None:
        if not self.has_style_input():
            return
        self.set_style(style)
        self.message.clear()
        self.style_changed.emit(style)

    def choose_preset(self, name: str) -> None:
        self._choose({"kind": "preset", "name": name})

    def choose_seed(self, seed: int) -> None:
        self._choose({"kind": "seed", "seed": int(seed)})

    def pick_random(self) -> None:
        self.choose_seed(random.randrange(MAX_SEED + 1))

    def _on_preset_clicked(self, item: QListWidgetItem) -> None:
        self.choose_preset(str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_seed(self, value: int) -> None:
        self.choose_seed(value)

    # -- style from a photo ---------------------------------------------------------------------
    def _ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style from image", "", IMAGE_FILTER)
        if path:
            self.load_style_image(Path(path))

    def load_style_image(self, path: Path) -> None:
        """Encode a reference photo through the model's VAE encoder (in the worker)."""
        if self._controller is None or self._card is None or not self._card.has_encoder:
            self.message.setText(NO_ENCODER_NOTE)
            return
        try:
            rgb = read_rgb(path)
        except (OSError, ValueError) as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Reading the style of {Path(path).name}…")
        self._encode_job = self._controller.request_style_encoding(rgb)

    def _on_style_encoded(self, job_id: int, latent: np.ndarray) -> None:
        if job_id != self._encode_job:
            return
        self._encode_job = None
        self._choose({"kind": "latent", "values": [float(v) for v in np.asarray(latent).ravel()]})

    def _on_style_failed(self, job_id: int, message: str) -> None:
        if job_id == self._encode_job:
            self._encode_job = None
            self.message.setText(f"Style from image failed: {message}")

    # -- favourites -----------------------------------------------------------------------------
    def _reload_favourites(self) -> None:
        self.favourites.clear()
        self._favourite_entries = self._favourites.load() if self._favourites else []
        for entry in self._favourite_entries:
            item = QListWidgetItem(entry["name"])
            item.setToolTip(describe_style(entry["style"]))
            self.favourites.addItem(item)

    def _ask_favourite_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Add favourite", "Name:",
                                        text=describe_style(self._style))
        if ok and name.strip():
            self.add_favourite(name.strip())

    def add_favourite(self, name: str) -> None:
        """Keep the current style under `name` for this model (replacing one of that name)."""
        if self._favourites is None or not self._style:
            self.message.setText("Choose a style first, then add it to the favourites.")
            return
        items = [e for e in self._favourites.load() if e["name"] != name]
        items.append({"name": name, "style": self._style})
        self._favourites.save(items)
        self._reload_favourites()

    def remove_selected_favourite(self) -> None:
        item = self.favourites.currentItem()
        if self._favourites is None or item is None:
            return
        self._favourites.save([e for e in self._favourites.load() if e["name"] != item.text()])
        self._reload_favourites()

    def _on_favourite_clicked(self, item: QListWidgetItem) -> None:
        self._choose(self._favourite_entries[self.favourites.row(item)]["style"])
