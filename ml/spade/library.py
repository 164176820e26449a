"""The SPADE model library: model folders (safetensors + JSON card), style presets, import.

A model folder holds `model.json` (the card), `generator.safetensors`, optionally
`encoder.safetensors`, and optionally `styles/` (presets.json, presets.safetensors with one
latent per preset, and <name>.png thumbnails). Bundled models live in resources/models/,
the user's in ml.userdirs.models_dir()/spade/.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ml import userdirs
from ml.atomic import atomic_dir, atomic_write_text
from ml.images import encode_png
from ml.resources import resource_path
from ml.spade import checkpoint
from ml.spade.checkpoint import CheckpointError, OfficialCheckpoint
from ml.spade.config import GeneratorConfig
from ml.spade.networks import ConvEncoder, SPADEGenerator, style_encoder

__all__ = [
    "CheckpointError",
    "ModelCard",
    "ModelNotFound",
    "SpadeModel",
    "StylePreset",
    "get_card",
    "import_checkpoint",
    "list_models",
    "load_model",
    "load_style_presets",
    "save_model",
    "save_style_presets",
]

log = logging.getLogger(__name__)
CARD_FORMAT = "spadework-spade-model"
CARD_NAME, G_FILE, E_FILE = "model.json", "generator.safetensors", "encoder.safetensors"
STYLES_DIR = "styles"
OFFICIAL_LICENCE = "CC BY-NC-SA 4.0 (NVIDIA SPADE release)"


class ModelNotFound(KeyError):
    """No model with that id or path; the message lists where it was looked for."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class ModelCard:
    """What a model is: dataset, label set, generator layout, provenance and licence."""

    id: str
    name: str
    dataset: str
    label_set: str
    config: GeneratorConfig
    has_encoder: bool = False
    source: str = ""
    sha256: str = ""
    bundled: bool = False
    licence: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["config"] = self.config.to_dict()
        data.pop("bundled")  # where the folder lies says that
        return {"format": CARD_FORMAT, "version": 1, **data}

    @classmethod
    def from_dict(cls, data: dict, bundled: bool = False) -> ModelCard:
        if data.get("format") != CARD_FORMAT:
            raise ValueError("not a Spadework SPADE model card")
        data = {k: v for k, v in data.items() if k not in ("format", "version", "bundled")}
        data["config"] = GeneratorConfig.from_dict(data["config"])
        return cls(**data, bundled=bundled)

    @property
    def output_size(self) -> tuple[int, int]:
        """Native (W, H) of the model."""
        return self.config.native_size


@dataclass
class SpadeModel:
    """A loaded model: its card, the generator (eval mode) and the style encoder if any."""

    card: ModelCard
    generator: SPADEGenerator
    encoder: ConvEncoder | None = None


@dataclass
class StylePreset:
    """A named style latent, with a thumbnail rendered from it when one was saved."""

    name: str
    latent: np.ndarray
    thumbnail: Path | None = None


# ----------------------------------------------------------------------------- folders


def user_library() -> Path:
    path = userdirs.models_dir() / "spade"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundled_library() -> Path:
    return resource_path("models")


def _read_card(folder: Path, bundled: bool) -> ModelCard:
    try:
        data = json.loads((folder / CARD_NAME).read_text(encoding="utf-8"))
        card = ModelCard.from_dict(data, bundled=bundled)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{folder}: unreadable model card ({exc})") from None
    card.id = folder.name
    return card


def _model_folders() -> list[tuple[Path, bool]]:
    folders = []
    for root, bundled in ((bundled_library(), True), (user_library(), False)):
        if root.is_dir():
            folders += [(p, bundled) for p in sorted(root.iterdir()) if (p / CARD_NAME).is_file()]
    return folders


def list_models() -> list[ModelCard]:
    """Bundled models first, then the user's; unreadable folders are logged and skipped."""
    cards = []
    for folder, bundled in _model_folders():
        try:
            cards.append(_read_card(folder, bundled))
        except CheckpointError as exc:
            log.warning("skipping model: %s", exc)
    return cards


def model_folder(id_or_path: str | os.PathLike) -> tuple[Path, bool]:
    """(folder, bundled) of a model given by id or by a folder path."""
    path = Path(id_or_path).expanduser()
    if (path / CARD_NAME).is_file():
        return path, path.resolve().parent == bundled_library().resolve()
    name = str(id_or_path)
    for folder, bundled in _model_folders():
        if folder.name == name:
            return folder, bundled
    raise ModelNotFound(
        f"no SPADE model {name!r} (not a model folder, nor an id in {bundled_library()} or "
        f"{user_library()})"
    )


