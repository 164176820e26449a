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


def build_batch_parser() -> tuple[argparse.ArgumentParser, dict[str, str]]:
    """The batch commands' parser and a {name: one-line help} map of them."""
    import importlib

    parser = argparse.ArgumentParser(prog="spadework", description="Spadework batch commands.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in BATCH_COMMANDS:
        importlib.import_module(module).register(sub)
    helps = {action.dest: action.help or "" for action in sub._choices_actions}
    return parser, helps


def build_parser(batch_helps: dict[str, str]) -> argparse.ArgumentParser:
    commands = "".join(f"\n  {name:<10} {text}" for name, text in batch_helps.items())
    parser = argparse.ArgumentParser(
        prog="spadework",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Paint with semantic brushes and turn the painting into a picture (SPADE), "
        "or learn a generative model from one photo (SinGAN).",
        epilog=f"batch commands (spadework COMMAND --help):{commands}\n\n"
        "User data (settings, models, autosave, logs) lives under $SPADEWORK_HOME when set.",
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.logs import setup_logging

    setup_logging()
    batch_parser, batch_helps = build_batch_parser()
    if argv and argv[0] in batch_helps:
        args = batch_parser.parse_args(argv)
        try:
            return int(args.func(args) or 0)
        except (ValueError, OSError, KeyError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    args = build_parser(batch_helps).parse_args(argv)
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
