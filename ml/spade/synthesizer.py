"""Render label maps to pictures with a SPADE model: fast, exact, at any size and aspect.

The official test-time preprocessing is kept: the label map is resized with PIL NEAREST to
the render size, 255 goes to the don't-care channel (or, for models without one, to the
label set's first class), instance edges are appended, and the output (x+1)/2*255 is
clipped and truncated to uint8. Label-dependent work is cached between calls (see
ml.spade.fastpath), so repeated renders while painting only redo what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ml.devices import pick_device
from ml.labels import LabelSet, load_label_set
from ml.spade import inputs
from ml.spade.fastpath import FastGenerator, LabelState
from ml.spade.library import ModelCard, SpadeModel, load_model

log = logging.getLogger(__name__)
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
MAX_RENDER_PIXELS = 4096 * 4096


class StyleError(ValueError):
    """A style cannot be used with this model; the message says why."""


@dataclass
class Style:
    """A style: an explicit latent, a seed for a random one, or a reference RGB image.

    With an image, its encoded mean is used; `sample=True` draws around it (seeded by
    `seed`, default 0) as the VAE's posterior would.
    """

    latent: np.ndarray | None = None
    seed: int | None = None
    image: np.ndarray | None = None
    sample: bool = False


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] to HxWx3 uint8 the official way: (x+1)/2*255, clip, truncate."""
    array = image[0].detach().float().permute(1, 2, 0).cpu().numpy()
    return np.clip((array + 1.0) / 2.0 * 255.0, 0, 255).astype(np.uint8)


def present_ids(labels: np.ndarray) -> np.ndarray:
    """The distinct ids of a map; a histogram for 8/16-bit maps (no sort of every pixel)."""
    if labels.dtype in (np.uint8, np.uint16):
        return np.flatnonzero(np.bincount(labels.ravel()))
    return np.unique(labels)


