"""`python -m ml spade train …`: train or fine-tune a SPADE model on a folder of pairs.

    python -m ml spade train DATA --layout ade20k --out runs/ade --steps 100000
    python -m ml spade train DATA --label-set landscape --ngf 32 --ndf 32 --use-vae \\
        --out runs/mine --steps 2000 --model-name "My landscapes"
    python -m ml spade train DATA --layout coco --init coco-1a2b3c4d --out runs/ft --steps 500
    python -m ml spade train DATA --out runs/mine --steps 4000 --resume
    torchrun --nproc_per_node 4 -m ml spade train DATA --layout cityscapes --out runs/cs ...

Ctrl-C (or SIGTERM) stops within a second (under torchrun: after the step in flight), saving a
checkpoint to continue from with --resume.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import threading
import time
from pathlib import Path

from ml.progress_text import PRINT_EVERY_S, format_duration, say

# The official configurations of the three datasets: label set, label_nc, don't-care,
# instance edges, upsampling, crop size, aspect ratio.
DATASET_DEFAULTS = {
    "coco": ("coco", 182, True, True, "normal", 256, 1.0),
    "ade20k": ("ade20k", 150, True, False, "normal", 256, 1.0),
    "cityscapes": ("cityscapes", 35, False, True, "more", 512, 2.0),
}

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "model"


def _generator_config(args: argparse.Namespace, has_instances: bool):
    """GeneratorConfig and label-set name: the --init model's, or the layout's and the flags."""
    from ml.labels import load_label_set
    from ml.spade.config import GeneratorConfig

    if args.init:
        from ml.spade.library import get_card, load_model

        try:
            card = get_card(args.init)
        except KeyError:
            card = load_model(args.init).card
        return card.config, card.label_set
    if args.layout in DATASET_DEFAULTS:
        name, label_nc, dontcare, inst, up, crop, aspect = DATASET_DEFAULTS[args.layout]
        label_set = args.label_set or name
        no_instance = not (inst and has_instances)
    else:
        if not args.label_set:
            raise ValueError("a plain images/labels folder needs --label-set (e.g. landscape)")
        labels = load_label_set(args.label_set)
        label_set, label_nc = args.label_set, labels.max_id + 1
        dontcare, no_instance = labels.unlabeled is not None, not has_instances
        up, crop, aspect = "normal", 256, 1.0
    cfg = GeneratorConfig(
        label_nc=label_nc,
        contain_dontcare=dontcare,
        no_instance=no_instance,
        ngf=args.ngf,
        num_upsampling_layers=args.upsampling or up,
        crop_size=args.crop_size or crop,
        aspect_ratio=args.aspect_ratio or aspect,
        use_vae=args.use_vae,
        z_dim=args.z_dim,
        spade_hidden=args.spade_hidden,
    )
    return cfg, label_set


def _dataset_kind(args: argparse.Namespace, label_set: str) -> str:
    """The model card's dataset: the official one, our landscape set, or custom."""
    if args.layout in DATASET_DEFAULTS:
        return args.layout
    return "landscape" if label_set == "landscape" else "custom"


def _dataset(args: argparse.Namespace, crop_size: int, aspect: float, label_set: str):
    from ml.labels import load_label_set
    from ml.spade.datasets import PairedFolderDataset

    return PairedFolderDataset(
        args.data,
        layout=args.layout,
        crop_size=crop_size,
        aspect_ratio=aspect,
        preprocess=args.preprocess,
        load_size=args.load_size,
        flip=not args.no_flip,
        label_set=load_label_set(label_set),
        phase=args.phase,
    )


class _Printer:
    """Throttled one-line progress reports (first, every PRINT_EVERY_S, last)."""

    def __init__(self, main: bool) -> None:
        self.main = main
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if p.checkpoint is not None and self.main:
            say(f"checkpoint: {p.checkpoint}")
        if not self.main or (p.step != p.steps and now - self.last < PRINT_EVERY_S):
            return
        self.last = now
        losses = "  ".join(f"{k} {v:.3f}" for k, v in p.losses.items())
        say(f"step {p.step}/{p.steps}  {losses}  eta {format_duration(p.eta_seconds)}")


def cmd_train(args: argparse.Namespace) -> int:
    from ml.labels import load_label_set
    from ml.spade import train_state
    from ml.spade.train import TrainConfig, Trainer, TrainingCancelled

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    existing = train_state.latest_state(out) if out.is_dir() else None
    if existing is not None and not args.resume:
        raise ValueError(f"{out} holds a training run ({existing.name}): pass --resume or another --out")
    if args.resume:
        if existing is None:
            raise ValueError(f"{out}: no training checkpoint to resume")
        _, meta = train_state.load_state(existing)
        gen = TrainConfig.from_dict(meta["config"]).generator
        label_set = meta["config"].get("label_set") or args.label_set
        dataset = _dataset(args, gen.crop_size, gen.aspect_ratio, label_set)
        trainer = Trainer.resume(out, dataset, device=args.device)
    else:
        gen, label_set = _generator_config(args, not args.init and _dataset_probe(args))
        load_label_set(label_set)
        dataset = _dataset(args, gen.crop_size, gen.aspect_ratio, label_set)
        config = TrainConfig(
            generator=gen,
            batch_size=args.batch_size,
            lr_g=args.lr_g,
            lr_d=args.lr_d,
            beta1=args.beta1,
            beta2=args.beta2,
            lambda_feat=args.lambda_feat,
            lambda_vgg=args.lambda_vgg,
            lambda_kld=args.lambda_kld,
            lambda_l1=args.lambda_l1,
            vgg_weights=args.vgg_weights,
            ndf=args.ndf,
            num_D=args.num_d,
            n_layers_D=args.n_layers_d,
            seed=args.seed,
            amp=not args.no_amp,
            device=args.device,
            checkpoint_every=args.checkpoint_every,
            label_set=label_set,
            fresh_fakes_for_d=not args.reuse_fakes,
            cpu_bf16=args.cpu_bf16,
            ema_decay=args.ema,
            kld_warmup=args.kld_warmup,
            style_gain=args.style_gain,
        )
        trainer = Trainer(config, dataset, out, init_model=args.init)
    main = trainer.ctx.is_main
    if main:
        say(f"{len(dataset)} training pairs, {trainer.global_batch} per step, "
             f"from step {trainer.step} to {args.steps}")
    cancel = threading.Event()
    # Ctrl-C here, SIGTERM from torchrun when one of its processes is interrupted.
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: cancel.set()) for sig in stops}
    try:
        trainer.train(args.steps, callback=_Printer(main), cancel=cancel)
    except TrainingCancelled:
        if main:
            say(f"cancelled at step {trainer.step}; continue with --resume")
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if main and (args.model_name or args.save_model):
        folder = _model_target(args)
        trainer.save_model(folder, name=args.model_name or folder.name,
                           dataset=_dataset_kind(args, label_set), label_set=label_set)
        print(folder)
    return 0


