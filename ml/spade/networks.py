"""SPADE networks with the official module layout, so official state dicts load unchanged.

Key names, shapes and parameter counts match NVlabs/SPADE's generator, style encoder and
multi-scale discriminator (checked in tests against the reference key lists). Spectral norm is
the classic `torch.nn.utils.spectral_norm` (keys `weight_orig`, `weight_u`, `weight_v`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from ml.spade.config import GeneratorConfig

SPADE_HIDDEN = 128
LEAK = 0.2


class SPADE(nn.Module):
    """Parameter-free batch norm, then a per-pixel scale and shift predicted from the labels.

    `hidden` is the width of the label branch (official: 128 at every resolution).
    """

    def __init__(self, norm_nc: int, label_nc: int, hidden: int = SPADE_HIDDEN) -> None:
        super().__init__()
        self.param_free_norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.mlp_shared = nn.Sequential(
            nn.Conv2d(label_nc, hidden, kernel_size=3, padding=1), nn.ReLU()
        )
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size=3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size=3, padding=1)

    @property
    def hidden(self) -> int:
        return self.mlp_shared[0].out_channels

    def modulation(self, segmap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gamma, beta) for a label map already at the activation's size: labels only."""
        actv = self.mlp_shared(segmap)
        return self.mlp_gamma(actv), self.mlp_beta(actv)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        gamma, beta = self.modulation(segmap)
        return normalized * (1 + gamma) + beta


class SPADEResnetBlock(nn.Module):
    """Two SPADE-normalised 3x3 convs plus a (learned when widths differ) shortcut."""

    def __init__(self, fin: int, fout: int, semantic_nc: int, hidden: int = SPADE_HIDDEN) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = spectral_norm(nn.Conv2d(fin, fmiddle, kernel_size=3, padding=1))
        self.conv_1 = spectral_norm(nn.Conv2d(fmiddle, fout, kernel_size=3, padding=1))
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, kernel_size=1, bias=False))
        self.norm_0 = SPADE(fin, semantic_nc, hidden)
        self.norm_1 = SPADE(fmiddle, semantic_nc, hidden)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, semantic_nc, hidden)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), LEAK))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), LEAK))
        return x_s + dx


def block_names(cfg: GeneratorConfig) -> list[str]:
    """Residual blocks in the order the forward pass runs them."""
    names = ["head_0", "G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3"]
    return names + (["up_4"] if cfg.num_upsampling_layers == "most" else [])


def upsamples_before(cfg: GeneratorConfig, name: str) -> int:
    """How many x2 upsamplings the forward pass applies just before block `name`."""
    if name == "head_0":
        return 0
    if name == "G_middle_1":
        return int(cfg.num_upsampling_layers in ("more", "most"))
    return 1


