"""The Qt-free document model: layers, label maps, undo history, files.

Nothing here imports Qt (an import-linter contract checks it); views learn about changes
through plain callbacks. Coordinates are canvas pixels, floats for pointer positions; rects
are `(x0, y0, x1, y1)` with exclusive ends (the Synthesizer's `dirty_rect` order).

Document  (app/document/document.py)
    doc = Document.new(width, height, label_set="landscape", fill=None, model_id=None, style=None)
    doc.width, doc.height, doc.size -> (W, H); doc.path: Path | None; doc.title
    doc.layers -> tuple[Layer, ...]   index 0 = bottom, last = top; doc.layer(i)
    doc.active_index, doc.active_layer, doc.set_active(i)      (not an undo step)
    doc.label_set_name, doc.label_set (ml.labels.LabelSet), doc.set_label_set(name)
    doc.model_id, doc.set_model(id | None); doc.style -> dict copy, doc.set_style(dict)
        styles: {"kind": "seed", "seed": 3} | {"kind": "preset", "name": "dusk"}
                | {"kind": "latent", "values": [...]} | {"kind": "image", "layer": name}
    doc.composite_labels(rect=None) -> HxW uint8: topmost visible label layer's id, else 255;
        image layers and hidden layers are skipped, opacity is ignored.
    doc.pick_label(x, y) -> int          eyedropper on the composite (255 = nothing)
    doc.flatten(rect=None) -> HxWx4 uint8  every visible layer, labels in their colours
    doc.labels_used() -> list[int]; doc.find_tag(tag) -> index | None; doc.index_of(layer)
  Layer operations, each one undo step (return the new index where one is made):
    add_label_layer(name=None, index=None, pixels=None) -> int   (inserted above the active)
    add_image_layer(name=None, pixels=None, index=None, tag="") -> int  (HxWx3/4, canvas size)
    delete_layer(i); duplicate_layer(i) -> int; move_layer(i, new_index)
    rename_layer(i, name); set_visible(i, bool); set_opacity(i, 0..1) (a slider drag is one
    step); set_locked(i, bool); set_tag(i, str)
    merge_down(i) -> int: label onto label = upper non-255 wins; image onto image = alpha
        composite at the upper opacity; label onto image = labels in their colours;
        image onto label and hidden upper layers -> LayerMergeError (ValueError)
    replace_pixels(i, pixels, rect=None, label=..., undoable=True)  pastes; renders with
        undoable=False (dirty until saved, no undo step)
  Painting (app/document/painting.py), one undo step per stroke:
    s = doc.begin_stroke(label="Brush", index=None)  # active layer; LayerLockedError if locked
    s.dab(x, y, size, value, shape="round"|"square") -> rect | None
    s.segment(x0, y0, x1, y1, size, value, shape)   # mouse move: continuous, no gaps
    s.line(x0, y0, x1, y1, value, line_width=1)
    s.rectangle(x0, y0, x1, y1, value, filled=False, line_width=1)   # corner pixels inclusive
    s.ellipse(x0, y0, x1, y1, value, filled=False, line_width=1)     # inscribed in that box
    s.fill(x, y, value, sample=None)  # 4-connected; "composite" (default on label layers:
                                      # region of one class in the composite) or "layer"
    s.finish() -> rect | None (changed pixels; records the undo step); s.cancel()
    `with doc.begin_stroke("Rectangle") as s: ...` finishes (or cancels on error).
    value: class id on label layers (255 erases), RGBA/RGB tuple on image layers, None erases.
    s.erase_value; values never blend: a painted layer only holds the painted id and prior ids.
    Array-level versions: painting.dab/segment/rectangle/ellipse/flood_fill(target, ...).
  Undo: doc.undo() -> bool, doc.redo() -> bool; doc.history.can_undo/can_redo/undo_label/
    redo_label; doc.history.changed (no args). doc.dirty: unsaved changes (clean after save,
    clean again after undoing back to the saved state); doc.revision: increases on every change.
  Signals (app/document/signals.py: Signal.connect(fn)/disconnect(fn)/emit(...)):
    doc.changed(Change)  Change(kind, layer=None, rect=None, composite=False)
        kind "pixels": layer index + dirty rect; "layers": stack changed (repaint all);
        "layer": properties of one layer; "active": active layer; "meta": label set/model/style.
        composite=True: the composite label map changed (in rect, or anywhere if None) ->
        re-render.
    doc.dirty_changed(bool)
Layers (app/document/layers.py): LabelLayer (pixels HxW uint8, 255 = no label, transparent),
    ImageLayer (pixels HxWx4 uint8 straight RGBA); fields name, pixels, visible, opacity,
    locked, tag, uid (stable across moves), kind ("label" | "image"). LayerLockedError.
Files
    app.document.ora: save_ora(doc, path, render=None, mark_saved=True); load_ora(path) ->
        Document; OraError (ValueError). OpenRaster: Krita, GIMP and MyPaint open it.
    app.document.labelmaps: import_label_map(doc, path, name=None) -> index;
        import_image(doc, path, name=None) -> index; export_label_map(doc, path,
        mode="color"|"ids"); read_label_map(path, label_set) -> HxW uint8;
        document_from_label_map(path, label_set="landscape") -> Document
    app.document.autosave: Autosaver(folder=None)  (None = ml.userdirs.autosave_dir())
        .maybe_save(doc, render=None) -> Path | None  (only when changed since the last
        autosave; a clean document's autosave is removed), .forget(doc), .close() (clean exit);
        find_recoverable(folder=None) -> list[Recoverable(path, original_path, saved_at, title,
        session)], newest first; recover(item, autosaver=None) -> Document (dirty, path =
        original path; with autosaver it is re-autosaved there and the old files removed);
        discard(item)
    app.document.demo: demo_document() -> Document (resources/demo/landscape.ora or procedural)
"""

from app.document.document import Change, Document, LayerMergeError
from app.document.layers import UNLABELED, ImageLayer, LabelLayer, Layer, LayerLockedError
from app.document.painting import Stroke
from app.document.signals import Signal

__all__ = [
    "UNLABELED",
    "Change",
    "Document",
    "ImageLayer",
    "LabelLayer",
    "Layer",
    "LayerLockedError",
    "LayerMergeError",
    "Signal",
    "Stroke",
]
