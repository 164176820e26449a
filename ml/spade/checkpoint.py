"""Reading official NVlabs/SPADE checkpoints safely and inferring their configuration.

Accepted: a `latest_net_G.pth` (its `latest_net_E.pth` and `opt.txt` beside it are used when
present), a `checkpoints/<name>/` folder, or the release `checkpoints.tar.gz` (only the needed
members are read, into memory; unsafe member names refuse the archive). Tensors are loaded
with `torch.load(weights_only=True)`, so a pickle carrying code is refused, never run.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import re
import tarfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

import torch

from ml.labels import LabelSet, load_label_set
from ml.spade.config import GeneratorConfig
from ml.spade.networks import SPADEGenerator, style_encoder

MAX_GENERATOR_BYTES = 2 * 1024**3
MAX_ENCODER_BYTES = 512 * 1024**2
MAX_OPTIONS_BYTES = 1024**2
MAX_ARCHIVE_MEMBERS = 100_000
G_NAME, E_NAME, OPT_NAME = "latest_net_G.pth", "latest_net_E.pth", "opt.txt"

# The released models, told apart by the input channels of the generator.
RELEASED: dict[int, tuple[str, GeneratorConfig]] = {
    184: ("coco", GeneratorConfig(182, True, False)),
    151: ("ade20k", GeneratorConfig(150, True, True)),
    36: ("cityscapes", GeneratorConfig(35, False, False, 64, "more", 512, 2.0)),
}
DATASET_CHANNELS = {name: channels for channels, (name, _) in RELEASED.items()}


class CheckpointError(ValueError):
    """A checkpoint cannot be imported; the one-line message names the file and the problem."""


@dataclass
class OfficialCheckpoint:
    """The raw tensors and provenance of one official model."""

    generator: dict[str, torch.Tensor]
    encoder: dict[str, torch.Tensor] | None
    source: str
    sha256: str
    options: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def load_state_bytes(data: bytes, where: str) -> dict[str, torch.Tensor]:
    """Tensors from torch.save bytes; refuses anything but a flat str -> tensor mapping."""
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:  # the safe unpickler met a callable or class: a pickle that wants to run code
            raise CheckpointError(
                f"{where}: refused, it holds Python objects other than tensors "
                f"({found.group(1)}), which could run code"
            ) from None
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if "Unsupported" in line), type(exc).__name__)
        raise CheckpointError(
            f"{where}: not a readable PyTorch checkpoint (truncated or corrupt: {detail[:160]})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for broken files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise CheckpointError(
            f"{where}: not a readable PyTorch checkpoint (truncated or corrupt: {first})"
        ) from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"{where}: not a state dict of tensors")
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{where}: entry {key!r} is not a named tensor")
    return normalise_keys(obj)


def normalise_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """DataParallel prefixes dropped; parametrized spectral-norm names mapped to classic ones."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith("module."):
            key = key[len("module.") :]
        key = re.sub(r"\.parametrizations\.weight\.original$", ".weight_orig", key)
        key = re.sub(r"\.parametrizations\.weight\.0\._u$", ".weight_u", key)
        key = re.sub(r"\.parametrizations\.weight\.0\._v$", ".weight_v", key)
        if value.is_floating_point() and value.dtype != torch.float32:
            value = value.float()
        out[key] = value
    return out


def parse_options(text: str) -> dict[str, str]:
    """`key: value` lines of an official opt.txt (the `[default: …]` notes are ignored)."""
    options = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z_]\w*):\s*(\S+)", line)
        if match:
            options[match.group(1)] = match.group(2)
    return options


