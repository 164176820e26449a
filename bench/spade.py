"""SPADE inference: the fast exact path against the plain forward, coco configuration.

A coco-layout generator (184 input channels, ngf 64, with the style input so that a style
change means something; random weights, timing does not depend on them) renders a painted
layout of a dozen classes. Measured in this process, each as a median over a few runs:

- plain:  the unoptimised network forward (dense label convs, spectral norm hooks, NCHW),
- full:   a render from scratch through the fast path (label cache rebuilt),
- style:  a new seed on the same layout (only the main path runs),
- stroke: a 20-pixel brush dab, then a render with its dirty rectangle.

Modes run in interleaved rounds; ratios against plain are the figures to read; milliseconds depend on the machine and load.
Peak memory is the peak resident set growth (CPU) or peak allocated memory (CUDA).

    python bench/spade.py                 # table, 256 px on CPU (and CUDA when present)
    python bench/spade.py --with-512      # also 512 px
    python bench/spade.py --json          # one JSON object (full/style/stroke_ratio at 256 px)
    python bench/spade.py --threads 1     # steadier ratios on a machine busy with other work

Targets at 256 px: full <= 0.75, style <= 0.3, stroke <= 0.35.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.spade.config import GeneratorConfig  # noqa: E402
from ml.spade.fastpath import OneHotConv, label_codes  # noqa: E402
from ml.spade.inputs import instance_edges  # noqa: E402
from ml.spade.library import ModelCard, SpadeModel  # noqa: E402
from ml.spade.networks import SPADEGenerator  # noqa: E402
from ml.spade.synthesizer import Style, Synthesizer  # noqa: E402

TARGETS = {"full_ratio": 0.75, "style_ratio": 0.3, "stroke_ratio": 0.35}


def painted_layout(side: int, seed: int = 0) -> np.ndarray:
    """Sky, a mountain band, grass, water and a few objects: coco-stuff ids, like a painting."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:side, 0:side] / side
    labels = np.full((side, side), 156, np.uint8)  # sky-other
    ridge = 0.35 + 0.08 * np.sin(xs * 9 + rng.uniform(0, 6))
    labels[ys > ridge] = 134  # mountain
    labels[ys > 0.55 + 0.04 * np.sin(xs * 5)] = 123  # grass
    labels[(ys > 0.78) & (xs > 0.4)] = 177  # water-other
    labels[(ys > 0.2) & (ys < 0.3) & (xs > 0.1) & (xs < 0.35)] = 105  # clouds
    for class_id in (0, 16, 17, 18, 61, 63, 95):  # person, bird, cat, dog, ...
        cy, cx = rng.uniform(0.45, 0.9), rng.uniform(0.05, 0.95)
        labels[((ys - cy) ** 2 + (xs - cx) ** 2) < 0.0025] = class_id
    return labels


def brush(labels: np.ndarray, cx: int, cy: int, class_id: int, diameter: int = 20):
    """Paint a round dab; returns the edited map and its dirty rectangle (x0, y0, x1, y1)."""
    out = labels.copy()
    r = diameter / 2
    ys, xs = np.mgrid[0 : labels.shape[0], 0 : labels.shape[1]]
    out[(ys - cy + 0.5) ** 2 + (xs - cx + 0.5) ** 2 <= r * r] = class_id
    x0, y0 = max(int(cx - r), 0), max(int(cy - r), 0)
    return out, (
        x0,
        y0,
        min(int(cx + r) + 1, labels.shape[1]),
        min(int(cy + r) + 1, labels.shape[0]),
    )


def coco_model(side: int) -> SpadeModel:
    torch.manual_seed(0)
    cfg = GeneratorConfig(182, True, False, ngf=64, crop_size=side, use_vae=True)
    gen = SPADEGenerator(cfg).eval()
    card = ModelCard("bench", "bench coco", "coco", "coco", cfg)
    return SpadeModel(card, gen, None)


