"""Training data: the official folder layouts, colour-coded labels, the official preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ml.images import write_image
from ml.labels import load_label_set
from ml.spade.datasets import ArrayDataset, DatasetError, PairedFolderDataset, Preprocess


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def halves(h: int, w: int, left: int, right: int) -> np.ndarray:
    lab = np.full((h, w), left, np.uint8)
    lab[:, w // 2 :] = right
    return lab


def test_plain_folder_with_id_and_colour_coded_labels(tmp_path):
    landscape = load_label_set("landscape")
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    write_image(tmp_path / "images" / "a.jpg", photo(40, 60))
    write_image(tmp_path / "labels" / "a.png", halves(40, 60, 0, 7))
    write_image(tmp_path / "images" / "b.png", photo(40, 60, 1))
    write_image(tmp_path / "labels" / "b.png", landscape.colorize(halves(40, 60, 8, 11)))
    data = PairedFolderDataset(tmp_path, crop_size=32, preprocess="fixed", flip=False,
                               label_set=landscape)
    assert len(data) == 2 and not data.has_instances
    a, b = data.sample(0, seed=0), data.sample(1, seed=0)
    assert a.image.shape == (32, 32, 3) and a.label.shape == (32, 32)
    assert set(np.unique(a.label)) == {0, 7} and set(np.unique(b.label)) == {8, 11}
    assert (b.label[:, :16] == 8).all() and (b.label[:, 16:] == 11).all()


def test_plain_folder_needs_a_photo_for_every_label(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    write_image(tmp_path / "labels" / "lonely.png", halves(8, 8, 0, 1))
    with pytest.raises(DatasetError, match="1 label map.*no photo, e.g. lonely.png"):
        PairedFolderDataset(tmp_path)
    with pytest.raises(DatasetError, match="no such folder"):
        PairedFolderDataset(tmp_path / "missing")


def test_label_ids_outside_the_set_name_the_file(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    write_image(tmp_path / "images" / "x.png", photo(8, 8))
    write_image(tmp_path / "labels" / "x.png", halves(8, 8, 0, 99))
    data = PairedFolderDataset(tmp_path, crop_size=8, preprocess="fixed",
                               label_set=load_label_set("landscape"))
    with pytest.raises(DatasetError, match=r"x\.png: label ids not in the Landscape label set: 99"):
        data.sample(0, seed=0)


def test_coco_layout_pairs_photos_labels_and_instances(tmp_path):
    for phase in ("train", "val"):
        for sub in ("img", "label", "inst"):
            (tmp_path / f"{phase}_{sub}").mkdir()
    write_image(tmp_path / "train_img" / "000000000009.jpg", photo(30, 40))
    write_image(tmp_path / "train_label" / "000000000009.png", halves(30, 40, 156, 255))
    write_image(tmp_path / "train_inst" / "000000000009.png", halves(30, 40, 3, 4))
    write_image(tmp_path / "val_img" / "000000000139.jpg", photo(30, 40))
    write_image(tmp_path / "val_label" / "000000000139.png", halves(30, 40, 0, 1))
    data = PairedFolderDataset(tmp_path, layout="coco", crop_size=32, label_set=load_label_set("coco"))
    assert len(data) == 1 and data.has_instances
    s = data.sample(0, seed=5)
    assert s.image.shape == (32, 32, 3)
    assert set(np.unique(s.label)) <= {156, 255} and set(np.unique(s.instance)) <= {3, 4}
    # The crop and flip are shared: where the label is sky, the instance id is 3.
    np.testing.assert_array_equal(s.label == 156, s.instance == 3)
    assert len(PairedFolderDataset(tmp_path, layout="coco", phase="val")) == 1


def test_ade20k_layout_splits_by_phase_and_keeps_raw_values(tmp_path):
    images = tmp_path / "ADEChallengeData2016" / "images"
    annotations = tmp_path / "ADEChallengeData2016" / "annotations"
    for name in ("ADE_train_00000001", "ADE_train_00000002", "ADE_val_00000001"):
        split = "training" if "_train_" in name else "validation"
        (images / split).mkdir(parents=True, exist_ok=True)
        (annotations / split).mkdir(parents=True, exist_ok=True)
        write_image(images / split / f"{name}.jpg", photo(20, 20))
        write_image(annotations / split / f"{name}.png", halves(20, 20, 0, 3))
    data = PairedFolderDataset(tmp_path, layout="ade20k", crop_size=16, label_set=load_label_set("ade20k"))
    assert len(data) == 2 and not data.has_instances
    assert set(np.unique(data.sample(1, seed=0).label)) <= {0, 3}  # 0 = other, 3 = sky: unshifted


def test_cityscapes_layout_reads_16_bit_instance_ids(tmp_path):
    city = "aachen_000000_000019"
    (tmp_path / "leftImg8bit" / "train" / "aachen").mkdir(parents=True)
    (tmp_path / "gtFine" / "train" / "aachen").mkdir(parents=True)
    write_image(tmp_path / "leftImg8bit" / "train" / "aachen" / f"{city}_leftImg8bit.png", photo(32, 64))
    gt = tmp_path / "gtFine" / "train" / "aachen"
    write_image(gt / f"{city}_gtFine_labelIds.png", halves(32, 64, 23, 26))
    write_image(gt / f"{city}_gtFine_color.png", photo(32, 64))
    inst = np.where(halves(32, 64, 0, 1) == 1, 26001, 23).astype(np.uint16)
    Image.fromarray(inst).save(gt / f"{city}_gtFine_instanceIds.png")
    data = PairedFolderDataset(tmp_path, layout="cityscapes", crop_size=32, aspect_ratio=2.0,
                               label_set=load_label_set("cityscapes"))
    assert len(data) == 1 and data.has_instances
    s = data.sample(0, seed=0)
    assert s.image.shape == (16, 32, 3)  # 'fixed': straight to crop_size x crop_size / aspect
    assert set(np.unique(s.instance)) == {23, 26001}


def test_resize_and_crop_is_seeded_and_flips_image_and_labels_together():
    image = np.zeros((40, 40, 3), np.uint8)
    image[:, :20] = 255
    label = halves(40, 40, 1, 2)
    data = ArrayDataset([image], [label], crop_size=32, preprocess="resize_and_crop")
    assert Preprocess(crop_size=256).load_wh(500, 300) == (286, 286)
    draws = [data.sample(0, seed) for seed in range(12)]
    again = data.sample(0, 3)
    np.testing.assert_array_equal(again.image, draws[3].image)
    assert {d.label.shape for d in draws} == {(32, 32)}
    flipped = [d for d in draws if d.label[0, 0] == 2]
    assert 0 < len(flipped) < len(draws)
    for d in draws:
        # White photo pixels sit exactly where label 1 is (nearest labels, aligned crop).
        assert set(np.unique(d.label)) <= {1, 2}
        bright = d.image[..., 0] > 127
        assert (bright == (d.label == 1)).mean() > 0.95


def test_in_memory_pairs_are_checked():
    with pytest.raises(DatasetError, match="same, non-zero number"):
        ArrayDataset([photo(8, 8)], [])
    data = ArrayDataset([photo(8, 10)], [np.zeros((8, 8), np.uint8)], crop_size=8)
    with pytest.raises(DatasetError, match="sample 0: photo is 10x8 but its label map is 8x8"):
        data.sample(0, 0)
