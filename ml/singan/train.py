"""SinGAN training as a job an application can drive: progress, cancel, resume.

One scale at a time (or, for concurrent presets, the newest scale with the one or two below
it at a reduced learning rate), WGAN-GP critic steps then generator steps with the
reconstruction loss, exactly the official losses. Work that the official code repeats but
never changes is done once: the reconstruction input of a scale is computed when the scale
starts, the three random inputs of an iteration's critic steps go through the frozen scales
as one batch (frozen generators are in eval mode, so batching does not change them), and
generator weight gradients are not computed during critic steps (nor the critic's during
generator steps).

After every finished scale the partial model and a small state file are written next to
`out`, so a cancelled or crashed run continues from the last finished scale. Each scale is
seeded from (seed, scale), so a resumed run gives the same model as an uninterrupted one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ml.atomic import atomic_write_text
from ml.cancel import CancelWatch, layers
from ml.devices import pick_device
from ml.images import read_rgb, to_rgb_array
from ml.singan.imresize import imresize
from ml.singan.model import ModelFileError, SinGANModel, conv_memory_format, sidecar_path
from ml.singan.networks import ScaleCritic, ScaleGenerator, make_critic, make_generator
from ml.singan.presets import TrainConfig, get_preset
from ml.singan.pyramid import PyramidPlan, build_reals, plan_dense_pyramid, plan_pyramid

log = logging.getLogger(__name__)

# Inputs larger than this many times max_size are first shrunk by an integer box filter, so
# a huge photo never becomes a multi-gigabyte tensor; the MATLAB-style resize does the rest.
PRESHRINK_LIMIT = 4


class TrainingCancelled(RuntimeError):
    """Training stopped on request; finished scales are saved and a rerun resumes."""


@dataclass
class TrainProgress:
    """One report from a running training."""

    scale: int
    num_scales: int
    iteration: int
    iterations: int
    losses: dict[str, float]
    eta_seconds: float
    elapsed_seconds: float
    preview: np.ndarray | None = None  # HxWx3 uint8 sample when a scale finishes
    notices: list[str] = field(default_factory=list)


Callback = Callable[[TrainProgress], None]


# ------------------------------------------------------------------------ input handling
def as_rgb(image: np.ndarray | str | os.PathLike) -> np.ndarray:
    """Any supported image as HxWx3 uint8.

    Paths go through ml.images.read_rgb. Arrays: HxWx3 uint8 as is; gray (HxW or HxWx1),
    RGBA (alpha composited on white) and 16-bit arrays are converted like image files.
    """
    if isinstance(image, (str, os.PathLike)):
        return read_rgb(image)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {arr.shape}")
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.uint16:
        if arr.ndim == 3:
            arr = np.round(arr.astype(np.float64) / 257.0).astype(np.uint8)
        else:
            return to_rgb_array(Image.fromarray(arr.astype(np.int32), mode="I"))
    if arr.dtype != np.uint8:
        raise ValueError(f"expected an 8- or 16-bit image, got {arr.dtype} values")
    return to_rgb_array(Image.fromarray(arr))


def image_sha256(rgb: np.ndarray) -> str:
    """Hash of the pixels and shape: identifies a training image for resuming."""
    h = hashlib.sha256(f"{rgb.shape}".encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def preshrink(rgb: np.ndarray, max_size: int) -> tuple[np.ndarray, str | None]:
    """Box-shrink a huge image by an integer factor (with a notice), else return it as is."""
    side = max(rgb.shape[:2])
    factor = side // (PRESHRINK_LIMIT * max_size)
    if factor < 2:
        return rgb, None
    small = np.array(Image.fromarray(rgb).reduce(factor))
    notice = (
        f"the image is {rgb.shape[1]}x{rgb.shape[0]} px; it was first shrunk to "
        f"{small.shape[1]}x{small.shape[0]} and is trained at most {max_size} px"
    )
    return small, notice


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> (1, 3, H, W) float32 in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
    return t / 127.5 - 1.0


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> HxWx3 uint8."""
    arr = ((img[0].detach().float().clamp(-1, 1) + 1.0) * 127.5).round()
    return arr.permute(1, 2, 0).to(torch.uint8).cpu().numpy()