def _read_file(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise CheckpointError(f"{path}: {size / 1e6:.0f} MB is over the {limit / 1e6:.0f} MB limit")
    return path.read_bytes()


def _sibling(g_path: Path, name: str) -> Path:
    """The E or opt.txt file that belongs with a G file (same epoch prefix when not 'latest')."""
    if name == E_NAME and g_path.name.endswith("_net_G.pth"):
        return g_path.with_name(g_path.name[: -len("_net_G.pth")] + "_net_E.pth")
    return g_path.with_name(name)


def _from_g_file(g_path: Path, source: str) -> OfficialCheckpoint:
    data = _read_file(g_path, MAX_GENERATOR_BYTES)
    sha = hashlib.sha256(data).hexdigest()
    generator = load_state_bytes(data, source)
    e_path = _sibling(g_path, E_NAME)
    encoder = (
        load_state_bytes(_read_file(e_path, MAX_ENCODER_BYTES), str(e_path))
        if e_path.is_file()
        else None
    )
    opt_path = _sibling(g_path, OPT_NAME)
    options = {}
    if opt_path.is_file():
        options = parse_options(_read_file(opt_path, MAX_OPTIONS_BYTES).decode("utf-8", "replace"))
    return OfficialCheckpoint(generator, encoder, source, sha, options)


def _choose(models: dict[str, object], member: str | None, where: str) -> str:
    """One model folder name out of several, by `member`, or an error listing them."""
    if not models:
        raise CheckpointError(f"{where}: holds no {G_NAME}")
    if member is None:
        if len(models) == 1:
            return next(iter(models))
        raise CheckpointError(
            f"{where}: holds {len(models)} models ({', '.join(sorted(models))}); choose one"
        )
    for name in models:
        if name == member or PurePosixPath(name).name == member:
            return name
    raise CheckpointError(f"{where}: has no model {member!r} (it has {', '.join(sorted(models))})")


def _safe_members(archive: tarfile.TarFile, where: str) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    for count, info in enumerate(archive, start=1):
        if count > MAX_ARCHIVE_MEMBERS:
            raise CheckpointError(f"{where}: more than {MAX_ARCHIVE_MEMBERS} archive members")
        name = PurePosixPath(info.name)
        if name.is_absolute() or ".." in name.parts or "\\" in info.name:
            raise CheckpointError(f"{where}: unsafe member name {info.name!r}; archive refused")
        if info.isfile():
            members[str(name)] = info
    return members


def _archive_models(members: dict[str, tarfile.TarInfo]) -> dict[str, str]:
    """Model folder (inside the archive) -> its G member name."""
    return {
        str(PurePosixPath(name).parent): name
        for name in members
        if PurePosixPath(name).name == G_NAME
    }


def _read_member(archive: tarfile.TarFile, info: tarfile.TarInfo, limit: int, where: str) -> bytes:
    if info.size > limit:
        raise CheckpointError(f"{where}: member {info.name} is over the {limit / 1e6:.0f} MB limit")
    handle = archive.extractfile(info)
    if handle is None:
        raise CheckpointError(f"{where}: member {info.name} cannot be read")
    try:
        data = handle.read()
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise CheckpointError(f"{where}: archive is truncated or corrupt ({exc})") from None
    if len(data) != info.size:
        raise CheckpointError(f"{where}: archive is truncated (member {info.name})")
    return data


def _from_archive(path: Path, member: str | None) -> OfficialCheckpoint:
    where = str(path)
    try:
        with tarfile.open(path, "r:*") as archive:
            members = _safe_members(archive, where)
            models = _archive_models(members)
            folder = _choose(models, member, where)
            g_info = members[models[folder]]
            data = _read_member(archive, g_info, MAX_GENERATOR_BYTES, where)
            source = f"{path.name}:{g_info.name}"
            generator = load_state_bytes(data, source)
            encoder = None
            e_info = members.get(f"{folder}/{E_NAME}")
            if e_info is not None:
                e_data = _read_member(archive, e_info, MAX_ENCODER_BYTES, where)
                encoder = load_state_bytes(e_data, f"{path.name}:{e_info.name}")
            options = {}
            opt_info = members.get(f"{folder}/{OPT_NAME}")
            if opt_info is not None:
                text = _read_member(archive, opt_info, MAX_OPTIONS_BYTES, where)
                options = parse_options(text.decode("utf-8", "replace"))
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CheckpointError(f"{where}: not a readable tar archive ({exc})") from None
    return OfficialCheckpoint(generator, encoder, source, hashlib.sha256(data).hexdigest(), options)


def _folder_models(path: Path) -> dict[str, Path]:
    if (path / G_NAME).is_file():
        return {path.name: path / G_NAME}
    return {sub.name: sub / G_NAME for sub in sorted(path.iterdir()) if (sub / G_NAME).is_file()}


def is_archive(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def list_archive_models(path: str | os.PathLike) -> list[str]:
    """Model folders inside a release archive or a checkpoints folder (for a chooser)."""
    path = Path(path)
    if path.is_dir():
        return sorted(_folder_models(path))
    try:
        with tarfile.open(path, "r:*") as archive:
            return sorted(_archive_models(_safe_members(archive, str(path))))
    except (tarfile.TarError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable tar archive ({exc})") from None


def read_official(path: str | os.PathLike, member: str | None = None) -> OfficialCheckpoint:
    """The tensors of an official model from a .pth file, checkpoints folder or archive."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(f"{path}: no such file or folder")
    if path.is_dir():
        models = _folder_models(path)
        name = _choose(models, member, str(path))
        return _from_g_file(models[name], str(models[name]))
    if is_archive(path):
        return _from_archive(path, member)
    return _from_g_file(path, str(path))


# ----------------------------------------------------------------------------- inference


def _option(options: dict[str, str], key: str, kind: type):
    if key not in options:
        return None
    value = options[key]
    try:
        if kind is bool:
            if value not in ("True", "False"):
                raise ValueError(value)
            return value == "True"
        return kind(value)
    except ValueError:
        raise CheckpointError(f"opt.txt: bad value {value!r} for {key}") from None


def _require(state: dict[str, torch.Tensor], key: str, ndim: int, where: str) -> torch.Tensor:
    tensor = state.get(key)
    if tensor is None:
        raise CheckpointError(f"{where}: not a SPADE generator checkpoint (no {key})")
    if tensor.ndim != ndim:
        raise CheckpointError(f"{where}: {key} has shape {list(tensor.shape)}, not a SPADE layout")
    return tensor


@dataclass
class Inferred:
    """What the tensors (plus options and the user's choices) say about a checkpoint."""

    config: GeneratorConfig
    dataset: str
    label_set: str


def _label_layout(
    channels: int, labels: LabelSet, options: dict[str, str], where: str
) -> tuple[int, bool, bool]:
    """(label_nc, contain_dontcare, no_instance) of a custom model."""
    label_nc = _option(options, "label_nc", int)
    dontcare = _option(options, "contain_dontcare_label", bool)
    no_instance = _option(options, "no_instance", bool)
    if label_nc is not None and dontcare is not None and no_instance is not None:
        return label_nc, dontcare, no_instance
    label_nc = labels.max_id + 1
    extra = channels - label_nc
    if extra == 0:
        return label_nc, False, True
    if extra == 2:
        return label_nc, True, False
    if extra == 1:
        # One spare channel: don't-care when the label set has an unlabeled id, else edges.
        has_unlabeled = labels.unlabeled is not None
        return label_nc, has_unlabeled, has_unlabeled
    raise CheckpointError(
        f"{where}: the {labels.title} label set has {label_nc} class ids but the generator takes "
        f"{channels} input channels"
    )


def infer_config(
    ckpt: OfficialCheckpoint,
    label_set: str | None = None,
    num_upsampling_layers: str | None = None,
    crop_size: int | None = None,
    aspect_ratio: float | None = None,
) -> Inferred:
    """Configuration from tensor shapes; the released datasets are known by channel count."""
    state, where, opts = ckpt.generator, ckpt.source, ckpt.options
    shared = _require(state, "head_0.norm_0.mlp_shared.0.weight", 4, where)
    fc = state.get("fc.weight")
    if fc is None or fc.ndim not in (2, 4):
        raise CheckpointError(f"{where}: not a SPADE generator checkpoint (no usable fc.weight)")
    channels = shared.shape[1]
    use_vae = fc.ndim == 2
    if use_vae:
        ngf = _require(state, "head_0.conv_0.bias", 1, where).shape[0] // 16
        z_dim = fc.shape[1]
    else:
        ngf, z_dim = fc.shape[0] // 16, 256
    if ngf < 1:
        raise CheckpointError(f"{where}: fc.weight has shape {list(fc.shape)}, not a SPADE layout")

    released = RELEASED.get(channels)
    if label_set is None and released is None:
        raise CheckpointError(
            f"{where}: {channels} label channels match no released model (184 coco, 151 ade20k, "
            "36 cityscapes); give its label set"
        )
    if label_set in DATASET_CHANNELS and DATASET_CHANNELS[label_set] != channels:
        raise CheckpointError(
            f"{where}: the {label_set} label set needs {DATASET_CHANNELS[label_set]} input "
            f"channels but the generator takes {channels}"
        )
    if released is not None and label_set in (None, released[0]):
        dataset, base = released
        label_set = dataset
        layout = (base.label_nc, base.contain_dontcare, base.no_instance)
        defaults = (base.num_upsampling_layers, base.crop_size, base.aspect_ratio)
    else:
        try:
            labels = load_label_set(label_set)
        except KeyError as exc:
            raise CheckpointError(str(exc.args[0])) from None
        dataset = "landscape" if label_set == "landscape" else "custom"
        layout = _label_layout(channels, labels, opts, where)
        defaults = ("normal", 256, 1.0)

    mode = num_upsampling_layers or _option(opts, "num_upsampling_layers", str) or defaults[0]
    if "up_4.conv_0.bias" in state:
        mode = "most"
    elif mode == "most":
        mode = "normal"
    crop = crop_size or _option(opts, "crop_size", int) or defaults[1]
    aspect = aspect_ratio or _option(opts, "aspect_ratio", float) or defaults[2]
    if use_vae:
        crop, aspect = _vae_grid(fc.shape[0] // (16 * ngf), mode, crop, aspect, where)
    try:
        cfg = GeneratorConfig(*layout, ngf, mode, crop, aspect, use_vae, z_dim,
                              spade_hidden=shared.shape[0],
                              encoder_thumbnail=_encoder_thumbnail(ckpt.encoder, ngf))
    except ValueError as exc:
        raise CheckpointError(f"{where}: {exc}") from None
    return Inferred(cfg, dataset, label_set)


def _encoder_thumbnail(encoder: dict[str, torch.Tensor] | None, ngf: int) -> int:
    """Side of the thumbnail an encoder's head reads besides its features (0: official)."""
    fc = encoder.get("fc_mu.weight") if encoder is not None else None
    if fc is None or fc.ndim != 2:
        return 0
    extra = fc.shape[1] - ngf * 8 * 4 * 4
    side = round(math.sqrt(max(extra, 0) / 3))
    return side if 3 * side * side == extra else 0  # else check_state names the mismatch


def _vae_grid(cells: int, mode: str, crop: int, aspect: float, where: str) -> tuple[int, float]:
    """Crop size and aspect whose latent grid has `cells` cells (the VAE fc fixes it)."""
    stride = GeneratorConfig(1, False, True, 1, mode).stride
    candidates = [(crop, aspect)] + [
        (sw * stride, a) for a in (aspect, 1.0, 2.0) for sw in range(1, 257)
    ]
    for c, a in candidates:
        sw = c // stride
        if sw >= 1 and sw * round(sw / a) == cells:
            return c, a
    raise CheckpointError(f"{where}: a VAE latent grid of {cells} cells fits no crop size")


def check_state(
    state: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    where: str,
    finite: bool = False,
) -> None:
    """Same keys and shapes as the network built for the config (and finite values if asked)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing:
        raise CheckpointError(
            f"{where}: missing {len(missing)} tensor(s), first {missing[0]}; not this SPADE layout"
        )
    if unexpected:
        raise CheckpointError(
            f"{where}: {len(unexpected)} unexpected tensor(s), first {unexpected[0]}"
        )
    for key, ref in expected.items():
        if tuple(state[key].shape) != tuple(ref.shape):
            raise CheckpointError(
                f"{where}: {key} has shape {list(state[key].shape)}, expected {list(ref.shape)}"
            )
        if finite and state[key].is_floating_point() and not torch.isfinite(state[key]).all():
            raise CheckpointError(f"{where}: {key} holds NaN or infinite values")


def expected_generator(cfg: GeneratorConfig) -> dict[str, torch.Tensor]:
    """The generator's state dict on the meta device: names and shapes, no memory."""
    return _meta_state("G", tuple(cfg.to_dict().items()))


def expected_encoder(cfg: GeneratorConfig) -> dict[str, torch.Tensor]:
    return _meta_state("E", tuple(cfg.to_dict().items()))


@lru_cache(maxsize=16)
def _meta_state(kind: str, items: tuple) -> dict[str, torch.Tensor]:
    cfg = GeneratorConfig(**dict(items))
    with torch.device("meta"):
        if kind == "G":
            return SPADEGenerator(cfg).state_dict()
        return style_encoder(cfg).state_dict()


def validate(ckpt: OfficialCheckpoint, cfg: GeneratorConfig) -> None:
    """Raise CheckpointError unless the tensors fit the generator (and encoder) of `cfg`."""
    check_state(ckpt.generator, expected_generator(cfg), ckpt.source, finite=True)
    if ckpt.encoder is not None:
        if not cfg.use_vae:
            raise CheckpointError(
                f"{ckpt.source}: an encoder is beside a generator that has no style input"
            )
        check_state(ckpt.encoder, expected_encoder(cfg), f"{ckpt.source} (encoder)", finite=True)
