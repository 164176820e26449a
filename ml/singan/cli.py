"""`python -m ml singan ...`: train, import, and every SinGAN application from the shell."""

from __future__ import annotations

import argparse
import re
import secrets
import signal
import threading
import time
from pathlib import Path

from ml.devices import pick_device
from ml.images import read_rgb, write_image
from ml.progress_text import PRINT_EVERY_S, format_duration, say


def _size(text: str) -> tuple[int, int]:
    """'WxH' -> (W, H)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 320x200")
    return int(m.group(1)), int(m.group(2))


def _load(args: argparse.Namespace):
    from ml.singan.model import SinGANModel

    return SinGANModel.load(args.model, pick_device(args.device))


# ------------------------------------------------------------------------ train / import
class _Printer:
    """Turns TrainProgress reports into throttled one-line progress messages."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, p) -> None:
        for notice in p.notices:
            say(f"notice: {notice}")
        done = p.iteration == p.iterations
        now = time.monotonic()
        if not done and now - self.last < PRINT_EVERY_S and p.iteration != 1:
            return
        self.last = now
        losses = " ".join(f"{k}={v:.3g}" for k, v in p.losses.items())
        say(
            f"scale {p.scale + 1}/{p.num_scales} iter {p.iteration}/{p.iterations} {losses} "
            f"elapsed {format_duration(p.elapsed_seconds)} ETA {format_duration(p.eta_seconds)}"
            + (" (scale done)" if done and p.preview is not None else "")
        )


def _run_cancellable(job, what: str, resume_hint: str) -> int:
    """Run `job(cancel_event)` with Ctrl+C turned into a request to stop the training.

    The job runs in the main thread; SIGINT only sets the event. (Running torch in a
    worker thread and exiting after an interrupt could abort the interpreter at exit.)
    """
    from ml.singan.train import TrainingCancelled

    cancel = threading.Event()

    def on_sigint(signum, frame) -> None:
        if not cancel.is_set():
            say(f"stopping {what}...")
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        job(cancel)
    except TrainingCancelled:
        say(f"{what} cancelled. {resume_hint}")
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ml.singan.train import checkpoint_paths, train

    partial, _ = checkpoint_paths(args.out)
    hint = (
        f"Finished scales are kept in {partial}; run the same command again to resume "
        "(same image, preset, max size and seed)."
    )

    def job(cancel: threading.Event):
        return train(
            args.image,
            preset=args.preset,
            out=args.out,
            max_size=args.max_size,
            device=args.device,
            seed=args.seed,
            callback=_Printer(),
            cancel=cancel,
            resume=not args.restart,
            iterations=args.iterations,
        )

    rc = _run_cancellable(job, "training", hint)
    if rc == 0:
        say(f"saved {args.out}")
    return rc


def cmd_import(args: argparse.Namespace) -> int:
    from ml.singan.official import import_official

    model = import_official(args.folder, args.out)
    say(f"imported {model.num_scales} scales from {args.folder} into {args.out}")
    return 0


# ------------------------------------------------------------------------ applications
def cmd_sample(args: argparse.Namespace) -> int:
    from ml.singan.sampling import output_size, sample

    if args.size is not None and (args.scale_h is not None or args.scale_v is not None):
        raise ValueError("give either --size or --scale-h/--scale-v, not both")
    model = _load(args)
    out_hw = output_size(model, args.size, args.scale_h or 1.0, args.scale_v or 1.0)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    def progress(i: int, n: int) -> None:
        say(f"sample {i}/{n}")

    images = sample(model, args.n, out_hw, args.start_scale, seed, progress)
    for i, img in enumerate(images):
        write_image(out_dir / f"sample_{i:03d}.png", img)
    say(f"wrote {len(images)} samples of {out_hw[1]}x{out_hw[0]} to {out_dir} (seed {seed})")
    return 0


def _run_app(args: argparse.Namespace, what: str, training: bool, job) -> int:
    """Run an application; with (re)training in it, Ctrl+C stops it after the current step."""
    result: dict = {}

    def run(cancel: threading.Event | None) -> None:
        result["image"] = job(_Printer() if training else None, cancel)

    if training:
        rc = _run_cancellable(run, what, f"Nothing was written; {args.model} is unchanged.")
        if rc:
            return rc
    else:
        run(None)
    out = result["image"]
    write_image(args.out, out)
    say(f"wrote {args.out} ({out.shape[1]}x{out.shape[0]})")
    return 0


def _harmonize_like(args: argparse.Namespace, image_path: str, editing: bool) -> int:
    from ml.singan.inject import edit, harmonize

    model = _load(args)
    image = read_rgb(image_path)
    mask = read_rgb(args.mask)
    func = edit if editing else harmonize

    def job(callback, cancel):
        return func(
            model,
            image,
            mask,
            args.start_scale,
            seed=args.seed,
            notify=say,
            fine_tune=args.fine_tune,
            callback=callback,
            cancel=cancel,
        )

    return _run_app(args, "fine-tuning", args.fine_tune > 0, job)


def cmd_harmonize(args: argparse.Namespace) -> int:
    return _harmonize_like(args, args.paste, editing=False)


def cmd_edit(args: argparse.Namespace) -> int:
    return _harmonize_like(args, args.edited, editing=True)


