"""Training pairs (photo + label map [+ instance map]) with the official SPADE preprocessing.

Layouts of `PairedFolderDataset(root, layout=...)`:
    plain       root/images/*.jpg|png…, root/labels/*.png [, root/instances/*.png]; paired by
                file stem. Labels are id PNGs, or colour-coded RGB PNGs of the label set.
    coco        root/{phase}_img, {phase}_label, {phase}_inst [+ the *_portrait folders]
    ade20k      ADEChallengeData2016 (searched recursively): *_{phase}_*.jpg and .png by stem
    cityscapes  root/leftImg8bit/{phase}/**.png and root/gtFine/{phase}/**_labelIds.png,
                **_instanceIds.png, paired by "city_seq_frame"
`ArrayDataset(images, labels)` holds generated pairs in memory.

Preprocessing (`Preprocess`), as the official options name it: photos resize bicubic and label
and instance maps with PIL's NEAREST (pixel centres), then a random crop and a random
horizontal flip:
    resize_and_crop       resize to load size, random crop of the output size (coco, ade20k,
                          plain; load size = 286/256 of the crop size unless given)
    scale_width_and_crop  width to the load size keeping the aspect, random crop
    fixed                 resize straight to the output size, no crop (cityscapes, generated)
The output size is the generator's native size: crop_size x round(crop_size / aspect_ratio).
Every random choice comes from a seed passed in per draw, so a run's data order and
augmentation are reproducible and resumable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ml.images import read_raw, read_rgb
from ml.labels import LabelError, LabelSet

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
LAYOUTS = ("plain", "coco", "ade20k", "cityscapes")
MODES = ("resize_and_crop", "scale_width_and_crop", "fixed")
DEFAULT_MODE = {"plain": "resize_and_crop", "coco": "resize_and_crop",
                "ade20k": "resize_and_crop", "cityscapes": "fixed"}


class DatasetError(ValueError):
    """A training folder that cannot be used; the message says what is wrong and where."""


@dataclass
class Sample:
    """One preprocessed pair: image HxWx3 uint8, label HxW int64, instance HxW int64 or None."""

    image: np.ndarray
    label: np.ndarray
    instance: np.ndarray | None


@dataclass(frozen=True)
class Preprocess:
    """How raw pairs become training crops (see the module docstring)."""

    crop_size: int = 256
    aspect_ratio: float = 1.0
    mode: str = "resize_and_crop"
    load_size: int | None = None
    flip: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"preprocess mode must be one of {', '.join(MODES)}, not {self.mode!r}")

    @property
    def out_size(self) -> tuple[int, int]:
        """(W, H) of every training sample."""
        return self.crop_size, round(self.crop_size / self.aspect_ratio)

    def load_wh(self, w: int, h: int) -> tuple[int, int]:
        """(W, H) the raw pair is resized to before cropping."""
        out_w, out_h = self.out_size
        load = self.load_size or round(self.crop_size * 286 / 256)
        if self.mode == "fixed":
            return out_w, out_h
        if self.mode == "resize_and_crop":
            return load, max(out_h, round(load / self.aspect_ratio))
        return load, max(out_h, load * h // w)

    def apply(
        self,
        image: np.ndarray,
        label: np.ndarray,
        instance: np.ndarray | None,
        rng: np.random.Generator,
    ) -> Sample:
        h, w = label.shape
        if image.shape[:2] != (h, w):
            raise DatasetError(
                f"photo is {image.shape[1]}x{image.shape[0]} but its label map is {w}x{h}"
            )
        load_w, load_h = self.load_wh(w, h)
        out_w, out_h = self.out_size
        x = int(rng.integers(0, max(0, load_w - out_w) + 1))
        y = int(rng.integers(0, max(0, load_h - out_h) + 1))
        flip = self.flip and bool(rng.random() > 0.5)
        box = (x, y, x + out_w, y + out_h)

        def prep(arr: np.ndarray, method: int) -> np.ndarray:
            img = Image.fromarray(arr)
            if img.size != (load_w, load_h):
                img = img.resize((load_w, load_h), method)
            if box != (0, 0, load_w, load_h):
                img = img.crop(box)
            if flip:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            return np.asarray(img)

        out_img = prep(np.ascontiguousarray(image, dtype=np.uint8), Image.Resampling.BICUBIC)
        out_lab = prep(label.astype(np.int32), Image.Resampling.NEAREST).astype(np.int64)
        out_inst = None
        if instance is not None:
            out_inst = prep(instance.astype(np.int32), Image.Resampling.NEAREST).astype(np.int64)
        return Sample(out_img.copy(), out_lab, out_inst)


class PairDataset:
    """Common part: raw pairs by index, checked against the label set, then preprocessed."""

    preprocess: Preprocess
    label_set: LabelSet | None

    def __len__(self) -> int:
        raise NotImplementedError

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(image HxWx3 uint8, label HxW ints, instance HxW ints or None) before preprocessing."""
        raise NotImplementedError

    def describe(self, index: int) -> str:
        return f"sample {index}"

    @property
    def has_instances(self) -> bool:
        raise NotImplementedError

    def sample(self, index: int, seed: int) -> Sample:
        image, label, instance = self.raw(index)
        if self.label_set is not None:
            try:
                self.label_set.validate(label)
            except LabelError as exc:
                raise DatasetError(f"{self.describe(index)}: {exc}") from None
        try:
            return self.preprocess.apply(image, label, instance, np.random.default_rng(seed))
        except DatasetError as exc:
            raise DatasetError(f"{self.describe(index)}: {exc}") from None