def check_rgb(rgb: np.ndarray, what: str = "style image") -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4) or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise StyleError(f"{what} must be an HxWx3 RGB array, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise StyleError(f"{what} must be uint8, not {rgb.dtype}")
    return rgb[..., :3]


class Synthesizer:
    """Renders label maps with one model on one device; confined to one thread.

    Construction loads and prepares the model (slow); `render` is cheap to call again with
    the same layout and another style, or after a small edit of the label map.
    """

    def __init__(
        self,
        model: SpadeModel | str | os.PathLike,
        device: str | torch.device = "auto",
        precision: str = "fp32",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.device = pick_device(device)
        if not isinstance(model, SpadeModel):
            model = load_model(model, device="cpu")
        if precision != "fp32" and self.device.type != "cuda":
            log.info("%s autocast needs CUDA; rendering in fp32 on %s", precision, self.device)
            precision = "fp32"
        self.precision = precision
        self.model = model
        self.card: ModelCard = model.card
        self.label_set: LabelSet = load_label_set(self.card.label_set)
        model.generator.eval()
        self.fast = FastGenerator(model.generator, self.device)
        self.encoder = None
        if model.encoder is not None:
            self.encoder = model.encoder.eval().to(self.device)
        self._state: LabelState | None = None
        self._label_shape: tuple[int, ...] = ()
        self._style_cache: tuple[bytes, torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------------ facts

    @property
    def has_encoder(self) -> bool:
        return self.encoder is not None

    @property
    def has_style_input(self) -> bool:
        """False for the released models: seed and latent then change nothing."""
        return self.card.config.use_vae

    @property
    def native_size(self) -> tuple[int, int]:
        return self.card.config.native_size

    @property
    def z_dim(self) -> int:
        return self.card.config.z_dim

    def render_size(self, size: tuple[int, int] | None = None) -> tuple[int, int]:
        """The (W, H) actually rendered for a requested size: rounded to the latent stride."""
        if size is None:
            return self.native_size
        width, height = (int(v) for v in size)
        if width < 1 or height < 1:
            raise ValueError(f"render size must be positive, got {width}x{height}")
        stride = self.card.config.stride
        out = (
            max(stride, round(width / stride) * stride),
            max(stride, round(height / stride) * stride),
        )
        if out[0] * out[1] > MAX_RENDER_PIXELS:
            raise ValueError(
                f"render size {width}x{height} is over the {MAX_RENDER_PIXELS} pixel limit"
            )
        return out

    # ------------------------------------------------------------------ style

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=PRECISIONS[self.precision])

    def _encode(self, rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if self.encoder is None:
            raise StyleError(
                f"model {self.card.name!r} has no style encoder; use a seed or a preset"
            )
        rgb = check_rgb(rgb)
        key = hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).digest() + bytes(
            str(rgb.shape), "ascii"
        )
        if self._style_cache is not None and self._style_cache[0] == key:
            return self._style_cache[1], self._style_cache[2]
        resized = np.array(Image.fromarray(rgb).resize(self.native_size, Image.BICUBIC))
        x = torch.from_numpy(resized).to(self.device).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        with torch.inference_mode(), self._autocast():
            mu, logvar = self.encoder(x)
        mu, logvar = mu.float(), logvar.float()
        self._style_cache = (key, mu, logvar)
        return mu, logvar

    def encode_style(self, rgb: np.ndarray) -> np.ndarray:
        """The style latent (the encoder's mean) of a reference RGB image."""
        return self._encode(rgb)[0][0].cpu().numpy()

    def style_latent(self, style: Style | None) -> torch.Tensor | None:
        """(1, z_dim) latent for a style, None for models without style input."""
        style = style or Style()
        if not self.has_style_input:
            if style.image is not None:
                raise StyleError(
                    f"model {self.card.name!r} has no style input; a reference image cannot be used"
                )
            return None
        if style.image is not None:
            mu, logvar = self._encode(style.image)
            if not style.sample:
                return mu
            gen = torch.Generator().manual_seed(int(style.seed or 0))
            eps = torch.randn(mu.shape, generator=gen).to(self.device)
            return mu + eps * torch.exp(0.5 * logvar)
        if style.latent is not None:
            latent = np.asarray(style.latent, dtype=np.float32).reshape(-1)
            if latent.shape != (self.z_dim,):
                raise StyleError(
                    f"style latent has {latent.size} values, the model takes {self.z_dim}"
                )
            if not np.isfinite(latent).all():
                raise StyleError("style latent holds NaN or infinite values")
            return torch.from_numpy(latent.copy())[None].to(self.device)
        gen = torch.Generator().manual_seed(int(style.seed or 0))
        return torch.randn(1, self.z_dim, generator=gen).to(self.device)

    # ------------------------------------------------------------------ render

    def _window(self, dirty_rect, label_shape: tuple[int, int], size: tuple[int, int]):
        """A label-map dirty rectangle in render pixels, grown for resize rounding and edges."""
        if dirty_rect is None:
            return None
        x0, y0, x1, y1 = (int(v) for v in dirty_rect)
        lh, lw = label_shape
        if not (0 <= x0 < x1 <= lw and 0 <= y0 < y1 <= lh):
            raise ValueError(
                f"dirty_rect {tuple(dirty_rect)} is not inside the {lw}x{lh} label map"
            )
        width, height = size
        fx, fy = width / lw, height / lh
        return (
            max(int(x0 * fx) - 2, 0),
            max(int(y0 * fy) - 2, 0),
            min(int(np.ceil(x1 * fx)) + 2, width),
            min(int(np.ceil(y1 * fy)) + 2, height),
        )

    def prepare_labels(
        self, labels: np.ndarray, instances: np.ndarray | None, size: tuple[int, int]
    ):
        """Validated generator input for a label map (ids of this model's label set)."""
        labels = inputs.check_map(labels, "label map")
        self.label_set.validate(present_ids(labels))
        fallback = self.label_set.classes[0].id
        return inputs.prepare(labels, self.card.config, size, instances, fallback)

    def render(
        self,
        labels: np.ndarray,
        instances: np.ndarray | None = None,
        style: Style | None = None,
        size: tuple[int, int] | None = None,
        dirty_rect: tuple[int, int, int, int] | None = None,
    ) -> np.ndarray:
        """An (H, W, 3) uint8 picture of the label map, at `size` (W, H) or the native size.

        `dirty_rect` (x0, y0, x1, y1 in label-map pixels) says the map changed only there
        since the previous call at the same size: changes elsewhere are then not looked for.
        """
        requested = size
        size = self.render_size(size)
        inp = self.prepare_labels(labels, instances, size)
        z = self.style_latent(style)
        window = self._window(dirty_rect, np.shape(labels), size)
        with torch.inference_mode(), self._autocast():
            if self._state is None or self._state.size != size:
                self._state = None  # free the old cache before building the new one
                self._state = self.fast.prepare(inp)
            else:
                # A hint about another label map (the canvas was resized) is no hint at all.
                same_map = np.shape(labels) == self._label_shape
                self.fast.update(self._state, inp, window if same_map else None)
            self._label_shape = np.shape(labels)
            image = self.fast.render(self._state, z)
        return _at_size(to_uint8(image), requested)

    def render_plain(
        self,
        labels: np.ndarray,
        instances: np.ndarray | None = None,
        style: Style | None = None,
        size: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """The same picture through the unoptimised network forward (reference and benchmark)."""
        requested, size = size, self.render_size(size)
        inp = self.prepare_labels(labels, instances, size)
        z = self.style_latent(style)
        gen = self.model.generator.to(self.device)
        with torch.inference_mode(), self._autocast():
            seg = inputs.semantic_tensor(inp, self.card.config, self.device)
            image = gen(seg, z)
        return _at_size(to_uint8(image), requested)

    def clear_cache(self) -> None:
        """Drop the cached label state (e.g. before switching documents)."""
        self._state = None
        self._style_cache = None


def _at_size(image: np.ndarray, requested: tuple[int, int] | None) -> np.ndarray:
    """A render at the stride-rounded size, bicubic-resized to the exact size asked for."""
    if requested is None or tuple(requested) == (image.shape[1], image.shape[0]):
        return image
    return np.asarray(Image.fromarray(image).resize(tuple(requested), Image.BICUBIC))
