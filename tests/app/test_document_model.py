"""Document model: composite label map, layer operations, undo/redo, dirty state, signals."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import (
    UNLABELED,
    Change,
    Document,
    ImageLayer,
    LabelLayer,
    LayerLockedError,
    LayerMergeError,
)

SKY, WATER, GRASS, TREE = 0, 7, 8, 11


def two_layer_doc() -> Document:
    """Bottom layer all sky; top layer with a water square at x,y 2..5."""
    doc = Document.new(8, 6, fill=SKY)
    top = np.full((6, 8), UNLABELED, np.uint8)
    top[2:5, 2:5] = WATER
    doc.add_label_layer("Top", pixels=top)
    doc.history.clear()
    doc.mark_saved()
    return doc


def test_composite_topmost_visible_label_wins_and_hidden_layers_are_skipped():
    doc = two_layer_doc()
    comp = doc.composite_labels()
    assert comp[3, 3] == WATER and comp[0, 0] == SKY
    doc.set_visible(1, False)
    assert (doc.composite_labels() == SKY).all()
    doc.set_visible(0, False)
    assert (doc.composite_labels() == UNLABELED).all()


def test_composite_ignores_image_layers_and_gives_255_where_nothing_is_painted():
    doc = Document.new(4, 3)
    doc.add_image_layer("Photo", pixels=np.full((3, 4, 3), 90, np.uint8))
    assert (doc.composite_labels() == UNLABELED).all()
    assert doc.composite_labels((1, 1, 3, 2)).shape == (1, 2)


def test_pick_label_reads_the_composite():
    doc = two_layer_doc()
    assert doc.pick_label(3.7, 3.2) == WATER
    assert doc.pick_label(0.0, 0.0) == SKY
    with pytest.raises(ValueError, match="outside"):
        doc.pick_label(8.0, 0.0)


def test_stroke_is_one_undo_step_storing_only_the_changed_box():
    doc = two_layer_doc()
    stroke = doc.begin_stroke()
    stroke.segment(0.5, 0.5, 3.5, 0.5, 1, GRASS)
    stroke.segment(3.5, 0.5, 6.5, 0.5, 1, GRASS)
    assert stroke.finish() == (0, 0, 7, 1)
    assert len(doc.history) == 1
    command = doc.history._commands[0]
    assert command.old.shape == (1, 7) and (command.new == GRASS).all()
    assert (command.old == UNLABELED).all()
    doc.undo()
    assert doc.composite_labels()[0, 0] == SKY
    doc.redo()
    assert (doc.layer(1).pixels[0, :7] == GRASS).all()


def test_stroke_that_changes_nothing_records_nothing():
    doc = Document.new(8, 8, fill=GRASS)
    with doc.begin_stroke() as stroke:
        stroke.dab(4, 4, 3, GRASS)
    assert len(doc.history) == 0
    assert not doc.dirty


def test_dirty_clean_after_save_and_again_after_undo_back_to_saved_state():
    doc = two_layer_doc()
    seen: list[bool] = []
    doc.dirty_changed.connect(seen.append)
    with doc.begin_stroke() as s:
        s.dab(1, 1, 1, TREE)
    assert doc.dirty
    doc.undo()
    assert not doc.dirty
    doc.redo()
    doc.mark_saved()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty
    assert seen == [True, False, True, False, True, False]


def test_clearing_the_history_makes_the_document_clean_and_says_so():
    doc = two_layer_doc()
    seen: list[bool] = []
    doc.dirty_changed.connect(seen.append)
    doc.add_image_layer("Photo")
    doc.history.clear()
    assert not doc.dirty
    doc.rename_layer(0, "Sky")
    assert seen == [True, False, True]


def test_new_edit_after_undo_makes_the_saved_state_unreachable():
    doc = two_layer_doc()
    with doc.begin_stroke() as s:
        s.dab(1, 1, 1, TREE)
    doc.mark_saved()
    doc.undo()
    with doc.begin_stroke() as s:
        s.dab(6, 1, 1, GRASS)
    assert doc.dirty
    doc.undo()
    assert doc.dirty  # the saved state (with the tree) is gone from the history


def test_changed_signal_carries_layer_rect_and_composite_flag():
    doc = two_layer_doc()
    changes: list[Change] = []
    doc.changed.connect(changes.append)
    with doc.begin_stroke() as s:
        s.dab(5.5, 1.5, 1, TREE)
    assert changes == [Change("pixels", 1, (5, 1, 6, 2), composite=True)]
    changes.clear()
    doc.undo()
    assert changes == [Change("pixels", 1, (5, 1, 6, 2), composite=True)]
    changes.clear()
    doc.rename_layer(1, "Lake")
    assert changes == [Change("layer", 1, composite=False)]
    changes.clear()
    doc.add_image_layer("Photo")
    assert changes[0].kind == "layers"
    changes.clear()
    with doc.begin_stroke() as s:  # painting an image layer leaves the label composite alone
        s.dab(1, 1, 2, (255, 0, 0, 255))
    assert changes and all(not c.composite for c in changes)


def test_locked_layer_refuses_edits_with_a_clear_error():
    doc = two_layer_doc()
    doc.set_locked(1, True)
    with pytest.raises(LayerLockedError, match="'Top' is locked"):
        doc.begin_stroke()
    with pytest.raises(LayerLockedError):
        doc.replace_pixels(1, np.zeros((6, 8), np.uint8))
    with pytest.raises(LayerLockedError):
        doc.merge_down(1)
    doc.undo()  # unlock is an undo step
    assert not doc.layer(1).locked
    with doc.begin_stroke() as s:
        s.dab(0, 0, 1, TREE)


def test_add_delete_duplicate_move_are_undoable():
    doc = two_layer_doc()
    original = [layer.name for layer in doc.layers]
    i = doc.add_label_layer()
    assert doc.active_index == i == 2 and doc.layer(2).name == "Labels 2"  # names stay unique
    doc.delete_layer(0)
    assert [layer.name for layer in doc.layers] == ["Top", "Labels 2"]
    j = doc.duplicate_layer(0)
    assert doc.layer(j).name == "Top copy"
    assert np.array_equal(doc.layer(j).pixels, doc.layer(0).pixels)
    assert doc.layer(j).pixels is not doc.layer(0).pixels
    doc.move_layer(0, 2)
    assert [layer.name for layer in doc.layers] == ["Top copy", "Labels 2", "Top"]
    for _ in range(4):
        assert doc.undo()
    assert [layer.name for layer in doc.layers] == original
    assert not doc.dirty
    for _ in range(4):
        assert doc.redo()
    assert [layer.name for layer in doc.layers] == ["Top copy", "Labels 2", "Top"]


def test_strokes_undo_correctly_after_the_layer_moved():
    doc = two_layer_doc()
    with doc.begin_stroke(index=0) as s:
        s.dab(0.5, 5.5, 1, TREE)
    doc.move_layer(0, 1)
    assert doc.layer(1).pixels[5, 0] == TREE
    doc.undo()  # the move
    doc.undo()  # the stroke, on the layer now back at index 0
    assert doc.layer(0).pixels[5, 0] == SKY


def test_opacity_drag_is_one_undo_step_and_range_checked():
    doc = two_layer_doc()
    for value in (0.9, 0.7, 0.4):
        doc.set_opacity(1, value)
    assert len(doc.history) == 1
    doc.undo()
    assert doc.layer(1).opacity == 1.0
    with pytest.raises(ValueError, match="outside 0..1"):
        doc.set_opacity(1, 1.5)


def test_merge_down_label_onto_label_upper_labels_win():
    doc = two_layer_doc()
    expected = doc.composite_labels()
    index = doc.merge_down(1)
    assert index == 0 and len(doc.layers) == 1
    assert np.array_equal(doc.layer(0).pixels, expected)
    assert doc.layer(0).name == "Labels"
    doc.undo()
    assert len(doc.layers) == 2 and doc.layer(0).pixels[3, 3] == SKY


def test_merge_down_image_onto_image_is_an_alpha_composite():
    doc = Document(2, 1)
    lower = np.array([[[0, 0, 255, 255], [0, 0, 255, 255]]], np.uint8)
    upper = np.array([[[255, 0, 0, 255], [255, 0, 0, 0]]], np.uint8)
    doc.add_image_layer("Lower", lower)
    doc.add_image_layer("Upper", upper)
    doc.set_opacity(1, 0.5)
    doc.merge_down(1)
    merged = doc.layer(0).pixels
    assert tuple(merged[0, 0]) == (128, 0, 128, 255)
    assert tuple(merged[0, 1]) == (0, 0, 255, 255)


def test_merge_down_mixed_cases():
    doc = Document(3, 1)
    doc.add_image_layer("Photo", np.zeros((1, 3, 3), np.uint8))
    doc.add_label_layer("Labels", pixels=np.array([[WATER, UNLABELED, SKY]], np.uint8))
    doc.merge_down(1)  # label onto image: colours painted in
    (layer,) = doc.layers
    assert isinstance(layer, ImageLayer)
    colours = doc.label_set.lut()
    assert tuple(layer.pixels[0, 0, :3]) == tuple(colours[WATER])
    assert tuple(layer.pixels[0, 1, :3]) == (0, 0, 0)
    doc.add_label_layer("Below", index=0)
    assert isinstance(doc.layer(0), LabelLayer) and isinstance(doc.layer(1), ImageLayer)
    with pytest.raises(LayerMergeError, match="image layer 'Photo' onto label layer"):
        doc.merge_down(1)
    with pytest.raises(LayerMergeError, match="bottom layer"):
        doc.merge_down(0)


def test_merge_down_refuses_hidden_upper_layer():
    doc = two_layer_doc()
    doc.set_visible(1, False)
    with pytest.raises(LayerMergeError, match="hidden"):
        doc.merge_down(1)


def test_delete_keeps_a_sensible_active_layer():
    doc = two_layer_doc()
    doc.add_label_layer("Third")
    doc.set_active(0)
    doc.delete_layer(2)
    assert doc.active_index == 0
    doc.set_active(1)
    doc.delete_layer(1)
    assert doc.active_index == 0
    doc.delete_layer(0)
    assert doc.active_index == -1 and doc.active_layer is None
    doc.undo()
    assert doc.active_index == 0


def test_metadata_changes_are_undoable_and_validated():
    doc = two_layer_doc()
    doc.set_model("tiny")
    doc.set_style({"kind": "seed", "seed": 3})
    assert doc.model_id == "tiny" and doc.style == {"kind": "seed", "seed": 3}
    doc.undo()
    assert doc.style == {"kind": "seed", "seed": 0}
    doc.undo()
    assert doc.model_id is None and not doc.dirty
    with pytest.raises(ValueError, match="kind"):
        doc.set_style({"seed": 1})
    with pytest.raises(ValueError, match="JSON"):
        doc.set_style({"kind": "latent", "values": [object()]})
    with pytest.raises(KeyError, match="no bundled label set"):
        doc.set_label_set("nope")


def test_latent_slider_changes_are_one_step_but_seeds_are_separate():
    doc = two_layer_doc()
    doc.set_style({"kind": "latent", "values": [0.1]})
    doc.set_style({"kind": "latent", "values": [0.2]})
    doc.set_style({"kind": "seed", "seed": 5})
    doc.set_style({"kind": "seed", "seed": 6})
    assert len(doc.history) == 3


def test_replace_pixels_undoable_or_untracked_but_dirty():
    doc = Document(4, 4)
    i = doc.add_image_layer("Render", tag="render")
    doc.history.clear()
    doc.mark_saved()
    doc.replace_pixels(i, np.full((4, 4, 3), 200, np.uint8), undoable=False)
    assert doc.dirty and len(doc.history) == 0
    assert doc.layer(i).pixels[0, 0, 3] == 255
    doc.mark_saved()
    doc.replace_pixels(i, np.zeros((2, 2, 4), np.uint8), rect=(1, 1, 3, 3))
    assert doc.layer(i).pixels[1, 1, 3] == 0 and doc.layer(i).pixels[0, 0, 3] == 255
    doc.undo()
    assert doc.layer(i).pixels[1, 1, 3] == 255 and not doc.dirty
    assert doc.find_tag("render") == i
    with pytest.raises(ValueError, match="do not fit the region"):
        doc.replace_pixels(i, np.zeros((3, 3, 4), np.uint8))


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="canvas size"):
        Document(0, 10)
    doc = Document.new(4, 4)
    with pytest.raises(ValueError, match="does not fit the 4x4 canvas"):
        doc.add_image_layer("x", np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="not in the Landscape label set"):
        doc.add_label_layer("x", pixels=np.full((4, 4), 99, np.uint8))
    with pytest.raises(IndexError, match="no layer 5"):
        doc.delete_layer(5)
    with pytest.raises(ValueError, match="cannot be empty"):
        doc.rename_layer(0, "  ")


def test_history_drops_oldest_steps_beyond_its_limit():
    doc = Document.new(4, 4)
    doc.history.max_steps = 3
    for k in range(5):
        with doc.begin_stroke() as s:
            s.dab(k % 4, 0, 1, k)
    assert len(doc.history) == 3
    while doc.undo():
        pass
    assert doc.dirty  # the saved (empty) state fell off the history
    assert doc.layer(0).pixels[0, 0] == 0 and doc.layer(0).pixels[0, 1] == 1
