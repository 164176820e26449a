"""Canvas repaint cost of one brush stroke: dirty-rectangle refresh against a full refresh.

A stroke of 40 mouse moves with a 24 px brush is painted on a 2048x2048 document with three
label layers and a photo layer, once with the canvas updating only the rectangle each move
changed (what the app does) and once recomputing the whole canvas after every move (the
baseline). Both run in this process with the same strokes, so the ratio is the figure to
read; absolute milliseconds depend on the machine and its load.

    QT_QPA_PLATFORM=offscreen python bench/canvas.py          # table
    QT_QPA_PLATFORM=offscreen python bench/canvas.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.document.document import Document  # noqa: E402
from app.ui.canvas import Canvas  # noqa: E402


def make_document(side: int) -> Document:
    rng = np.random.default_rng(0)
    doc = Document.new(side, side, "landscape", fill=0)
    doc.add_image_layer("Photo", rng.integers(0, 255, (side, side, 3), dtype=np.uint8), index=0)
    for class_id in (5, 8):
        ids = np.full((side, side), 255, np.uint8)
        ids[side // 3 :, : side // 2] = class_id
        doc.add_label_layer(pixels=ids)
    return doc


def stroke_seconds(canvas: Canvas, doc: Document, full: bool, moves: int, size: int) -> float:
    """Paint one stroke; with `full`, refresh the whole canvas after each move."""
    xs = np.linspace(100, doc.width - 100, moves + 1)
    ys = np.linspace(200, doc.height - 300, moves + 1)
    if full:
        doc.changed.disconnect(canvas._on_change)
    start = time.perf_counter()
    with doc.begin_stroke() as stroke:
        for i in range(moves):
            stroke.segment(xs[i], ys[i], xs[i + 1], ys[i + 1], size, 9)
            if full:
                canvas.refresh()
    seconds = time.perf_counter() - start
    if full:
        doc.changed.connect(canvas._on_change)
    doc.undo()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--size", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    canvas = Canvas()
    doc = make_document(args.side)
    canvas.set_document(doc)
    app.processEvents()
    stroke_seconds(canvas, doc, False, 4, args.size)  # warm-up
    dirty = min(stroke_seconds(canvas, doc, False, args.moves, args.size) for _ in range(3))
    full = min(stroke_seconds(canvas, doc, True, args.moves, args.size) for _ in range(3))
    result = {
        "document": f"{args.side}x{args.side}", "moves": args.moves, "brush": args.size,
        "dirty_rect_ms_per_move": round(dirty / args.moves * 1000, 2),
        "full_refresh_ms_per_move": round(full / args.moves * 1000, 2),
        "speedup": round(full / dirty, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:26s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
