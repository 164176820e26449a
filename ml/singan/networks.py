"""The per-scale SinGAN generator and critic (one pair per pyramid scale).

Both are plain stacks of 3x3 valid convolutions. Parameter names follow the official
tamarott/SinGAN layout (`head.conv.weight`, `head.norm.*`, `body.block1.*`, `tail.0.*` for G,
`tail.*` for D) so official state dicts load without renaming.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class NetConfig:
    """Shape of one scale's networks. `num_blocks` counts every conv (head + body + tail)."""

    nfc: int = 32
    min_nfc: int = 32
    num_blocks: int = 5
    batch_norm: bool = True
    slope: float = 0.2

    @property
    def pad(self) -> int:
        """Zero padding that makes the output as large as the input (1 px per 3x3 conv)."""
        return self.num_blocks

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class ConvBlock(nn.Sequential):
    """Conv 3x3 (no padding) + optional BatchNorm + LeakyReLU."""

    def __init__(self, cin: int, cout: int, cfg: NetConfig) -> None:
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=0))
        if cfg.batch_norm:
            self.add_module("norm", nn.BatchNorm2d(cout))
        self.add_module("LeakyRelu", nn.LeakyReLU(cfg.slope, inplace=True))


def _trunk(cfg: NetConfig, cin: int) -> tuple[ConvBlock, nn.Sequential, int]:
    """Head and body blocks as the official code sizes them; returns the last width too."""
    head = ConvBlock(cin, cfg.nfc, cfg)
    body = nn.Sequential()
    width = cfg.nfc
    for i in range(cfg.num_blocks - 2):
        n = int(cfg.nfc / 2 ** (i + 1))
        cout = max(n, cfg.min_nfc)
        body.add_module(f"block{i + 1}", ConvBlock(max(2 * n, cfg.min_nfc), cout, cfg))
        width = cout
    return head, body, width


def init_weights(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """The official initialisation: conv weights N(0, 0.02) and PyTorch's default conv bias
    U(+-1/sqrt(fan_in)); BatchNorm weight N(1, 0.02), bias 0, fresh running statistics."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.data.normal_(0.0, 0.02, generator=generator)
            bound = 1.0 / math.sqrt(m.weight[0].numel())
            m.bias.data.uniform_(-bound, bound, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.02, generator=generator)
            m.bias.data.fill_(0.0)
            m.reset_running_stats()


def blank(cls: type[nn.Module], cfg: NetConfig) -> nn.Module:
    """An uninitialised network (built on the meta device: no time or global RNG spent),
    to be filled by `init_weights` or a state dict; BatchNorm statistics are reset."""
    with torch.device("meta"):
        module = cls(cfg)
    module = module.to_empty(device="cpu")
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
    return module


class ScaleGenerator(nn.Module):
    """G_n: maps `noise_amp * z + prev` (both unpadded) to `prev + residual`."""

    def __init__(self, cfg: NetConfig, channels: int = 3) -> None:
        super().__init__()
        self.cfg = cfg
        self.head, self.body, width = _trunk(cfg, channels)
        self.tail = nn.Sequential(nn.Conv2d(width, channels, kernel_size=3), nn.Tanh())

    def forward(self, x: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        p = self.cfg.pad
        return self.tail(self.body(self.head(F.pad(x, (p, p, p, p))))) + prev


class ScaleCritic(nn.Module):
    """D_n: a patch critic (WGAN, no sigmoid) whose map is smaller than the input."""

    def __init__(self, cfg: NetConfig, channels: int = 3) -> None:
        super().__init__()
        self.cfg = cfg
        self.head, self.body, width = _trunk(cfg, channels)
        self.tail = nn.Conv2d(width, 1, kernel_size=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))


def make_generator(cfg: NetConfig, generator: torch.Generator | None = None) -> ScaleGenerator:
    """A freshly initialised G (seeded by `generator` without touching torch's global RNG)."""
    g = blank(ScaleGenerator, cfg)
    init_weights(g, generator)
    return g  # type: ignore[return-value]


def make_critic(cfg: NetConfig, generator: torch.Generator | None = None) -> ScaleCritic:
    """A freshly initialised D (seeded by `generator`)."""
    d = blank(ScaleCritic, cfg)
    init_weights(d, generator)
    return d  # type: ignore[return-value]
