"""Exact fast inference for a SPADE generator: same outputs as the plain forward, less work.

What makes it fast, none of which changes a result beyond float rounding:
- Spectral norm folded into plain conv weights (eval mode uses the stored u, v), batch norm
  folded into the modulation: SPADE(x) = x * A + B with A, B from the labels alone.
- The first conv of every SPADE layer (and the label `fc`) sees a one-hot input, so it is a
  per-class lookup of 3x3 kernels summed over the neighbourhood (`embedding_bag`), not a
  dense conv over all label channels.
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


def folded_weight(conv: nn.Conv2d) -> torch.Tensor:
    """The conv's effective weight: spectral norm's eval-mode division by sigma applied once."""
    if hasattr(conv, "weight_orig"):
        weight = conv.weight_orig.detach()
        sigma = torch.dot(
            conv.weight_u.detach(), torch.mv(weight.flatten(1), conv.weight_v.detach())
        )
        return weight / sigma
    return conv.weight.detach()


class PlainConv:
    """A conv with folded weights in channels_last, for the main path."""

    def __init__(self, conv: nn.Conv2d, device: torch.device) -> None:
        self.weight = folded_weight(conv).to(device).contiguous(memory_format=CL)
        self.bias = None if conv.bias is None else conv.bias.detach().to(device)
        self.padding = conv.padding

    def __call__(self, x: torch.Tensor, padding: int | tuple | None = None) -> torch.Tensor:
        pad = self.padding if padding is None else padding
        return F.conv2d(x, self.weight, self.bias, padding=pad)


class OneHotConv:
    """A 3x3 conv over one-hot labels (+ optional edge channel) as a per-class kernel lookup."""

    def __init__(self, conv: nn.Conv2d, classes: int, has_edge: bool, device: torch.device) -> None:
        weight = folded_weight(conv)  # (out, classes [+1 edge], 3, 3)
        out = weight.shape[0]
        self.classes = classes
        table = torch.zeros(9, classes + 1, out)  # row `classes` is the zero padding
        table[:, :classes] = weight[:, :classes].permute(2, 3, 1, 0).reshape(9, classes, out)
        self.table = table.reshape(9 * (classes + 1), out).to(device)
        self.offsets = (torch.arange(9) * (classes + 1)).to(device)
        self.edge = weight[:, classes:].to(device) if has_edge else None
        self.bias = conv.bias.detach().to(device)

    def __call__(
        self, index_padded: torch.Tensor, edge_padded: torch.Tensor | None
    ) -> torch.Tensor:
        """Conv output over the interior of padded (h+2, w+2) maps: (1, out, h, w), channels_last."""
        h, w = index_padded.shape[0] - 2, index_padded.shape[1] - 2
        taps = [index_padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
        bags = torch.stack(taps, dim=-1).reshape(-1, 9) + self.offsets
        if self.table.device.type in ("cpu", "cuda"):
            out = F.embedding_bag(bags, self.table, mode="sum")
        else:  # backends without embedding_bag (MPS): the same sum, one gather per tap
            out = sum(F.embedding(bags[:, k], self.table) for k in range(9))
        out = out.to(self.bias.dtype).add_(self.bias).reshape(1, h, w, -1).permute(0, 3, 1, 2)
        if self.edge is not None:
            out = out + F.conv2d(edge_padded.to(self.edge.dtype), self.edge)
        return out


class FoldedSPADE:
    """One SPADE layer as label-only (A, B) with SPADE(x) = x * A + B in eval mode."""

    def __init__(self, spade: SPADE, classes: int, has_edge: bool, device: torch.device) -> None:
        self.shared = OneHotConv(spade.mlp_shared[0], classes, has_edge, device)
        gamma, beta = spade.mlp_gamma, spade.mlp_beta
        self.channels = gamma.out_channels
        weight = torch.cat([gamma.weight.detach(), beta.weight.detach()])
        self.gb_weight = weight.to(device).contiguous(memory_format=CL)
        self.gb_bias = torch.cat([gamma.bias.detach() + 1, beta.bias.detach()]).to(device)
        norm = spade.param_free_norm
        self.mean = norm.running_mean.detach().to(device)[None, :, None, None]
        self.invstd = torch.rsqrt(norm.running_var.detach() + norm.eps).to(device)[
            None, :, None, None
        ]

    def modulation(
        self, index_padded: torch.Tensor, edge_padded: torch.Tensor | None, rect: Rect
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, B) inside `rect` of a (h, w) map given as padded (h+2, w+2) index/edge maps."""
        y0, y1, x0, x1 = rect
        h, w = index_padded.shape[0] - 2, index_padded.shape[1] - 2
        hy0, hy1, hx0, hx1 = max(y0 - 1, 0), min(y1 + 1, h), max(x0 - 1, 0), min(x1 + 1, w)
        edges = None if edge_padded is None else edge_padded[..., hy0 : hy1 + 2, hx0 : hx1 + 2]
        hidden = F.relu(self.shared(index_padded[hy0 : hy1 + 2, hx0 : hx1 + 2], edges))
        # Zero padding only where the hidden region was clipped by the image border.
        pad = (1 - (x0 - hx0), 1 - (hx1 - x1), 1 - (y0 - hy0), 1 - (hy1 - y1))
        hidden = F.pad(hidden, pad)
        gb = F.conv2d(hidden.to(self.gb_weight.dtype), self.gb_weight, self.gb_bias)
        scale = gb[:, : self.channels] * self.invstd.to(gb.dtype)
        shift = gb[:, self.channels :] - self.mean.to(gb.dtype) * scale
        return scale, shift