def get_card(model_id: str) -> ModelCard:
    folder, bundled = model_folder(model_id)
    return _read_card(folder, bundled)


# ----------------------------------------------------------------------------- weights


def build_generator(
    cfg: GeneratorConfig, state: dict[str, torch.Tensor], where: str
) -> SPADEGenerator:
    checkpoint.check_state(state, checkpoint.expected_generator(cfg), where)
    gen = SPADEGenerator(cfg)
    gen.load_state_dict(state)
    return gen.eval()


def build_encoder(cfg: GeneratorConfig, state: dict[str, torch.Tensor], where: str) -> ConvEncoder:
    checkpoint.check_state(state, checkpoint.expected_encoder(cfg), where)
    enc = style_encoder(cfg)
    enc.load_state_dict(state)
    return enc.eval()


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable weights ({exc})") from None


def load_model(id_or_path: str | os.PathLike, device: str | torch.device = "cpu") -> SpadeModel:
    """A model from the library (id or folder), or an official .pth / archive read on the fly."""
    path = Path(id_or_path).expanduser()
    if _is_official_path(id_or_path, path):
        model = model_from_official(path)
    else:
        folder, _ = model_folder(id_or_path)
        card = get_card(str(folder))
        gen = build_generator(card.config, _load_tensors(folder / G_FILE), str(folder / G_FILE))
        enc = None
        if card.has_encoder:
            enc = build_encoder(card.config, _load_tensors(folder / E_FILE), str(folder / E_FILE))
        model = SpadeModel(card, gen, enc)
    model.generator.to(device)
    if model.encoder is not None:
        model.encoder.to(device)
    return model


def _is_official_path(id_or_path: str | os.PathLike, path: Path) -> bool:
    """An official checkpoint file or folder, unless the name is a library model's id.

    A library id wins over a same-named folder in the working directory ("docs", "bench").
    """
    if path.is_file():
        return True
    if not path.is_dir() or (path / CARD_NAME).is_file():
        return False
    return not any(folder.name == str(id_or_path) for folder, _ in _model_folders())


