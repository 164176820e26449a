"""`python -m ml`: the engines' command line, one subcommand per engine."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module exposes `register(subparsers)`, adding its parser with `func` set as default.
ENGINE_CLIS: tuple[str, ...] = ("ml.spade.cli", "ml.singan.cli", "ml.data.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml",
        description="Spadework's engines without the GUI: SPADE/GauGAN, SinGAN and the procedural training data.",
    )
    sub = parser.add_subparsers(dest="engine", metavar="ENGINE")
    for module in ENGINE_CLIS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        # Engines raise these with one-line messages meant for the user.
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
