"""Harmonization, editing and paint-to-image: inject an image at scale n, regenerate above.

All three follow the official scripts: the reference image (a naive paste, an edited copy or
a painting) is resized to the training image's size, downsampled to scale n - 1, and the
generators from scale n up turn it into an image with the training image's patch statistics.

Harmonization and editing then blend the result into the training image through a soft
mask: the user's mask is dilated with a disk (radius 7 for harmonization, 20 for editing),
Gaussian-blurred (sigma 5) and min-max normalised, as the official code does. One change:
the official blur reaches some 15 px beyond the dilated mask, so pixels there were slightly
altered too; here the soft edge is moved inside the dilated area (m = clip(2 * blur - 1) on
it, 0 outside), so every pixel outside the dilated mask is the training image, bit-exact.

Paint-to-image outputs the whole regenerated image at the model's full resolution. With
`quantize`, the painting is first reduced to the 5 colours k-means finds in the training
image at scale n (official `quant` / `quant2centers`), and scale n is retrained so its
generator maps such flat colour regions to texture.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np
import torch

from ml.singan.imresize import imresize
from ml.singan.model import SinGANModel
from ml.singan.sampling import check_start_scale, resize_to, training_image
from ml.singan.train import Callback, retrain_scales, to_tensor, to_uint8

HARMONIZE_RADIUS = 7
EDIT_RADIUS = 20
MASK_SIGMA = 5.0
PAINT_COLOURS = 5

Notify = Callable[[str], None]


class MaskError(ValueError):
    """A mask that cannot be used (empty, or of another shape); one-line message."""


def binary_mask(mask: np.ndarray) -> np.ndarray:
    """HxW bool from a mask image (HxW or HxWxC): white (>= 128 in any channel) is the region.

    A threshold instead of the official 'any non-zero' keeps JPEG noise in black areas out.
    """
    arr = np.asarray(mask)
    if arr.ndim == 3:
        arr = arr.max(axis=2)
    if arr.ndim != 2:
        raise MaskError(f"a mask must be a 2-D image, got an array of shape {arr.shape}")
    return arr >= 128


def fit_mask(
    mask: np.ndarray, image_hw: tuple[int, int], size_hw: tuple[int, int], notify: Notify | None
) -> np.ndarray:
    """The mask as HxW bool at `size_hw`, given the reference image's original size.

    A mask must cover the reference image it belongs to, so its aspect ratio has to match
    (within 2 %); then it is resized with the reference (nearest neighbour, staying binary),
    with a notice when its own size differed from the reference's.
    """
    binary = binary_mask(mask)
    mh, mw = binary.shape
    ih, iw = image_hw
    if abs((mw / mh) / (iw / ih) - 1.0) > 0.02:
        raise MaskError(
            f"the mask is {mw}x{mh} but the image it belongs to is {iw}x{ih}: their aspect "
            "ratios differ, so the mask cannot be placed; make the mask the image's size"
        )
    if (mh, mw) != (ih, iw) and notify is not None:
        notify(f"notice: the {mw}x{mh} mask was resized to match the {iw}x{ih} image")
    if binary.shape != tuple(size_hw):
        binary = cv2.resize(
            binary.astype(np.uint8), (size_hw[1], size_hw[0]), interpolation=cv2.INTER_NEAREST
        ).astype(bool)
    if not binary.any():
        raise MaskError("the mask is empty: paint the region to change in white on black")
    return binary


def soft_mask(binary: np.ndarray, radius: int, sigma: float = MASK_SIGMA) -> np.ndarray:
    """Dilate by a disk, blur, min-max normalise; zero outside the dilated area (see module)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    dilated = cv2.dilate(binary.astype(np.uint8), disk) > 0
    blurred = cv2.GaussianBlur(dilated.astype(np.float64), (0, 0), sigma)
    lo, hi = blurred.min(), blurred.max()
    blurred = (blurred - lo) / (hi - lo) if hi > lo else np.ones_like(blurred)
    soft = np.clip(2.0 * blurred - 1.0, 0.0, 1.0) * dilated
    peak = soft.max()
    return soft / peak if peak > 0 else dilated.astype(np.float64)


