"""`python -m ml data …`: render procedural scenes; train and export the default model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ml.data.looks import LOOK_NAMES


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="procedural landscape scenes and the default model")
    sub = p.add_subparsers(dest="data_command", metavar="COMMAND")
    p.set_defaults(func=lambda _args: p.print_help() or 2)

    r = sub.add_parser("render", help="write scenes as picture + label map PNGs")
    r.add_argument("--seed", type=int, default=0, help="first seed")
    r.add_argument("--n", type=int, default=1, help="how many scenes (seeds seed .. seed+n-1)")
    r.add_argument("--size", type=int, default=256, help="square size in pixels")
    r.add_argument("--look", choices=LOOK_NAMES, default=None, help="force one look")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--color", action="store_true", help="also write colour-coded label maps")
    r.set_defaults(func=_render)

    t = sub.add_parser("train-default", help="train and export the bundled landscape model")
    from ml.data.train_default import add_arguments

    add_arguments(t)
    t.set_defaults(func=_train_default)

    e = sub.add_parser("export-default", help="export the default model from its checkpoints")
    e.add_argument("--out", required=True, help="model folder to write")
    e.add_argument("--run-dir", default="", help="the training run's folder")
    e.add_argument("--device", default="cpu")
    e.add_argument("--force", action="store_true", help="replace an existing --out folder")
    e.set_defaults(func=_export_default)


def _render(args: argparse.Namespace) -> int:
    from ml.data.scene import render_scene
    from ml.images import write_image
    from ml.labels import load_label_set

    if args.n < 1:
        raise ValueError("--n must be at least 1")
    out = Path(args.out)
    labels = load_label_set("landscape")
    for seed in range(args.seed, args.seed + args.n):
        scene = render_scene(seed, args.size, args.look)
        write_image(out / f"scene-{seed:06d}.png", scene.image)
        write_image(out / f"scene-{seed:06d}_labels.png", scene.labels)
        if args.color:
            write_image(out / f"scene-{seed:06d}_color.png", labels.colorize(scene.labels))
    print(f"wrote {args.n} scene(s) to {out}")
    return 0


def _train_default(args: argparse.Namespace) -> int:
    from ml.data.train_default import run

    return run(args)


def _export_default(args: argparse.Namespace) -> int:
    from ml.data.export import export_from_run

    export_from_run(args.run_dir or None, Path(args.out), device=args.device, force=args.force)
    print(f"wrote {args.out}")
    return 0
