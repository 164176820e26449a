"""Many scenes at once, and a disk cache so a training run renders its data only once.

The cache key holds the seeds, the size and a hash of the renderer's source, so a changed
renderer never serves stale scenes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ml.atomic import atomic_path
from ml.data.scene import render_scene

_RENDERER_FILES = ("canvas.py", "ground.py", "looks.py", "noise.py", "plants.py", "rocks.py",
                   "scene.py", "sky.py", "terrain.py", "water.py")


def renderer_hash() -> str:
    """Short hash of the renderer's source: scenes change exactly when it changes."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _RENDERER_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


def render_many(seeds: Sequence[int], size: int = 256, look: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W, 3) uint8 and label maps (N, H, W) uint8 of the given seeds."""
    images = np.zeros((len(seeds), size, size, 3), np.uint8)
    labels = np.zeros((len(seeds), size, size), np.uint8)
    for i, seed in enumerate(seeds):
        scene = render_scene(int(seed), size, look)
        images[i], labels[i] = scene.image, scene.labels
        if progress is not None:
            progress(i + 1, len(seeds))
    return images, labels


def cached_scenes(first_seed: int, count: int, size: int, cache_dir: str | Path,
                  progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeds first_seed .. first_seed+count-1, rendered once and then read from `cache_dir`."""
    if count < 1:
        raise ValueError("need at least one scene")
    cache = Path(cache_dir) / f"scenes-{first_seed}-{count}-{size}-{renderer_hash()}.npz"
    if cache.is_file():
        with np.load(cache) as data:
            return data["images"], data["labels"]
    images, labels = render_many(range(first_seed, first_seed + count), size, progress=progress)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, images=images, labels=labels)
    return images, labels
