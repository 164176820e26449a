"""Import a model trained by the official tamarott/SinGAN code, without unpickling code.

The official trainer writes `TrainedModels/<image>/<params>/` with one folder per scale
(`<n>/netG.pth`, `netD.pth`: state dicts; `z_opt.pth`: the padded reconstruction noise) and,
in the parent, `Gs.pth` (pickled whole modules: never opened here), `Zs.pth`, `reals.pth`
and `NoiseAmp.pth` (lists of tensors / numbers). Everything is read with
`torch.load(weights_only=True)`, which refuses anything but tensors and plain containers.
Network shapes are read from the state dicts, so models trained with other widths import.
"""

from __future__ import annotations

import os
import pickle
from datetime import datetime, timezone
from pathlib import Path

import torch

from ml.singan.model import SinGANModel
from ml.singan.networks import NetConfig, ScaleCritic, ScaleGenerator, blank

MARKER = "NoiseAmp.pth"


class OfficialImportError(ValueError):
    """An official SinGAN folder could not be imported; the message names the file."""


def find_model_folder(folder: str | os.PathLike) -> Path:
    """The `<params>` folder holding NoiseAmp.pth: `folder` itself or its only such child."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OfficialImportError(f"{folder}: no such folder")
    if (folder / MARKER).is_file():
        return folder
    found = sorted(p.parent for p in folder.glob(f"*/{MARKER}"))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise OfficialImportError(f"{folder}: holds several trained models ({names}); pick one")
    raise OfficialImportError(
        f"{folder}: not an official SinGAN model folder (no {MARKER}; expected "
        "TrainedModels/<image>/<params>/)"
    )


def load_weights(path: Path) -> object:
    """torch.load with weights_only=True, turning every failure into a one-line message."""
    if not path.is_file():
        raise OfficialImportError(f"{path}: missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
        raise OfficialImportError(
            f"{path}: holds more than tensors and cannot be read safely ({first[:160]})"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise OfficialImportError(f"{path}: unreadable ({str(exc)[:160]})") from None


def _tensor_list(path: Path) -> list[torch.Tensor]:
    data = load_weights(path)
    if not isinstance(data, (list, tuple)) or not all(isinstance(t, torch.Tensor) for t in data):
        raise OfficialImportError(f"{path}: expected a list of tensors")
    return [t.float() for t in data]


def _amps(path: Path) -> list[float]:
    data = load_weights(path)
    if not isinstance(data, (list, tuple)):
        raise OfficialImportError(f"{path}: expected a list of noise amplitudes")
    try:
        return [float(a) for a in data]
    except (TypeError, ValueError, RuntimeError):
        raise OfficialImportError(f"{path}: noise amplitudes must be numbers") from None


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    data = load_weights(path)
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise OfficialImportError(f"{path}: expected a state dict")
    return {k.removeprefix("module."): v for k, v in data.items()}


def net_config_from(state: dict[str, torch.Tensor], path: Path) -> NetConfig:
    """The NetConfig that reproduces a state dict's layer shapes."""
    try:
        nfc = int(state["head.conv.weight"].shape[0])
        blocks = sorted(
            {k.split(".")[1] for k in state if k.startswith("body.block")},
            key=lambda b: int(b.removeprefix("block")),
        )
        widths = [int(state[f"body.{b}.conv.weight"].shape[0]) for b in blocks]
    except (KeyError, IndexError, ValueError):
        raise OfficialImportError(f"{path}: not in the official SinGAN layout") from None
    return NetConfig(
        nfc=nfc,
        min_nfc=min(widths) if widths else nfc,
        num_blocks=len(blocks) + 2,
        batch_norm="head.norm.weight" in state,
        slope=0.2,
    )


def _build(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load a state dict strictly, allowing only the BatchNorm counters old PyTorch lacked."""
    result = module.load_state_dict(state, strict=False) if state else None
    if result is None:
        raise OfficialImportError(f"{path}: empty state dict")
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        odd = (missing or result.unexpected_keys)[0]
        raise OfficialImportError(f"{path}: does not match the official network ({odd})")


def _crop_noise(z: torch.Tensor, size_hw: tuple[int, int], path: Path) -> torch.Tensor:
    """z_opt is stored padded by the network's border; keep the centre of the image size."""
    z = z.float()
    if z.dim() == 3:
        z = z[None]
    dh, dw = z.shape[2] - size_hw[0], z.shape[3] - size_hw[1]
    if dh < 0 or dw < 0 or dh % 2 or dw % 2 or z.shape[1] not in (1, 3):
        raise OfficialImportError(
            f"{path}: noise of shape {tuple(z.shape)} does not fit scale size {size_hw}"
        )
    z = z[:, :, dh // 2 : z.shape[2] - dh // 2, dw // 2 : z.shape[3] - dw // 2]
    return z.expand(1, 3, *size_hw).contiguous()


def _scale_factor(reals: list[torch.Tensor]) -> float:
    """The refitted factor the official pyramid used, from its coarsest and finest sizes."""
    if len(reals) < 2:
        return 0.75
    short = [min(r.shape[2], r.shape[3]) for r in reals]
    return (short[0] / short[-1]) ** (1.0 / (len(reals) - 1))


def import_official(
    folder: str | os.PathLike,
    out: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> SinGANModel:
    """Read an official `TrainedModels/<image>/<params>/` folder as a SinGANModel.

    Writes it to `out` (safetensors + JSON) when given. Gs.pth is never opened.
    """
    root = find_model_folder(folder)
    reals = _tensor_list(root / "reals.pth")
    amps = _amps(root / MARKER)
    zs_file = root / "Zs.pth"
    zs = _tensor_list(zs_file) if zs_file.is_file() else None
    n = len(amps)
    if n == 0 or len(reals) < n:
        raise OfficialImportError(
            f"{root}: {n} noise amplitudes but {len(reals)} pyramid levels; the training "
            "did not finish a scale"
        )
    reals = [r[:, :3] if r.dim() == 4 else r[None, :3] for r in reals[:n]]
    sizes = [(int(r.shape[2]), int(r.shape[3])) for r in reals]
    gens, crits, z_rec = [], [], []
    have_critics = True
    for i in range(n):
        g_path = root / str(i) / "netG.pth"
        g_state = _state_dict(g_path)
        gen = blank(ScaleGenerator, net_config_from(g_state, g_path))
        _build(gen, g_state, g_path)
        gens.append(gen)
        d_path = root / str(i) / "netD.pth"
        if have_critics and d_path.is_file():
            d_state = _state_dict(d_path)
            crit = blank(ScaleCritic, net_config_from(d_state, d_path))
            _build(crit, d_state, d_path)
            crits.append(crit)
        else:
            have_critics = False
        z_path = root / str(i) / "z_opt.pth"
        if zs is not None and i < len(zs):
            z_rec.append(_crop_noise(zs[i], sizes[i], zs_file))
        else:
            z = load_weights(z_path)
            if not isinstance(z, torch.Tensor):
                raise OfficialImportError(f"{z_path}: expected a tensor")
            z_rec.append(_crop_noise(z, sizes[i], z_path))
    meta = {
        "source": "tamarott/SinGAN",
        "imported_from": str(root),
        "image": root.parent.name,
        "params": root.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    model = SinGANModel(
        gens,
        amps,
        z_rec,
        [r.clamp(-1, 1) for r in reals],
        _scale_factor(reals),
        "official",
        meta,
        crits if have_critics else None,
        "factor",
    ).to(device)
    if out is not None:
        model.save(out)
    return model
