"""A trained SinGAN: one image-space residual generator per scale plus what sampling needs.

Every preset and every imported official model is this same structure, so all applications
(random samples, harmonization, editing, paint-to-image, super-resolution, animation) work
on any model. Files are safetensors (all weights, noise, pyramid) with the description as
JSON in the safetensors metadata and a readable JSON copy next to it; nothing is unpickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save
from torch import nn

from ml.atomic import atomic_write_bytes, atomic_write_text
from ml.singan.imresize import imresize, output_size
from ml.singan.networks import NetConfig, ScaleCritic, ScaleGenerator, blank

FORMAT = "spadework-singan"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A SinGAN model file is missing, corrupt or of another kind; one-line message."""


def conv_memory_format(device: torch.device) -> torch.memory_format:
    """channels_last where it is faster for these small convs (CPU oneDNN: ~15%; CUDA)."""
    return torch.channels_last if device.type in ("cpu", "cuda") else torch.contiguous_format


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the readable JSON description of a model file lives."""
    path = Path(path)
    return path.with_name(path.name + ".json")


class SinGANModel:
    """Generators, noise amplitudes, reconstruction noise and training pyramid of one image.

    `upsample_mode` is 'factor' for the official pyramid (resize by 1 / scale_factor, then
    crop, exactly as tamarott/SinGAN) and 'exact' for pyramids with uneven steps.
    """

    def __init__(
        self,
        generators: Sequence[ScaleGenerator],
        noise_amps: Sequence[float],
        z_rec: Sequence[torch.Tensor],
        reals: Sequence[torch.Tensor],
        scale_factor: float,
        preset: str,
        meta: dict | None = None,
        discriminators: Sequence[ScaleCritic] | None = None,
        upsample_mode: str = "factor",
    ) -> None:
        if not (len(generators) == len(noise_amps) == len(z_rec) == len(reals)):
            raise ValueError(
                "generators, noise_amps, z_rec and reals must have one entry per scale"
            )
        if upsample_mode not in ("factor", "exact"):
            raise ValueError(f"unknown upsample_mode {upsample_mode!r}")
        self.generators: list[ScaleGenerator] = list(generators)
        self.discriminators: list[ScaleCritic] | None = (
            list(discriminators) if discriminators is not None else None
        )
        self.noise_amps: list[float] = [float(a) for a in noise_amps]
        self.z_rec: list[torch.Tensor] = list(z_rec)
        self.reals: list[torch.Tensor] = list(reals)
        self.scale_factor = float(scale_factor)
        self.preset = preset
        self.meta: dict = dict(meta or {})
        self.upsample_mode = upsample_mode
        for g in self.generators:
            g.eval().requires_grad_(False)
        for d in self.discriminators or []:
            d.eval().requires_grad_(False)

    # ----------------------------------------------------------------- properties
    @property
    def num_scales(self) -> int:
        return len(self.generators)

    @property
    def sizes(self) -> list[tuple[int, int]]:
        return [(int(r.shape[2]), int(r.shape[3])) for r in self.reals]

    @property
    def device(self) -> torch.device:
        return self.reals[0].device if self.reals else torch.device("cpu")

    def to(self, device: str | torch.device) -> SinGANModel:
        """Move everything to `device` (in place), weights in the faster memory format."""
        device = torch.device(device)
        fmt = conv_memory_format(device)
        for m in self.generators + (self.discriminators or []):
            m.to(device=device, memory_format=fmt)
        self.z_rec = [z.to(device) for z in self.z_rec]
        self.reals = [r.to(device) for r in self.reals]
        return self

    # ----------------------------------------------------------------- sampling parts
    def draw_noise(
        self,
        n: int,
        size_hw: tuple[int, int],
        generator: torch.Generator | None = None,
        batch: int = 1,
    ) -> torch.Tensor:
        """Gaussian noise for scale n: one channel repeated over RGB at the coarsest scale."""
        gen_device = generator.device if generator is not None else self.device
        channels = 1 if n == 0 else 3
        z = torch.randn(
            (batch, channels, int(size_hw[0]), int(size_hw[1])),
            generator=generator,
            device=gen_device,
        ).to(self.device)
        return z.expand(batch, 3, z.shape[2], z.shape[3]) if channels == 1 else z

    def forward_scale(self, n: int, z: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """One generator step at scale n: G_n(noise_amp_n * z + prev) + prev."""
        return self.generators[n](self.noise_amps[n] * z + prev, prev)

    def upsample(self, img: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
        """Bring an image up to the next scale's size with the MATLAB-style resize.

        Official models resize by 1 / scale_factor and crop to the size; other sizes (and
        uneven pyramids) are resized to exactly `size_hw`.
        """
        h, w = int(size_hw[0]), int(size_hw[1])
        if self.upsample_mode == "factor":
            nh, nw = output_size((img.shape[2], img.shape[3]), 1.0 / self.scale_factor)
            if h <= nh <= h + 1 and w <= nw <= w + 1:
                return imresize(img, scale=1.0 / self.scale_factor)[:, :, :h, :w]
        return imresize(img, size_hw=(h, w))

    def _check_scale(self, start_scale: int) -> None:
        if not 0 <= start_scale < self.num_scales:
            raise ValueError(
                f"start scale {start_scale} is out of range: this model has scales "
                f"0-{self.num_scales - 1}"
            )

    @torch.no_grad()
    def generate(
        self,
        start_scale: int = 0,
        start_image: torch.Tensor | None = None,
        sizes: Sequence[tuple[int, int]] | None = None,
        generator: torch.Generator | None = None,
        noises: Sequence[torch.Tensor | None] | None = None,
    ) -> torch.Tensor:
        """A sample (1, 3, H, W) in [-1, 1] from fresh noise at scales >= start_scale.

        start_image: an image at scale start_scale - 1 (any size: it is resized to the next
        scale), used instead of the reconstruction path below start_scale. sizes: per-scale
        (h, w) for an arbitrary output size (default: the training sizes). noises: optional
        per-scale noise maps indexed by scale (None entries are drawn from `generator`).
        """
        self._check_scale(start_scale)
        sizes = [tuple(s) for s in sizes] if sizes is not None else self.sizes
        if len(sizes) != self.num_scales:
            raise ValueError(f"sizes must list {self.num_scales} (h, w) pairs, got {len(sizes)}")
        if noises is not None and len(noises) != self.num_scales:
            raise ValueError(f"noises must have {self.num_scales} entries (None to draw)")
        if start_image is not None:
            if start_scale == 0:
                raise ValueError("a start image needs a start scale of 1 or more")
            prev = self.upsample(start_image.to(self.device, torch.float32), sizes[start_scale])
        elif start_scale > 0:
            rec = self._reconstruct_to(start_scale - 1)
            prev = self.upsample(rec, sizes[start_scale])
        else:
            prev = torch.zeros((1, 3, *sizes[0]), device=self.device)
        out = prev
        for n in range(start_scale, self.num_scales):
            if n > start_scale:
                prev = self.upsample(out, sizes[n])
            z = noises[n] if noises is not None and noises[n] is not None else None
            if z is None:
                z = self.draw_noise(n, sizes[n], generator)
            out = self.forward_scale(n, z.to(self.device), prev)
        return out

    def _reconstruct_to(self, last: int) -> torch.Tensor:
        """The reconstruction path {z*, 0, ..., 0} up to and including scale `last`."""
        out = torch.zeros_like(self.reals[0])
        for n in range(last + 1):
            prev = out if n == 0 else self.upsample(out, self.sizes[n])
            out = self.forward_scale(n, self.z_rec[n], prev)
        return out

    @torch.no_grad()
    def reconstruct(self) -> torch.Tensor:
        """The model's reconstruction of its training image (1, 3, H, W)."""
        return self._reconstruct_to(self.num_scales - 1)

    # ----------------------------------------------------------------- files
    def describe(self) -> dict:
        """The JSON description stored with the weights."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "num_scales": self.num_scales,
            "sizes": [list(s) for s in self.sizes],
            "scale_factor": self.scale_factor,
            "noise_amps": self.noise_amps,
            "preset": self.preset,
            "upsample_mode": self.upsample_mode,
            "net_configs": [g.cfg.to_dict() for g in self.generators],
            "critic_configs": [d.cfg.to_dict() for d in self.discriminators or []],
            "meta": self.meta,
        }

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor of the model under a flat, stable name."""
        out: dict[str, torch.Tensor] = {}
        for n, g in enumerate(self.generators):
            for k, v in g.state_dict().items():
                out[f"G.{n}.{k}"] = v
        for n, d in enumerate(self.discriminators or []):
            for k, v in d.state_dict().items():
                out[f"D.{n}.{k}"] = v
        for n, (z, r) in enumerate(zip(self.z_rec, self.reals, strict=True)):
            out[f"z_rec.{n}"] = z
            out[f"real.{n}"] = r
        return {k: v.detach().to("cpu").contiguous() for k, v in out.items()}

    def save(self, path: str | os.PathLike) -> None:
        """Write the model atomically: weights file first, then its readable JSON copy."""
        path = Path(path)
        desc = json.dumps(self.describe(), indent=1, sort_keys=True)
        atomic_write_bytes(path, st_save(self.tensors(), metadata={FORMAT: desc}))
        atomic_write_text(sidecar_path(path), desc + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> SinGANModel:
        """Read a model file written by `save` (no pickle involved)."""
        desc, tensors = read_model_file(path)
        return cls.from_parts(desc, tensors, path).to(device)

    @classmethod
    def from_parts(
        cls, desc: dict, tensors: dict[str, torch.Tensor], origin: str | os.PathLike = "model"
    ) -> SinGANModel:
        """Rebuild a model from its description and flat tensors, with clear errors."""
        n = int(desc["num_scales"])
        try:
            gens = [
                _module_from(blank(ScaleGenerator, NetConfig.from_dict(c)), tensors, f"G.{i}.")
                for i, c in enumerate(desc["net_configs"])
            ]
            crits = [
                _module_from(blank(ScaleCritic, NetConfig.from_dict(c)), tensors, f"D.{i}.")
                for i, c in enumerate(desc.get("critic_configs") or [])
            ]
            z_rec = [tensors[f"z_rec.{i}"] for i in range(n)]
            reals = [tensors[f"real.{i}"] for i in range(n)]
        except (KeyError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelFileError(
                f"{origin}: weights do not match the description ({first})"
            ) from None
        return cls(
            gens,
            desc["noise_amps"],
            z_rec,
            reals,
            desc["scale_factor"],
            desc["preset"],
            desc.get("meta", {}),
            crits or None,
            desc.get("upsample_mode", "factor"),
        )


def _module_from(module: nn.Module, tensors: dict[str, torch.Tensor], prefix: str) -> nn.Module:
    state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    module.load_state_dict(state, strict=True)
    return module


def read_model_file(
    path: str | os.PathLike, with_tensors: bool = True
) -> tuple[dict, dict[str, torch.Tensor]]:
    """The description and tensors of a model file, or a ModelFileError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = fh.metadata() or {}
            names = list(fh.keys()) if with_tensors else []
            tensors = {k: fh.get_tensor(k) for k in names}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable safetensors file ({exc})") from None
    if FORMAT not in meta:
        raise ModelFileError(f"{path}: a safetensors file, but not a SinGAN model")
    try:
        desc = json.loads(meta[FORMAT])
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: model description is corrupt ({exc})") from None
    if desc.get("version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{path}: made by a newer Spadework (format {desc['version']})")
    return desc, tensors


def read_info(path: str | os.PathLike) -> dict:
    """A model file's description without building networks (for listings)."""
    return read_model_file(path, with_tensors=False)[0]
