"""Label and instance maps to the generator's input, with the official test-time conventions.

The official test path resizes label PNGs with PIL NEAREST to the crop size, turns 255 into
the don't-care channel (index label_nc), one-hot encodes, and appends the instance-edge
channel last. Maps are plain HxW integer arrays here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ml.spade.config import GeneratorConfig

UNLABELED = 255


class InputError(ValueError):
    """A label or instance map cannot be used; the message says why."""


def check_map(array: np.ndarray, what: str) -> np.ndarray:
    """A 2-D, non-empty integer map, or an InputError naming the problem."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"{what} must be a 2-D array of ids, got shape {array.shape}")
    if array.size == 0:
        raise InputError(f"{what} is empty")
    if array.dtype == bool:
        array = array.astype(np.int32)
    if not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"{what} must hold integer ids, not {array.dtype}")
    if array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max:
        raise InputError(f"{what} holds ids outside the 32-bit range")
    return array


def resize_nearest(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """PIL NEAREST resize of an id map to (W, H), as the official loader does (int32 out)."""
    width, height = size
    array = array.astype(np.int32, copy=False)
    if array.shape == (height, width):
        return array
    img = Image.fromarray(array, mode="I").resize((width, height), Image.NEAREST)
    return np.asarray(img, dtype=np.int32)


def instance_edges(inst: np.ndarray) -> np.ndarray:
    """1 where a pixel's id differs from its left, right, upper or lower neighbour (HxW bool)."""
    inst = np.asarray(inst)
    edge = np.zeros(inst.shape, dtype=bool)
    horiz = inst[:, 1:] != inst[:, :-1]
    edge[:, 1:] |= horiz
    edge[:, :-1] |= horiz
    vert = inst[1:, :] != inst[:-1, :]
    edge[1:, :] |= vert
    edge[:-1, :] |= vert
    return edge


def channel_indices(labels: np.ndarray, cfg: GeneratorConfig, fallback: int = 0) -> np.ndarray:
    """Label ids to one-hot channel indices: 255 to the don't-care channel (else `fallback`)."""
    labels = labels.astype(np.int64, copy=True)
    unlabeled = labels == UNLABELED
    labels[unlabeled] = cfg.label_nc if cfg.contain_dontcare else fallback
    limit = cfg.label_nc + int(cfg.contain_dontcare)
    bad = (labels < 0) | (labels >= limit)
    if bad.any():
        shown = ", ".join(str(int(v)) for v in np.unique(labels[bad])[:10])
        raise InputError(f"label ids outside the model's {cfg.label_nc} classes: {shown}")
    return labels


@dataclass
class LabelInput:
    """The generator's input at render size: channel index per pixel, instance edges or None."""

    index: np.ndarray  # HxW int64, values < label_nc (+1 with don't-care)
    edges: np.ndarray | None  # HxW bool, present iff the model has the edge channel

    @property
    def size(self) -> tuple[int, int]:
        return self.index.shape[1], self.index.shape[0]


def prepare(
    labels: np.ndarray,
    cfg: GeneratorConfig,
    size: tuple[int, int],
    instances: np.ndarray | None = None,
    fallback: int = 0,
) -> LabelInput:
    """Resize (PIL NEAREST) and convert maps for a (W, H) render.

    Without an instance map, a model that wants instance edges gets the label boundaries:
    COCO instance maps are the stuff labels with things drawn over them, so label edges
    are the part of them a painted map can know.
    """
    labels = check_map(labels, "label map")
    index = channel_indices(resize_nearest(labels, size), cfg, fallback)
    edges = None
    if not cfg.no_instance:
        if instances is None:
            source = resize_nearest(labels, size)
        else:
            instances = check_map(instances, "instance map")
            if instances.shape != labels.shape:
                raise InputError(
                    f"instance map is {instances.shape[1]}x{instances.shape[0]} but the label "
                    f"map is {labels.shape[1]}x{labels.shape[0]}"
                )
            source = resize_nearest(instances, size)
        edges = instance_edges(source)
    return LabelInput(index, edges)


def semantic_tensor(
    inp: LabelInput, cfg: GeneratorConfig, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """One-hot (1, semantic_nc, H, W) float tensor, edge channel last, as the official code."""
    height, width = inp.index.shape
    index = torch.from_numpy(inp.index).to(device)
    seg = torch.zeros(1, cfg.semantic_nc, height, width, device=device)
    seg[0].scatter_(0, index[None], 1.0)
    if inp.edges is not None:
        seg[0, -1] = torch.from_numpy(inp.edges).to(device=device, dtype=seg.dtype)
    return seg


def read_label_map(path, label_set) -> np.ndarray:
    """An id PNG (mode L/P/I: values are ids) or a colour-coded RGB label image, as HxW ids."""
    from ml.images import read_raw

    array = read_raw(path)
    if array.ndim == 3:
        return label_set.colors_to_ids(array)
    return array.astype(np.int32)


def read_instance_map(path) -> np.ndarray:
    """An instance map with its full bit depth (16-bit Cityscapes ids stay distinct)."""
    from ml.images import read_raw

    array = read_raw(path)
    if array.ndim == 3:  # colour-coded instances: each colour is one instance
        array = (
            (array[..., 0].astype(np.int32) << 16)
            | (array[..., 1].astype(np.int32) << 8)
            | array[..., 2]
        )
    return array.astype(np.int32)
