"""Exporting the default model from its training run: weights, presets, card, loss plot.

Weights are stored in float16 (the loader widens them to float32), which halves the folder
and changes renders by far less than one 8-bit step.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from ml.data.dataset import renderer_hash
from ml.data.plot import line_chart
from ml.data.presets import make_presets
from ml.data.train_default import HARDWARE, LOSS_LOG, RUN_INFO, RunSettings, default_run_dir
from ml.images import write_image
from ml.spade import train_state as ts
from ml.spade.config import GeneratorConfig
from ml.spade.library import ModelCard, load_model, save_model, save_style_presets

NAME = "Spadework Landscape 256"
LOSS_PLOT = "loss.png"
CARD_README = "README.md"
PER_LOOK = 8  # held-out scenes averaged into each style preset
FINAL_WINDOW = 50  # final losses are the mean over this many last steps


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}


def read_losses(run_dir: Path, upto: int) -> list[dict]:
    path = run_dir / LOSS_LOG
    if not path.is_file():
        return []
    rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln]
    return [r for r in rows if r["step"] <= upto]


def final_losses(rows: list[dict]) -> dict[str, float]:
    tail = rows[-FINAL_WINDOW:]
    keys = [k for k in (tail[0] if tail else {}) if k not in ("step", "seconds")]
    return {k: round(float(np.mean([r[k] for r in tail])), 4) for k in keys}


def loss_plot(rows: list[dict]) -> np.ndarray:
    keys = [k for k in (rows[0] if rows else {}) if k not in ("step", "seconds")]
    steps = np.array([r["step"] for r in rows])
    series = {k: (steps, np.array([r[k] for r in rows])) for k in keys}
    return line_chart(series, f"Training losses (moving average of 25 steps), {len(rows)} steps")


def export_from_run(run_dir: str | Path | None, out: Path, device: str = "cpu",
                    force: bool = False, command: str = "", evaluate: bool = True) -> Path:
    """Write the model folder `out` from the newest checkpoint of the run in `run_dir`."""
    run_dir = Path(run_dir) if run_dir else default_run_dir()
    folder = ts.latest_state(run_dir)
    if folder is None:
        raise ts.CheckpointStateError(f"{run_dir}: no training checkpoint to export")
    if out.exists() and not force:
        raise FileExistsError(f"{out} already exists (use --force to replace it)")
    tensors, meta = ts.load_state(folder)
    settings = RunSettings(**json.loads((run_dir / RUN_INFO).read_text(encoding="utf-8")))
    hardware = json.loads((run_dir / HARDWARE).read_text(encoding="utf-8")) \
        if (run_dir / HARDWARE).is_file() else {}
    step = int(meta["step"])
    rows = read_losses(run_dir, step)
    training = {
        "steps": step,
        "batch_size": settings.batch,
        "seconds": round(float(meta.get("trained_seconds", 0.0)), 1),
        "hardware": hardware,
        "settings": settings.__dict__,
        "data_seeds": [settings.first_seed, settings.first_seed + settings.scenes - 1],
        "renderer": renderer_hash(),
        "objective": f"hinge GAN + feature matching x10 + multi-scale L1 x{settings.l1:g} + KL x0.05",
        "final_losses": final_losses(rows),
        "command": command or _command(settings, step, out),
    }
    card = ModelCard(
        id=out.name, name=NAME, dataset="landscape", label_set="landscape",
        config=GeneratorConfig.from_dict(meta["config"]["generator"]), has_encoder=True,
        source="trained by Spadework on its own procedural landscapes (make train-default)",
        licence="MIT (weights and training data made by the Spadework project)",
        description="Compact SPADE generator with a VAE style encoder, trained on procedural "
                    "landscape scenes; the default model so painting works on first launch.",
        extra={"training": training},
    )
    staging = out.parent / f".{out.name}.export"
    if staging.exists():
        shutil.rmtree(staging)
    g, e = ("G_ema", "E_ema") if any(k.startswith("G_ema.") for k in tensors) else ("G", "E")
    save_model(staging, card, _half(ts.unprefixed(g, tensors)), _half(ts.unprefixed(e, tensors)))
    model = load_model(staging, device="cpu")
    presets, thumbs = make_presets(model, PER_LOOK)
    save_style_presets(staging, presets, thumbs)
    if rows:
        write_image(staging / LOSS_PLOT, loss_plot(rows))
    figures = None
    if evaluate:
        from ml.data.evaluate import evaluate_model

        figures = evaluate_model(model)
        _add_figures(staging, figures)
    write_card_readme(staging, card, training, [p.name for p in presets], figures)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out


def _command(settings: RunSettings, step: int, out: Path) -> str:
    d = RunSettings()
    parts = [f"--out {out}", f"--steps {step}"]
    for key, value in settings.__dict__.items():
        if value != getattr(d, key):
            parts.append(f"--{key.replace('_', '-')} {value}")
    return "python -m ml data train-default " + " ".join(parts)


def _add_figures(folder: Path, figures: dict) -> None:
    card_path = folder / "model.json"
    data = json.loads(card_path.read_text(encoding="utf-8"))
    data["extra"]["evaluation"] = figures
    card_path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_card_readme(folder: Path, card: ModelCard, training: dict, presets: list[str],
                      figures: dict | None) -> None:
    """The human-readable model card next to the weights."""
    hw = training.get("hardware") or {}
    minutes = training["seconds"] / 60
    seen = training["steps"] * training["batch_size"]
    scenes = training["data_seeds"][1] - training["data_seeds"][0] + 1
    lines = [
        f"# {card.name}",
        "",
        card.description,
        "",
        f"- Licence: {card.licence}.",
        "- Label set: `landscape` (15 classes, 255 = unlabeled goes to the don't-care channel).",
        f"- Generator: SPADE, ngf {card.config.ngf}, {card.config.crop_size}x"
        f"{card.config.crop_size}, 'normal' upsampling, VAE style encoder (z {card.config.z_dim}).",
        "- Weights: float16 safetensors (`generator.safetensors`, `encoder.safetensors`).",
        "",
        "## How it was trained",
        "",
        "```",
        training["command"],
        "```",
        "",
        f"- Data: procedural scenes of `ml/data`, seeds {training['data_seeds'][0]}.."
        f"{training['data_seeds'][1]} (renderer {training['renderer']}), 256 px, random flips.",
        f"- Steps: {training['steps']} at batch {training['batch_size']}, "
        f"{minutes:.1f} minutes of training: {seen} training pictures seen, "
        f"{seen / scenes:.2f} passes over the data.",
        f"- Hardware: {hw.get('description', 'unknown')}.",
        f"- Objective: {training['objective']}. No VGG19 weights can be fetched, so the multi-scale"
        " L1 term stands in for the perceptual loss (cVAE-GAN style).",
        "- Final losses (mean of the last 50 steps): "
        + ", ".join(f"{k} {v}" for k, v in training["final_losses"].items()) + ".",
        "",
        f"![losses]({LOSS_PLOT})",
        "",
        "## Style presets",
        "",
        f"Mean style code of {PER_LOOK} held-out scenes per look: " + ", ".join(presets) + ".",
        "",
    ]
    if figures:
        lines += evaluation_lines(figures)
    lines += [
        "## Limits",
        "",
        f"A compact network (ngf {card.config.ngf}), {minutes:.0f} minutes of training, "
        f"{hw.get('description', 'on unknown hardware')}: it renders the procedural world it "
        "learnt from (its textures, light and six looks), not photographs, and its textures "
        "are softer than the procedural pictures' (see the SWD floor above). More steps "
        "(`--steps`, or a GPU) sharpen them; the command above resumes from the last "
        "checkpoint when its run folder is kept.",
        "",
    ]
    (folder / CARD_README).write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluation_lines(figures: dict) -> list[str]:
    """The evaluation table (also used by the docs)."""
    lines = [
        "## Evaluation (`bench/default_model.py`)",
        "",
        f"On {figures['scenes']} held-out procedural scenes (seeds {figures['seeds'][0]}.."
        f"{figures['seeds'][1]}), styles drawn from the VAE prior:",
        "",
        "| | this model | flat class colours | untrained network |",
        "|---|---|---|---|",
        f"| patch SWD to the real scenes (lower is better) | {figures['swd']:.4f} | "
        f"{figures['swd_flat']:.4f} | {figures['swd_untrained']:.4f} |",
        f"| label fidelity (higher is better) | {figures['fidelity']:.3f} | "
        f"{figures['fidelity_flat']:.3f} | {figures['fidelity_untrained']:.3f} |",
        "",
        f"Other procedural pictures score SWD {figures['swd_real']:.4f} and the pictures "
        f"themselves fidelity {figures['fidelity_real']:.3f}: the SWD floor and a reference "
        "fidelity (renders more typical of their class than the pictures can score above it).",
        "",
        comparison(figures),
        "",
    ]
    if "style_spread" in figures:
        lines += [
            f"Style: another style code of the prior moves a render by "
            f"{figures['style_spread']:.1f} levels per pixel and channel on average (0-255; "
            "a model that ignored its style input would score 0).",
            "",
        ]
    return lines


def comparison(figures: dict) -> str:
    """One plain sentence on where the model stands against the flat-colour baseline."""
    def word(ours: float, flat: float, lower_better: bool) -> str:
        if abs(ours - flat) <= 0.01 * max(abs(flat), 1e-9) + 1e-3:
            return "matches"
        return "beats" if (ours < flat) == lower_better else "trails"

    parts = []
    for base, name, them in (("flat", "the flat class colours", "them"),
                             ("untrained", "the untrained network", "it")):
        swd = word(figures["swd"], figures[f"swd_{base}"], True)
        fid = word(figures["fidelity"], figures[f"fidelity_{base}"], False)
        parts.append(f"{swd} {name} on patch SWD and {fid} {them} on label fidelity")
    return "The model " + "; it ".join(parts) + "."