@dataclass
class LevelMaps:
    """Label channel indices and edges at one resolution, zero/sentinel padded by 1."""

    index: torch.Tensor  # (h+2, w+2) long
    edges: torch.Tensor | None  # (1, 1, h+2, w+2) float


@dataclass
class LabelState:
    """Everything label-dependent for one render size: maps, cached (A, B), label latent."""

    size: tuple[int, int]  # (W, H)
    maps: dict[tuple[int, int], LevelMaps]
    mods: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    x0: torch.Tensor | None = None  # fc(labels) for generators without style input


class FastBlock:
    def __init__(self, block: SPADEResnetBlock, classes: int, has_edge: bool, device: torch.device):
        self.learned_shortcut = block.learned_shortcut
        self.conv_0 = PlainConv(block.conv_0, device)
        self.conv_1 = PlainConv(block.conv_1, device)
        self.norms = {"norm_0": FoldedSPADE(block.norm_0, classes, has_edge, device)}
        self.norms["norm_1"] = FoldedSPADE(block.norm_1, classes, has_edge, device)
        if self.learned_shortcut:
            self.conv_s = PlainConv(block.conv_s, device)
            self.norms["norm_s"] = FoldedSPADE(block.norm_s, classes, has_edge, device)

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


def _pad_level(index: torch.Tensor, edges: torch.Tensor | None, classes: int) -> LevelMaps:
    return LevelMaps(
        F.pad(index, (1, 1, 1, 1), value=classes),
        None if edges is None else F.pad(edges, (1, 1, 1, 1)),
    )


def _changed_rect(old: LevelMaps, new: LevelMaps, window: Rect) -> Rect | None:
    """Bounding box (unpadded coords) of differing pixels inside `window`, or None."""
    y0, y1, x0, x1 = window
    diff = (
        old.index[y0 + 1 : y1 + 1, x0 + 1 : x1 + 1] != new.index[y0 + 1 : y1 + 1, x0 + 1 : x1 + 1]
    )
    if new.edges is not None:
        diff |= (
            old.edges[0, 0, y0 + 1 : y1 + 1, x0 + 1 : x1 + 1]
            != new.edges[0, 0, y0 + 1 : y1 + 1, x0 + 1 : x1 + 1]
        )
    rows = torch.nonzero(diff.any(dim=1)).flatten()
    if rows.numel() == 0:
        return None
    cols = torch.nonzero(diff.any(dim=0)).flatten()
    return (y0 + int(rows[0]), y0 + int(rows[-1]) + 1, x0 + int(cols[0]), x0 + int(cols[-1]) + 1)