def blend(real: np.ndarray, generated: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(1 - m) * real + m * generated in uint8; exact copies of `real` wherever m == 0."""
    m3 = m[..., None]
    out = (1.0 - m3) * real.astype(np.float64) + m3 * generated.astype(np.float64)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def inject(
    model: SinGANModel, reference: np.ndarray, start_scale: int, seed: int | None = 0
) -> np.ndarray:
    """Regenerate `reference` (HxWx3 uint8 at the training size) from scale `start_scale` up."""
    check_start_scale(model, start_scale, lowest=1)
    ref = to_tensor(reference).to(model.device)
    below = imresize(ref, size_hw=model.sizes[start_scale - 1])
    gen = torch.Generator(device=model.device)
    gen.manual_seed(0 if seed is None else int(seed))
    return to_uint8(model.generate(start_scale, start_image=below, generator=gen))


def prepare_reference(
    model: SinGANModel, image: np.ndarray, notify: Notify | None = None
) -> np.ndarray:
    """A reference image at the model's training size, with a notice when it was resized."""
    size = model.sizes[-1]
    if image.shape[:2] != size and notify is not None:
        notify(
            f"notice: the {image.shape[1]}x{image.shape[0]} image was resized to the model's "
            f"{size[1]}x{size[0]}"
        )
    return resize_to(image, size)


def harmonize(
    model: SinGANModel,
    pasted: np.ndarray,
    mask: np.ndarray,
    start_scale: int,
    seed: int | None = 0,
    radius: int = HARMONIZE_RADIUS,
    notify: Notify | None = None,
    fine_tune: int = 0,
    callback: Callback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Blend a naive paste into the training image's look; outside the mask nothing changes.

    `fine_tune` > 0 first retrains the finest scale on the naive composite for that many
    iterations (ConSinGAN's --fine_tune), on a copy: the model passed in is not changed.
    """
    check_start_scale(model, start_scale, lowest=1)
    ref = prepare_reference(model, pasted, notify)
    m = soft_mask(fit_mask(mask, pasted.shape[:2], model.sizes[-1], notify), radius)
    real = training_image(model)
    if fine_tune > 0:
        model = retrain_scales(
            model, ref, [model.num_scales - 1], fine_tune, callback, cancel, seed=seed or 0
        )
    return blend(real, inject(model, ref, start_scale, seed), m)


def edit(
    model: SinGANModel,
    edited: np.ndarray,
    mask: np.ndarray,
    start_scale: int,
    seed: int | None = 0,
    notify: Notify | None = None,
    fine_tune: int = 0,
    callback: Callback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Make a rough edit (moved or copied regions) look seamless: the harmonization flow
    with the official editing dilation (radius 20)."""
    return harmonize(
        model, edited, mask, start_scale, seed, EDIT_RADIUS, notify, fine_tune, callback, cancel
    )


def kmeans_colours(pixels: np.ndarray, k: int = PAINT_COLOURS, seed: int = 0) -> np.ndarray:
    """k colour centres (k x 3 float) of an Nx3 pixel array: k-means++ seeding, Lloyd steps."""
    pts = pixels.reshape(-1, 3).astype(np.float64)
    rng = np.random.default_rng(seed)
    centres = [pts[rng.integers(len(pts))]]
    for _ in range(1, k):
        d2 = np.min([((pts - c) ** 2).sum(1) for c in centres], axis=0)
        if d2.sum() == 0:
            centres.append(centres[-1])
            continue
        centres.append(pts[rng.choice(len(pts), p=d2 / d2.sum())])
    c = np.array(centres)
    for _ in range(50):
        labels = nearest_colour(pts, c)
        new = np.array(
            [pts[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)]
        )
        if np.allclose(new, c):
            break
        c = new
    return c


def nearest_colour(pixels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each pixel (..., 3) -> (...)."""
    pts = pixels.reshape(-1, 3).astype(np.float64)
    d = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    return d.argmin(1).reshape(pixels.shape[:-1])


def quantize_to(image: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Every pixel replaced by its nearest centre colour (HxWx3 uint8)."""
    return np.clip(np.rint(centres[nearest_colour(image, centres)]), 0, 255).astype(np.uint8)


def quantizer(centres: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    """The same nearest-colour quantization on (N, 3, H, W) tensors in [-1, 1]."""
    c = torch.as_tensor(centres / 127.5 - 1.0, dtype=torch.float32)

    def apply(x: torch.Tensor) -> torch.Tensor:
        cc = c.to(x.device, x.dtype)
        d = ((x[:, None] - cc[None, :, :, None, None]) ** 2).sum(2)  # (N, k, H, W)
        return cc[d.argmin(1)].permute(0, 3, 1, 2).contiguous()

    return apply


def paint_palette(model: SinGANModel, start_scale: int, seed: int = 0) -> np.ndarray:
    """The 5 k-means colours of the training image at the injection scale (official quant)."""
    return kmeans_colours(to_uint8(model.reals[start_scale]), PAINT_COLOURS, seed)


def paint2image(
    model: SinGANModel,
    painting: np.ndarray,
    start_scale: int,
    quantize: bool = False,
    seed: int | None = 0,
    notify: Notify | None = None,
    retrain: int = 0,
    callback: Callback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Turn a rough painting into an image at the model's full resolution.

    With `quantize` the painting is reduced to the training image's 5 colours and fed in at
    the injection scale itself; `retrain` > 0 first retrains that scale from scratch (on a
    copy) with its input quantized the same way, as the official quantized mode does.
    """
    check_start_scale(model, start_scale, lowest=1)
    ref = prepare_reference(model, painting, notify)
    if not quantize:
        return inject(model, ref, start_scale, seed)
    centres = paint_palette(model, start_scale)
    quant = quantizer(centres)
    if retrain > 0:
        model = retrain_scales(
            model,
            training_image(model),
            [start_scale],
            retrain,
            callback,
            cancel,
            prev_transform=quant,
            fresh=True,
            seed=seed or 0,
        )
    n = start_scale
    gen = torch.Generator(device=model.device)
    gen.manual_seed(0 if seed is None else int(seed))
    with torch.no_grad():
        prev = quant(imresize(to_tensor(ref).to(model.device), size_hw=model.sizes[n]))
        out = model.forward_scale(n, model.draw_noise(n, model.sizes[n], gen), prev)
        if n + 1 < model.num_scales:
            out = model.generate(n + 1, start_image=out, generator=gen)
    return to_uint8(out)
