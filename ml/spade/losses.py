"""The SPADE training objective: hinge GAN loss, feature matching, VGG19 perceptual loss, KL.

Weights and reductions follow the official objective: the GAN and feature-matching terms are
averaged over the discriminator scales, the perceptual loss weights VGG19's relu1_1..relu5_1
features by 1/32, 1/16, 1/8, 1/4, 1, and the KL divergence is a sum over batch and latent.
The VGG19 weights never come from the internet: the user names a local file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

VGG_LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
# torchvision vgg19 `features` index ranges ending at relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.
VGG_SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))


class VGGWeightsError(ValueError):
    """A VGG19 weights file that cannot be read or does not fit torchvision's vgg19."""


def hinge_d_loss(pred: list[list[torch.Tensor]], real: bool) -> torch.Tensor:
    """Discriminator hinge loss, averaged over scales (prediction = last feature of each)."""
    sign = -1.0 if real else 1.0
    losses = [F.relu(1.0 + sign * scale[-1]).mean() for scale in pred]
    return torch.stack(losses).mean()


def hinge_g_loss(pred_fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Generator hinge loss: raise D's score of the fakes, averaged over scales."""
    return torch.stack([-scale[-1].mean() for scale in pred_fake]).mean()


def feature_matching_loss(
    pred_fake: list[list[torch.Tensor]], pred_real: list[list[torch.Tensor]]
) -> torch.Tensor:
    """L1 between D's intermediate features of fake and real, summed over layers, / num_D."""
    total = pred_fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(pred_fake, pred_real, strict=True):
        for fake_feat, real_feat in zip(fake_scale[:-1], real_scale[:-1], strict=True):
            total = total + F.l1_loss(fake_feat, real_feat.detach())
    return total / len(pred_fake)


def kld_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL divergence of N(mu, exp(logvar)) from N(0, 1), summed (the official reduction)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def pyramid_l1_loss(fake: torch.Tensor, real: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """Mean L1 distance at full, half, quarter… resolution, averaged over the levels.

    A reconstruction term for training without VGG19 weights (as in the cVAE-GAN): with the
    style encoder seeing the real picture, reconstructing it is well posed.
    """
    total = (fake - real).abs().mean()
    for _ in range(levels - 1):
        fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        total = total + (fake - real).abs().mean()
    return total / levels


class VGG19Features(nn.Module):
    """torchvision's vgg19 convolutional trunk, cut into the five perceptual-loss slices."""

    def __init__(self, features: nn.Sequential) -> None:
        super().__init__()
        self.slices = nn.ModuleList(
            nn.Sequential(*[features[i] for i in range(a, b)]) for a, b in VGG_SLICES
        )
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:
        # Frozen feature extractor: always in eval mode whatever the trainer's mode.
        return super().train(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out


def load_vgg19(path: str | Path) -> VGG19Features:
    """VGG19 features from a local torchvision-style state dict (.pth or .safetensors)."""
    from torchvision.models.vgg import cfgs, make_layers

    path = Path(path)
    if not path.is_file():
        raise VGGWeightsError(f"{path}: no such VGG19 weights file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line error
        raise VGGWeightsError(f"{path}: not a readable weights file ({exc})") from None
    if not isinstance(state, dict):
        raise VGGWeightsError(f"{path}: expected a state dict of tensors")
    # torchvision's vgg19().features, built without the 120M-parameter classifier.
    features = make_layers(cfgs["E"], batch_norm=False)
    wanted = features.state_dict()
    trunk = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    if not trunk:
        trunk = {k: v for k, v in state.items() if k in wanted}
    missing = sorted(set(wanted) - set(trunk))
    if missing:
        raise VGGWeightsError(
            f"{path}: not torchvision vgg19 weights (missing {', '.join(missing[:4])})"
        )
    try:
        features.load_state_dict({k: trunk[k] for k in wanted})
    except RuntimeError as exc:
        raise VGGWeightsError(f"{path}: VGG19 weights do not fit ({str(exc).splitlines()[0]})") from None
    return VGG19Features(features)


class VGGLoss(nn.Module):
    """Perceptual L1 over the five VGG19 slices with the official layer weights.

    Images go in as the generator makes them, in [-1, 1], as the official loss feeds them.
    """

    def __init__(self, vgg: VGG19Features) -> None:
        super().__init__()
        self.vgg = vgg

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        fake_feats = self.vgg(fake)
        with torch.no_grad():
            real_feats = self.vgg(real)
        total = fake.new_zeros(())
        for w, f, r in zip(VGG_LAYER_WEIGHTS, fake_feats, real_feats, strict=True):
            total = total + w * F.l1_loss(f, r)
        return total
