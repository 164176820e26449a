"""SPADE/GauGAN training with the official objective, resumable and multi-process.

Usage:
    from ml.spade.config import GeneratorConfig
    from ml.spade.datasets import ArrayDataset, PairedFolderDataset
    from ml.spade.train import TrainConfig, Trainer

    gen = GeneratorConfig(label_nc=15, contain_dontcare=True, no_instance=True, ngf=32,
                          crop_size=256, use_vae=True)
    data = ArrayDataset(images, labels, crop_size=256)        # or PairedFolderDataset(...)
    trainer = Trainer(TrainConfig(gen, batch_size=2, ndf=32), data, "runs/landscape")
    trainer.train(steps=2000, callback=lambda p: print(p.step, p.losses), cancel=event)
    trainer.save_model(folder, name="Landscape", dataset="landscape", label_set="landscape")

    trainer = Trainer.resume("runs/landscape", data)       # later: carries on bit-exactly
    trainer.train(steps=4000)                              # `steps` is the total to reach

    Trainer(config, data, "runs/ft", init_model="coco-1234abcd")   # fine-tune a library model

Each step is the official one: a generator update (hinge GAN + feature matching x10
[+ VGG19 x10 when a local VGG19 weights file is given] [+ KL x0.05 with the VAE]) then a
discriminator update on fakes made by the updated generator, with Adam (0, 0.9), G 1e-4,
D 4e-4. Under `torchrun` every process takes its share of each global batch, batch norm
statistics are synchronised, gradients are averaged by DistributedDataParallel; the KL term,
a sum over the batch, is multiplied by the world size so the objective equals one process
training the whole global batch. AMP (bf16, or fp16 with loss scaling) is used on CUDA.

Data order, augmentation and VAE noise are functions of (seed, step), and checkpoints hold
every network, optimizer and scaler state, so a resumed run computes exactly what an
uninterrupted one would.

Speed (docs/spade-training.md, bench/spade_train.py): 256 px, ngf 32, ndf 32 on the shared
2-core CPU costs ~5-7 s per sample the official way, ~2-3 s with cpu_bf16=True and
fresh_fakes_for_d=False; on a loaded machine torch.set_num_threads(1) is much faster than 2.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ml.cancel import CancelWatch, layers
from ml.spade import distributed as dist_util
from ml.spade import train_state as ts
from ml.spade.config import GeneratorConfig
from ml.spade.datasets import DatasetError, PairDataset
from ml.spade.inputs import InputError, prepare, semantic_tensor
from ml.spade.losses import (
    VGGLoss,
    feature_matching_loss,
    hinge_d_loss,
    hinge_g_loss,
    kld_loss,
    load_vgg19,
    pyramid_l1_loss,
)
from ml.spade.networks import (
    INIT_GAIN,
    ConvEncoder,
    MultiscaleDiscriminator,
    SPADEGenerator,
    init_weights,
    style_encoder,
)

log = logging.getLogger(__name__)

# Buffers (batch-norm statistics, spectral-norm vectors) are equal on every rank by
# construction, so DDP need not re-send them each forward; newer torch renamed the switch.
_NO_BUFFER_SYNC = (
    "forward_sync_buffers"
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
    else "broadcast_buffers"
)


class TrainingCancelled(RuntimeError):
    """The cancel flag was set; the trainer has stopped and saved what it completed."""


@dataclass
class TrainConfig:
    """Everything that fixes a run besides the data. `batch_size` is per process.

    `fresh_fakes_for_d` (official: True) makes the discriminator step render its fakes with
    the just-updated generator; False reuses the generator step's fakes, one generator pass
    less per step (as pix2pixHD does). `cpu_bf16` runs CPU steps under bfloat16 autocast,
    about twice as fast on CPUs with native bf16 (AVX512-BF16, AMX); `amp` is the CUDA switch.
    `lambda_l1` (official: 0) adds a multi-scale L1 reconstruction term, a stand-in for the
    perceptual loss when no VGG19 weights file is at hand. `ema_decay` (official: 0, off)
    keeps an exponential moving average of the generator's (and encoder's) weights, which
    is what `save_model` exports: with small batches the live weights jitter from step to
    step, their average renders cleaner pictures.

    `kld_warmup` and `style_gain` keep a short run from ignoring the style code (posterior
    collapse: every style renders alike). `kld_warmup` (official: 0) raises the VAE's
    sampling noise and the KL weight linearly from 0 over that many steps, so training starts
    as a plain autoencoder. `style_gain` (official: 0.02, every layer's Xavier gain)
    initialises the style path, the encoder's mean head and the generator's `fc` from the
    code, with its own gain: at 0.02 the code reaches the generator far below batch norm's
    epsilon. Measured on the default model's settings (docs/default-model.md), how far
    renders move when two pictures' codes are swapped: official init, no warm-up, 0.4 of
    255 levels after 1886 steps; official init with warm-up, 4-6 levels after 350-650
    steps; both, 33 levels after 700 steps.
    """

    generator: GeneratorConfig
    batch_size: int = 1
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.9
    lambda_feat: float = 10.0
    lambda_vgg: float = 10.0
    lambda_kld: float = 0.05
    lambda_l1: float = 0.0
    vgg_weights: str | None = None
    ndf: int = 64
    num_D: int = 2
    n_layers_D: int = 4
    seed: int = 0
    amp: bool = True
    device: str = "auto"
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    preview_every: int = 50
    label_set: str | None = None
    fresh_fakes_for_d: bool = True
    cpu_bf16: bool = False
    ema_decay: float = 0.0
    kld_warmup: int = 0
    style_gain: float = INIT_GAIN

    def __post_init__(self) -> None:
        if isinstance(self.generator, dict):
            self.generator = GeneratorConfig.from_dict(self.generator)
        if self.vgg_weights is not None:
            self.vgg_weights = str(self.vgg_weights)
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.num_D < 1 or self.n_layers_D < 1 or self.ndf < 1:
            raise ValueError("num_D, n_layers_D and ndf must be positive")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1)")
        if self.kld_warmup < 0:
            raise ValueError("kld_warmup must not be negative")

    @property
    def use_vae(self) -> bool:
        return self.generator.use_vae

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["generator"] = self.generator.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainProgress:
    """One report per step, for a progress bar: preview (HxWx3 uint8) only every so often."""

    step: int
    steps: int
    losses: dict[str, float]
    seconds: float
    eta_seconds: float
    preview: np.ndarray | None = None
    checkpoint: Path | None = None


@dataclass
class _Batch:
    seg: torch.Tensor
    real: torch.Tensor


@dataclass
class _StepRandom:
    """Per-step generators so that noise does not depend on what ran before."""

    seed: int
    step: int

    def normal(self, tag: int, shape: tuple[int, ...]) -> torch.Tensor:
        seq = np.random.SeedSequence([self.seed, self.step, tag])
        gen = torch.Generator().manual_seed(int(seq.generate_state(1, np.uint64)[0] >> 1))
        return torch.randn(shape, generator=gen)


def _seed_for(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> 1)


def _unwrap(net: nn.Module) -> nn.Module:
    return net.module if isinstance(net, DistributedDataParallel) else net


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """A (3, H, W) tensor in [-1, 1] as HxWx3 uint8, the official way (truncation)."""
    arr = ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2 * 255).permute(1, 2, 0).numpy()
    return arr.astype(np.uint8)


class Trainer:
    """Builds the networks and optimizers for a config and trains them on a dataset."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: PairDataset,
        checkpoint_dir: str | Path | None = None,
        init_model: str | Path | None = None,
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.ctx, self.device = dist_util.init_distributed(config.device)
        self.step = 0
        self.trained_seconds = 0.0
        self.source = ""
        cfg = config.generator
        self._check_dataset()

        # Seeded initialisation that leaves the process's global RNG as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            G = SPADEGenerator(cfg)
            D = MultiscaleDiscriminator(
                cfg.semantic_nc + 3, config.ndf, config.num_D, config.n_layers_D
            )
            E = style_encoder(cfg) if cfg.use_vae else None
            for net in (G, D, E):
                if net is not None:
                    init_weights(net)
            if E is not None and config.style_gain != INIT_GAIN:
                nn.init.xavier_normal_(G.fc.weight, gain=config.style_gain)
                nn.init.xavier_normal_(E.fc_mu.weight, gain=config.style_gain)
        if init_model is not None:
            self._load_init_model(G, E, init_model)
        self.G_ema, self.E_ema = self._averaged(G), self._averaged(E)
        if self.ctx.enabled:
            G = dist_util.convert_sync_batchnorm(G, self.device)
        self.G, self.D, self.E = self._place(G), self._place(D), self._place(E)

        g_params = list(G.parameters()) + (list(E.parameters()) if E is not None else [])
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(g_params, lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=betas)

        self.amp_dtype = self._amp_dtype()
        use_scaler = self.amp_dtype == torch.float16 and self.device.type == "cuda"
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=use_scaler)

        self.vgg_loss: VGGLoss | None = None
        if config.vgg_weights:
            self.vgg_loss = VGGLoss(load_vgg19(config.vgg_weights)).to(self.device)
        elif config.lambda_vgg > 0:
            log.warning(
                "VGG19 perceptual loss is off: no local VGG19 weights file was given "
                "(--vgg-weights); the official models were trained with it"
            )
        self._perm_cache: tuple[int, np.ndarray] | None = None

    # ------------------------------------------------------------------ building

    def _check_dataset(self) -> None:
        cfg = self.config.generator
        sw, sh = cfg.latent_size
        if sw * sh * self.global_batch < 2:
            raise ValueError(
                f"a {sw}x{sh} latent grid needs a batch of at least 2 for batch norm "
                "(raise --batch-size or the crop size)"
            )
        if len(self.dataset) == 0:
            raise DatasetError("the dataset is empty")
        if self.dataset.preprocess.out_size != cfg.native_size:
            w, h = self.dataset.preprocess.out_size
            nw, nh = cfg.native_size
            raise DatasetError(
                f"the dataset yields {w}x{h} crops but the generator is built for {nw}x{nh}; "
                "give both the same crop size and aspect ratio"
            )

    def _load_init_model(self, G: SPADEGenerator, E: ConvEncoder | None, init_model) -> None:
        from ml.spade.library import load_model

        model = load_model(init_model)
        if model.card.config != self.config.generator:
            raise ValueError(
                f"model {model.card.id!r} has generator settings {model.card.config.to_dict()}, "
                f"which differ from this run's {self.config.generator.to_dict()}"
            )
        G.load_state_dict(model.generator.state_dict())
        if E is not None:
            if model.encoder is None:
                raise ValueError(f"model {model.card.id!r} has no style encoder to fine-tune")
            E.load_state_dict(model.encoder.state_dict())
        self.source = f"fine-tuned from {model.card.id} ({model.card.name})"

    def _averaged(self, net: nn.Module | None) -> nn.Module | None:
        """The network's moving-average copy (eval mode, no gradients), when EMA is on."""
        if net is None or self.config.ema_decay == 0.0:
            return None
        avg = copy.deepcopy(net).to(self.device, memory_format=torch.channels_last)
        return avg.eval().requires_grad_(False)

    @torch.no_grad()
    def _update_averages(self) -> None:
        """avg <- decay * avg + (1 - decay) * live; buffers (batch-norm and spectral-norm
        statistics) follow the live network."""
        for live, avg in ((self.G, self.G_ema), (self.E, self.E_ema)):
            if avg is None:
                continue
            live = _unwrap(live)
            for p_avg, p in zip(avg.parameters(), live.parameters(), strict=True):
                p_avg.lerp_(p, 1.0 - self.config.ema_decay)
            for b_avg, b in zip(avg.buffers(), live.buffers(), strict=True):
                b_avg.copy_(b)

    @torch.no_grad()
    def refresh_average_statistics(self, batches: int = 64) -> None:
        """Batch-norm and spectral-norm statistics computed for the averaged weights.

        The averaged generator carries the live network's statistics, which belong to other
        weights. This runs it in training mode over `batches` training batches (styles: the
        averaged encoder's means) with cumulative batch-norm averages, which also lets
        spectral norm's power iteration settle on the averaged weights. Only the averages
        change; the training state is untouched, so a later resume is unaffected.
        """
        if self.G_ema is None:
            return
        norms = [m for m in self.G_ema.modules() if isinstance(m, nn.BatchNorm2d)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all batches
        self.G_ema.train()
        for k in range(batches):
            batch = self._batch(self.step + k)
            z = self.E_ema(batch.real)[0] if self.E_ema is not None else None
            self.G_ema(batch.seg, z)
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        self.G_ema.eval()

    def _place(self, net: nn.Module | None) -> nn.Module | None:
        if net is None:
            return None
        net.to(self.device, memory_format=torch.channels_last).train()
        if not self.ctx.enabled:
            return net
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids, **{_NO_BUFFER_SYNC: False})

    def _amp_dtype(self) -> torch.dtype | None:
        if self.device.type == "cpu":
            return torch.bfloat16 if self.config.cpu_bf16 else None
        if not self.config.amp or self.device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _autocast(self):
        kind = "cpu" if self.device.type == "cpu" else "cuda"
        return torch.autocast(
            kind, dtype=self.amp_dtype or torch.bfloat16, enabled=self.amp_dtype is not None
        )

    # ------------------------------------------------------------------ data

    @property
    def global_batch(self) -> int:
        return self.config.batch_size * self.ctx.world_size

    def _index_at(self, position: int) -> int:
        n = len(self.dataset)
        epoch, k = divmod(position, n)
        if self._perm_cache is None or self._perm_cache[0] != epoch:
            rng = np.random.default_rng(_seed_for(self.config.seed, epoch, 1))
            self._perm_cache = (epoch, rng.permutation(n))
        return int(self._perm_cache[1][k])

    def _batch(self, step: int) -> _Batch:
        cfg = self.config.generator
        b = self.config.batch_size
        first = step * self.global_batch + self.ctx.rank * b
        segs, reals = [], []
        for pos in range(first, first + b):
            index = self._index_at(pos)
            sample = self.dataset.sample(index, _seed_for(self.config.seed, pos, 2))
            h, w = sample.label.shape
            try:
                inp = prepare(sample.label, cfg, (w, h), sample.instance, fallback=0)
            except InputError as exc:
                raise DatasetError(f"{self.dataset.describe(index)}: {exc}") from None
            segs.append(semantic_tensor(inp, cfg))
            img = torch.from_numpy(np.ascontiguousarray(sample.image)).permute(2, 0, 1)
            reals.append(img.float()[None] / 127.5 - 1.0)
        cl = torch.channels_last
        seg = torch.cat(segs).to(self.device).contiguous(memory_format=cl)
        return _Batch(seg, torch.cat(reals).to(self.device).contiguous(memory_format=cl))

    # ------------------------------------------------------------------ one step

    def _noise(self, rnd: _StepRandom, tag: int) -> torch.Tensor:
        z_dim = self.config.generator.z_dim
        full = rnd.normal(tag, (self.global_batch, z_dim))
        b = self.config.batch_size
        return full[self.ctx.rank * b : (self.ctx.rank + 1) * b].to(self.device)

    def _fake(self, batch: _Batch, rnd: _StepRandom, tag: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """G's output; with the VAE also the KL term (already weighted)."""
        if self.E is None:
            return self.G(batch.seg), None
        z, kld = self._style_code(batch, rnd, tag)
        return self.G(batch.seg, z), kld

    def _style_code(
        self, batch: _Batch, rnd: _StepRandom, tag: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A style code sampled from the encoder's posterior, and the weighted KL term."""
        mu, logvar = self.E(batch.real)
        ramp = self.warmup(rnd.step)
        eps = self._noise(rnd, tag).to(mu.dtype) * ramp
        z = eps * torch.exp(0.5 * logvar) + mu
        weight = self.config.lambda_kld * ramp * self.ctx.world_size
        return z, kld_loss(mu.float(), logvar.float()) * weight

    def warmup(self, step: int) -> float:
        """Share of the VAE's sampling noise and KL weight in force at `step` (0-based)."""
        if self.config.kld_warmup == 0:
            return 1.0
        return min(1.0, (step + 1) / self.config.kld_warmup)

    def _discriminate(self, D: nn.Module, seg, fake, real) -> tuple[list, list]:
        both = torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0)
        out = D(both)
        n = fake.shape[0]
        return [[t[:n] for t in s] for s in out], [[t[n:] for t in s] for s in out]

    def _generator_step(self, batch: _Batch, rnd: _StepRandom) -> tuple[dict, torch.Tensor]:
        c = self.config
        self.opt_g.zero_grad(set_to_none=True)
        D = _unwrap(self.D)
        D.requires_grad_(False)
        try:
            with self._autocast():
                fake, kld = self._fake(batch, rnd, 0)
                pred_fake, pred_real = self._discriminate(D, batch.seg, fake, batch.real)
                losses = {
                    "G_GAN": hinge_g_loss(pred_fake).float(),
                    "G_feat": feature_matching_loss(pred_fake, pred_real).float() * c.lambda_feat,
                }
                if self.vgg_loss is not None:
                    losses["G_VGG"] = self.vgg_loss(fake.float(), batch.real).float() * c.lambda_vgg
                if c.lambda_l1 > 0:
                    losses["G_L1"] = pyramid_l1_loss(fake.float(), batch.real) * c.lambda_l1
                if kld is not None:
                    losses["G_KLD"] = kld
        finally:
            D.requires_grad_(True)
        total = sum(losses.values())
        self.scaler_g.scale(total).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        return {k: float(v.detach()) for k, v in losses.items()}, fake.detach()

    def _discriminator_step(self, batch: _Batch, rnd: _StepRandom, fake: torch.Tensor) -> dict:
        self.opt_d.zero_grad(set_to_none=True)
        with self._autocast():
            if self.config.fresh_fakes_for_d:
                with torch.no_grad():
                    fake, _ = self._fake(batch, rnd, 1)
            pred_fake, pred_real = self._discriminate(self.D, batch.seg, fake.detach(), batch.real)
            losses = {
                "D_fake": hinge_d_loss(pred_fake, real=False).float(),
                "D_real": hinge_d_loss(pred_real, real=True).float(),
            }
        self.scaler_d.scale(sum(losses.values())).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        return {k: float(v.detach()) for k, v in losses.items()}

    def train_step(self) -> tuple[dict[str, float], torch.Tensor]:
        """One generator and one discriminator update; returns losses and the fakes."""
        batch = self._batch(self.step)
        rnd = _StepRandom(self.config.seed, self.step)
        g_losses, fake = self._generator_step(batch, rnd)
        self._update_averages()
        d_losses = self._discriminator_step(batch, rnd, fake)
        self.step += 1
        losses = dist_util.mean_over_processes({**g_losses, **d_losses}, self.ctx, self.device)
        return losses, fake

    # ------------------------------------------------------------------ loop

    def iterate(
        self, steps: int, cancel: threading.Event | None = None
    ) -> Iterator[TrainProgress]:
        """Train until `steps` steps in total are done, yielding progress after each one.

        On cancel the trainer stops within a second: the step in flight is not counted (a
        cancel during its discriminator half keeps its generator update), a checkpoint of the
        state is saved and TrainingCancelled raised. Under torchrun the flag is checked
        between steps, all processes stopping together.
        """
        if steps < self.step:
            raise ValueError(f"this run is already at step {self.step}, past {steps}")
        # Under torchrun a process stopping alone would hang the others' collectives.
        watch = CancelWatch(
            None if self.ctx.enabled else cancel,
            lambda: TrainingCancelled("training cancelled"),
            layers(_unwrap(self.G), _unwrap(self.D), None if self.E is None else _unwrap(self.E)),
        )
        start, start_step = time.monotonic(), self.step
        try:
            while self.step < steps:
                stop = cancel is not None and cancel.is_set()
                if dist_util.any_process(stop, self.ctx, self.device):
                    raise TrainingCancelled("training cancelled")
                t0 = time.monotonic()
                with watch:
                    losses, fake = self.train_step()
                self.trained_seconds += time.monotonic() - t0
                elapsed = time.monotonic() - start
                rate = elapsed / (self.step - start_step)
                saved = None
                if self.checkpoint_dir is not None and (
                    self.step % self.config.checkpoint_every == 0 or self.step == steps
                ):
                    saved = self.save_checkpoint()
                preview = None
                every = self.config.preview_every
                if self.ctx.is_main and (self.step == steps or (every and self.step % every == 0)):
                    preview = to_uint8(fake[0])
                yield TrainProgress(
                    self.step, steps, losses, elapsed, rate * (steps - self.step), preview, saved
                )
        except TrainingCancelled:
            self._drop_partial_step()
            if self.checkpoint_dir is not None and self.step > start_step:
                self.save_checkpoint()
            raise

    def train(
        self,
        steps: int,
        callback: Callable[[TrainProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> TrainProgress | None:
        """Train until `steps` in total; the callback gets every step's progress."""
        last = None
        for progress in self.iterate(steps, cancel):
            last = progress
            if callback is not None:
                callback(progress)
        return last

    def _drop_partial_step(self) -> None:
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)

    # ------------------------------------------------------------------ checkpoints

    def _state_tensors(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = ts.prefixed("G", _unwrap(self.G).state_dict())
        tensors |= ts.prefixed("D", _unwrap(self.D).state_dict())
        if self.E is not None:
            tensors |= ts.prefixed("E", _unwrap(self.E).state_dict())
        for prefix, avg in (("G_ema", self.G_ema), ("E_ema", self.E_ema)):
            if avg is not None:
                tensors |= ts.prefixed(prefix, avg.state_dict())
        og, og_meta = ts.flatten_optimizer("opt_g", self.opt_g)
        od, od_meta = ts.flatten_optimizer("opt_d", self.opt_d)
        rng, rng_meta = ts.rng_tensors(self.device)
        meta = {
            "config": self.config.to_dict(),
            "opt_g": og_meta,
            "opt_d": od_meta,
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "rng": rng_meta,
            "dataset_size": len(self.dataset),
            "trained_seconds": self.trained_seconds,
            "source": self.source,
        }
        return tensors | og | od | rng, meta

    def save_checkpoint(self) -> Path | None:
        """Write the full training state (rank 0 only); other ranks wait for it."""
        saved = None
        if self.ctx.is_main:
            tensors, meta = self._state_tensors()
            saved = ts.save_state(
                self.checkpoint_dir, self.step, tensors, meta, self.config.keep_checkpoints
            )
        dist_util.barrier(self.ctx)
        return saved

    @classmethod
    def resume(
        cls, checkpoint_dir: str | Path, dataset: PairDataset, device: str | None = None
    ) -> Trainer:
        """The run saved in `checkpoint_dir`, ready to continue exactly where it stopped."""
        checkpoint_dir = Path(checkpoint_dir)
        folder = ts.latest_state(checkpoint_dir)
        if folder is None:
            raise ts.CheckpointStateError(f"{checkpoint_dir}: no training checkpoint to resume")
        tensors, meta = ts.load_state(folder)
        config = TrainConfig.from_dict(meta["config"])
        if device is not None:
            config.device = device
        if meta.get("dataset_size") != len(dataset):
            log.warning(
                "resuming with %d training pairs where the run had %s: the data order changes",
                len(dataset),
                meta.get("dataset_size"),
            )
        trainer = cls(config, dataset, checkpoint_dir)
        trainer._restore(tensors, meta)
        return trainer

    def _restore(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        try:
            _unwrap(self.G).load_state_dict(ts.unprefixed("G", tensors))
            _unwrap(self.D).load_state_dict(ts.unprefixed("D", tensors))
            if self.E is not None:
                _unwrap(self.E).load_state_dict(ts.unprefixed("E", tensors))
            for prefix, avg in (("G_ema", self.G_ema), ("E_ema", self.E_ema)):
                if avg is not None:
                    avg.load_state_dict(ts.unprefixed(prefix, tensors))
            self.opt_g.load_state_dict(ts.unflatten_optimizer("opt_g", tensors, meta["opt_g"]))
            self.opt_d.load_state_dict(ts.unflatten_optimizer("opt_d", tensors, meta["opt_d"]))
        except (RuntimeError, KeyError, ValueError) as exc:
            raise ts.CheckpointStateError(
                f"training checkpoint does not fit its configuration ({str(exc).splitlines()[0]})"
            ) from None
        self.scaler_g.load_state_dict(meta["scaler_g"])
        self.scaler_d.load_state_dict(meta["scaler_d"])
        ts.restore_rng(tensors, meta["rng"], self.device)
        self.step = int(meta["step"])
        self.trained_seconds = float(meta.get("trained_seconds", 0.0))
        self.source = meta.get("source", "")

    # ------------------------------------------------------------------ export

    def generator_state(self) -> dict[str, torch.Tensor]:
        """The weights to export: the moving average when EMA is on, else the live ones."""
        net = self.G_ema if self.G_ema is not None else _unwrap(self.G)
        return {k: v.detach().cpu() for k, v in net.state_dict().items()}

    def encoder_state(self) -> dict[str, torch.Tensor] | None:
        if self.E is None:
            return None
        net = self.E_ema if self.E_ema is not None else _unwrap(self.E)
        return {k: v.detach().cpu() for k, v in net.state_dict().items()}

    def save_model(
        self,
        folder: str | Path,
        name: str,
        dataset: str = "custom",
        label_set: str | None = None,
        description: str = "",
        licence: str = "",
        source: str | None = None,
        extra: dict | None = None,
    ) -> Path:
        """The trained generator (and encoder) as a library model folder (must not exist)."""
        from ml.spade.library import ModelCard, save_model

        label_set = label_set or self.config.label_set
        if label_set is None:
            raise ValueError("save_model needs the name of the model's label set")
        card = ModelCard(
            id=Path(folder).name,
            name=name,
            dataset=dataset,
            label_set=label_set,
            config=self.config.generator,
            has_encoder=self.E is not None,
            source=source if source is not None else (self.source or "trained with Spadework"),
            licence=licence,
            description=description,
            extra={
                "training": {
                    "steps": self.step,
                    "batch_size": self.global_batch,
                    "seconds": round(self.trained_seconds, 1),
                    "vgg_loss": self.vgg_loss is not None,
                    "dataset_size": len(self.dataset),
                },
                **(extra or {}),
            },
        )
        return save_model(folder, card, self.generator_state(), self.encoder_state())