def _dataset_probe(args: argparse.Namespace) -> bool:
    """Whether the folder has instance maps (it decides the generator's edge channel)."""
    from ml.spade.datasets import find_pairs

    pairs = find_pairs(Path(args.data), args.layout, args.phase)
    return bool(pairs) and all(inst is not None for _, _, inst in pairs)


def _model_target(args: argparse.Namespace) -> Path:
    if args.save_model:
        return Path(args.save_model)
    from ml.spade.library import user_library

    base = user_library() / _slug(args.model_name)
    target, n = base, 2
    while target.exists():
        target, n = base.with_name(f"{base.name}-{n}"), n + 1
    return target


def add_train_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` to the `spade` engine's subcommands."""
    p = subparsers.add_parser(
        "train",
        help="train or fine-tune a SPADE model on photo/label pairs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", help="dataset folder")
    p.add_argument("--layout", default="plain", choices=["plain", "coco", "ade20k", "cityscapes"],
                   help="plain = images/ + labels/ [+ instances/]; or an official layout")
    p.add_argument("--phase", default="train", help="train or val (official layouts)")
    p.add_argument("--out", required=True, help="checkpoint folder of this run")
    p.add_argument("--steps", type=int, required=True, help="total steps to reach")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--init", metavar="MODEL", help="fine-tune this library model (id or folder)")
    p.add_argument("--label-set", help="label set name (needed for plain folders)")
    g = p.add_argument_group("generator")
    g.add_argument("--ngf", type=int, default=64)
    g.add_argument("--upsampling", choices=["normal", "more", "most"])
    g.add_argument("--crop-size", type=int, help="output width (default: dataset's)")
    g.add_argument("--aspect-ratio", type=float, help="output width / height")
    g.add_argument("--use-vae", action="store_true", help="train a style encoder too")
    g.add_argument("--z-dim", type=int, default=256)
    g.add_argument("--spade-hidden", type=int, default=128,
                   help="width of the SPADE label branches (official 128; less is faster)")
    d = p.add_argument_group("data")
    d.add_argument("--preprocess", choices=["resize_and_crop", "scale_width_and_crop", "fixed"])
    d.add_argument("--load-size", type=int, help="resize before cropping (default 286/256 x crop)")
    d.add_argument("--no-flip", action="store_true")
    o = p.add_argument_group("optimisation")
    o.add_argument("--batch-size", type=int, default=1, help="per process")
    o.add_argument("--lr-g", type=float, default=1e-4)
    o.add_argument("--lr-d", type=float, default=4e-4)
    o.add_argument("--beta1", type=float, default=0.0)
    o.add_argument("--beta2", type=float, default=0.9)
    o.add_argument("--lambda-feat", type=float, default=10.0)
    o.add_argument("--lambda-vgg", type=float, default=10.0)
    o.add_argument("--lambda-kld", type=float, default=0.05)
    o.add_argument("--kld-warmup", type=int, default=0,
                   help="steps over which the style noise and KL weight rise from 0 (0: official)")
    o.add_argument("--style-gain", type=float, default=0.02,
                   help="initial gain of the style code's layers (official 0.02; 1 lets a "
                        "short run's generator see the code)")
    o.add_argument("--ema", type=float, default=0.0,
                   help="export a moving average of the weights with this decay, e.g. 0.999")
    o.add_argument(
        "--lambda-l1", type=float, default=0.0,
        help="multi-scale L1 reconstruction term, a stand-in for VGG without weights (0: off)",
    )
    o.add_argument("--vgg-weights", help="local torchvision vgg19 weights file for the VGG loss")
    o.add_argument("--ndf", type=int, default=64)
    o.add_argument("--num-d", type=int, default=2)
    o.add_argument("--n-layers-d", type=int, default=4)
    o.add_argument("--reuse-fakes", action="store_true",
                   help="D step reuses the G step's fakes (faster, not the official order)")
    o.add_argument("--seed", type=int, default=0)
    o.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    o.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    o.add_argument("--cpu-bf16", action="store_true", help="bfloat16 autocast on the CPU")
    o.add_argument("--checkpoint-every", type=int, default=500)
    s = p.add_argument_group("result")
    s.add_argument("--model-name", help="save the result to the model library under this name")
    s.add_argument("--save-model", metavar="FOLDER", help="save the result as a model folder")
    p.set_defaults(func=cmd_train)
