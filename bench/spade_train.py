"""Seconds per SPADE training step for a compact generator, and what the speed options buy.

Every variant trains the same generated data in this process, so the ratios against the
official step (`official`) are the figures to read; absolute seconds depend on the machine and
on what else runs on it.

    python bench/spade_train.py                          # 256 px, ngf 32, ndf 32, batch 1..4
    python bench/spade_train.py --size 128 --ngf 16 --batches 2 --threads 1 --json

Variants: official (D sees fakes from the updated G), reuse-fakes (one G pass less),
cpu-bf16 (bfloat16 autocast; pays off on CPUs with native bf16), both.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.spade.config import GeneratorConfig  # noqa: E402
from ml.spade.datasets import ArrayDataset  # noqa: E402
from ml.spade.train import TrainConfig, Trainer  # noqa: E402

VARIANTS = {
    "official": {},
    "reuse-fakes": {"fresh_fakes_for_d": False},
    "cpu-bf16": {"cpu_bf16": True},
    "both": {"fresh_fakes_for_d": False, "cpu_bf16": True},
}


def scenes(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocky 15-class label maps with one colour per class."""
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 15, (n, size // 32, size // 32))
    labels = cells.repeat(32, 1).repeat(32, 2).astype(np.uint8)
    palette = rng.integers(0, 256, (15, 3)).astype(np.uint8)
    return palette[labels], labels


def seconds_per_step(args: argparse.Namespace, batch: int, options: dict) -> float:
    gen = GeneratorConfig(
        label_nc=15, contain_dontcare=True, no_instance=True, ngf=args.ngf,
        crop_size=args.size, use_vae=args.vae,
    )
    config = TrainConfig(gen, batch_size=batch, ndf=args.ndf, device="cpu", **options)
    images, labels = scenes(8, args.size)
    trainer = Trainer(config, ArrayDataset(images, labels, crop_size=args.size))
    trainer.train(1)  # warm-up: allocations, oneDNN kernel choice
    start = time.perf_counter()
    trainer.train(1 + args.steps)
    return (time.perf_counter() - start) / args.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--vae", action="store_true", help="train the style encoder too")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for batch in args.batches:
        base = None
        for name in args.variants:
            s = seconds_per_step(args, batch, VARIANTS[name])
            base = base or s
            rows.append({"batch": batch, "variant": name, "s_per_step": round(s, 3),
                         "s_per_sample": round(s / batch, 3), "vs_official": round(s / base, 3)})
            print(f"batch {batch} {name:12s} {s:7.2f} s/step  {s / batch:6.2f} s/sample  "
                  f"x{s / base:.2f}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"size": args.size, "ngf": args.ngf, "ndf": args.ndf, "vae": args.vae,
                          "threads": args.threads, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
