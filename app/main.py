"""Entry point of `spadework` / `python -m app`: the GUI, screenshots, and batch commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from app import __version__

log = logging.getLogger(__name__)

# Batch subcommands run without a window; each module exposes `register(subparsers)`.
BATCH_COMMANDS: tuple[str, ...] = ("app.batch",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spadework",
        description="Paint with semantic brushes and turn the painting into a picture (SPADE), "
        "or learn a generative model from one photo (SinGAN).",
        epilog="User data (settings, models, autosave, logs) lives under $SPADEWORK_HOME when set.",
    )
    parser.add_argument("--version", action="version", version=f"Spadework {__version__}")
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        type=Path,
        help="open the window, wait for the first render, save a PNG of it to PATH and exit",
    )
    parser.add_argument("file", nargs="?", type=Path, help="document (.ora) or image to open")
    return parser


def build_batch_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="spadework", description="Spadework batch commands.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in BATCH_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def _batch_names() -> set[str]:
    if not BATCH_COMMANDS:
        return set()
    return set(build_batch_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.logs import setup_logging

    setup_logging()
    if argv and not argv[0].startswith("-") and argv[0] in _batch_names():
        args = build_batch_parser().parse_args(argv)
        try:
            return int(args.func(args) or 0)
        except (ValueError, OSError, KeyError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    args = build_parser().parse_args(argv)
    return run_gui(args.file, args.screenshot)


def run_gui(document: Path | None, screenshot: Path | None) -> int:
    """Start Qt, show the main window; with `screenshot`, save it once ready and quit."""
    if screenshot is not None and not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.ui.application import create_application, take_screenshot
    from app.ui.main_window import MainWindow

    qapp = create_application()
    window = MainWindow(document, session=screenshot is None)
    window.show()
    if screenshot is not None:
        return take_screenshot(qapp, window, screenshot)
    return qapp.exec()


if __name__ == "__main__":
    sys.exit(main())
