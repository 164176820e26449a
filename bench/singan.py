"""SinGAN presets side by side: `paper` against `fast` on one image at 128 px.

Both presets are trained in this process on the same image with the same reduced budget
(`--iterations` per scale for `paper`; `fast` gets the same fraction of its own iteration
count), then each model draws 20 samples that are scored with the weight-free metrics of
`ml.metrics`. Times are measured here, so the ratio fast/paper is the figure to read;
absolute seconds depend on the machine and on what else runs on it.

    python bench/singan.py                 # table on stdout, progress on stderr
    python bench/singan.py --json          # one JSON object
    python bench/singan.py --image photo.jpg --iterations 200
    python bench/singan.py --cancel-latency    # seconds from cancel to stop at 250 px

Target: `fast` reaches `paper`'s SWD (within 10 %) with at least 90 % of its diversity in at
most a quarter of its wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.images import read_rgb  # noqa: E402
from ml.metrics import copy_score, diversity, patch_nn_distances, patch_swd_levels  # noqa: E402
from ml.singan.model import SinGANModel  # noqa: E402
from ml.singan.presets import get_preset  # noqa: E402
from ml.singan.sampling import sample, training_image  # noqa: E402
from ml.singan.train import (  # noqa: E402
    TrainingCancelled,
    TrainProgress,
    retrain_scales,
    to_uint8,
    train,
)

SAMPLES = 20
SAMPLE_SIDE = 250


def landscape(h: int = 192, w: int = 256, seed: int = 3) -> np.ndarray:
    """A natural-looking test image: cloudy sky, a ridged mountain line, textured meadow."""
    gen = torch.Generator().manual_seed(seed)

    def fbm(octaves: int, base: int, rows: int = h) -> torch.Tensor:
        """Fractal noise (rows x w); rows=1 gives a 1-D profile along x."""
        out = torch.zeros(1, 1, rows, w)
        for o in range(octaves):
            cells = (1 if rows == 1 else base * 2**o * rows // w + 1, base * 2**o)
            noise = torch.randn(1, 1, *cells, generator=gen)
            out += F.interpolate(noise, size=(rows, w), mode="bicubic", align_corners=False) / 2**o
        return out[0, 0]

    y = torch.linspace(0, 1, h)[:, None].expand(h, w)
    ridge = fbm(6, 3, 1)[0]
    ridge = 0.4 - 0.12 * (1.0 - ridge.abs()) + 0.04 * ridge
    ground_line = 0.68 + 0.02 * fbm(4, 4, 1)[0]
    sky = torch.stack([0.45 + 0.3 * y, 0.6 + 0.25 * y, 0.95 - 0.1 * y])
    clouds = (fbm(5, 4) * 0.5 + 0.2).clamp(0, 1) * (1 - y) ** 0.5
    sky = sky * (1 - clouds) + 0.97 * clouds
    rock_tex = fbm(6, 8)
    mountain = torch.stack([0.42 + 0.06 * rock_tex, 0.4 + 0.05 * rock_tex, 0.45 + 0.05 * rock_tex])
    snow = (y < ridge[None, :] + 0.04).float() * (rock_tex > 0.2).float()
    mountain = mountain * (1 - snow) + 0.92 * snow
    grass_tex = fbm(6, 12)
    meadow = torch.stack([0.25 + 0.08 * grass_tex, 0.5 + 0.12 * grass_tex, 0.15 + 0.05 * grass_tex])
    flowers = (fbm(2, 60) > 1.7).float()
    meadow = meadow * (1 - flowers) + torch.tensor([0.9, 0.85, 0.3])[:, None, None] * flowers
    img = torch.where(y[None] < ridge[None, None, :], sky, mountain)
    img = torch.where(y[None] > ground_line[None, None, :], meadow, img)
    return (img.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


@dataclass
class Run:
    """One preset's training and quality figures."""

    preset: str
    iterations: int
    seconds: float = 0.0
    s_per_iter: list[float] = field(default_factory=list)
    swd_levels: list[float] = field(default_factory=list)
    coherence: float = 0.0
    completeness: float = 0.0
    diversity: float = 0.0
    copy: float = 0.0
    rec_rmse: float = 0.0
    images_per_s: float = 0.0
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict] = field(default_factory=list)  # seconds, swd, diversity of each seed

    @property
    def swd(self) -> float:
        return float(np.mean(self.swd_levels))


def averaged(runs: list[Run]) -> Run:
    """One Run holding the mean of every figure over runs of different seeds."""
    first = runs[0]
    out = Run(first.preset, first.iterations)
    for name in ("seconds", "coherence", "completeness", "diversity", "copy", "rec_rmse"):
        setattr(out, name, float(np.mean([getattr(r, name) for r in runs])))
    for name in ("s_per_iter", "swd_levels"):
        setattr(out, name, [float(v) for v in np.mean([getattr(r, name) for r in runs], axis=0)])
    out.seeds = [s for r in runs for s in r.seeds]
    out.per_seed = [
        {"seed": r.seeds[0], "seconds": r.seconds, "swd": r.swd, "diversity": r.diversity}
        for r in runs
    ]
    return out


