"""Evidence for the default model: patch SWD and label fidelity against two baselines.

- Patch SWD (`ml.metrics.patch_swd`) between renders of held-out label maps and the held-out
  procedural pictures themselves: are the textures and colours those of the scenes? One
  64x64 window per scene keeps it fast; `swd_real` (other procedural pictures) is the floor.
- Label fidelity: a simple classifier (one Gaussian per class over local colour and texture
  features) is fitted on other held-out procedural pictures; fidelity is the share of pixels
  whose rendered neighbourhood it assigns to the class painted there.
Baselines: a flat fill of each class with its mean colour, and the untrained network.
- Style spread: how far renders of the same label maps move under another style code of the
  prior (mean absolute difference, 0-255): near 0 means the style input is ignored.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ml.data.dataset import render_many
from ml.data.infer import prior_latents, render_batch
from ml.labels import load_label_set
from ml.metrics import patch_swd
from ml.spade.library import SpadeModel
from ml.spade.networks import SPADEGenerator, init_weights

EVAL_SEEDS = 1_000_000  # label maps and reference pictures
FIT_SEEDS = 1_500_000  # classifier and flat colours
STRIDE = 4
MARGIN = 3  # only pixels at least this far inside their region are scored
CROP = 64  # patch SWD compares one window of this size per scene (its cost grows per pixel)


def features(image: np.ndarray) -> np.ndarray:
    """(H, W, 8) local appearance: mean colour at two scales, luminance spread, edge energy."""
    img = image.astype(np.float32) / 255.0
    m7 = cv2.blur(img, (7, 7))
    m15 = cv2.blur(img, (15, 15))
    lum = img.mean(axis=2)
    var = cv2.blur(lum * lum, (7, 7)) - cv2.blur(lum, (7, 7)) ** 2
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)
    edge = cv2.blur(np.sqrt(gx * gx + gy * gy), (7, 7))
    spread = np.sqrt(np.maximum(var, 0.0))
    return np.concatenate([m7, m15, spread[..., None], edge[..., None]], axis=2)


def scored_pixels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mask of pixels on the stride grid lying well inside a labelled region."""
    keep = np.zeros(labels.shape, bool)
    kernel = np.ones((2 * MARGIN + 1, 2 * MARGIN + 1), np.uint8)
    for c in np.unique(labels):
        if c >= n_classes:
            continue
        keep |= cv2.erode((labels == c).astype(np.uint8), kernel).astype(bool)
    grid = np.zeros_like(keep)
    grid[::STRIDE, ::STRIDE] = True
    return keep & grid


class PatchClassifier:
    """One full-covariance Gaussian per class over `features`, equal class priors."""

    def __init__(self, n_classes: int) -> None:
        self.n = n_classes
        self.means = np.zeros((n_classes, 8))
        self.inv = np.zeros((n_classes, 8, 8))
        self.logdet = np.full(n_classes, np.inf)

    def fit(self, images: np.ndarray, labels: np.ndarray) -> PatchClassifier:
        xs, ys = [], []
        for img, lab in zip(images, labels, strict=True):
            m = scored_pixels(lab, self.n)
            xs.append(features(img)[m])
            ys.append(lab[m])
        x, y = np.concatenate(xs).astype(np.float64), np.concatenate(ys)
        for c in range(self.n):
            xc = x[y == c]
            if len(xc) < 10:
                continue
            self.means[c] = xc.mean(axis=0)
            cov = np.cov(xc, rowvar=False) + np.eye(8) * 1e-4
            self.inv[c] = np.linalg.inv(cov)
            self.logdet[c] = np.linalg.slogdet(cov)[1]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        scores = np.full((len(x), self.n), -np.inf)
        for c in range(self.n):
            if not np.isfinite(self.logdet[c]):
                continue
            d = x - self.means[c]
            scores[:, c] = -0.5 * (np.einsum("ni,ij,nj->n", d, self.inv[c], d) + self.logdet[c])
        return scores.argmax(axis=1)

    def fidelity(self, images: np.ndarray, labels: np.ndarray) -> float:
        hits = total = 0
        for img, lab in zip(images, labels, strict=True):
            m = scored_pixels(lab, self.n)
            pred = self.predict(features(img)[m])
            hits += int((pred == lab[m]).sum())
            total += int(m.sum())
        return hits / max(total, 1)


