"""Label sets: the classes a model knows, with id, name, colour and palette group.

Sets live in `resources/labels/<name>.json`:
    {"name": ..., "title": ..., "unlabeled": 255 or null, "classes": [
        {"id": 0, "name": "sky", "color": "#87ceeb", "group": "sky"}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from ml.resources import resource_path

LABELS_DIR = resource_path("labels")


class LabelError(ValueError):
    """A label map does not fit its label set; the message names the offending values."""


@dataclass(frozen=True)
class LabelClass:
    id: int
    name: str
    color: tuple[int, int, int]
    group: str


@dataclass(frozen=True)
class LabelSet:
    name: str
    title: str
    classes: tuple[LabelClass, ...]
    unlabeled: int | None = None
    _by_id: dict[int, LabelClass] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({c.id: c for c in self.classes})

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.classes]

    @property
    def max_id(self) -> int:
        return max(self.ids)

    def __getitem__(self, class_id: int) -> LabelClass:
        return self._by_id[class_id]

    def __contains__(self, class_id: int) -> bool:
        return class_id in self._by_id

    def by_name(self, name: str) -> LabelClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no class named {name!r}")

    def groups(self) -> dict[str, list[LabelClass]]:
        """Classes by palette group, in order of first appearance."""
        out: dict[str, list[LabelClass]] = {}
        for c in self.classes:
            out.setdefault(c.group, []).append(c)
        return out

    def lut(self) -> np.ndarray:
        """256x3 (or larger) uint8 colour table indexed by id; unknown ids are black."""
        size = max(256, self.max_id + 1)
        table = np.zeros((size, 3), dtype=np.uint8)
        for c in self.classes:
            table[c.id] = c.color
        return table

    def colorize(self, ids: np.ndarray) -> np.ndarray:
        """HxW ids to HxWx3 colours (the colour-coded label image)."""
        return self.lut()[np.asarray(ids, dtype=np.int64)]

    def validate(self, ids: np.ndarray) -> None:
        """Raise LabelError naming the ids that are not classes of this set."""
        present = np.unique(np.asarray(ids))
        allowed = set(self.ids) | ({self.unlabeled} if self.unlabeled is not None else set())
        bad = [int(v) for v in present if int(v) not in allowed]
        if bad:
            shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
            raise LabelError(f"label ids not in the {self.title} label set: {shown}")

    def colors_to_ids(self, rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """Exact colour match of a colour-coded label image; unknown colours are named.

        With `alpha`, fully transparent pixels are "no label" (the set's `unlabeled` id).
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] < 3:
            raise LabelError("a colour-coded label image must be RGB")
        if alpha is not None and (np.asarray(alpha) == 0).any():
            if self.unlabeled is None:
                raise LabelError(f"transparent pixels, but the {self.title} set has no 'no label'")
            opaque = np.asarray(alpha) > 0
            ids = np.full(rgb.shape[:2], self.unlabeled, np.int32)
            if opaque.any():
                ids[opaque] = self.colors_to_ids(rgb[opaque][None])[0]
            return ids
        packed = _pack(rgb[..., :3])
        colours = {(_pack(np.array(c.color, dtype=np.uint8))).item(): c.id for c in self.classes}
        uniq, inverse = np.unique(packed, return_inverse=True)
        unknown = [int(u) for u in uniq if int(u) not in colours]
        if unknown:
            names = ", ".join(_hex(u) for u in unknown[:10]) + (" …" if len(unknown) > 10 else "")
            raise LabelError(
                f"{len(unknown)} colour(s) match no class of the {self.title} label set: {names}"
            )
        lookup = np.array([colours[int(u)] for u in uniq], dtype=np.int32)
        return lookup[inverse.reshape(packed.shape)]


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _hex(packed: int) -> str:
    return f"#{packed:06x}"


def parse_color(value: str | list[int]) -> tuple[int, int, int]:
    if isinstance(value, str):
        value = value.lstrip("#")
        if len(value) != 6:
            raise ValueError(f"bad colour {value!r}")
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    r, g, b = value
    return (int(r), int(g), int(b))


def label_set_from_dict(data: dict) -> LabelSet:
    classes = tuple(
        LabelClass(int(c["id"]), str(c["name"]), parse_color(c["color"]), str(c.get("group", "other")))
        for c in data["classes"]
    )
    ids = [c.id for c in classes]
    if len(set(ids)) != len(ids):
        raise ValueError(f"label set {data.get('name')!r} repeats class ids")
    return LabelSet(
        name=str(data["name"]),
        title=str(data.get("title", data["name"])),
        classes=classes,
        unlabeled=data.get("unlabeled"),
    )


def read_label_set(path: str | Path) -> LabelSet:
    return label_set_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@cache
def load_label_set(name: str) -> LabelSet:
    """A bundled label set by name (landscape, coco, ade20k, cityscapes)."""
    path = LABELS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in LABELS_DIR.glob("*.json")))
        raise KeyError(f"no bundled label set {name!r} (known: {known})")
    return read_label_set(path)


def available_label_sets() -> list[str]:
    return sorted(p.stem for p in LABELS_DIR.glob("*.json"))
