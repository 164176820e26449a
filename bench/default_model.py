"""The bundled default landscape model against two baselines, on held-out procedural scenes.

    python bench/default_model.py            # table on stdout
    python bench/default_model.py --json     # one JSON object
    python bench/default_model.py --grid docs/images/default-model-grid.png
    python bench/default_model.py --presets-figure docs/images/default-model-presets.png

Figures (see `ml/data/evaluate.py`): `swd*` is the patch SWD between renders of held-out label
maps and held-out procedural pictures (lower is better); `fidelity*` is the share of pixels
whose rendered neighbourhood a per-class Gaussian classifier, fitted on other held-out
procedural pictures, assigns to the painted class (higher is better). `_flat` is a fill of each
class with its mean colour, `_untrained` the same network before training, `_real` the
procedural pictures themselves (floor of SWD; a reference fidelity, which renders more
typical of their class can exceed). `style_spread` is how far another style code of the
prior moves a render (mean absolute difference, 0-255).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.data.evaluate import evaluate_model, grid_figure  # noqa: E402
from ml.images import read_rgb, write_image  # noqa: E402
from ml.spade.library import load_model, load_style_presets  # noqa: E402

DEFAULT_MODEL = ROOT / "resources" / "models" / "landscape-256"
GRID_SEEDS = [1_000_100 + k for k in range(6)]


def presets_figure(model: str) -> np.ndarray:
    """The model's style preset thumbnails side by side, in the picker's order."""
    thumbs = [read_rgb(p.thumbnail) for p in load_style_presets(model) if p.thumbnail]
    if not thumbs:
        raise ValueError(f"{model} has no style presets with thumbnails")
    gap = np.full((thumbs[0].shape[0], 4, 3), 255, np.uint8)
    parts = [part for thumb in thumbs for part in (thumb, gap)]
    return np.concatenate(parts[:-1], axis=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model folder or library id")
    p.add_argument("--scenes", type=int, default=48, help="held-out scenes to score")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--grid", default="", help="also write a label/render/reference grid PNG")
    p.add_argument("--grid-only", action="store_true", help="write the grid, skip the figures")
    p.add_argument("--presets-figure", default="",
                   help="write the style presets' thumbnails side by side to this PNG and exit")
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model = load_model(args.model)
    except (KeyError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.presets_figure:
        write_image(args.presets_figure, presets_figure(args.model))
        return 0
    if args.grid:
        write_image(args.grid, grid_figure(model, GRID_SEEDS))
        if args.grid_only:
            return 0
    figures = evaluate_model(model, scenes=args.scenes)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{model.card.name}: {figures['scenes']} held-out scenes")
    print(f"{'':12}{'model':>10}{'flat':>10}{'untrained':>11}{'real':>10}")
    for key in ("swd", "fidelity"):
        print(f"{key:12}{figures[key]:10.4f}{figures[key + '_flat']:10.4f}"
              f"{figures[key + '_untrained']:11.4f}{figures[key + '_real']:10.4f}")
    print(f"style spread (0-255, another prior style code): {figures['style_spread']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
