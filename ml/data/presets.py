"""Style presets of the default model: the mean style code of each look, with thumbnails.

Each preset is the mean encoder output over held-out scenes rendered in one look; its
thumbnail is the demo scene's layout rendered with that code.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
from PIL import Image

from ml.data.dataset import render_many
from ml.data.infer import encode_batch, render_batch
from ml.data.looks import LOOK_NAMES
from ml.resources import resource_path
from ml.spade.inputs import resize_nearest
from ml.spade.library import SpadeModel, StylePreset

PRESET_SEEDS = 2_000_000  # first seed of the scenes each look's code is averaged over
TITLES = {"noon": "Noon", "golden_hour": "Golden hour", "overcast": "Overcast", "night": "Night",
          "winter": "Winter", "autumn": "Autumn"}
DEMO = resource_path("demo", "landscape.ora")
THUMB_SIZE = (128, 96)


def demo_labels() -> np.ndarray | None:
    """The bundled demo scene's label layers flattened (top over bottom), or None if absent.

    Read straight from the OpenRaster zip: the engines cannot use the app's document model.
    """
    if not DEMO.is_file():
        return None
    with zipfile.ZipFile(DEMO) as zf:
        stack = ET.fromstring(zf.read("stack.xml"))
        layers = [el.get("src") for el in stack.iter("layer")]
        out = None
        for src in reversed(layers):  # stack.xml lists the top layer first
            ids = np.asarray(Image.open(io.BytesIO(zf.read(src))))
            if ids.ndim != 2:
                continue
            out = ids.copy() if out is None else np.where(ids != 255, ids, out)
    return out


def look_codes(model: SpadeModel, per_look: int = 12, size: int = 256) -> dict[str, np.ndarray]:
    """Mean style code of `per_look` held-out scenes of each look."""
    codes = {}
    for i, look in enumerate(LOOK_NAMES):
        seeds = range(PRESET_SEEDS + 1000 * i, PRESET_SEEDS + 1000 * i + per_look)
        images, _ = render_many(list(seeds), size, look=look)
        codes[look] = encode_batch(model.encoder, images).mean(axis=0)
    return codes


def thumbnail_layout(size: int) -> np.ndarray:
    """The label map thumbnails show: the demo scene squeezed to the model's square size."""
    labels = demo_labels()
    if labels is None:
        return render_many([PRESET_SEEDS - 1], size)[1][0]
    return resize_nearest(labels, (size, size)).astype(np.uint8)


def make_presets(model: SpadeModel, per_look: int = 12) -> tuple[list[StylePreset], dict]:
    """Presets in look order and their thumbnails (name -> HxWx3 uint8)."""
    cfg = model.card.config
    size = cfg.native_size[0]
    codes = look_codes(model, per_look, size)
    layout = thumbnail_layout(size)
    names = [TITLES[k] for k in LOOK_NAMES]
    latents = np.stack([codes[k] for k in LOOK_NAMES])
    renders = render_batch(model.generator, cfg, np.repeat(layout[None], len(names), 0), latents)
    thumbs = {n: np.asarray(Image.fromarray(r).resize(THUMB_SIZE, Image.LANCZOS))
              for n, r in zip(names, renders, strict=True)}
    presets = [StylePreset(name=n, latent=z) for n, z in zip(names, latents, strict=True)]
    return presets, thumbs