class Peak:
    """Peak memory growth of a block: resident set on CPU, allocated memory on CUDA."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mb = 0.0

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (Linux)
            self.base = _status("VmRSS")
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.mb = (torch.cuda.max_memory_allocated() - self.base) / 2**20
        else:
            self.mb = (_status("VmHWM") - self.base) / 2**20


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def lookup_vs_dense(side: int, device: torch.device, reps: int) -> dict:
    """One SPADE first conv (184 one-hot channels -> 128) at side x side: dense vs lookup."""
    torch.manual_seed(0)
    classes = 183  # coco: 182 classes + don't-care, then the edge channel
    conv = torch.nn.Conv2d(classes + 1, 128, 3, padding=1).to(device)
    lookup = OneHotConv([conv], classes, True, device)
    layout = painted_layout(side).astype(np.int64)
    edges = instance_edges(layout)
    labels = torch.from_numpy(layout).to(device)
    edge_t = torch.from_numpy(edges).float()[None, None].to(device)
    dense_in = torch.cat([F.one_hot(labels, classes).permute(2, 0, 1)[None].float(), edge_t], 1)
    codes = torch.from_numpy(label_codes(layout, edges, classes)).to(device)
    out = {}
    with torch.inference_mode():
        for name, fn in (
            ("dense", lambda: conv(dense_in)),
            ("lookup", lambda: lookup(codes)),
        ):
            fn()
            runs = []
            for _ in range(max(reps, 3)):
                start = time.perf_counter()
                fn()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                runs.append(time.perf_counter() - start)
            out[name] = statistics.median(runs)
    return {
        "dense_ms": round(out["dense"] * 1000, 1),
        "lookup_ms": round(out["lookup"] * 1000, 1),
        "lookup_ratio": round(out["lookup"] / out["dense"], 3),
    }


def measure(fn, i: int, device: torch.device) -> tuple[float, float]:
    """(seconds, peak MB) of one call."""
    with Peak(device) as p:
        start = time.perf_counter()
        fn(i)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return seconds, p.mb


def bench_one(side: int, device: str, reps: int) -> dict:
    """Rounds of plain, full, style, stroke in turn, so load changes hit all of them alike;
    each ratio is the median over rounds of (mode / plain in the same round)."""
    synth = Synthesizer(coco_model(side), device=device)
    dev = synth.device
    state = {"labels": painted_layout(side)}

    def plain(i):
        synth.render_plain(state["labels"], style=Style(seed=i))

    def full(i):
        synth.clear_cache()
        synth.render(state["labels"], style=Style(seed=i))

    def style(i):
        synth.render(state["labels"], style=Style(seed=i))

    def stroke(i):
        # alternate two classes so every dab really changes the map
        cx, cy = side // 4 + (i * 7) % (side // 2), side // 2
        edited, rect = brush(state["labels"], cx, cy, 123 if i % 2 else 177)
        state["labels"] = edited
        synth.render(edited, style=Style(seed=i), dirty_rect=rect)

    modes = {"plain": plain, "full": full, "style": style, "stroke": stroke}
    times: dict[str, list[float]] = {m: [] for m in modes}
    peaks = dict.fromkeys(modes, 0.0)
    for i in range(reps + 1):  # round 0 warms up
        for name, fn in modes.items():
            seconds, mb = measure(fn, i, dev)
            if i:
                times[name].append(seconds)
                peaks[name] = max(peaks[name], mb)
    ratios = {
        f"{m}_ratio": round(
            statistics.median(t / p for t, p in zip(times[m], times["plain"], strict=True)), 3
        )
        for m in ("full", "style", "stroke")
    }
    return {
        "size": side,
        "device": str(dev),
        "ms": {k: round(statistics.median(v) * 1000, 1) for k, v in times.items()},
        "peak_mb": {k: round(v, 1) for k, v in peaks.items()},
        **ratios,
        "first_conv": lookup_vs_dense(side, dev, reps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--with-512", action="store_true", help="also measure 512 px")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--no-cuda", action="store_true", help="CPU only even with CUDA")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.no_cuda else [])
    sizes = [256] + ([512] if args.with_512 else [])
    runs = []
    for device in devices:
        for side in sizes:
            print(f"measuring {side} px on {device} …", file=sys.stderr)
            runs.append(bench_one(side, device, args.reps))
    head = runs[0]
    if args.json:
        summary = {k: head[k] for k in TARGETS}
        summary["targets"] = TARGETS
        summary["runs"] = runs
        print(json.dumps(summary))
        return 0
    print(
        "| size | device | plain ms | full | style | stroke | peak MB plain / full / style / stroke "
        "| first conv dense / lookup ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        peaks = " / ".join(f"{r['peak_mb'][k]:.0f}" for k in ("plain", "full", "style", "stroke"))
        print(
            f"| {r['size']} | {r['device']} | {r['ms']['plain']:.0f} | {r['full_ratio']:.2f} "
            f"| {r['style_ratio']:.2f} | {r['stroke_ratio']:.2f} | {peaks} "
            f"| {r['first_conv']['dense_ms']:.0f} / {r['first_conv']['lookup_ms']:.0f} |"
        )
    print(f"targets at 256 px: {', '.join(f'{k} <= {v}' for k, v in TARGETS.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
