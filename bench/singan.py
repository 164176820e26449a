"""SinGAN presets side by side: `paper` against `fast` on one image at 128 px.

Both presets are trained in this process on the same image with the same reduced budget
(`--iterations` per scale for `paper`; `fast` gets the same fraction of its own iteration
count), then each model draws 20 samples that are scored with the weight-free metrics of
`ml.metrics`. Times are measured here, so the ratio fast/paper is the figure to read;
absolute seconds depend on the machine and on what else runs on it.

    python bench/singan.py                 # table on stdout, progress on stderr
    python bench/singan.py --json          # one JSON object
    python bench/singan.py --image photo.jpg --iterations 200

Target: `fast` reaches `paper`'s SWD (within 10 %) with at least 90 % of its diversity in at
most a quarter of its wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
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
from ml.singan.train import TrainProgress, to_uint8, train  # noqa: E402

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

    @property
    def swd(self) -> float:
        return float(np.mean(self.swd_levels))


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


def measure(preset: str, image: np.ndarray, iterations: int, max_size: int, out: Path) -> Run:
    """Train one preset, then score 20 samples and time sampling at 250 px."""
    run = Run(preset, iterations)
    timer = _Timer(preset)
    t0 = time.perf_counter()
    model: SinGANModel = train(
        image,
        preset,
        out,
        max_size=max_size,
        device="cpu",
        seed=0,
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
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--work", help="folder to keep the model files (default: a temporary one)")
    args = parser.parse_args(argv)
    image = read_rgb(args.image) if args.image else landscape()
    with tempfile.TemporaryDirectory(prefix="singan-bench-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        return _compare(args, image, work)


def _compare(args: argparse.Namespace, image: np.ndarray, work: Path) -> int:
    fraction = args.iterations / get_preset("paper").iterations
    fast_iters = max(1, round(get_preset("fast").iterations * fraction))
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)
    paths = {"paper": work / "paper.safetensors", "fast": work / "fast.safetensors"}
    paper = measure("paper", image, args.iterations, args.max_size, paths["paper"])
    fast = measure("fast", image, fast_iters, args.max_size, paths["fast"])
    speed = time_sampling(paths)
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
