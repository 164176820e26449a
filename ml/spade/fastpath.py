"""Exact fast inference for a SPADE generator: same outputs as the plain forward, less work.

What makes it fast, none of which changes a result beyond float rounding:
- Spectral norm folded into plain conv weights (eval mode uses the stored u, v), batch norm
  folded into the modulation: SPADE(x) = x * A + B with A, B from the labels alone.
- The first conv of every SPADE layer (and the label `fc`) sees a one-hot input, so it is a
  per-class lookup of 3x3 kernels summed over the neighbourhood (`embedding_bag`), not a
  dense conv over all label channels; the layers running at one resolution share one lookup.
- A and B of every SPADE layer are cached per label map: a new style recomputes only the
  main path; after a brush stroke they are recomputed only in the changed rectangle grown
  by the receptive field (2 pixels: two 3x3 convs) at each resolution.
- channels_last tensors throughout; callers run it under torch.inference_mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ml.spade.config import GeneratorConfig
from ml.spade.inputs import LabelInput
from ml.spade.networks import (
    LEAK,
    SPADE,
    SPADEGenerator,
    SPADEResnetBlock,
    block_names,
    upsamples_before,
)

CL = torch.channels_last
Rect = tuple[int, int, int, int]  # (y0, y1, x0, x1), half-open, at one resolution
BAND_BYTES = 64 * 2**20  # transient hidden activations per band of rows


def folded_weight(conv: nn.Conv2d) -> torch.Tensor:
    """The conv's effective weight: spectral norm's eval-mode division by sigma applied once."""
    if hasattr(conv, "weight_orig"):
        weight = conv.weight_orig.detach()
        u, v = conv.weight_u.detach(), conv.weight_v.detach()
        return weight / torch.dot(u, torch.mv(weight.flatten(1), v))
    return conv.weight.detach()


class PlainConv:
    """A conv with folded weights in channels_last, for the main path."""

    def __init__(self, conv: nn.Conv2d, device: torch.device) -> None:
        self.weight = folded_weight(conv).to(device).contiguous(memory_format=CL)
        self.bias = None if conv.bias is None else conv.bias.detach().to(device)
        self.padding = conv.padding

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


def label_codes(index: np.ndarray, edges: np.ndarray | None, classes: int) -> np.ndarray:
    """Per-pixel lookup codes, sentinel-padded by 1: channel index + (classes + 1) * edge."""
    codes = np.pad(index.astype(np.int32), 1, constant_values=classes)
    if edges is not None:
        codes += (classes + 1) * np.pad(edges.astype(np.int32), 1)
    return codes


class OneHotConv:
    """3x3 convs over one-hot labels (+ optional edge channel) as one per-class kernel lookup.

    The input is a code map (`label_codes`): per tap, a table row holds the class's kernel
    column, plus the edge channel's when the pixel is an edge; tap 0's rows also carry the
    bias (every pixel has exactly one tap 0). The conv is then one `embedding_bag` sum of 9
    rows per pixel. Several convs over the same input are stacked along their outputs.
    """

    def __init__(
        self, convs: list[nn.Conv2d], classes: int, has_edge: bool, device: torch.device
    ) -> None:
        weight = torch.cat([folded_weight(c) for c in convs])  # (out, classes [+1 edge], 3, 3)
        bias = torch.cat([c.bias.detach() for c in convs])
        out, rows = weight.shape[0], classes + 1  # row `classes` is the zero padding
        variants = 2 if has_edge else 1
        table = torch.zeros(9, variants, rows, out)
        per_class = weight[:, :classes].permute(2, 3, 1, 0).reshape(9, classes, out)
        table[:, 0, :classes] = per_class
        if has_edge:
            edge = weight[:, classes].permute(1, 2, 0).reshape(9, 1, out)
            table[:, 1] = edge
            table[:, 1, :classes] += per_class
        table[0] += bias
        self.table = table.reshape(9 * variants * rows, out).to(device)
        self.offsets = (torch.arange(9, dtype=torch.int32) * variants * rows).to(device)

    def __call__(self, codes_padded: torch.Tensor) -> torch.Tensor:
        """Conv output over the interior of a padded (h+2, w+2) code map: (1, out, h, w), channels_last."""
        h, w = codes_padded.shape[0] - 2, codes_padded.shape[1] - 2
        bags = codes_padded.unfold(0, 3, 1).unfold(1, 3, 1).reshape(-1, 9) + self.offsets
        if self.table.device.type in ("cpu", "cuda"):
            out = F.embedding_bag(bags, self.table, mode="sum")
        else:  # backends without embedding_bag (MPS): the same sum, one gather per tap
            out = sum(F.embedding(bags[:, k], self.table) for k in range(9))
        return out.reshape(1, h, w, -1).permute(0, 3, 1, 2)


class ModulationHead:
    """The label-only part of one SPADE layer after its first conv: hidden -> (A, B).

    A = (1 + gamma) / sigma and B = beta - mean * A are linear in the hidden activations,
    so eval-mode batch norm is folded into the two convs' weights: no elementwise work.
    """

    def __init__(self, spade: SPADE, device: torch.device) -> None:
        gamma, beta = spade.mlp_gamma, spade.mlp_beta
        norm = spade.param_free_norm
        invstd = torch.rsqrt(norm.running_var.detach() + norm.eps)
        mean = norm.running_mean.detach()
        wa = gamma.weight.detach() * invstd[:, None, None, None]
        ba = (gamma.bias.detach() + 1) * invstd
        wb = beta.weight.detach() - mean[:, None, None, None] * wa
        bb = beta.bias.detach() - mean * ba
        self.channels = gamma.out_channels
        self.wa = wa.to(device).contiguous(memory_format=CL)
        self.wb = wb.to(device).contiguous(memory_format=CL)
        self.ba, self.bb = ba.to(device), bb.to(device)

    def __call__(self, hidden_padded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden_padded = hidden_padded.to(self.wa.dtype)
        return F.conv2d(hidden_padded, self.wa, self.ba), F.conv2d(hidden_padded, self.wb, self.bb)


@dataclass
class LevelMaps:
    """Lookup codes (label channel + edge) at one resolution, sentinel padded by 1."""

    codes: torch.Tensor  # (h+2, w+2) int32

    @property
    def hw(self) -> tuple[int, int]:
        return self.codes.shape[0] - 2, self.codes.shape[1] - 2


class Level:
    """All SPADE layers that run at one resolution: one shared lookup, one head per layer."""

    def __init__(
        self,
        keys: list[str],
        spades: list[SPADE],
        classes: int,
        has_edge: bool,
        device: torch.device,
    ) -> None:
        self.keys = keys
        self.shared = OneHotConv([s.mlp_shared[0] for s in spades], classes, has_edge, device)
        self.heads = [ModulationHead(s, device) for s in spades]
        self.hidden = spades[0].hidden  # one generator has one width for every layer

    def allocate(
        self, hw: tuple[int, int], device: torch.device
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        def empty(head: ModulationHead) -> torch.Tensor:
            return torch.empty(1, head.channels, *hw, device=device).contiguous(memory_format=CL)

        return [(empty(head), empty(head)) for head in self.heads]

    def compute(self, maps: LevelMaps) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Every layer's (A, B) over the whole map (in bands when it is large)."""
        h, w = maps.hw
        if self._band_rows(w) >= h:
            return self._modulations(maps, (0, h, 0, w))
        targets = self.allocate((h, w), maps.codes.device)
        self.fill(maps, (0, h, 0, w), targets)
        return targets

    def _band_rows(self, width: int) -> int:
        return max(1, BAND_BYTES // ((width + 2) * len(self.heads) * self.hidden * 4))

    def fill(
        self, maps: LevelMaps, rect: Rect, targets: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> None:
        """Write every layer's (A, B) inside `rect`, in bands of rows to bound memory."""
        y0, y1, x0, x1 = rect
        rows = self._band_rows(x1 - x0)
        for top in range(y0, y1, rows):
            bottom = min(top + rows, y1)
            for (a, b), (scale, shift) in zip(
                targets, self._modulations(maps, (top, bottom, x0, x1)), strict=True
            ):
                a[..., top:bottom, x0:x1] = scale
                b[..., top:bottom, x0:x1] = shift

    def _modulations(self, maps: LevelMaps, rect: Rect) -> list[tuple[torch.Tensor, torch.Tensor]]:
        y0, y1, x0, x1 = rect
        h, w = maps.hw
        hy0, hy1, hx0, hx1 = max(y0 - 1, 0), min(y1 + 1, h), max(x0 - 1, 0), min(x1 + 1, w)
        hidden = F.relu(self.shared(maps.codes[hy0 : hy1 + 2, hx0 : hx1 + 2]))
        # Zero padding only where the hidden region was clipped by the image border.
        hidden = F.pad(hidden, (1 - (x0 - hx0), 1 - (hx1 - x1), 1 - (y0 - hy0), 1 - (hy1 - y1)))
        return [
            head(hidden[:, i * self.hidden : (i + 1) * self.hidden])
            for i, head in enumerate(self.heads)
        ]


@dataclass
class LabelState:
    """Everything label-dependent for one render size: maps, cached (A, B), label latent."""

    size: tuple[int, int]  # (W, H)
    index: np.ndarray  # full-resolution channel indices
    edges: np.ndarray | None
    maps: dict[int, LevelMaps]  # by level (number of doublings from the latent grid)
    mods: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    x0: torch.Tensor | None = None  # fc(labels) for generators without style input


class FastBlock:
    def __init__(self, block: SPADEResnetBlock, device: torch.device) -> None:
        self.learned_shortcut = block.learned_shortcut
        self.conv_0 = PlainConv(block.conv_0, device)
        self.conv_1 = PlainConv(block.conv_1, device)
        if self.learned_shortcut:
            self.conv_s = PlainConv(block.conv_s, device)

    def __call__(self, x: torch.Tensor, mods: dict, name: str) -> torch.Tensor:
        a0, b0 = mods[f"{name}.norm_0"]
        a1, b1 = mods[f"{name}.norm_1"]
        if self.learned_shortcut:
            a_s, b_s = mods[f"{name}.norm_s"]
            x_s = self.conv_s(torch.addcmul(b_s, x, a_s))
        else:
            x_s = x
        dx = self.conv_0(F.leaky_relu(torch.addcmul(b0, x, a0), LEAK))
        dx = self.conv_1(F.leaky_relu(torch.addcmul(b1, dx, a1), LEAK))
        return dx.add_(x_s)


def _bbox(diff: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


class FastGenerator:
    """A SPADEGenerator prepared for fast exact inference on one device."""

    def __init__(self, gen: SPADEGenerator, device: torch.device | str = "cpu") -> None:
        self.cfg: GeneratorConfig = gen.cfg
        self.device = torch.device(device)
        cfg = self.cfg
        self.classes = cfg.label_nc + int(cfg.contain_dontcare)
        self.has_edge = not cfg.no_instance
        self.names = block_names(cfg)
        self.blocks = {n: FastBlock(getattr(gen, n), self.device) for n in self.names}
        self.block_level: dict[str, int] = {}
        grouped: dict[int, list[tuple[str, SPADE]]] = {}
        level = 0
        for name in self.names:
            level += upsamples_before(cfg, name)
            self.block_level[name] = level
            block = getattr(gen, name)
            for norm in ("norm_0", "norm_1", "norm_s"):
                if hasattr(block, norm):
                    grouped.setdefault(level, []).append((f"{name}.{norm}", getattr(block, norm)))
        self.levels = {
            k: Level(
                [n for n, _ in pairs],
                [s for _, s in pairs],
                self.classes,
                self.has_edge,
                self.device,
            )
            for k, pairs in grouped.items()
        }
        self.depth = level  # doublings from the latent grid to the last block
        if cfg.use_vae:
            self.fc_weight = gen.fc.weight.detach().to(self.device)
            self.fc_bias = gen.fc.bias.detach().to(self.device)
        else:
            self.fc = OneHotConv([gen.fc], self.classes, self.has_edge, self.device)
        self.conv_img = PlainConv(gen.conv_img, self.device)
        self._plain = gen

    # ------------------------------------------------------------------ label side

    def _maps(self, inp: LabelInput) -> dict[int, LevelMaps]:
        """Nearest-downsampled maps per level; with integer factors that is a strided slice,
        exactly the pixels torch's 'nearest' picks in the plain forward."""
        width, height = inp.size
        sh, sw = self._plain.latent_grid(height, width)
        maps = {}
        for k in set(self.levels) | {0}:
            f = height // (sh * 2**k)
            edges = inp.edges[::f, ::f] if self.has_edge else None
            codes = label_codes(inp.index[::f, ::f], edges, self.classes)
            maps[k] = LevelMaps(torch.from_numpy(codes).to(self.device))
        return maps

    def prepare(self, inp: LabelInput) -> LabelState:
        """Label maps at every resolution and every SPADE layer's (A, B), from scratch."""
        state = LabelState(inp.size, inp.index, inp.edges, self._maps(inp))
        for k, level in self.levels.items():
            state.mods.update(zip(level.keys, level.compute(state.maps[k]), strict=True))
        self._label_latent(state)
        return state

    def _label_latent(self, state: LabelState) -> None:
        if not self.cfg.use_vae:
            maps = state.maps[0]
            state.x0 = self.fc(maps.codes).contiguous(memory_format=CL)

    def update(
        self, state: LabelState, inp: LabelInput, window: tuple[int, int, int, int] | None = None
    ) -> int:
        """Bring `state` up to a changed label map of the same size; returns layers touched.

        Changes are looked for inside `window` (x0, y0, x1, y1 in render pixels, default all);
        each level recomputes (A, B) only in the changed rectangle grown by 2.
        """
        if inp.size != state.size:
            raise ValueError("label state is for another render size")
        width, height = state.size
        wx0, wy0, wx1, wy1 = window if window is not None else (0, 0, width, height)
        if self.has_edge:  # a changed id changes the edges of its neighbours too
            wx0, wy0, wx1, wy1 = (
                max(wx0 - 1, 0),
                max(wy0 - 1, 0),
                min(wx1 + 1, width),
                min(wy1 + 1, height),
            )
        diff = state.index[wy0:wy1, wx0:wx1] != inp.index[wy0:wy1, wx0:wx1]
        if self.has_edge:
            diff |= state.edges[wy0:wy1, wx0:wx1] != inp.edges[wy0:wy1, wx0:wx1]
        box = _bbox(diff)
        state.index, state.edges = inp.index, inp.edges
        if box is None:
            return 0
        y0, y1, x0, x1 = box[0] + wy0, box[1] + wy0, box[2] + wx0, box[3] + wx0
        state.maps = self._maps(inp)
        touched = 0
        for k, level in self.levels.items():
            maps = state.maps[k]
            h, w = maps.hw
            f = height // h
            rect = (
                max(y0 // f - 2, 0),
                min(-(-y1 // f) + 2, h),
                max(x0 // f - 2, 0),
                min(-(-x1 // f) + 2, w),
            )
            level.fill(maps, rect, [state.mods[key] for key in level.keys])
            touched += len(level.keys)
        self._label_latent(state)
        return touched

    # ------------------------------------------------------------------ main path

    def initial(self, state: LabelState, z: torch.Tensor | None) -> torch.Tensor:
        if not self.cfg.use_vae:
            return state.x0
        sh, sw = state.maps[0].hw
        nsw, nsh = self.cfg.latent_size
        x = F.linear(z.to(self.fc_weight.dtype), self.fc_weight, self.fc_bias)
        x = x.view(-1, 16 * self.cfg.ngf, nsh, nsw)
        if (sh, sw) != (nsh, nsw):
            x = F.interpolate(x, size=(sh, sw), mode="bilinear", align_corners=False)
        return x.contiguous(memory_format=CL)

    def render(self, state: LabelState, z: torch.Tensor | None = None) -> torch.Tensor:
        """(1, 3, H, W) in [-1, 1] from cached label state and a style latent (VAE models)."""
        if self.cfg.use_vae and z is None:
            raise ValueError("this generator needs a style latent")
        x = self.initial(state, z)
        for name in self.names:
            for _ in range(upsamples_before(self.cfg, name)):
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = self.blocks[name](x, state.mods, name)
        return torch.tanh(self.conv_img(F.leaky_relu(x, LEAK)))