def class_colours(images: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean colour of each class over the images (grey for a class that never appears)."""
    table = np.full((256, 3), 128, np.uint8)
    for c in range(n_classes):
        m = labels == c
        if m.any():
            table[c] = images[m].reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
    return table


def crops(images: np.ndarray, seed: int) -> list[np.ndarray]:
    """One CROP x CROP window per image at positions fixed by `seed` (same for every set)."""
    rng = np.random.default_rng(seed)
    h, w = images.shape[1:3]
    ys = rng.integers(0, h - CROP + 1, len(images))
    xs = rng.integers(0, w - CROP + 1, len(images))
    return [img[y : y + CROP, x : x + CROP] for img, y, x in zip(images, ys, xs, strict=True)]


def swd(samples: np.ndarray, references: np.ndarray, seed: int) -> float:
    """Patch SWD between windows of the samples and of the references."""
    return patch_swd(crops(samples, seed), crops(references, seed + 1))


def style_spread(generator: SPADEGenerator, cfg, labels: np.ndarray, renders: np.ndarray,
                 seed: int) -> float:
    """How much the style code changes a picture: the mean absolute difference (0-255) of
    `renders` from renders of the same label maps with other codes of the prior."""
    if not cfg.use_vae:
        return 0.0
    others = render_batch(generator, cfg, labels, prior_latents(len(labels), cfg.z_dim, seed))
    return float(np.abs(renders.astype(np.int16) - others.astype(np.int16)).mean())


def untrained_like(model: SpadeModel, seed: int = 0) -> SPADEGenerator:
    torch.manual_seed(seed)
    gen = SPADEGenerator(model.card.config)
    init_weights(gen)
    return gen.eval()


def evaluate_model(model: SpadeModel, scenes: int = 48, seed: int = 0) -> dict:
    """All figures of the model card, as one JSON-able dict."""
    cfg = model.card.config
    size = cfg.native_size[0]
    n_classes = load_label_set("landscape").max_id + 1
    eval_seeds = list(range(EVAL_SEEDS, EVAL_SEEDS + scenes))
    ref_images, ref_labels = render_many(eval_seeds, size)
    fit_images, fit_labels = render_many(list(range(FIT_SEEDS, FIT_SEEDS + scenes)), size)
    latents = prior_latents(scenes, cfg.z_dim, seed)
    renders = render_batch(model.generator, cfg, ref_labels, latents)
    flat = class_colours(fit_images, fit_labels, n_classes)[ref_labels]
    untrained = render_batch(untrained_like(model, seed), cfg, ref_labels, latents)
    clf = PatchClassifier(n_classes).fit(fit_images, fit_labels)
    return {
        "scenes": scenes,
        "seeds": [eval_seeds[0], eval_seeds[-1]],
        "swd": swd(renders, ref_images, seed),
        "swd_flat": swd(flat, ref_images, seed),
        "swd_untrained": swd(untrained, ref_images, seed),
        "swd_real": swd(fit_images, ref_images, seed),
        "fidelity": clf.fidelity(renders, ref_labels),
        "fidelity_flat": clf.fidelity(flat, ref_labels),
        "fidelity_untrained": clf.fidelity(untrained, ref_labels),
        "fidelity_real": clf.fidelity(ref_images, ref_labels),
        "style_spread": style_spread(model.generator, cfg, ref_labels, renders, seed + 1),
    }


def grid_figure(model: SpadeModel, seeds: list[int], columns: int = 2) -> np.ndarray:
    """Rows of (label map | render | reference) triplets, `columns` triplets side by side.

    Each render uses the style code the encoder reads from its reference picture, so the
    figure shows layout fidelity and style transfer together.
    """
    from ml.data.infer import encode_batch

    cfg = model.card.config
    size = cfg.native_size[0]
    images, labels = render_many(seeds, size)
    codes = encode_batch(model.encoder, images) if model.encoder is not None else None
    renders = render_batch(model.generator, cfg, labels, codes)
    colours = load_label_set("landscape").colorize(labels)
    gap = 4
    cells = [np.concatenate([c, np.full((size, gap, 3), 255, np.uint8), r,
                             np.full((size, gap, 3), 255, np.uint8), i], axis=1)
             for c, r, i in zip(colours, renders, images, strict=True)]
    while len(cells) % columns:
        cells.append(np.full_like(cells[0], 255))
    sep = np.full((size, 3 * gap, 3), 255, np.uint8)
    rows = []
    for k in range(0, len(cells), columns):
        parts = []
        for cell in cells[k : k + columns]:
            parts += [cell, sep]
        rows.append(np.concatenate(parts[:-1], axis=1))
        rows.append(np.full((gap * 2, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)