class _Timer:
    """Seconds per iteration of each scale, from the training callback."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.start: dict[int, float] = {}
        self.per_scale: dict[int, float] = {}

    def __call__(self, p: TrainProgress) -> None:
        now = time.perf_counter()
        if p.iteration == 1 and p.preview is None:
            self.start[p.scale] = now
        if p.iteration == p.iterations and p.preview is not None and p.iterations > 1:
            self.per_scale[p.scale] = (now - self.start[p.scale]) / (p.iterations - 1)
            print(
                f"  {self.name}: scale {p.scale + 1}/{p.num_scales} done, "
                f"{self.per_scale[p.scale]:.3f} s/iteration, elapsed {p.elapsed_seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )


def measure(
    preset: str, image: np.ndarray, iterations: int, max_size: int, out: Path, seed: int = 0
) -> Run:
    """Train one preset with one seed, then score 20 samples."""
    run = Run(preset, iterations, seeds=[seed])
    timer = _Timer(preset)
    t0 = time.perf_counter()
    model: SinGANModel = train(
        image,
        preset,
        out,
        max_size=max_size,
        device="cpu",
        seed=seed,
        callback=timer,
        resume=False,
        iterations=iterations,
    )
    run.seconds = time.perf_counter() - t0
    run.s_per_iter = [timer.per_scale[n] for n in sorted(timer.per_scale)]
    real = training_image(model)
    samples = sample(model, SAMPLES, seed=1)
    run.swd_levels = patch_swd_levels(samples, [real])
    nn = [patch_nn_distances(s, real) for s in samples]
    run.coherence = float(np.mean([c for c, _ in nn]))
    run.completeness = float(np.mean([c for _, c in nn]))
    run.diversity = diversity(samples, real)
    run.copy = float(np.mean([copy_score(s, real) for s in samples]))
    rec = to_uint8(model.reconstruct()).astype(np.float64)
    run.rec_rmse = float(np.sqrt(((rec - real) ** 2).mean()))
    return run


def time_sampling(paths: dict[str, Path], rounds: int = 3, n: int = 3) -> dict[str, float]:
    """Images/s at 250 px (long side) per saved model: rounds interleaved, best round kept,
    so a busy machine slows both models alike."""
    models = {k: SinGANModel.load(p) for k, p in paths.items()}
    best = dict.fromkeys(models, 0.0)
    for r in range(rounds):
        for name, model in models.items():
            h, w = model.sizes[-1]
            k = SAMPLE_SIDE / max(h, w)
            big = (round(h * k), round(w * k))
            if r == 0:
                sample(model, 1, big, seed=2)  # warm-up
            t0 = time.perf_counter()
            sample(model, n, big, seed=3)
            best[name] = max(best[name], n / (time.perf_counter() - t0))
    return best


def _one_cancel(model: SinGANModel, target: np.ndarray, delay: float) -> tuple[float, list[float]]:
    """Retrain the finest scale in a thread, cancel `delay` s after its first iteration;
    returns the seconds from cancel to stop and the iterations' end times."""
    cancel, first = threading.Event(), threading.Event()
    ticks: list[float] = []
    stopped: list[float] = []

    def on_progress(_p: TrainProgress) -> None:
        ticks.append(time.perf_counter())
        first.set()

    def work() -> None:
        try:
            retrain_scales(
                model, target, [model.num_scales - 1], 10_000, callback=on_progress, cancel=cancel
            )
        except TrainingCancelled:
            stopped.append(time.perf_counter())

    thread = threading.Thread(target=work)
    thread.start()
    first.wait()
    time.sleep(delay)
    t0 = time.perf_counter()
    cancel.set()
    thread.join()
    return stopped[0] - t0, ticks


def cancel_latency(image: np.ndarray, trials: int, max_size: int = 250) -> str:
    """Seconds from setting the cancel flag to the trainer stopping, at paper's finest scale.

    The pyramid is built with one iteration per scale (only the scales' sizes and widths
    matter here), then the finest scale is retrained and cancelled at a random moment of an
    iteration, `trials` times.
    """
    model = train(image, "paper", max_size=max_size, device="cpu", iterations=1, resume=False)
    target = training_image(model)
    rng = random.Random(0)
    waits, iteration_seconds = [], []
    for _ in range(trials):
        wait, ticks = _one_cancel(model, target, rng.uniform(0.0, 2.0))
        waits.append(wait)
        iteration_seconds += list(np.diff(ticks))
    h, w = model.sizes[-1]
    iteration = f"{np.mean(iteration_seconds):.2f} s" if iteration_seconds else "over 2 s"
    return (
        f"cancel latency at paper's finest scale ({w}x{h}, {model.generators[-1].cfg.nfc} "
        f"channels, one iteration {iteration}): median {np.median(waits):.3f} s, "
        f"max {max(waits):.3f} s over {trials} cancels"
    )