def _plain_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def save_model(
    folder: str | os.PathLike,
    card: ModelCard,
    generator_state: dict[str, torch.Tensor],
    encoder_state: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write a new model folder atomically (it must not exist yet); returns the folder.

    The weights are checked against the card's configuration first, so a folder that exists
    always loads.
    """
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} already exists")
    checkpoint.check_state(generator_state, checkpoint.expected_generator(card.config), "generator")
    if encoder_state is not None:
        checkpoint.check_state(encoder_state, checkpoint.expected_encoder(card.config), "encoder")
    card = dataclasses.replace(card, id=folder.name, has_encoder=encoder_state is not None)
    with atomic_dir(folder) as tmp:
        save_file(_plain_state(generator_state), str(tmp / G_FILE), metadata={"format": "pt"})
        if encoder_state is not None:
            save_file(_plain_state(encoder_state), str(tmp / E_FILE), metadata={"format": "pt"})
        (tmp / CARD_NAME).write_text(json.dumps(card.to_dict(), indent=2), encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------- styles


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "model"


def load_style_presets(model_id_or_folder: str | os.PathLike) -> list[StylePreset]:
    """The model's saved style latents in order; an empty list when it has none."""
    folder, _ = model_folder(model_id_or_folder)
    styles = folder / STYLES_DIR
    if not (styles / "presets.json").is_file():
        return []
    try:
        index = json.loads((styles / "presets.json").read_text(encoding="utf-8"))
        latents = load_file(str(styles / "presets.safetensors"))
        presets = []
        for i, entry in enumerate(index["presets"]):
            thumb = styles / entry["thumbnail"] if entry.get("thumbnail") else None
            latent = latents[str(i)].numpy().astype(np.float32)
            presets.append(
                StylePreset(entry["name"], latent, thumb if thumb and thumb.is_file() else None)
            )
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
        raise CheckpointError(f"{styles}: unreadable style presets ({exc})") from None
    return presets


def save_style_presets(
    folder: str | os.PathLike,
    presets: list[StylePreset],
    thumbnails: dict[str, np.ndarray] | None = None,
) -> None:
    """Replace the model's style presets (and thumbnails) in one atomic swap of styles/."""
    folder = Path(folder)
    if not (folder / CARD_NAME).is_file():
        raise ModelNotFound(f"{folder} is not a model folder")
    names = [p.name for p in presets]
    if len(set(names)) != len(names):
        raise ValueError("style preset names must be unique")
    z_dim = get_card(str(folder)).config.z_dim
    thumbnails = thumbnails or {}
    entries, latents = [], {}
    tmp = Path(tempfile.mkdtemp(prefix=".styles.", suffix=".part", dir=folder))
    try:
        for i, preset in enumerate(presets):
            latent = np.asarray(preset.latent, dtype=np.float32).reshape(-1)
            if latent.shape != (z_dim,):
                raise ValueError(
                    f"style {preset.name!r} has {latent.size} values, expected {z_dim}"
                )
            latents[str(i)] = torch.from_numpy(latent.copy())
            thumb = None
            if preset.name in thumbnails:
                thumb = f"{i:02d}-{_slug(preset.name)}.png"
                (tmp / thumb).write_bytes(encode_png(np.asarray(thumbnails[preset.name])))
            entries.append({"name": preset.name, "thumbnail": thumb})
        save_file(latents, str(tmp / "presets.safetensors"))
        atomic_write_text(tmp / "presets.json", json.dumps({"presets": entries}, indent=2))
        target = folder / STYLES_DIR
        old = folder / ".styles.old"
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- import


def _card_from_official(
    ckpt: OfficialCheckpoint, inferred: checkpoint.Inferred, name: str | None
) -> ModelCard:
    dataset = inferred.dataset
    official = dataset in ("coco", "ade20k", "cityscapes")
    title = name or (f"SPADE {dataset}" if official else Path(ckpt.source).parent.name or "SPADE")
    return ModelCard(
        id="",
        name=title,
        dataset=dataset,
        label_set=inferred.label_set,
        config=inferred.config,
        has_encoder=ckpt.encoder is not None,
        source=ckpt.source,
        sha256=ckpt.sha256,
        licence=OFFICIAL_LICENCE if official else "",
        description=f"Imported from {ckpt.source}",
    )


def _read_and_infer(
    path: str | os.PathLike, label_set: str | None, member: str | None, **overrides
) -> tuple[OfficialCheckpoint, checkpoint.Inferred]:
    ckpt = checkpoint.read_official(path, member)
    inferred = checkpoint.infer_config(ckpt, label_set, **overrides)
    checkpoint.validate(ckpt, inferred.config)
    return ckpt, inferred


def model_from_official(
    path: str | os.PathLike, label_set: str | None = None, member: str | None = None, **overrides
) -> SpadeModel:
    """An official checkpoint as an in-memory model, without touching the library."""
    ckpt, inferred = _read_and_infer(path, label_set, member, **overrides)
    card = _card_from_official(ckpt, inferred, None)
    card.id = f"file:{Path(path).name}"
    gen = build_generator(card.config, ckpt.generator, ckpt.source)
    enc = build_encoder(card.config, ckpt.encoder, ckpt.source) if ckpt.encoder else None
    return SpadeModel(card, gen, enc)


def _new_id(name: str, sha256: str) -> str:
    base = f"{_slug(name)}-{sha256[:8]}"
    candidate, n = base, 2
    while (user_library() / candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def import_checkpoint(
    path: str | os.PathLike,
    label_set: str | None = None,
    name: str | None = None,
    progress: Callable[[float, str], None] | None = None,
    member: str | None = None,
    num_upsampling_layers: str | None = None,
    crop_size: int | None = None,
    aspect_ratio: float | None = None,
) -> str:
    """Import an official checkpoint into the user's library; returns the new model id.

    `member` picks one model out of a release archive or checkpoints folder holding several.
    The overrides are for custom models whose layout the tensors cannot tell.
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "reading checkpoint")
    ckpt, inferred = _read_and_infer(
        path,
        label_set,
        member,
        num_upsampling_layers=num_upsampling_layers,
        crop_size=crop_size,
        aspect_ratio=aspect_ratio,
    )
    report(0.6, "writing model")
    card = _card_from_official(ckpt, inferred, name)
    model_id = _new_id(card.name, ckpt.sha256)
    save_model(user_library() / model_id, card, ckpt.generator, ckpt.encoder)
    report(1.0, "done")
    return model_id
