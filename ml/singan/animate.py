"""Looping animations from a latent random walk (the official generate_gif formula).

At every scale at or above the start scale the noise follows a damped walk with momentum
around the reconstruction noise z_opt:

    z_t = alpha * z_opt + (1 - alpha) * (z_{t-1} + beta * (z_{t-1} - z_{t-2}) + (1 - beta) * e_t)

starting from z_{-1} = 0.95 z_opt + 0.05 e and z_{-2} = z_opt; scales below the start scale
keep z_opt (their layout stays fixed). Small alpha and large beta give slow, smooth motion.

Looping: the walk is run for frames + L steps (L = a quarter of the frames). Over the first L
frames each noise map is cross-faded from step t + frames of the walk into step t, keeping
the variance of the deviation from z_opt constant (cos/sin weights on the two deviations,
eased with a smoothstep). Frame 0 is then exactly walk step `frames`, which is the step that
follows the last frame, so the video wraps around without a jump.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ml.atomic import atomic_path
from ml.singan.model import SinGANModel
from ml.singan.sampling import check_start_scale
from ml.singan.train import to_uint8

MAX_FRAMES = 1000


def _walk(
    model: SinGANModel,
    n: int,
    steps: int,
    alpha: float,
    beta: float,
    gen: torch.Generator,
) -> list[torch.Tensor]:
    """The official random walk of scale n's noise for `steps` steps."""
    size = model.sizes[n]
    z_opt = model.z_rec[n]
    prev1 = 0.95 * z_opt + 0.05 * model.draw_noise(n, size, gen)
    prev2 = z_opt
    out = []
    for _ in range(steps):
        step = beta * (prev1 - prev2) + (1.0 - beta) * model.draw_noise(n, size, gen)
        z = alpha * z_opt + (1.0 - alpha) * (prev1 + step)
        prev2, prev1 = prev1, z
        out.append(z)
    return out


def looped_walk(
    model: SinGANModel,
    n: int,
    frames: int,
    alpha: float,
    beta: float,
    gen: torch.Generator,
) -> list[torch.Tensor]:
    """`frames` noise maps for scale n whose last frame leads smoothly into the first."""
    overlap = max(1, frames // 4)
    walk = _walk(model, n, frames + overlap, alpha, beta, gen)
    z_opt = model.z_rec[n]
    out = list(walk[:frames])
    for t in range(overlap):
        x = t / overlap
        ease = x * x * (3.0 - 2.0 * x)
        theta = 0.5 * math.pi * (1.0 - ease)
        own, wrapped = walk[t] - z_opt, walk[frames + t] - z_opt
        out[t] = z_opt + math.cos(theta) * own + math.sin(theta) * wrapped
    return out


def _check_walk(alpha: float, beta: float, frames: int) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha {alpha} is out of range: use 0-1 (official 0.1)")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta {beta} is out of range: use 0-1 (official 0.8-0.95)")
    if not 2 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be 2-{MAX_FRAMES}, got {frames}")


@torch.no_grad()
def animate(
    model: SinGANModel,
    start_scale: int = 2,
    alpha: float = 0.1,
    beta: float = 0.9,
    frames: int = 100,
    seed: int | None = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """`frames` looping animation frames (HxWx3 uint8) at the training size."""
    _check_walk(alpha, beta, frames)
    check_start_scale(model, start_scale)
    gen = torch.Generator(device=model.device)
    gen.manual_seed(0 if seed is None else int(seed))
    walks = [
        looped_walk(model, n, frames, alpha, beta, gen) if n >= start_scale else None
        for n in range(model.num_scales)
    ]
    out = []
    for t in range(frames):
        noises = [w[t] if w is not None else model.z_rec[n] for n, w in enumerate(walks)]
        out.append(to_uint8(model.generate(0, noises=noises, generator=gen)))
        if progress is not None:
            progress(t + 1, frames)
    return out


def save_animation(path: str | Path, frames: list[np.ndarray], fps: float = 10) -> None:
    """Write frames as a looping GIF (imageio) or an H.264 MP4 (imageio-ffmpeg), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"{path}: animations are written as .gif or .mp4, not {suffix!r}")
    if not 0 < fps <= 60:
        raise ValueError(f"fps must be more than 0 and at most 60, got {fps}")
    if not frames:
        raise ValueError("an animation needs at least one frame")
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            import imageio.v3 as iio

            iio.imwrite(tmp, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            _write_mp4(tmp, frames, fps)


def _write_mp4(path: Path, frames: list[np.ndarray], fps: float) -> None:
    """H.264 in yuv420p (plays everywhere), which needs even sides: pad by edge pixels."""
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    pad = ((0, h % 2), (0, w % 2), (0, 0))
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w + w % 2, h + h % 2),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        output_params=["-f", "mp4"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(np.pad(frame, pad, mode="edge")).tobytes())
    finally:
        writer.close()
