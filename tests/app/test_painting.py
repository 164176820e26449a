"""Painting primitives: exact ids (no antialiasing), brush geometry, continuity, shapes, fill."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.document import UNLABELED, Document, LayerLockedError
from app.document import painting as P

SKY, WATER, GRASS, TREE = 0, 7, 8, 11


def blank(w: int = 32, h: int = 24) -> np.ndarray:
    return np.full((h, w), UNLABELED, np.uint8)


def test_dab_sizes_and_shapes():
    for size, count in [(1, 1), (2, 4), (3, 9), (4, 12), (5, 21)]:
        t = blank()
        rect = P.dab(t, 10.3, 10.6, size, GRASS)
        assert (t == GRASS).sum() == count, size
        assert (rect[2] - rect[0], rect[3] - rect[1]) == ((size, size) if size != 5 else (5, 5))
    t = blank()
    assert P.dab(t, 10.3, 10.6, 4, GRASS, shape="square") == (8, 9, 12, 13)
    assert (t == GRASS).sum() == 16


def test_one_pixel_dab_hits_the_pixel_under_the_point():
    t = blank()
    assert P.dab(t, 5.99, 3.01, 1, TREE) == (5, 3, 6, 4)
    assert t[3, 5] == TREE


def test_dab_at_the_border_is_clipped_and_off_canvas_is_none():
    t = blank(8, 8)
    assert P.dab(t, 0, 0, 5, GRASS) == (0, 0, 3, 3)
    assert P.dab(t, -20, -20, 5, GRASS) is None


def test_bad_brush_arguments():
    with pytest.raises(ValueError, match="at least 1"):
        P.dab(blank(), 1, 1, 0, GRASS)
    with pytest.raises(ValueError, match="unknown brush shape"):
        P.dab(blank(), 1, 1, 3, GRASS, shape="star")


def connected_8(mask: np.ndarray) -> bool:
    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return count == 2  # background + one component


@settings(max_examples=60, deadline=None)
@given(
    x0=st.floats(0, 63.9),
    y0=st.floats(0, 47.9),
    x1=st.floats(0, 63.9),
    y1=st.floats(0, 47.9),
    size=st.integers(1, 6),
    shape=st.sampled_from(P.SHAPES),
)
def test_segment_is_continuous_and_covers_both_end_dabs(x0, y0, x1, y1, size, shape):
    t = blank(64, 48)
    P.segment(t, x0, y0, x1, y1, size, GRASS, shape)
    painted = t == GRASS
    assert connected_8(painted)
    for x, y in ((x0, y0), (x1, y1)):
        end = blank(64, 48)
        P.dab(end, x, y, size, GRASS, shape)
        assert painted[end == GRASS].all()


label_values = st.sampled_from([0, 3, 7, 8, 11, 14, UNLABELED])
coords = st.floats(-10, 50)


@st.composite
def operations(draw):
    kind = draw(st.sampled_from(["dab", "segment", "line", "rect", "ellipse", "fill"]))
    value = draw(label_values)
    pts = [draw(coords) for _ in range(4)]
    return kind, value, pts, draw(st.integers(1, 7)), draw(st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prior=label_values, ops=st.lists(operations(), min_size=1, max_size=6))
def test_painted_layers_hold_only_painted_ids_and_prior_values(prior, ops):
    doc = Document.new(40, 30, fill=None if prior == UNLABELED else prior)
    stroke = doc.begin_stroke()
    allowed = {prior}
    for kind, value, (a, b, c, d), size, filled in ops:
        allowed.add(value)
        if kind == "dab":
            stroke.dab(a, b, size, value)
        elif kind == "segment":
            stroke.segment(a, b, c, d, size, value, "square" if filled else "round")
        elif kind == "line":
            stroke.line(a, b, c, d, value, line_width=size)
        elif kind == "rect":
            stroke.rectangle(a, b, c, d, value, filled=filled, line_width=size)
        elif kind == "ellipse":
            stroke.ellipse(a, b, c, d, value, filled=filled, line_width=size)
        else:
            stroke.fill(a, b, value)
    stroke.finish()
    assert set(np.unique(doc.layer(0).pixels).tolist()) <= allowed
    while doc.undo():
        pass
    assert set(np.unique(doc.layer(0).pixels).tolist()) == {prior}


def test_rectangle_outline_and_filled():
    t = blank(12, 10)
    assert P.rectangle(t, 2.5, 1.5, 8.2, 6.9, WATER) == (2, 1, 9, 7)
    box = t[1:7, 2:9] == WATER
    assert box[0].all() and box[-1].all() and box[:, 0].all() and box[:, -1].all()
    assert not box[1:-1, 1:-1].any()
    t2 = blank(12, 10)
    P.rectangle(t2, 8, 6, 2, 1, WATER, filled=True)  # corners in any order
    assert (t2[1:7, 2:9] == WATER).all() and (t2 == WATER).sum() == 42
    t3 = blank(12, 10)
    P.rectangle(t3, 0, 0, 11, 9, WATER, line_width=2)
    assert (t3 == WATER).sum() == 12 * 10 - 8 * 6


def test_ellipse_is_inscribed_in_its_box_and_outline_is_closed():
    t = blank(40, 30)
    rect = P.ellipse(t, 5, 4, 30, 20, TREE, filled=True)
    assert rect == (5, 4, 31, 21)
    assert t[12, 17] == TREE and t[4, 5] == UNLABELED
    outline = blank(40, 30)
    P.ellipse(outline, 5, 4, 30, 20, TREE)
    ring = outline == TREE
    assert connected_8(ring)
    inside = blank(40, 30)
    P.flood_fill(inside, 17, 12, GRASS, sample=outline)
    assert (inside == GRASS).sum() < (t == TREE).sum()  # the outline encloses its inside


def test_flood_fill_is_4_connected():
    t = blank(5, 5)
    t[:, 2] = WATER
    t[2, 2] = UNLABELED  # a gap in the wall: the fill passes through it
    t[0, 0] = t[1, 1] = GRASS  # (0, 1) now touches the fill only diagonally
    rect = P.flood_fill(t, 4, 4, TREE)
    assert t[0, 4] == TREE and t[4, 0] == TREE and t[1, 0] == TREE
    assert t[0, 1] == UNLABELED
    assert t[0, 0] == GRASS and (t[[0, 1, 3, 4], 2] == WATER).all()
    assert rect == (0, 0, 5, 5)


def test_fill_samples_composite_by_default_and_layer_on_request():
    doc = Document.new(6, 4, fill=SKY)
    top = np.full((4, 6), UNLABELED, np.uint8)
    top[:, 3] = WATER  # a river splits the sky as seen in the composite
    doc.add_label_layer("River", pixels=top)
    with doc.begin_stroke(index=0) as s:
        assert s.fill(0, 0, GRASS) == (0, 0, 3, 4)
    assert (doc.layer(0).pixels[:, :3] == GRASS).all()
    assert (doc.layer(0).pixels[:, 4:] == SKY).all()
    with doc.begin_stroke(index=1) as s:
        assert s.fill(0, 0, TREE, sample="layer") == (0, 0, 3, 4)  # empty part of the top
    assert (doc.layer(1).pixels[:, :3] == TREE).all()
    with pytest.raises(ValueError, match="samples"), doc.begin_stroke() as s:
        s.fill(0, 0, TREE, sample="nope")


def test_eraser_and_eyedropper():
    doc = Document.new(6, 4, fill=GRASS)
    with doc.begin_stroke("Eraser") as s:
        s.dab(1, 1, 1, None)
        s.dab(3, 1, 1, s.erase_value)
    assert doc.pick_label(1, 1) == UNLABELED == doc.pick_label(3, 1)
    assert doc.pick_label(2, 1) == GRASS
    assert doc.history.undo_label == "Eraser"


def test_image_layer_painting_with_rgba_and_erase():
    doc = Document(8, 8)
    doc.add_image_layer("Paint")
    with doc.begin_stroke() as s:
        s.dab(4, 4, 3, (10, 20, 30))
        s.dab(4, 4, 1, None)
    px = doc.layer(0).pixels
    assert tuple(px[3, 3]) == (10, 20, 30, 255)
    assert tuple(px[4, 4]) == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="RGBA"), doc.begin_stroke() as s:
        s.dab(1, 1, 1, (1, 2))


def test_wrong_values_and_finished_strokes_are_refused():
    doc = Document.new(4, 4)
    s = doc.begin_stroke()
    with pytest.raises(ValueError, match="99 is not a class"):
        s.dab(1, 1, 1, 99)
    with pytest.raises(ValueError, match="class id"):
        s.dab(1, 1, 1, (1, 2, 3))
    s.finish()
    with pytest.raises(RuntimeError, match="already finished"):
        s.dab(1, 1, 1, GRASS)


def test_cancel_restores_pixels_and_records_nothing():
    doc = Document.new(100, 80, fill=SKY)
    s = doc.begin_stroke()
    s.segment(0, 0, 99, 79, 9, TREE)
    s.cancel()
    assert (doc.layer(0).pixels == SKY).all() and len(doc.history) == 0


def test_locking_mid_stroke_stops_further_painting():
    doc = Document.new(4, 4)
    s = doc.begin_stroke()
    s.dab(0, 0, 1, GRASS)
    doc.set_locked(0, True)
    with pytest.raises(LayerLockedError):
        s.dab(1, 1, 1, GRASS)


def test_long_stroke_diff_matches_a_full_copy_comparison():
    rng = np.random.default_rng(1)
    doc = Document.new(300, 200, fill=SKY)
    before = doc.layer(0).pixels.copy()
    s = doc.begin_stroke()
    pts = rng.uniform(0, [300, 200], size=(30, 2))
    for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
        s.segment(ax, ay, bx, by, int(rng.integers(1, 12)), GRASS)
    rect = s.finish()
    changed = np.argwhere(before != doc.layer(0).pixels)
    (y0, x0), (y1, x1) = changed.min(0), changed.max(0) + 1
    assert rect == (x0, y0, x1, y1)
    doc.undo()
    assert np.array_equal(doc.layer(0).pixels, before)
