"""Procedural landscape scenes (picture + label map), deterministic per seed.

The training data of Spadework's bundled default model, in the landscape label set:
    from ml.data import render_scene
    scene = render_scene(seed=7, size=256, look="golden_hour")
    scene.image   # (256, 256, 3) uint8
    scene.labels  # (256, 256) uint8 landscape ids
CLI: `python -m ml data render --seed 0 --n 16 --size 256 --out scenes/`.
"""

from ml.data.dataset import cached_scenes, render_many, renderer_hash
from ml.data.looks import LOOK_NAMES, LOOKS, Look, get_look
from ml.data.scene import Scene, look_of, render_scene

__all__ = [
    "LOOKS",
    "LOOK_NAMES",
    "Look",
    "Scene",
    "cached_scenes",
    "get_look",
    "look_of",
    "render_many",
    "render_scene",
    "renderer_hash",
]
