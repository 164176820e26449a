"""Weight-free metrics on synthetic images whose relations are known by construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ml.metrics import copy_score, diversity, patch_nn_distances, patch_swd, patch_swd_levels


def texture(seed: int, h: int = 48, w: int = 48, smooth: float = 1.5) -> np.ndarray:
    """A coloured random texture with structure at a few scales (textured everywhere)."""
    gen = torch.Generator().manual_seed(seed)
    img = torch.zeros(1, 3, h, w)
    for size in (3, 6, 12):
        coarse = torch.randn(1, 3, max(2, h // size), max(2, w // size), generator=gen)
        img += F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
    img += smooth * 0.3 * torch.randn(1, 3, h, w, generator=gen)
    img = (img - img.mean()) / img.std()
    arr = (img[0].permute(1, 2, 0).numpy() * 50 + 128).clip(0, 255)
    return arr.astype(np.uint8)


def stripes(h: int = 48, w: int = 48) -> np.ndarray:
    """A very different image: clean horizontal colour stripes."""
    y = np.arange(h)[:, None, None]
    base = np.array([40, 120, 200])[None, None, :]
    arr = (base + 80 * np.sin(y / 3.0 + np.arange(3)[None, None, :])) * np.ones((1, w, 1))
    return arr.clip(0, 255).astype(np.uint8)


def shuffled_tiles(img: np.ndarray, tile: int = 8, seed: int = 0) -> np.ndarray:
    h, w = img.shape[0] // tile, img.shape[1] // tile
    tiles = [
        img[i * tile : (i + 1) * tile, j * tile : (j + 1) * tile]
        for i in range(h)
        for j in range(w)
    ]
    order = np.random.default_rng(seed).permutation(len(tiles))
    rows = [np.concatenate([tiles[order[i * w + j]] for j in range(w)], axis=1) for i in range(h)]
    return np.concatenate(rows, axis=0)


@pytest.fixture(scope="module")
def scene():
    big = texture(0, 60, 60)
    ref = big[:48, :48].copy()
    shifted = big[5:53, 3:51].copy()
    return ref, shifted


def test_swd_identical_is_zero_and_below_different(scene):
    ref, _ = scene
    same = patch_swd([ref], [ref])
    assert same < 1e-6
    assert patch_swd([stripes()], [ref]) > 0.2
    assert patch_swd([texture(7)], [ref]) > same


def test_swd_ranks_same_statistics_above_a_different_image(scene):
    ref, _ = scene
    similar = patch_swd([texture(1), texture(2)], [ref])
    different = patch_swd([stripes(), stripes()], [ref])
    assert similar < different


def test_swd_sees_a_colour_cast(scene):
    ref, _ = scene
    cast = np.clip(ref.astype(int) + np.array([60, 0, -60]), 0, 255).astype(np.uint8)
    assert patch_swd_levels([cast], [ref])[-1] > 10 * patch_swd_levels([ref], [ref])[-1] + 0.1


def test_swd_levels_and_sizes(scene):
    ref, _ = scene
    per = patch_swd_levels([texture(3, 40, 64)], [ref], levels=3)
    assert len(per) == 3 and all(v >= 0 for v in per)
    assert patch_swd([texture(3, 40, 64)], [ref]) == pytest.approx(np.mean(per))
    with pytest.raises(ValueError, match="smaller than the 7px patch"):
        patch_swd([ref[:20, :20]], [ref], levels=3)
    with pytest.raises(ValueError, match="HxWx3"):
        patch_swd([ref[..., 0]], [ref])


def test_nn_distances(scene):
    ref, shifted = scene
    coh, com = patch_nn_distances(ref, ref)
    assert coh == pytest.approx(0, abs=1e-3) and com == pytest.approx(0, abs=1e-3)
    # A crop of the reference is perfectly coherent but incomplete.
    crop_coh, crop_com = patch_nn_distances(ref[:24, :24], ref)
    assert crop_coh < 1e-3 and crop_com > 0.02
    other_coh, other_com = patch_nn_distances(texture(5), ref)
    assert other_coh > 0.02 and other_com > 0.02
    stripe_coh, _ = patch_nn_distances(stripes(), ref)
    assert stripe_coh > other_coh


def test_diversity():
    ref = texture(0)
    assert diversity([ref, ref, ref], ref) == pytest.approx(0.0, abs=1e-12)
    varied = diversity([texture(s) for s in range(1, 6)], ref)
    assert 0.5 < varied < 2.0
    slightly = [np.clip(ref.astype(int) + d, 0, 255).astype(np.uint8) for d in (-3, 0, 3)]
    assert 0 < diversity(slightly, ref) < 0.2 * varied
    with pytest.raises(ValueError, match="one size"):
        diversity([ref, ref[:10]], ref)
    with pytest.raises(ValueError, match="flat"):
        diversity([ref, ref], np.zeros_like(ref))


def test_copy_score_catches_a_shifted_copy_that_swd_rewards(scene):
    ref, shifted = scene
    noise_texture = texture(11)
    shuffled = shuffled_tiles(ref)
    # The shifted copy looks excellent to SWD: as good as or better than a fresh texture...
    assert patch_swd([shifted], [ref]) < patch_swd([noise_texture], [ref])
    # ...but the copy detector flags it, and not the others.
    assert copy_score(shifted, ref) > 0.7
    assert copy_score(ref, ref) > 0.99
    assert copy_score(noise_texture, ref) < 0.15
    assert copy_score(shuffled, ref) < 0.25


def test_copy_score_flat_sample_is_zero(scene):
    ref, _ = scene
    assert copy_score(np.full((30, 30, 3), 90, np.uint8), ref) == 0.0
