"""Training Spadework's bundled default landscape model on procedural scenes.

`python -m ml data train-default --out resources/models/landscape-256` renders the training
scenes (cached), trains a compact SPADE generator with the VAE style encoder using the
project's trainer, checkpoints as it goes (a rerun resumes), and exports the model folder with
style presets, a model card and a loss plot (see `ml.data.export`).

No VGG19 weights can be fetched here, so the perceptual term of the official objective is
replaced by the trainer's multi-scale L1 reconstruction term (`lambda_l1`), as in the cVAE-GAN
(the encoder sees the real picture, so reconstructing it is well posed). It lets a small CPU
budget reach coherent pictures; the GAN and feature-matching terms keep the texture.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ml.data.dataset import cached_scenes, renderer_hash
from ml.devices import describe
from ml.labels import load_label_set
from ml.spade.config import GeneratorConfig
from ml.spade.datasets import ArrayDataset
from ml.spade.train import TrainConfig, Trainer, TrainProgress
from ml.spade.train_state import latest_state

log = logging.getLogger(__name__)
LOSS_LOG = "losses.jsonl"
RUN_INFO = "default-run.json"
HARDWARE = "hardware.json"
@dataclass
class RunSettings:
    """The choices that fix a default-model run, recorded in the model card."""

    scenes: int = 6000
    first_seed: int = 0
    size: int = 256
    ngf: int = 16
    spade_hidden: int = 64
    encoder_thumbnail: int = 4
    ndf: int = 32
    batch: int = 2
    lr_g: float = 2e-4
    lr_d: float = 4e-4
    l1: float = 10.0
    seed: int = 0
    # CPU speed options of the trainer (measured in docs/spade-training.md): bfloat16
    # autocast (AMX / AVX512-BF16) and the discriminator step reusing the generator's fakes.
    cpu_bf16: bool = True
    reuse_fakes: bool = True
    ema: float = 0.999  # decay of the exported moving average of the weights (0: off)
    kld_warmup: int = 2000  # steps over which the style noise and KL weight rise from 0
    style_gain: float = 1.0  # init gain of the style path (official 0.02: the code is lost)

    def generator(self) -> GeneratorConfig:
        labels = load_label_set("landscape")
        return GeneratorConfig(label_nc=labels.max_id + 1, contain_dontcare=True, no_instance=True,
                               ngf=self.ngf, num_upsampling_layers="normal",
                               crop_size=self.size, use_vae=True, spade_hidden=self.spade_hidden,
                               encoder_thumbnail=self.encoder_thumbnail)

    def train_config(self, device: str, checkpoint_every: int) -> TrainConfig:
        return TrainConfig(self.generator(), batch_size=self.batch, lr_g=self.lr_g,
                           lr_d=self.lr_d, lambda_vgg=0.0, lambda_l1=self.l1, ndf=self.ndf,
                           seed=self.seed, cpu_bf16=self.cpu_bf16,
                           fresh_fakes_for_d=not self.reuse_fakes, ema_decay=self.ema,
                           kld_warmup=self.kld_warmup, style_gain=self.style_gain,
                           device=device, checkpoint_every=checkpoint_every, keep_checkpoints=2,
                           preview_every=0, label_set="landscape")


def default_run_dir() -> Path:
    return Path(tempfile.gettempdir()) / "spadework-train-default"


def training_data(settings: RunSettings, cache_dir: Path) -> ArrayDataset:
    """The run's scenes (rendered once, then cached) as the trainer's in-memory dataset."""
    def report(i: int, n: int) -> None:
        if i % 250 == 0 or i == n:
            print(f"rendered {i}/{n} training scenes", flush=True)

    images, labels = cached_scenes(settings.first_seed, settings.scenes, settings.size,
                                   cache_dir, progress=report)
    return ArrayDataset(images, labels, crop_size=settings.size, preprocess="fixed", flip=True,
                        label_set=load_label_set("landscape"))


def make_trainer(settings: RunSettings, data: ArrayDataset, run_dir: Path, device: str,
                 checkpoint_every: int) -> Trainer:
    """A new trainer, or the one saved in `run_dir` when its settings match."""
    info = run_dir / RUN_INFO
    if latest_state(run_dir) is not None:
        saved = json.loads(info.read_text(encoding="utf-8")) if info.is_file() else None
        if saved != settings.__dict__:
            raise ValueError(f"{run_dir} holds a run with other settings; use --fresh to restart")
        trainer = Trainer.resume(run_dir, data, device=device)
        if trainer.config.lambda_l1 != settings.l1:
            raise ValueError(f"{run_dir} holds a run of an older objective; use --fresh to restart")
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        info.write_text(json.dumps(settings.__dict__), encoding="utf-8")
        trainer = Trainer(settings.train_config(device, checkpoint_every), data, run_dir)
    if not (run_dir / HARDWARE).is_file():
        hardware = {"description": _describe_hardware(trainer.device), "torch": torch.__version__}
        (run_dir / HARDWARE).write_text(json.dumps(hardware), encoding="utf-8")
    return trainer


def _describe_hardware(device: torch.device) -> str:
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return (f"trained on the {os.cpu_count()}-core CPU ({threads} thread"
                f"{'s' if threads != 1 else ''}), no GPU")
    return f"trained on {describe(device)}"


def _trim_log(path: Path, step: int) -> None:
    """Drop logged steps past the checkpoint a resumed run restarts from."""
    if not path.is_file():
        return
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln and json.loads(ln)["step"] <= step]
    path.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")


def train(trainer: Trainer, run_dir: Path, steps: int, minutes: float) -> int:
    """Train to `steps`, or until `minutes` of wall time pass; always ends on a checkpoint."""
    log_path = run_dir / LOSS_LOG
    _trim_log(log_path, trainer.step)
    start, first = time.monotonic(), trainer.step
    with open(log_path, "a", encoding="utf-8") as fh:
        progress: TrainProgress
        for progress in trainer.iterate(steps):
            losses = {k: round(v, 5) for k, v in progress.losses.items()}
            row = {"step": progress.step, "seconds": round(trainer.trained_seconds, 2), **losses}
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            if progress.step % 10 == 0:
                rate = progress.seconds / max(progress.step - first, 1)
                print(f"step {progress.step}/{steps} {rate:.2f}s/step "
                      + " ".join(f"{k}={v:.3f}" for k, v in losses.items()), flush=True)
            if minutes > 0 and time.monotonic() - start >= minutes * 60:
                break
    # The export reads the last checkpoint: it gets the averaged weights' own statistics.
    trainer.refresh_average_statistics()
    trainer.save_checkpoint()
    return trainer.step


def run(args) -> int:
    """The `train-default` command: data, training, export."""
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    settings = RunSettings(scenes=args.scenes, first_seed=args.first_seed, size=args.size,
                           ngf=args.ngf, spade_hidden=args.spade_hidden,
                           encoder_thumbnail=args.encoder_thumbnail,
                           ndf=args.ndf, batch=args.batch, lr_g=args.lr_g, lr_d=args.lr_d,
                           l1=args.l1, seed=args.seed, cpu_bf16=args.cpu_bf16,
                           reuse_fakes=args.reuse_fakes, ema=args.ema,
                           kld_warmup=args.kld_warmup, style_gain=args.style_gain)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} already exists (use --force to replace it)")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir()
    if args.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    data = training_data(settings, Path(args.cache_dir) if args.cache_dir else run_dir / "data")
    trainer = make_trainer(settings, data, run_dir, args.device, args.checkpoint_every)
    print(f"training on {trainer.device} from step {trainer.step} to {args.steps} "
          f"(renderer {renderer_hash()})", flush=True)
    reached = train(trainer, run_dir, args.steps, args.minutes)
    print(f"stopped at step {reached}", flush=True)
    if args.no_export:
        return 0
    from ml.data.export import export_from_run  # imported late: a long run gets the newest

    command = ""
    if "train-default" in sys.argv:
        command = "python -m ml data " + " ".join(sys.argv[sys.argv.index("train-default"):])
    export_from_run(run_dir, out, force=args.force, command=command,
                    evaluate=not args.no_evaluate)
    print(f"wrote {out}", flush=True)
    return 0


def add_arguments(p) -> None:
    d = RunSettings()
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--steps", type=int, default=1000, help="total training steps (default 1000)")
    p.add_argument("--minutes", type=float, default=0.0,
                   help="stop early after this much wall time (0: no limit)")
    p.add_argument("--scenes", type=int, default=d.scenes, help="training scenes (seeds)")
    p.add_argument("--first-seed", type=int, default=d.first_seed)
    p.add_argument("--size", type=int, default=d.size, help="training size (the model's size)")
    p.add_argument("--ngf", type=int, default=d.ngf)
    p.add_argument("--spade-hidden", type=int, default=d.spade_hidden,
                   help="width of the SPADE label branches (official: 128)")
    p.add_argument("--encoder-thumbnail", type=int, default=d.encoder_thumbnail,
                   help="side of the averaged picture the style encoder also reads (0: off)")
    p.add_argument("--ndf", type=int, default=d.ndf)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr-g", type=float, default=d.lr_g)
    p.add_argument("--lr-d", type=float, default=d.lr_d)
    p.add_argument("--l1", type=float, default=d.l1, help="weight of the multi-scale L1 term")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of weights, data order, noise")
    p.add_argument("--cpu-bf16", action=argparse.BooleanOptionalAction, default=d.cpu_bf16,
                   help="bfloat16 autocast on the CPU (default on)")
    p.add_argument("--reuse-fakes", action=argparse.BooleanOptionalAction, default=d.reuse_fakes,
                   help="the discriminator step reuses the generator step's fakes (default on)")
    p.add_argument("--ema", type=float, default=d.ema,
                   help="decay of the exported moving average of the weights (0: off)")
    p.add_argument("--kld-warmup", type=int, default=d.kld_warmup,
                   help="steps over which the style noise and KL weight rise from 0 (0: off)")
    p.add_argument("--style-gain", type=float, default=d.style_gain,
                   help="initial gain of the style code's layers (official 0.02)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--run-dir", default="", help="checkpoints (default: a temp folder)")
    p.add_argument("--cache-dir", default="", help="rendered scenes cache (default: in run dir)")
    p.add_argument("--fresh", action="store_true", help="discard an earlier run's checkpoints")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    p.add_argument("--no-export", action="store_true", help="train only")
    p.add_argument("--no-evaluate", action="store_true",
                   help="export without the evaluation figures")