class ArrayDataset(PairDataset):
    """In-memory pairs, e.g. generated scenes: images HxWx3 uint8, labels HxW ids."""

    def __init__(
        self,
        images: Sequence[np.ndarray] | np.ndarray,
        labels: Sequence[np.ndarray] | np.ndarray,
        instances: Sequence[np.ndarray] | np.ndarray | None = None,
        crop_size: int = 256,
        aspect_ratio: float = 1.0,
        preprocess: str = "fixed",
        load_size: int | None = None,
        flip: bool = True,
        label_set: LabelSet | None = None,
    ) -> None:
        if len(images) != len(labels) or len(images) == 0:
            raise DatasetError(
                f"need the same, non-zero number of images and labels ({len(images)} vs {len(labels)})"
            )
        if instances is not None and len(instances) != len(images):
            raise DatasetError("need one instance map per image")
        for i, (img, lab) in enumerate(zip(images, labels, strict=True)):
            if np.ndim(img) != 3 or np.shape(img)[2] != 3 or np.ndim(lab) != 2:
                raise DatasetError(f"sample {i}: expected an HxWx3 image and an HxW label map")
        self.images = images
        self.labels = labels
        self.instances = instances
        self.label_set = label_set
        self.preprocess = Preprocess(crop_size, aspect_ratio, preprocess, load_size, flip)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def has_instances(self) -> bool:
        return self.instances is not None

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        inst = None if self.instances is None else np.asarray(self.instances[index])
        return np.asarray(self.images[index]), np.asarray(self.labels[index]), inst


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def _files(folder: Path, recursive: bool = False, suffixes=IMAGE_SUFFIXES) -> list[Path]:
    if not folder.is_dir():
        return []
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        (p for p in found if p.is_file() and p.suffix.lower() in suffixes), key=_natural_key
    )


def _pair(
    labels: list[Path], images: list[Path], key, what: str, root: Path
) -> list[tuple[Path, Path]]:
    by_key = {key(p): p for p in images}
    pairs, unmatched = [], []
    for lab in labels:
        img = by_key.get(key(lab))
        if img is None:
            unmatched.append(lab)
        else:
            pairs.append((img, lab))
    if unmatched:
        raise DatasetError(
            f"{root}: {len(unmatched)} {what}label map(s) have no photo, e.g. {unmatched[0].name}"
        )
    return pairs


