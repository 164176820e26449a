"""Painting with the synthesis worker: picture latency and UI-thread freedom against a naive loop.

A stroke of `--dabs` brush dabs (one every `--interval-ms`, like mouse moves) is painted on the
label map of a random SPADE model. Two ways of showing the picture are compared in this
process with the same strokes:
- worker: `SynthesisController` (latest request wins, merged dirty rectangles, throttled);
- naive:  every dab rendered in turn on the UI thread, as a synchronous editor would.
Read the ratios: how much sooner the picture of the final labels appears, and the longest
stall of a 5 ms UI timer (the naive loop stalls it for a whole render). Absolute times depend
on the machine and its load.

    QT_QPA_PLATFORM=offscreen python bench/ui_synthesis.py            # table
    QT_QPA_PLATFORM=offscreen python bench/ui_synthesis.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SPADEWORK_HOME"] = tempfile.mkdtemp(prefix="spadework-bench-")

import torch  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.ui.synthesis import SynthesisController  # noqa: E402
from ml.labels import load_label_set  # noqa: E402
from ml.spade.config import GeneratorConfig  # noqa: E402
from ml.spade.library import ModelCard, save_model  # noqa: E402
from ml.spade.networks import SPADEGenerator  # noqa: E402
from ml.spade.synthesizer import Style, Synthesizer  # noqa: E402
from ml.userdirs import models_dir  # noqa: E402

LANDSCAPE = load_label_set("landscape")
MODEL_ID = "ui-synthesis-bench"  # not "bench": a folder of that name in the cwd would win


def make_model(crop: int, ngf: int) -> str:
    torch.manual_seed(0)
    cfg = GeneratorConfig(len(LANDSCAPE.classes), True, True, ngf=ngf, crop_size=crop,
                          use_vae=True, z_dim=64)
    card = ModelCard(MODEL_ID, "bench", "landscape", "landscape", cfg, licence="MIT")
    save_model(models_dir() / "spade" / MODEL_ID, card, SPADEGenerator(cfg).eval().state_dict())
    return MODEL_ID


def stroke(side: int, dabs: int) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Label maps after each dab of a diagonal water stroke, with each dab's rectangle."""
    labels = np.full((side, side), LANDSCAPE.by_name("grass").id, np.uint8)
    labels[: side // 3] = LANDSCAPE.by_name("sky").id
    out, radius = [], max(2, side // 24)
    for i in range(dabs):
        cx = int(side * (0.1 + 0.8 * i / max(dabs - 1, 1)))
        cy = int(side * (0.4 + 0.4 * i / max(dabs - 1, 1)))
        rect = (max(cx - radius, 0), max(cy - radius, 0), min(cx + radius, side), min(cy + radius, side))
        labels[rect[1] : rect[3], rect[0] : rect[2]] = LANDSCAPE.by_name("water").id
        out.append((labels.copy(), rect))
    return out


class TickWatch:
    """The longest gap between ticks of a 5 ms timer: how long the UI thread was stalled."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.last = 0
        self.max_gap_ms = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.clock.start()
        self.last = 0
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.max_gap_ms = max(self.max_gap_ms, now - self.last)
        self.last = now

    def stop(self, app: QApplication) -> int:
        app.processEvents()
        self._tick()
        self.timer.stop()
        return self.max_gap_ms


def run_worker(app: QApplication, model_id: str, dabs, interval_ms: int) -> dict:
    controller = SynthesisController(model_id, device="cpu")
    controller.failed.connect(lambda message: sys.exit(f"error: {message}"))
    while controller.card is None:
        app.processEvents()
        time.sleep(0.005)
    warm = controller.request(dabs[0][0], {"kind": "seed", "seed": 1})
    finals: list[int] = []
    previews: list[int] = []
    controller.rendered.connect(
        lambda image, rid, final, secs: (finals if final else previews).append(rid)
    )
    while warm not in finals:
        app.processEvents()
        time.sleep(0.005)
    finals.clear()
    previews.clear()
    watch = TickWatch()
    watch.start()
    start = time.perf_counter()
    last = 0
    for labels, rect in dabs:
        last = controller.request(labels, {"kind": "seed", "seed": 1}, dirty_rect=rect)
        deadline = time.perf_counter() + interval_ms / 1000
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
    painted = time.perf_counter()
    while last not in finals:
        app.processEvents()
        time.sleep(0.001)
    done = time.perf_counter()
    gap = watch.stop(app)
    controller.shutdown()
    return {"seconds_to_final": done - start, "after_last_dab": done - painted,
            "renders": len(finals), "quick_passes": len(previews), "max_ui_stall_ms": gap}


def run_naive(app: QApplication, model_id: str, dabs) -> dict:
    synth = Synthesizer(model_id, device="cpu")
    synth.render(dabs[0][0], style=Style(seed=1))
    watch = TickWatch()
    watch.start()
    start = time.perf_counter()
    for labels, rect in dabs:
        synth.render(labels, style=Style(seed=1), dirty_rect=rect)
        app.processEvents()
    done = time.perf_counter()
    return {"seconds_to_final": done - start, "renders": len(dabs), "quick_passes": 0,
            "max_ui_stall_ms": watch.stop(app)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--ngf", type=int, default=16)
    parser.add_argument("--dabs", type=int, default=30)
    parser.add_argument("--interval-ms", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    app = QApplication.instance() or QApplication([])
    model_id = make_model(args.crop, args.ngf)
    dabs = stroke(args.crop, args.dabs)
    worker = run_worker(app, model_id, dabs, args.interval_ms)
    naive = run_naive(app, model_id, dabs)
    result = {
        "model": f"random SPADE, crop {args.crop}, ngf {args.ngf}, CPU, {args.threads} thread(s)",
        "dabs": args.dabs, "interval_ms": args.interval_ms, "worker": worker, "naive": naive,
        "final_picture_sooner_x": naive["seconds_to_final"] / worker["seconds_to_final"],
        "ui_stall_ratio": naive["max_ui_stall_ms"] / max(worker["max_ui_stall_ms"], 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(result["model"], f"- a stroke of {args.dabs} dabs, one per {args.interval_ms} ms")
    print(f"{'':8} {'to final picture':>17} {'renders':>8} {'quick':>6} {'max UI stall':>13}")
    for name in ("worker", "naive"):
        r = result[name]
        print(f"{name:8} {r['seconds_to_final']:>15.2f} s {r['renders']:>8} {r['quick_passes']:>6} "
              f"{r['max_ui_stall_ms']:>10} ms")
    print(f"final picture {result['final_picture_sooner_x']:.1f}x sooner with the worker; "
          f"longest UI stall {result['ui_stall_ratio']:.0f}x shorter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