def make_plan(cfg: TrainConfig, size_hw: tuple[int, int]) -> PyramidPlan:
    """The pyramid a preset uses for an image of `size_hw`."""
    official = plan_pyramid(size_hw, cfg.min_size, cfg.max_size, cfg.scale_factor)
    if cfg.pyramid == "official":
        return official
    if cfg.pyramid == "dense":
        k = cfg.dense_scales or official.num_scales
        return plan_dense_pyramid(size_hw, max(k, 3), cfg.min_size, cfg.max_size)
    raise ValueError(f"unknown pyramid kind {cfg.pyramid!r}")


# ------------------------------------------------------------------------ one scale
@dataclass
class _Stage:
    """The networks of one scale being trained and their learning rates."""

    n: int
    gen: ScaleGenerator
    lr_factor: float


class _ScaleTrainer:
    """Trains scale n (and, concurrently, the scales just below it) of a growing model."""

    def __init__(
        self,
        model: SinGANModel,
        cfg: TrainConfig,
        n: int,
        critic: ScaleCritic,
        rng: torch.Generator,
        iterations: int,
        prev_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.model, self.cfg, self.n, self.critic, self.rng = model, cfg, n, critic, rng
        self.iterations = iterations
        self.prev_transform = prev_transform
        self.real = model.reals[n]
        self.first = max(0, n - cfg.concurrent + 1)  # lowest scale trained now
        self.stages = [
            _Stage(m, model.generators[m], cfg.lr_scale ** (n - m))
            for m in range(self.first, n + 1)
        ]
        for st in self.stages:
            st.gen.train().requires_grad_(True)
        critic.train().requires_grad_(True)
        decay = [max(1, int(round(cfg.decay_at * iterations)))]
        self.opt_g = torch.optim.Adam(
            [{"params": st.gen.parameters(), "lr": cfg.lr_g * st.lr_factor} for st in self.stages],
            betas=(cfg.beta1, cfg.beta2),
        )
        self.opt_d = torch.optim.Adam(
            critic.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2)
        )
        self.sched_g = torch.optim.lr_scheduler.MultiStepLR(self.opt_g, decay, cfg.gamma)
        self.sched_d = torch.optim.lr_scheduler.MultiStepLR(self.opt_d, decay, cfg.gamma)
        with torch.no_grad():
            self.rec_base = self._frozen_rec()

    # -- inputs from the frozen scales below `first`
    def _frozen_rec(self) -> torch.Tensor:
        """Reconstruction image fed into scale `first` (zeros at the coarsest scale)."""
        m = self.model
        if self.first == 0:
            return torch.zeros_like(m.reals[0])
        out = m._reconstruct_to(self.first - 1)
        return self._prepared(m.upsample(out, m.sizes[self.first]))

    def _frozen_random(self, batch: int) -> torch.Tensor:
        """`batch` random images fed into scale `first`, through the frozen scales at once."""
        m = self.model
        if self.first == 0:
            return torch.zeros((batch, 3, *m.sizes[0]), device=m.device)
        out = torch.zeros((batch, 3, *m.sizes[0]), device=m.device)
        for k in range(self.first):
            prev = out if k == 0 else m.upsample(out, m.sizes[k])
            out = m.forward_scale(k, m.draw_noise(k, m.sizes[k], self.rng, batch), prev)
        return self._prepared(m.upsample(out, m.sizes[self.first]))

    def _prepared(self, prev: torch.Tensor) -> torch.Tensor:
        return self.prev_transform(prev) if self.prev_transform is not None else prev

    # -- the trainable chain from `first` to n
    def _chain(self, base: torch.Tensor, noises: Sequence[torch.Tensor]) -> torch.Tensor:
        m = self.model
        out = base
        for i, st in enumerate(self.stages):
            prev = out if i == 0 else m.upsample(out, m.sizes[st.n])
            out = m.forward_scale(st.n, noises[i], prev)
        return out

    def _noises(self) -> list[torch.Tensor]:
        m = self.model
        return [m.draw_noise(st.n, m.sizes[st.n], self.rng) for st in self.stages]

    def _gradient_penalty(self, fake: torch.Tensor) -> torch.Tensor:
        a = torch.rand((1, 1), generator=self.rng, device=self.rng.device).to(fake.device)
        mix = (a * self.real + (1.0 - a) * fake).requires_grad_(True)
        out = self.critic(mix)
        (grad,) = torch.autograd.grad(out.sum(), mix, create_graph=True)
        return ((grad.norm(2, dim=1) - 1.0) ** 2).mean() * self.cfg.gp_weight

    def iteration(self) -> dict[str, float]:
        """One official iteration: d_steps critic updates, then g_steps generator updates."""
        cfg, m = self.cfg, self.model
        noise_top = m.draw_noise(self.n, m.sizes[self.n], self.rng)
        with torch.no_grad():
            bases = self._frozen_random(cfg.d_steps)
        self.critic.requires_grad_(True)
        for j in range(cfg.d_steps):
            noises = self._noises()
            noises[-1] = noise_top
            base = bases[j : j + 1]
            with torch.no_grad():
                fake = self._chain(base, noises)
            self.opt_d.zero_grad(set_to_none=True)
            d_real = self.critic(self.real).mean()
            d_fake = self.critic(fake).mean()
            gp = self._gradient_penalty(fake)
            (d_fake - d_real + gp).backward()
            self.opt_d.step()
        self.critic.requires_grad_(False)
        z_rec = [m.z_rec[st.n] for st in self.stages]
        for _ in range(cfg.g_steps):
            self.opt_g.zero_grad(set_to_none=True)
            fake = self._chain(base, noises)
            g_adv = -self.critic(fake).mean()
            loss = g_adv
            rec = torch.zeros((), device=m.device)
            if cfg.alpha > 0:
                rec = cfg.alpha * F.mse_loss(self._chain(self.rec_base, z_rec), self.real)
                loss = loss + rec
            loss.backward()
            self.opt_g.step()
        self.sched_g.step()
        self.sched_d.step()
        parts = {"d_real": d_real, "d_fake": d_fake, "gp": gp, "g_adv": g_adv, "rec": rec}
        return {k: float(v.detach()) for k, v in parts.items()}

    def finish(self) -> None:
        for st in self.stages:
            st.gen.eval().requires_grad_(False)
        self.critic.eval().requires_grad_(False)