class SPADEGenerator(nn.Module):
    """The official SPADE generator; renders at any size that is a multiple of its stride."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        nf = cfg.ngf
        sw, sh = cfg.latent_size
        if cfg.use_vae:
            self.fc = nn.Linear(cfg.z_dim, 16 * nf * sw * sh)
        else:
            self.fc = nn.Conv2d(cfg.semantic_nc, 16 * nf, kernel_size=3, padding=1)
        s, hid = cfg.semantic_nc, cfg.spade_hidden
        self.head_0 = SPADEResnetBlock(16 * nf, 16 * nf, s, hid)
        self.G_middle_0 = SPADEResnetBlock(16 * nf, 16 * nf, s, hid)
        self.G_middle_1 = SPADEResnetBlock(16 * nf, 16 * nf, s, hid)
        self.up_0 = SPADEResnetBlock(16 * nf, 8 * nf, s, hid)
        self.up_1 = SPADEResnetBlock(8 * nf, 4 * nf, s, hid)
        self.up_2 = SPADEResnetBlock(4 * nf, 2 * nf, s, hid)
        self.up_3 = SPADEResnetBlock(2 * nf, 1 * nf, s, hid)
        final_nc = nf
        if cfg.num_upsampling_layers == "most":
            self.up_4 = SPADEResnetBlock(1 * nf, nf // 2, s, hid)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, 3, kernel_size=3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def latent_grid(self, height: int, width: int) -> tuple[int, int]:
        """(sh, sw) of the latent grid for an output of height x width pixels."""
        stride = self.cfg.stride
        if height % stride or width % stride or height < stride or width < stride:
            raise ValueError(
                f"output size {width}x{height} must be a positive multiple of {stride} "
                f"for {self.cfg.num_upsampling_layers!r} upsampling"
            )
        return height // stride, width // stride

    def initial(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """The latent grid the residual blocks start from: from z (VAE) or from the labels."""
        sh, sw = self.latent_grid(seg.shape[2], seg.shape[3])
        if not self.cfg.use_vae:
            return self.fc(F.interpolate(seg, size=(sh, sw), mode="nearest"))
        if z is None:
            z = torch.randn(seg.shape[0], self.cfg.z_dim, dtype=seg.dtype, device=seg.device)
        nsw, nsh = self.cfg.latent_size
        x = self.fc(z).view(-1, 16 * self.cfg.ngf, nsh, nsw)
        if (sh, sw) != (nsh, nsw):
            # Another size or aspect: the style grid is resampled, the weights stay the same.
            x = F.interpolate(x, size=(sh, sw), mode="bilinear", align_corners=False)
        return x

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        x = self.initial(seg, z)
        for name in block_names(self.cfg):
            for _ in range(upsamples_before(self.cfg, name)):
                x = self.up(x)
            x = getattr(self, name)(x, seg)
        x = self.conv_img(F.leaky_relu(x, LEAK))
        return torch.tanh(x)


def _sn_conv_in(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    """Spectral-normed conv without bias followed by instance norm ('spectralinstance')."""
    conv = spectral_norm(nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False))
    return nn.Sequential(conv, nn.InstanceNorm2d(cout, affine=False))


class ConvEncoder(nn.Module):
    """The VAE style encoder: an RGB image to the mean and log-variance of its style latent.

    Inputs are resized to 256x256 as the official encoder does; for crop sizes under 256 (five
    layers, where the official code cannot run) they are resized to 128 so the head still
    sees a 4x4 grid.

    Every conv is followed by instance norm, which removes each feature map's mean and scale:
    a picture's overall brightness and colour cast, most of what tells noon from night, barely
    reach the head. `thumbnail` > 0 (not in the official layout) appends the image averaged
    down to thumbnail x thumbnail pixels to the head's input, so those survive.
    """

    def __init__(
        self, ngf: int = 64, crop_size: int = 256, z_dim: int = 256, thumbnail: int = 0
    ) -> None:
        super().__init__()
        ndf = ngf
        self.thumbnail = thumbnail
        self.six_layers = crop_size >= 256
        self.layer1 = _sn_conv_in(3, ndf, 3, 2, 1)
        self.layer2 = _sn_conv_in(ndf, ndf * 2, 3, 2, 1)
        self.layer3 = _sn_conv_in(ndf * 2, ndf * 4, 3, 2, 1)
        self.layer4 = _sn_conv_in(ndf * 4, ndf * 8, 3, 2, 1)
        self.layer5 = _sn_conv_in(ndf * 8, ndf * 8, 3, 2, 1)
        if self.six_layers:
            self.layer6 = _sn_conv_in(ndf * 8, ndf * 8, 3, 2, 1)
        head = ndf * 8 * 4 * 4 + 3 * thumbnail**2
        self.fc_mu = nn.Linear(head, z_dim)
        self.fc_var = nn.Linear(head, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        side = 256 if self.six_layers else 128
        if x.shape[2] != side or x.shape[3] != side:
            x = F.interpolate(x, size=(side, side), mode="bilinear")
        layers = [self.layer1, self.layer2, self.layer3, self.layer4, self.layer5]
        if self.six_layers:
            layers.append(self.layer6)
        thumb = F.adaptive_avg_pool2d(x, self.thumbnail).flatten(1) if self.thumbnail else None
        x = layers[0](x)
        for layer in layers[1:]:
            x = layer(F.leaky_relu(x, LEAK))
        x = F.leaky_relu(x, LEAK).reshape(x.shape[0], -1)
        if thumb is not None:
            x = torch.cat([x, thumb], 1)
        return self.fc_mu(x), self.fc_var(x)


def style_encoder(cfg: GeneratorConfig) -> ConvEncoder:
    """The (untrained) style encoder that belongs to a generator configuration."""
    return ConvEncoder(cfg.ngf, cfg.crop_size, cfg.z_dim, cfg.encoder_thumbnail)


class NLayerDiscriminator(nn.Module):
    """A patch discriminator returning every intermediate feature map (last = prediction)."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4) -> None:
        super().__init__()
        kw, pad = 4, 2
        nf = ndf
        stages: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(input_nc, nf, kw, stride=2, padding=pad), nn.LeakyReLU(LEAK))
        ]
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            stages.append(
                nn.Sequential(_sn_conv_in(nf_prev, nf, kw, stride, pad), nn.LeakyReLU(LEAK))
            )
        stages.append(nn.Sequential(nn.Conv2d(nf, 1, kw, stride=1, padding=pad)))
        for i, stage in enumerate(stages):
            self.add_module(f"model{i}", stage)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.children():
            x = stage(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """`num_D` patch discriminators on the input and its successive 2x average-pooled copies."""

    def __init__(self, input_nc: int, ndf: int = 64, num_D: int = 2, n_layers: int = 4) -> None:
        super().__init__()
        for i in range(num_D):
            self.add_module(f"discriminator_{i}", NLayerDiscriminator(input_nc, ndf, n_layers))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        results = []
        for disc in self.children():
            results.append(disc(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        return results


INIT_GAIN = 0.02  # the official init_variance


def init_weights(net: nn.Module, gain: float = INIT_GAIN) -> None:
    """Xavier-normal conv/linear weights with the official gain, zero biases (for training)."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            weight = getattr(module, "weight_orig", None)
            if weight is None:
                weight = module.weight
            nn.init.xavier_normal_(weight.data, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias.data)
