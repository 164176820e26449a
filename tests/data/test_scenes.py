"""Procedural scenes: deterministic per seed, valid labels, all classes, reflections, looks."""

from __future__ import annotations

import numpy as np
import pytest

from ml.data import LOOK_NAMES, render_scene
from ml.data.scene import look_of
from ml.labels import load_label_set

LABELS = load_label_set("landscape")
SIZE = 96


@pytest.fixture(scope="module")
def scenes():
    return [render_scene(seed, SIZE) for seed in range(60)]


def test_same_seed_same_scene_and_other_seed_differs():
    a, b, c = render_scene(11, SIZE), render_scene(11, SIZE), render_scene(12, SIZE)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, c.image)


def test_shapes_types_and_requested_size():
    s = render_scene(3, (80, 48))
    assert s.image.shape == (48, 80, 3) and s.image.dtype == np.uint8
    assert s.labels.shape == (48, 80) and s.labels.dtype == np.uint8


def test_labels_are_landscape_ids(scenes):
    for s in scenes:
        LABELS.validate(s.labels)
        assert s.labels.max() <= LABELS.max_id  # procedural scenes are fully labelled


def test_every_class_appears_across_seeds(scenes):
    seen = set()
    for s in scenes:
        seen |= set(np.unique(s.labels).tolist())
    assert seen == set(LABELS.ids)


def test_pictures_are_not_flat_fills(scenes):
    """Inside each region the picture has texture and shading, not one colour per class."""
    spreads = []
    for s in scenes[:20]:
        for c in np.unique(s.labels):
            m = s.labels == c
            if m.sum() > 200:
                spreads.append(s.image[m].astype(float).std(axis=0).mean())
    assert np.median(spreads) > 3.0


def test_water_reflects_what_stands_above_it():
    """Water colours correlate with the mirrored picture above the waterline."""
    corrs = []
    for seed in range(200):
        s = render_scene(seed, 96)
        water = s.labels == 7
        rows = np.where(water.any(axis=1))[0]
        if len(rows) < 12:
            continue
        line = rows[0]
        depth = min(8, line)
        if depth < 5:
            continue
        band = s.image[line : line + depth].astype(float).mean(axis=2)
        above = s.image[line - depth : line][::-1].astype(float).mean(axis=2)
        wet = water[line : line + depth]
        if wet.sum() < 120 or band[wet].std() < 2 or above[wet].std() < 2:
            continue
        corrs.append(np.corrcoef(band[wet], above[wet])[0, 1])
        if len(corrs) >= 8:
            break
    assert len(corrs) >= 4
    assert np.median(corrs) > 0.5


def test_looks_change_colours_not_layout():
    by_look = {look: render_scene(21, SIZE, look=look) for look in LOOK_NAMES}
    means = np.array([s.image.reshape(-1, 3).mean(axis=0) for s in by_look.values()])
    dists = np.linalg.norm(means[:, None] - means[None], axis=2)
    assert dists[np.triu_indices(len(LOOK_NAMES), 1)].min() > 4.0
    assert by_look["night"].image.mean() < by_look["noon"].image.mean() - 30
    sky = [np.mean(s.labels[: SIZE // 6] <= 2) for s in by_look.values()]
    assert min(sky) > 0.5  # the top of the frame stays sky, cloud or fog in every look


def test_seeds_spread_over_all_looks():
    looks = {look_of(seed) for seed in range(60)}
    assert looks == set(LOOK_NAMES)


def test_bad_size_and_look_are_refused():
    with pytest.raises(ValueError, match="too small"):
        render_scene(0, 8)
    with pytest.raises(KeyError, match="unknown look"):
        render_scene(0, SIZE, look="dusk")