def _cancelled() -> TrainingCancelled:
    return TrainingCancelled("training was cancelled")


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise _cancelled()


# ------------------------------------------------------------------------ scale setup
def _seed_for(seed: int, n: int) -> int:
    return (int(seed) * 1_000_003 + n * 7919) % (2**63)


def _noise_amp(model: SinGANModel, cfg: TrainConfig, n: int) -> float:
    """1 at the coarsest scale, else noise_amp x RMSE(real_n, upsampled reconstruction)."""
    if n == 0:
        return 1.0
    with torch.no_grad():
        rec = model.upsample(model._reconstruct_to(n - 1), model.sizes[n])
        return cfg.noise_amp * float(torch.sqrt(F.mse_loss(rec, model.reals[n])))


def _place(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    return module.to(device=device, memory_format=conv_memory_format(device))


def _add_scale(model: SinGANModel, cfg: TrainConfig, n: int, rng: torch.Generator) -> ScaleCritic:
    """Append scale n's generator, critic, z* and noise amplitude (reals[n] must exist)."""
    net = cfg.net(n)
    gen, critic = make_generator(net, rng), make_critic(net, rng)
    if cfg.init_from_previous and n > 0 and model.generators[n - 1].cfg == net:
        gen.load_state_dict(model.generators[n - 1].state_dict())
        if model.discriminators is not None and len(model.discriminators) >= n:
            critic.load_state_dict(model.discriminators[n - 1].state_dict())
    device = model.device
    size = model.sizes[n]
    z = model.draw_noise(0, size, rng) if n == 0 else torch.zeros((1, 3, *size), device=device)
    amp = _noise_amp(model, cfg, n)
    model.generators.append(_place(gen, device))
    model.z_rec.append(z.contiguous())
    model.noise_amps.append(amp)
    if model.discriminators is None:
        model.discriminators = []
    model.discriminators.append(_place(critic, device))
    return critic


# ------------------------------------------------------------------------ checkpoints
def checkpoint_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """(partial model file, state file) kept next to `out` while training."""
    out = Path(out)
    return out.with_name(out.name + ".partial"), out.with_name(out.name + ".state.json")


def _job_key(cfg: TrainConfig, sha: str, seed: int) -> dict:
    return {"config": cfg.to_dict(), "image_sha256": sha, "seed": int(seed)}


def _load_checkpoint(out: Path, key: dict, device: torch.device) -> SinGANModel | None:
    """The partial model of an identical earlier job, or None (with a log line why)."""
    partial, state_file = checkpoint_paths(out)
    if not (partial.is_file() and state_file.is_file()):
        return None
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("%s: unreadable training state, starting over", state_file)
        return None
    if state.get("job") != key:
        log.info("%s: an earlier run used another image or settings, starting over", out)
        return None
    try:
        model = SinGANModel.load(partial, device)
    except ModelFileError as exc:
        log.warning("%s; starting over", exc)
        return None
    if model.num_scales != state.get("finished_scales"):
        return None
    return model


def _save_checkpoint(model: SinGANModel, out: Path, key: dict) -> None:
    partial, state_file = checkpoint_paths(out)
    model.save(partial)
    state = {"job": key, "finished_scales": model.num_scales}
    atomic_write_text(state_file, json.dumps(state, indent=1))


def _clear_checkpoint(out: Path) -> None:
    partial, state_file = checkpoint_paths(out)
    for p in (partial, sidecar_path(partial), state_file):
        if p.exists():
            p.unlink()


# ------------------------------------------------------------------------ the job
class _Clock:
    """Elapsed time and an ETA weighted by each remaining scale's expected cost."""

    def __init__(self, costs: dict[int, float], iterations: int) -> None:
        self.start = time.monotonic()
        self.costs = costs  # relative cost of one iteration, per scale still to train
        self.iterations = iterations
        self.rate: float | None = None  # seconds per unit of cost, measured
        self.scale_start = self.start

    def begin_scale(self) -> None:
        self.scale_start = time.monotonic()

    def eta(self, n: int, done: int) -> float:
        if done > 0:
            self.rate = (time.monotonic() - self.scale_start) / (done * self.costs[n])
        if self.rate is None:
            return float("nan")
        left = (self.iterations - done) * self.costs[n]
        left += sum(c for k, c in self.costs.items() if k > n) * self.iterations
        return left * self.rate

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start


def _scale_cost(cfg: TrainConfig, sizes: Sequence[tuple[int, int]], n: int) -> float:
    """Relative cost of one iteration at scale n: pixels x width^2 over the trained scales."""
    first = max(0, n - cfg.concurrent + 1)
    return float(sum(sizes[k][0] * sizes[k][1] * cfg.net(k).nfc ** 2 for k in range(first, n + 1)))


def _preview(model: SinGANModel, seed: int) -> np.ndarray:
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return to_uint8(model.generate(generator=gen))


@dataclass
class _Job:
    """What one run of scales needs besides the model."""

    cfg: TrainConfig
    sizes: Sequence[tuple[int, int]]
    iterations: int
    seed: int
    callback: Callback | None
    cancel: threading.Event | None
    setup: Callable[[int, torch.Generator], ScaleCritic]
    after_scale: Callable[[int], None]
    prev_transform: Callable[[torch.Tensor], torch.Tensor] | None = None
    notices: list[str] = field(default_factory=list)


def _run_scales(model: SinGANModel, job: _Job, scales: Sequence[int]) -> None:
    """Train each scale in `scales` in order, reporting progress and honouring `cancel`."""
    clock = _Clock({n: _scale_cost(job.cfg, job.sizes, n) for n in scales}, job.iterations)
    total = len(job.sizes)
    notices = list(job.notices)

    def report(n: int, it: int, losses: dict, preview: np.ndarray | None) -> None:
        nonlocal notices
        if job.callback is not None:
            job.callback(
                TrainProgress(
                    n,
                    total,
                    it,
                    job.iterations,
                    losses,
                    clock.eta(n, it),
                    clock.elapsed,
                    preview,
                    notices,
                )
            )
            notices = []

    for n in scales:
        _check(job.cancel)
        rng = torch.Generator(device="cpu").manual_seed(_seed_for(job.seed, n))
        critic = job.setup(n, rng)
        trainer = _ScaleTrainer(model, job.cfg, n, critic, rng, job.iterations, job.prev_transform)
        clock.begin_scale()
        losses: dict[str, float] = {}
        watch = CancelWatch(job.cancel, _cancelled, layers(*model.generators, critic))
        try:
            for it in range(job.iterations):
                with watch:
                    losses = trainer.iteration()
                if it + 1 < job.iterations:
                    report(n, it + 1, losses, None)
        finally:
            trainer.finish()
        job.after_scale(n)
        report(n, job.iterations, losses, _preview(model, _seed_for(job.seed, n)))


def _configure_device(device: str | torch.device) -> torch.device:
    dev = pick_device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def _prepare_image(
    image: np.ndarray | str | os.PathLike, cfg: TrainConfig
) -> tuple[np.ndarray, str, PyramidPlan, list[str]]:
    """RGB pixels, their hash, the pyramid and any notices about resizing."""
    rgb = as_rgb(image)
    sha = image_sha256(rgb)
    rgb, notice = preshrink(rgb, cfg.max_size)
    notices = [notice] if notice else []
    plan = make_plan(cfg, rgb.shape[:2])
    if not notices and max(rgb.shape[:2]) > cfg.max_size:
        notices.append(
            f"the image is {rgb.shape[1]}x{rgb.shape[0]} px and is trained at "
            f"{plan.sizes[-1][1]}x{plan.sizes[-1][0]} (max_size {cfg.max_size})"
        )
    for text in notices:
        log.info(text)
    return rgb, sha, plan, notices


def train(
    image: np.ndarray | str | os.PathLike,
    preset: str | TrainConfig = "paper",
    out: str | os.PathLike | None = None,
    max_size: int | None = None,
    device: str | torch.device = "auto",
    seed: int = 0,
    callback: Callback | None = None,
    cancel: threading.Event | None = None,
    resume: bool = True,
    iterations: int | None = None,
) -> SinGANModel:
    """Train a SinGAN on one image with a preset; writes `out` (model file) when done.

    With `out`, a checkpoint is written after every scale and, with `resume`, an earlier
    run of the same image, settings and seed continues from its last finished scale.
    Raises TrainingCancelled (after saving finished scales) when `cancel` is set.
    """
    cfg = get_preset(preset).with_overrides(max_size, iterations)
    dev = _configure_device(device)
    rgb, sha, plan, notices = _prepare_image(image, cfg)
    out_path = Path(out) if out is not None else None
    key = _job_key(cfg, sha, seed)
    all_reals = [r.to(dev) for r in build_reals(to_tensor(rgb), plan)]
    model = _load_checkpoint(out_path, key, dev) if out_path is not None and resume else None
    if model is None:
        mode = "factor" if cfg.pyramid == "official" else "exact"
        model = SinGANModel([], [], [], [], plan.scale_factor, cfg.name, {}, None, mode)
        model.meta = {
            "image_sha256": sha,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": cfg.to_dict(),
            "seed": int(seed),
            "iterations": cfg.iterations,
            "notices": notices,
            "train_seconds": 0.0,
        }
    started = time.monotonic()
    base_seconds = float(model.meta.get("train_seconds", 0.0))
    first = model.num_scales

    def setup(n: int, rng: torch.Generator) -> ScaleCritic:
        # While a scale trains, `reals` holds the finished scales and the one in progress.
        model.reals = all_reals[: n + 1]
        return _add_scale(model, cfg, n, rng)

    def after_scale(n: int) -> None:
        model.meta["train_seconds"] = base_seconds + time.monotonic() - started
        if out_path is not None:
            _save_checkpoint(model, out_path, key)

    job = _Job(
        cfg, plan.sizes, cfg.iterations, seed, callback, cancel, setup, after_scale, notices=notices
    )
    _run_scales(model, job, range(first, plan.num_scales))
    if out_path is not None:
        model.save(out_path)
        _clear_checkpoint(out_path)
    return model


def retrain_scales(
    model: SinGANModel,
    target: np.ndarray | torch.Tensor,
    scales: Sequence[int],
    iterations: int,
    callback: Callback | None = None,
    cancel: threading.Event | None = None,
    prev_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    fresh: bool = False,
    seed: int = 0,
) -> SinGANModel:
    """A copy of `model` whose `scales` are retrained on `target` (the input is unchanged).

    Used to fine-tune for harmonization (target: the naive composite, last scale) and for
    quantized paint-to-image (target: the training image, prev_transform: quantize the
    inputs coming from the scales below, fresh: new networks as the official code).
    `target` is HxWx3 uint8 or (1, 3, H, W) in [-1, 1]; it is resized to the model's sizes
    and replaces the training pyramid from the lowest retrained scale up. The model's own
    preset settings are used (official ones for imported models), one scale at a time.
    """
    scales = sorted(set(int(s) for s in scales))
    if not scales:
        raise ValueError("retrain_scales needs at least one scale")
    for s in scales:
        model._check_scale(s)
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    cfg_data = model.meta.get("config")
    cfg = TrainConfig.from_dict(cfg_data) if cfg_data else get_preset("paper")
    cfg = TrainConfig.from_dict({**cfg.to_dict(), "concurrent": 1, "iterations": iterations})
    new = copy.deepcopy(model)
    if isinstance(target, torch.Tensor):
        full = target.detach().to(new.device, torch.float32)
    else:
        full = to_tensor(as_rgb(target)).to(new.device)
    if full.dim() != 4 or full.shape[:2] != (1, 3):
        raise ValueError(f"target must be an image, got shape {tuple(full.shape)}")
    sizes = new.sizes
    for n in range(scales[0], new.num_scales):
        new.reals[n] = imresize(full, size_hw=sizes[n])
    if new.discriminators is None or len(new.discriminators) != new.num_scales:
        new.discriminators = [None] * new.num_scales  # type: ignore[list-item]

    def setup(n: int, rng: torch.Generator) -> ScaleCritic:
        net = new.generators[n].cfg
        critic = new.discriminators[n]
        if fresh or critic is None:
            critic = _place(make_critic(net, rng), new.device)
            new.discriminators[n] = critic
        if fresh:
            new.generators[n] = _place(make_generator(net, rng), new.device)
            new.noise_amps[n] = _noise_amp(new, cfg, n)
        return critic

    job = _Job(
        cfg,
        sizes,
        iterations,
        seed,
        callback,
        cancel,
        setup,
        lambda n: None,
        prev_transform=prev_transform,
    )
    _run_scales(new, job, scales)
    if any(d is None for d in new.discriminators):
        new.discriminators = None  # critics are kept only when every scale has one
    new.meta = {**new.meta, "retrained_scales": scales}
    return new