def find_pairs(root: Path, layout: str, phase: str = "train") -> list[tuple[Path, Path, Path | None]]:
    """(photo, label, instance or None) paths of a dataset folder, in natural order."""
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown dataset layout {layout!r}: use {', '.join(LAYOUTS)}")
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder")
    stem = lambda p: p.stem  # noqa: E731
    instances: dict[str, Path] = {}
    if layout == "plain":
        images, labels = _files(root / "images"), _files(root / "labels")
        if not labels:
            raise DatasetError(f"{root}: expected label maps in {root / 'labels'}")
        pairs = _pair(labels, images, stem, "", root)
        instances = {p.stem: p for p in _files(root / "instances")}
        key = stem
    elif layout == "coco":
        images, labels, insts = [], [], []
        for suffix in ("", "_portrait"):
            images += _files(root / f"{phase}_img{suffix}")
            labels += _files(root / f"{phase}_label{suffix}")
            insts += _files(root / f"{phase}_inst{suffix}")
        if not labels:
            raise DatasetError(f"{root}: expected COCO-Stuff label maps in {root / (phase + '_label')}")
        pairs = _pair(labels, images, stem, "COCO-Stuff ", root)
        instances = {p.stem: p for p in insts}
        key = stem
    elif layout == "ade20k":
        tag = f"_{'val' if phase == 'val' else 'train'}_"
        found = [p for p in _files(root, recursive=True) if tag in p.name]
        images = [p for p in found if p.suffix.lower() == ".jpg"]
        labels = [p for p in found if p.suffix.lower() == ".png"]
        if not labels:
            raise DatasetError(f"{root}: no ADE20K label maps named *{tag}*.png found")
        pairs = _pair(labels, images, stem, "ADE20K ", root)
        key = stem
    else:
        def key(p: Path) -> str:
            return "_".join(p.name.split("_")[:3])

        gt = _files(root / "gtFine" / phase, recursive=True)
        labels = [p for p in gt if p.name.endswith("_labelIds.png")]
        images = _files(root / "leftImg8bit" / phase, recursive=True)
        if not labels:
            raise DatasetError(f"{root}: no Cityscapes *_labelIds.png in {root / 'gtFine' / phase}")
        pairs = _pair(labels, images, key, "Cityscapes ", root)
        instances = {key(p): p for p in gt if p.name.endswith("_instanceIds.png")}
    return [(img, lab, instances.get(key(lab))) for img, lab in pairs]


class PairedFolderDataset(PairDataset):
    """Photo/label pairs on disk in one of the official layouts or a plain images/labels pair."""

    def __init__(
        self,
        root: str | os.PathLike,
        layout: str = "plain",
        crop_size: int = 256,
        aspect_ratio: float = 1.0,
        preprocess: str | None = None,
        load_size: int | None = None,
        flip: bool = True,
        label_set: LabelSet | None = None,
        phase: str = "train",
        use_instances: bool = True,
    ) -> None:
        self.root = Path(root)
        self.layout = layout
        self.pairs = find_pairs(self.root, layout, phase)
        if not self.pairs:
            raise DatasetError(f"{self.root}: no photo/label pairs found")
        with_inst = [p for p in self.pairs if p[2] is not None]
        if use_instances and with_inst and len(with_inst) != len(self.pairs):
            raise DatasetError(
                f"{self.root}: only {len(with_inst)} of {len(self.pairs)} pairs have an instance map"
            )
        self._instances = use_instances and bool(with_inst)
        self.label_set = label_set
        mode = preprocess or DEFAULT_MODE[layout]
        self.preprocess = Preprocess(crop_size, aspect_ratio, mode, load_size, flip)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def has_instances(self) -> bool:
        return self._instances

    def describe(self, index: int) -> str:
        return str(self.pairs[index][1])

    def raw(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        img_path, lab_path, inst_path = self.pairs[index]
        image = read_rgb(img_path)
        label = read_raw(lab_path)
        if label.ndim == 3:
            if self.label_set is None:
                raise DatasetError(f"{lab_path}: a colour-coded label map needs a label set")
            try:
                label = self.label_set.colors_to_ids(label)
            except LabelError as exc:
                raise DatasetError(f"{lab_path}: {exc}") from None
        instance = None
        if self._instances and inst_path is not None:
            instance = read_raw(inst_path)
            if instance.ndim == 3:
                instance = (instance[..., 0].astype(np.int32) << 16) | (
                    instance[..., 1].astype(np.int32) << 8
                ) | instance[..., 2]
        return image, label, instance