class FastGenerator:
    """A SPADEGenerator prepared for fast exact inference on one device."""

    def __init__(self, gen: SPADEGenerator, device: torch.device | str = "cpu") -> None:
        self.cfg: GeneratorConfig = gen.cfg
        self.device = torch.device(device)
        cfg = self.cfg
        self.classes = cfg.label_nc + int(cfg.contain_dontcare)
        self.has_edge = not cfg.no_instance
        self.names = block_names(cfg)
        self.blocks = {
            n: FastBlock(getattr(gen, n), self.classes, self.has_edge, self.device)
            for n in self.names
        }
        if cfg.use_vae:
            self.fc_weight = gen.fc.weight.detach().to(self.device)
            self.fc_bias = gen.fc.bias.detach().to(self.device)
        else:
            self.fc = OneHotConv(gen.fc, self.classes, self.has_edge, self.device)
        self.conv_img = PlainConv(gen.conv_img, self.device)
        self._plain = gen

    # ------------------------------------------------------------------ label side

    def level_sizes(self, width: int, height: int) -> dict[str, tuple[int, int]]:
        """(h, w) at which each block (and 'fc') runs for a width x height output."""
        sh, sw = self._plain.latent_grid(height, width)
        sizes = {"fc": (sh, sw)}
        for name in self.names:
            factor = 2 ** upsamples_before(self.cfg, name)
            sh, sw = sh * factor, sw * factor
            sizes[name] = (sh, sw)
        return sizes

    def _levels(self, inp: LabelInput) -> dict[tuple[int, int], LevelMaps]:
        width, height = inp.size
        index = torch.from_numpy(inp.index).to(self.device)[None, None].float()
        edges = None
        if self.has_edge:
            edges = (
                torch.from_numpy(np.ascontiguousarray(inp.edges))
                .to(self.device)[None, None]
                .float()
            )
        levels = {}
        for hw in set(self.level_sizes(width, height).values()):
            idx = F.interpolate(index, size=hw, mode="nearest")[0, 0].long()
            e = None if edges is None else F.interpolate(edges, size=hw, mode="nearest")
            levels[hw] = _pad_level(idx, e, self.classes)
        return levels

    def _spade_layers(self, width: int, height: int):
        for name, hw in self.level_sizes(width, height).items():
            if name == "fc":
                continue
            for norm_name, norm in self.blocks[name].norms.items():
                yield f"{name}.{norm_name}", norm, hw

    def prepare(self, inp: LabelInput) -> LabelState:
        """Label maps at every resolution and every SPADE layer's (A, B), from scratch."""
        width, height = inp.size
        state = LabelState((width, height), self._levels(inp))
        for key, norm, hw in self._spade_layers(width, height):
            maps = state.maps[hw]
            state.mods[key] = norm.modulation(maps.index, maps.edges, (0, hw[0], 0, hw[1]))
        self._label_latent(state)
        return state

    def _label_latent(self, state: LabelState) -> None:
        if not self.cfg.use_vae:
            width, height = state.size
            maps = state.maps[self.level_sizes(width, height)["fc"]]
            state.x0 = self.fc(maps.index, maps.edges).contiguous(memory_format=CL)

    def update(
        self, state: LabelState, inp: LabelInput, window: tuple[int, int, int, int] | None = None
    ) -> int:
        """Bring `state` up to a changed label map of the same size; returns layers touched.

        Only (A, B) inside each level's changed rectangle grown by 2 are recomputed. `window`
        (x0, y0, x1, y1) in render pixels limits where changes are looked for.
        """
        if inp.size != state.size:
            raise ValueError("label state is for another render size")
        width, height = state.size
        new_levels = self._levels(inp)
        changed: dict[tuple[int, int], Rect | None] = {}
        for hw, new in new_levels.items():
            changed[hw] = _changed_rect(
                state.maps[hw], new, self._level_window(window, hw, state.size)
            )
        touched = 0
        for key, norm, hw in self._spade_layers(width, height):
            rect = changed[hw]
            if rect is None:
                continue
            y0, y1, x0, x1 = rect
            rect = (max(y0 - 2, 0), min(y1 + 2, hw[0]), max(x0 - 2, 0), min(x1 + 2, hw[1]))
            scale, shift = norm.modulation(new_levels[hw].index, new_levels[hw].edges, rect)
            old_scale, old_shift = state.mods[key]
            old_scale[..., rect[0] : rect[1], rect[2] : rect[3]] = scale
            old_shift[..., rect[0] : rect[1], rect[2] : rect[3]] = shift
            touched += 1
        state.maps = new_levels
        if any(r is not None for r in changed.values()):
            self._label_latent(state)
        return touched

    @staticmethod
    def _level_window(window, hw: tuple[int, int], size: tuple[int, int]) -> Rect:
        h, w = hw
        if window is None:
            return (0, h, 0, w)
        x0, y0, x1, y1 = window
        fy, fx = size[1] / h, size[0] / w
        return (
            max(int(y0 // fy) - 1, 0),
            min(int(-(-y1 // fy)) + 1, h),
            max(int(x0 // fx) - 1, 0),
            min(int(-(-x1 // fx)) + 1, w),
        )

    # ------------------------------------------------------------------ main path

    def initial(self, state: LabelState, z: torch.Tensor | None) -> torch.Tensor:
        if not self.cfg.use_vae:
            return state.x0
        width, height = state.size
        sh, sw = self.level_sizes(width, height)["fc"]
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
