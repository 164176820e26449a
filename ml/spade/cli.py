"""`python -m ml spade …`: import official checkpoints, render label maps, list models."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys

from ml.images import read_rgb, write_image


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)[xX](\d+)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 512x256, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def cmd_import(args: argparse.Namespace) -> int:
    from ml.spade.library import import_checkpoint

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"[{fraction * 100:3.0f}%] {message}", file=sys.stderr)

    model_id = import_checkpoint(
        args.path,
        label_set=args.labels,
        name=args.name,
        progress=progress,
        member=args.member,
        num_upsampling_layers=args.upsampling,
        crop_size=args.crop_size,
        aspect_ratio=args.aspect_ratio,
    )
    print(model_id)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ml.spade.inputs import read_instance_map, read_label_map
    from ml.spade.library import load_model, model_from_official
    from ml.spade.synthesizer import Style, Synthesizer

    source = Path(args.model).expanduser()
    if args.label_set and source.exists() and not (source / "model.json").is_file():
        model = model_from_official(source, label_set=args.label_set)
    else:
        model = load_model(args.model)
    synth = Synthesizer(model, device=args.device, precision=args.precision)
    labels = read_label_map(args.labels, synth.label_set)
    instances = read_instance_map(args.instances) if args.instances else None
    style = None
    if args.style:
        style = Style(image=read_rgb(args.style))
    elif args.seed is not None:
        style = Style(seed=args.seed)
    image = synth.render(labels, instances, style, size=args.size)
    write_image(args.out, image)
    print(args.out)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ml.spade.library import list_models

    cards = list_models()
    if args.json:
        print(json.dumps([c.to_dict() | {"bundled": c.bundled} for c in cards], indent=2))
        return 0
    if not cards:
        print("no SPADE models; import one with: python -m ml spade import latest_net_G.pth")
    for c in cards:
        w, h = c.output_size
        kind = "bundled" if c.bundled else "user"
        style = "style" if c.config.use_vae else "no style"
        print(f"{c.id}\t{c.name}\t{c.dataset}/{c.label_set}\t{w}x{h}\t{style}\t{kind}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `spade` engine parser with its subcommands."""
    spade = subparsers.add_parser("spade", help="SPADE/GauGAN: import, render, list, train")
    sub = spade.add_subparsers(dest="spade_command", metavar="COMMAND")
    spade.set_defaults(func=lambda args: spade.print_help() or 2)

    p = sub.add_parser("import", help="import an official checkpoint into the model library")
    p.add_argument(
        "path", help="latest_net_G.pth, a checkpoints/<name>/ folder or checkpoints.tar.gz"
    )
    p.add_argument("--labels", metavar="NAME", help="label set (needed for custom models)")
    p.add_argument("--name", help="display name of the new model")
    p.add_argument("--member", help="which model of an archive or folder holding several")
    p.add_argument("--upsampling", choices=["normal", "more", "most"], help="override the layout")
    p.add_argument("--crop-size", type=int, help="native output width of a custom model")
    p.add_argument("--aspect-ratio", type=float, help="native width / height of a custom model")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the new model id")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("render", help="render a label map to a picture")
    p.add_argument("--model", required=True, help="model id, model folder, or an official .pth")
    p.add_argument("--labels", required=True, help="label map PNG (ids, or colour-coded RGB)")
    p.add_argument("--instances", help="instance map PNG (any bit depth)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--style", help="reference picture whose style to use (needs an encoder)")
    group.add_argument("--seed", type=int, help="random style seed")
    p.add_argument("--size", type=_size, help="output size WxH (default: the model's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    p.add_argument("--label-set", help="label set of a custom official .pth given as --model")
    p.add_argument("--out", required=True, help="output image (.png, .jpg, …)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("models", help="list bundled and imported models")
    p.add_argument("--json", action="store_true", help="print the model cards as JSON")
    p.set_defaults(func=cmd_models)

    if importlib.util.find_spec("ml.spade.cli_train") is not None:
        importlib.import_module("ml.spade.cli_train").add_train_parsers(sub)