def table(paper: Run, fast: Run) -> str:
    """The side-by-side comparison as a Markdown table."""

    def fmt(v: float, digits: int = 3) -> str:
        return f"{v:.{digits}g}" if math.isfinite(v) else "?"

    rows = [
        ("iterations per scale", str(paper.iterations), str(fast.iterations)),
        ("wall time, s", f"{paper.seconds:.0f}", f"{fast.seconds:.0f}"),
        ("scales", str(len(paper.s_per_iter)), str(len(fast.s_per_iter))),
        (
            "s/iteration per scale",
            " ".join(f"{v:.2f}" for v in paper.s_per_iter),
            " ".join(f"{v:.2f}" for v in fast.s_per_iter),
        ),
        ("SWD (mean), lower is better", fmt(paper.swd), fmt(fast.swd)),
        (
            "SWD per level (fine to coarse)",
            " ".join(fmt(v) for v in paper.swd_levels),
            " ".join(fmt(v) for v in fast.swd_levels),
        ),
        ("coherence (gen->real), lower", fmt(paper.coherence), fmt(fast.coherence)),
        ("completeness (real->gen), lower", fmt(paper.completeness), fmt(fast.completeness)),
        ("diversity, higher", fmt(paper.diversity), fmt(fast.diversity)),
        ("copy score, lower", fmt(paper.copy), fmt(fast.copy)),
        ("reconstruction RMSE (0-255)", fmt(paper.rec_rmse), fmt(fast.rec_rmse)),
        (
            f"sampling at {SAMPLE_SIDE} px, images/s",
            fmt(paper.images_per_s),
            fmt(fast.images_per_s),
        ),
    ]
    if len(paper.per_seed) > 1:
        for key, label in (
            ("seconds", "wall time per seed, s"),
            ("swd", "SWD per seed"),
            ("diversity", "diversity per seed"),
        ):
            rows.insert(
                len(rows) - 1,
                (
                    label,
                    " ".join(fmt(r[key]) for r in paper.per_seed),
                    " ".join(fmt(r[key]) for r in fast.per_seed),
                ),
            )
        rows.insert(0, ("seeds (figures are means)", str(paper.seeds), str(fast.seeds)))
    lines = ["| | paper | fast |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    ratio = fast.seconds / paper.seconds
    swd_ok = fast.swd <= 1.1 * paper.swd
    div_ok = fast.diversity >= 0.9 * paper.diversity
    lines.append("")
    lines.append(
        f"fast/paper wall time {ratio:.2f} (target <= 0.25: {'met' if ratio <= 0.25 else 'missed'}); "
        f"SWD ratio {fast.swd / paper.swd:.2f} (target <= 1.10: {'met' if swd_ok else 'missed'}); "
        f"diversity ratio {fast.diversity / paper.diversity:.2f} "
        f"(target >= 0.90: {'met' if div_ok else 'missed'})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", help="training image (default: a procedural landscape)")
    parser.add_argument(
        "--iterations",
        type=int,
        default=100,
        help="paper's iterations per scale (default %(default)s; fast gets the same fraction)",
    )
    parser.add_argument("--max-size", type=int, default=128)
    parser.add_argument(
        "--seeds", type=int, default=1, help="train each preset with N seeds and average"
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="the first of the seeds (default 0)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--work", help="folder to keep the model files (default: a temporary one)")
    parser.add_argument(
        "--cancel-latency",
        type=int,
        nargs="?",
        const=8,
        default=0,
        metavar="TRIALS",
        help="only measure how fast a cancel stops paper's finest 250 px scale (default 8 trials)",
    )
    args = parser.parse_args(argv)
    image = read_rgb(args.image) if args.image else landscape()
    if args.cancel_latency:
        print(cancel_latency(image, args.cancel_latency))
        return 0
    with tempfile.TemporaryDirectory(prefix="singan-bench-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        return _compare(args, image, work)


def _compare(args: argparse.Namespace, image: np.ndarray, work: Path) -> int:
    fraction = args.iterations / get_preset("paper").iterations
    fast_iters = max(1, round(get_preset("fast").iterations * fraction))
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)

    def path(preset: str, seed: int) -> Path:
        return work / f"{preset}.{seed}.safetensors"

    papers, fasts = [], []
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for seed in seeds:  # interleaved, so a change of load hits both presets
        papers.append(
            measure("paper", image, args.iterations, args.max_size, path("paper", seed), seed)
        )
        fasts.append(measure("fast", image, fast_iters, args.max_size, path("fast", seed), seed))
    paper, fast = averaged(papers), averaged(fasts)
    speed = time_sampling({p: path(p, seeds[0]) for p in ("paper", "fast")})
    paper.images_per_s, fast.images_per_s = speed["paper"], speed["fast"]
    print(table(paper, fast), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        out = {
            "paper_seconds": paper.seconds,
            "fast_seconds": fast.seconds,
            "paper_swd": paper.swd,
            "fast_swd": fast.swd,
            "paper_diversity": paper.diversity,
            "fast_diversity": fast.diversity,
            "paper": paper.__dict__,
            "fast": fast.__dict__,
        }
        print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
