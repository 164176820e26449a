"""Batch commands without a window: `spadework render` and `spadework new`.

spadework render scene.ora --out picture.png [--model ID] [--seed N | --style IMG]
                 [--size WxH] [--device auto|cpu|cuda|mps] [--label-set NAME]
spadework new --labels labels.png --out scene.ora [--label-set NAME] [--model ID]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.document.document import Document
from app.document.labelmaps import document_from_label_map, read_label_map
from app.document.layers import ImageLayer
from app.document.ora import load_ora, save_ora
from ml.images import read_rgb, write_image
from ml.labels import load_label_set

if TYPE_CHECKING:
    from ml.spade.library import ModelCard
    from ml.spade.synthesizer import Style

log = logging.getLogger(__name__)


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is not WIDTHxHEIGHT, e.g. 512x384"
        ) from None
    if not (0 < w <= 8192 and 0 < h <= 8192):
        raise argparse.ArgumentTypeError(f"size {text!r} is outside 1..8192 pixels per side")
    return (w, h)


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser(
        "render",
        help="turn a document or label map into a picture",
        description="Render a .ora document (its visible label layers) or a label map PNG "
        "(colour-coded or ids) with a SPADE model and write the picture.",
    )
    render.add_argument("input", type=Path, metavar="DOC.ora|LABELS.png")
    render.add_argument("--out", type=Path, required=True, help="picture to write (.png, .jpg…)")
    render.add_argument(
        "--model", help="model id or folder (default: the document's, else the first bundled model)"
    )
    style = render.add_mutually_exclusive_group()
    style.add_argument("--seed", type=int, help="random style seed (default: the document's)")
    style.add_argument(
        "--style",
        type=Path,
        metavar="IMG",
        help="copy the style of this picture (models with a style encoder)",
    )
    render.add_argument(
        "--size", type=parse_size, metavar="WxH", help="output size (default: the label map's size)"
    )
    render.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 or mps")
    render.add_argument("--label-set", help="label set of a PNG label map (default: the model's)")
    render.set_defaults(func=run_render)

    new = subparsers.add_parser(
        "new",
        help="make a document from a label map",
        description="Create a .ora document whose one label layer is the given label map.",
    )
    new.add_argument("--labels", type=Path, required=True, metavar="LABELS.png")
    new.add_argument("--out", type=Path, required=True, metavar="DOC.ora")
    new.add_argument("--label-set", default="landscape", help="label set (default: landscape)")
    new.add_argument("--model", help="model id to record in the document")
    new.add_argument("--force", action="store_true", help="overwrite an existing output file")
    new.set_defaults(func=run_new)


def run_new(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise FileExistsError(f"{args.out} exists; pass --force to overwrite it")
    doc = document_from_label_map(args.labels, label_set=args.label_set)
    if args.model:
        doc.set_model(args.model)
    save_ora(doc, args.out)
    print(f"wrote {args.out} ({doc.width}x{doc.height}, {len(doc.labels_used())} classes)")
    return 0


def choose_model(requested: str | None) -> str:
    """The model to use: the one asked for, else the first bundled, else the first at all."""
    from ml.spade.library import list_models

    if requested:
        return requested
    cards = list_models()
    if not cards:
        raise RuntimeError(
            "no SPADE model is installed: import one (Models dialog or `python -m ml spade "
            "import`) or pass --model with a model folder"
        )
    bundled = [card for card in cards if card.bundled]
    return (bundled or cards)[0].id


def style_from_document(doc: Document, style: dict, model: str) -> Style:
    """The Synthesizer style for a document's style dict."""
    from ml.spade.library import load_style_presets
    from ml.spade.synthesizer import Style

    kind = style.get("kind")
    if kind == "seed":
        return Style(seed=int(style.get("seed", 0)))
    if kind == "latent":
        return Style(latent=np.asarray(style.get("values", []), dtype=np.float32))
    if kind == "preset":
        name = style.get("name")
        for preset in load_style_presets(model):
            if preset.name == name:
                return Style(latent=preset.latent)
        raise KeyError(f"model {model!r} has no style preset named {name!r}")
    if kind == "image":
        for layer in doc.layers:
            if isinstance(layer, ImageLayer) and layer.name == style.get("layer"):
                rgba = layer.pixels.astype(np.float32)
                alpha = rgba[..., 3:4] / 255.0
                rgb = rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)
                return Style(image=np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
        raise KeyError(f"the style image layer {style.get('layer')!r} is not in the document")
    raise ValueError(f"unknown style kind {kind!r}")


def _labels_and_style(args: argparse.Namespace, card: ModelCard) -> tuple[np.ndarray, Style]:
    from ml.spade.synthesizer import Style

    if args.input.suffix.lower() == ".ora":
        doc = load_ora(args.input)
        if doc.label_set_name != card.label_set:
            raise ValueError(
                f"{args.input.name} is painted with the {doc.label_set_name} label set, model "
                f"{card.id!r} uses {card.label_set}"
            )
        labels = doc.composite_labels()
        style = style_from_document(doc, doc.style, card.id)
    else:
        label_set = load_label_set(args.label_set or card.label_set)
        if label_set.name != card.label_set:
            raise ValueError(
                f"model {card.id!r} uses the {card.label_set} label set, not {label_set.name}"
            )
        labels = read_label_map(args.input, label_set)
        style = Style(seed=0)
    if args.seed is not None:
        style = Style(seed=args.seed)
    elif args.style is not None:
        style = Style(image=read_rgb(args.style))
    return labels, style


def run_render(args: argparse.Namespace) -> int:
    from ml.spade.synthesizer import Synthesizer

    model = args.model
    if model is None and args.input.suffix.lower() == ".ora":
        model = load_ora(args.input).model_id
    synth = Synthesizer(choose_model(model), device=args.device)
    if args.style is not None and not synth.has_encoder:
        raise ValueError(f"model {synth.card.id!r} has no style encoder; use --seed, not --style")
    labels, style = _labels_and_style(args, synth.card)
    size = args.size or (labels.shape[1], labels.shape[0])
    picture = synth.render(labels, style=style, size=size)
    write_image(args.out, picture)
    print(f"wrote {args.out} ({size[0]}x{size[1]}, model {synth.card.id})")
    return 0