def cmd_paint2image(args: argparse.Namespace) -> int:
    from ml.singan.inject import paint2image

    model = _load(args)
    painting = read_rgb(args.paint)
    retrain = args.iterations if args.quantize else 0

    def job(callback, cancel):
        return paint2image(
            model,
            painting,
            args.start_scale,
            args.quantize,
            args.seed,
            say,
            retrain=retrain,
            callback=callback,
            cancel=cancel,
        )

    return _run_app(args, "retraining", retrain > 0, job)


def cmd_sr(args: argparse.Namespace) -> int:
    from ml.singan.superres import super_resolve

    model = _load(args)
    out = super_resolve(model, args.factor, args.seed, lambda k, n: say(f"upscaling step {k}/{n}"))
    write_image(args.out, out)
    say(f"wrote {args.out} ({out.shape[1]}x{out.shape[0]})")
    return 0


def cmd_animate(args: argparse.Namespace) -> int:
    from ml.singan.animate import animate, save_animation

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"{args.out}: write the animation as .gif or .mp4")
    model = _load(args)

    def progress(i: int, n: int) -> None:
        if i == n or i % 10 == 0:
            say(f"frame {i}/{n}")

    frames = animate(
        model, args.start_scale, args.alpha, args.beta, args.frames, args.seed, progress
    )
    save_animation(args.out, frames, args.fps)
    say(f"wrote {args.out} ({len(frames)} frames at {args.fps:g} fps)")
    return 0


# ------------------------------------------------------------------------ parser
def _common(p: argparse.ArgumentParser, seed: int | None = 0) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", type=int, default=seed, help="random seed (default %(default)s)")


def _injection(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="SinGAN model file")
    p.add_argument(
        "--start-scale",
        type=int,
        required=True,
        help="injection scale, 1 to the finest: lower keeps less of the input's layout",
    )
    p.add_argument("--out", required=True, help="output image (.png, .jpg, ...)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `singan` and its subcommands to `python -m ml`."""
    singan = subparsers.add_parser(
        "singan", help="SinGAN: learn from one image, sample, harmonize, edit, paint, SR, animate"
    )
    sub = singan.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("train", help="train a model on one image (Ctrl+C stops; rerun resumes)")
    p.add_argument("image")
    p.add_argument("--preset", default="paper", help="paper, fast or preview (default paper)")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    p.add_argument("--max-size", type=int, default=None, help="longest side trained, px")
    p.add_argument("--iterations", type=int, default=None, help="iterations per scale")
    p.add_argument("--restart", action="store_true", help="ignore an earlier unfinished run")
    _common(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("import", help="import a model trained by the official SinGAN code")
    p.add_argument("folder", help="TrainedModels/<image>/scale_factor=... folder")
    p.add_argument("--out", required=True, help="model file to write")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("sample", help="random samples of any size and aspect ratio")
    p.add_argument("model")
    p.add_argument("--n", type=int, default=1, help="number of samples")
    p.add_argument("--size", type=_size, help="output size WxH (any aspect ratio)")
    p.add_argument("--scale-h", type=float, help="or: width times the training width")
    p.add_argument("--scale-v", type=float, help="and height times the training height")
    p.add_argument(
        "--start-scale", type=int, default=0, help="scales below follow the reconstruction"
    )
    p.add_argument("--out", required=True, help="folder for sample_000.png, ...")
    _common(p, seed=None)
    p.set_defaults(func=cmd_sample)

    for name, flag, helptext in (
        ("harmonize", "--paste", "blend a pasted object into the training image's look"),
        ("edit", "--edited", "make a roughly edited copy of the training image seamless"),
    ):
        p = sub.add_parser(name, help=helptext)
        _injection(p)
        p.add_argument(flag, required=True, help="the edited image (any size: it is resized)")
        p.add_argument("--mask", required=True, help="white where the image was changed")
        p.add_argument(
            "--fine-tune",
            type=int,
            default=0,
            metavar="ITERS",
            help="first retrain the injection scale and above on the composite (iterations)",
        )
        _common(p)
        p.set_defaults(func=cmd_harmonize if name == "harmonize" else cmd_edit)

    p = sub.add_parser("paint2image", help="turn a rough painting into a picture")
    _injection(p)
    p.add_argument("--paint", required=True, help="the painting (any size: it is resized)")
    p.add_argument(
        "--quantize",
        action="store_true",
        help="reduce the painting to the training image's 5 colours and retrain that scale",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=500,
        help="retraining iterations with --quantize (0: no retraining)",
    )
    _common(p)
    p.set_defaults(func=cmd_paint2image)

    p = sub.add_parser("sr", help="super-resolution of the training image")
    p.add_argument("model")
    p.add_argument("--factor", type=float, default=4.0, help="upscale factor (default 4)")
    p.add_argument("--out", required=True, help="output image")
    _common(p)
    p.set_defaults(func=cmd_sr)

    p = sub.add_parser("animate", help="a looping animation from a latent random walk")
    p.add_argument("model")
    p.add_argument("--start-scale", type=int, default=2, help="scales below stay fixed")
    p.add_argument("--alpha", type=float, default=0.1, help="pull towards z_opt (0-1)")
    p.add_argument("--beta", type=float, default=0.9, help="momentum of the walk (0-1)")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--out", required=True, help="OUT.gif or OUT.mp4")
    _common(p)
    p.set_defaults(func=cmd_animate)
