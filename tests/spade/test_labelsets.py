"""The bundled dataset label sets: counts, known ids, unique colours, colour round trips."""

from __future__ import annotations

import numpy as np
import pytest

from ml.images import read_raw, write_image
from ml.labels import LabelError, load_label_set

EXPECTED = {
    "coco": (182, list(range(182))),
    "ade20k": (151, list(range(151))),
    "cityscapes": (34, list(range(34))),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ids_are_exactly_the_dataset_ids(name):
    labels = load_label_set(name)
    count, ids = EXPECTED[name]
    assert len(labels.classes) == count
    assert labels.ids == ids
    assert labels.unlabeled == 255


@pytest.mark.parametrize("name", ["coco", "ade20k", "cityscapes", "landscape"])
def test_colours_names_are_unique_and_every_class_has_a_group(name):
    labels = load_label_set(name)
    colours = [c.color for c in labels.classes]
    assert len(set(colours)) == len(colours)
    names = [c.name for c in labels.classes]
    assert len(set(names)) == len(names)
    assert all(c.group and c.group != "" for c in labels.classes)


@pytest.mark.parametrize(
    ("name", "class_id", "class_name", "group"),
    [
        ("coco", 0, "person", "person"),
        ("coco", 105, "clouds", "sky"),
        ("coco", 123, "grass", "plant"),
        ("coco", 147, "river", "water"),
        ("coco", 154, "sea", "water"),
        ("coco", 156, "sky-other", "sky"),
        ("coco", 168, "tree", "plant"),
        ("coco", 181, "wood", "material"),
        ("ade20k", 0, "other", "other"),
        ("ade20k", 1, "wall", "wall"),
        ("ade20k", 3, "sky", "sky"),
        ("ade20k", 5, "tree", "plant"),
        ("ade20k", 17, "mountain", "terrain"),
        ("ade20k", 22, "water", "water"),
        ("ade20k", 150, "flag", "object"),
        ("cityscapes", 0, "unlabeled", "other"),
        ("cityscapes", 7, "road", "ground"),
        ("cityscapes", 21, "vegetation", "plant"),
        ("cityscapes", 23, "sky", "sky"),
        ("cityscapes", 26, "car", "vehicle"),
        ("cityscapes", 33, "bicycle", "vehicle"),
    ],
)
def test_known_classes_sit_at_their_dataset_ids(name, class_id, class_name, group):
    cls = load_label_set(name)[class_id]
    assert (cls.name, cls.group) == (class_name, group)


@pytest.mark.parametrize(
    ("name", "class_id", "rgb"),
    [
        ("ade20k", 1, (120, 120, 120)),  # wall, first colour of color150
        ("ade20k", 3, (6, 230, 230)),  # sky
        ("ade20k", 7, (140, 140, 140)),  # road keeps its colour; skyscraper moved off it
        ("cityscapes", 7, (128, 64, 128)),
        ("cityscapes", 23, (70, 130, 180)),
        ("cityscapes", 26, (0, 0, 142)),
        ("cityscapes", 0, (0, 0, 0)),
    ],
)
def test_official_palettes_are_kept(name, class_id, rgb):
    assert load_label_set(name)[class_id].color == rgb


@pytest.mark.parametrize("name", ["coco", "ade20k", "cityscapes"])
def test_colour_coded_png_maps_back_to_the_same_ids(name, tmp_path):
    labels = load_label_set(name)
    rng = np.random.default_rng(3)
    ids = rng.choice(np.array(labels.ids), size=(40, 56)).astype(np.int32)
    path = tmp_path / f"{name}.png"
    write_image(path, labels.colorize(ids))
    back = labels.colors_to_ids(read_raw(path))
    np.testing.assert_array_equal(back, ids)


def test_a_colour_outside_the_set_is_named():
    labels = load_label_set("cityscapes")
    rgb = labels.colorize(np.full((4, 4), 23))
    rgb[1, 2] = (1, 2, 3)
    with pytest.raises(LabelError, match="#010203"):
        labels.colors_to_ids(rgb)
