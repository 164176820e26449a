"""Weight-free quality measures for single-image generative models (no downloaded network).

SIFID needs Inception weights that cannot be fetched offline, so these measures work on raw
patches instead:

- `patch_swd`: multi-scale sliced Wasserstein distance between the 7x7 patch distributions of
  Laplacian-pyramid levels (Karras et al. 2018), lower is better.
- `patch_nn_distances`: bidirectional nearest-neighbour patch distance (Simakov et al. 2008):
  coherence (every generated patch has a close real one) and completeness (every real patch
  appears somewhere in the sample), lower is better.
- `diversity`: the SinGAN paper's per-pixel standard deviation over samples, normalised by the
  training image's standard deviation, higher is more varied.
- `copy_score`: how much of a sample is one rigid shifted copy of the reference, in the spirit
  of SinFusion's NNF diversity. A shifted copy scores best on SWD and both patch distances,
  so those alone reward copying; this score exposes it (1.0 = a pure shifted copy).

All images are HxWx3 uint8 arrays; sizes may differ between samples and references.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

# Rows of the query matrix per chunk of the nearest-neighbour search (bounds memory use).
_NN_CHUNK = 1024
# Query patches whose standard deviation is below this (in [0, 1] units) are flat: they match
# everywhere equally well and carry no evidence about copying.
_FLAT_STD = 0.02


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> (1, 3, H, W) float32 in [0, 1], with a clear error for other shapes."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got an array of shape {arr.shape}")
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None].float() / 255.0


def _blur(img: torch.Tensor) -> torch.Tensor:
    """5-tap binomial blur with reflected borders (the Burt-Adelson pyramid kernel)."""
    k1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = (k1[:, None] * k1[None, :]).expand(img.shape[1], 1, 5, 5).contiguous()
    mode = "reflect" if min(img.shape[-2:]) > 2 else "replicate"
    return F.conv2d(F.pad(img, (2, 2, 2, 2), mode=mode), kernel, groups=img.shape[1])


def laplacian_pyramid(img: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass levels, finest first; the last level is the low-pass residual."""
    bands = []
    current = img
    for _ in range(levels - 1):
        down = _blur(current)[..., ::2, ::2]
        up = F.interpolate(down, size=current.shape[-2:], mode="bilinear", align_corners=False)
        bands.append(current - up)
        current = down
    bands.append(current)
    return bands


def _patches(img: torch.Tensor, patch: int) -> torch.Tensor:
    """All patch x patch windows (stride 1) of a (1, C, H, W) image as rows (N, C*patch*patch)."""
    if min(img.shape[-2:]) < patch:
        raise ValueError(
            f"image level of {img.shape[-1]}x{img.shape[-2]} is smaller than the {patch}px patch; "
            "use fewer levels or larger images"
        )
    return F.unfold(img, patch)[0].T.contiguous()


def _subsample(rows: torch.Tensor, limit: int, gen: torch.Generator) -> torch.Tensor:
    if rows.shape[0] <= limit:
        return rows
    return rows[torch.randperm(rows.shape[0], generator=gen)[:limit]]


def _quantiles(sorted_vals: torch.Tensor, n: int) -> torch.Tensor:
    """n evenly spaced quantiles (linear interpolation) of column-wise sorted values."""
    m = sorted_vals.shape[0]
    if m == n:
        return sorted_vals
    pos = (torch.arange(n, dtype=torch.float64) + 0.5) * (m / n) - 0.5
    pos = pos.clamp(0, m - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=m - 1)
    frac = (pos - lo.double()).float()[:, None]
    return sorted_vals[lo] * (1 - frac) + sorted_vals[hi] * frac


def patch_swd_levels(
    samples: Sequence[np.ndarray],
    references: Sequence[np.ndarray],
    levels: int = 3,
    patch: int = 7,
    projections: int = 512,
    seed: int = 0,
    max_patches: int = 32768,
) -> list[float]:
    """Sliced Wasserstein distance of patch distributions per Laplacian level, finest first.

    Descriptors are normalised per colour channel with the references' mean and std at each
    level (applied to both sets, so colour casts and contrast changes still count), projected
    on `projections` random unit directions, sorted, and compared by mean absolute difference
    of matched quantiles. Sets larger than `max_patches` are randomly subsampled.
    """
    if not samples or not references:
        raise ValueError("patch_swd needs at least one sample and one reference image")
    if levels < 1:
        raise ValueError("levels must be at least 1")
    gen = torch.Generator().manual_seed(seed)
    pyr_s = [laplacian_pyramid(_to_tensor(s), levels) for s in samples]
    pyr_r = [laplacian_pyramid(_to_tensor(r), levels) for r in references]
    dim = 3 * patch * patch
    dirs = torch.randn(dim, projections, generator=gen)
    dirs /= dirs.norm(dim=0, keepdim=True)
    result = []
    for level in range(levels):
        a = _subsample(torch.cat([_patches(p[level], patch) for p in pyr_s]), max_patches, gen)
        b = _subsample(torch.cat([_patches(p[level], patch) for p in pyr_r]), max_patches, gen)
        # Unfold orders features channel-major: reshape to normalise each channel.
        ref_ch = b.view(b.shape[0], 3, -1)
        mean = ref_ch.mean(dim=(0, 2), keepdim=True)
        std = ref_ch.std(dim=(0, 2), keepdim=True).clamp_min(1e-6)
        a_n = ((a.view(a.shape[0], 3, -1) - mean) / std).view(a.shape[0], dim)
        b_n = ((ref_ch - mean) / std).view(b.shape[0], dim)
        pa = torch.sort(a_n @ dirs, dim=0).values
        pb = torch.sort(b_n @ dirs, dim=0).values
        n = min(pa.shape[0], pb.shape[0])
        result.append(float((_quantiles(pa, n) - _quantiles(pb, n)).abs().mean()))
    return result


def patch_swd(
    samples: Sequence[np.ndarray],
    references: Sequence[np.ndarray],
    levels: int = 3,
    patch: int = 7,
    projections: int = 512,
    seed: int = 0,
) -> float:
    """Mean over Laplacian levels of `patch_swd_levels`: one number, lower is better."""
    per_level = patch_swd_levels(samples, references, levels, patch, projections, seed)
    return float(np.mean(per_level))


def _nearest(queries: torch.Tensor, database: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index and mean squared distance of each query's nearest database row, in chunks."""
    db_sq = (database * database).sum(dim=1)
    idx_out = torch.empty(queries.shape[0], dtype=torch.long)
    dist_out = torch.empty(queries.shape[0])
    for start in range(0, queries.shape[0], _NN_CHUNK):
        q = queries[start : start + _NN_CHUNK]
        d = db_sq[None, :] - 2.0 * (q @ database.T)
        best, idx = d.min(dim=1)
        idx_out[start : start + q.shape[0]] = idx
        dist_out[start : start + q.shape[0]] = (best + (q * q).sum(dim=1)).clamp_min(0)
    return idx_out, dist_out / queries.shape[1]


def _query_rows(
    img: torch.Tensor, patch: int, limit: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `limit` random patches of an image and their top-left positions (N, 2) as (y, x)."""
    rows = _patches(img, patch)
    width = img.shape[-1] - patch + 1
    pick = torch.arange(rows.shape[0])
    if rows.shape[0] > limit:
        pick = torch.randperm(rows.shape[0], generator=gen)[:limit]
    return rows[pick], torch.stack([pick // width, pick % width], dim=1)


def patch_nn_distances(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: int = 7,
    max_queries: int = 2048,
    seed: int = 0,
) -> tuple[float, float]:
    """(coherence, completeness): mean RMS distance in [0, 1] units from each sampled patch to
    its nearest patch in the other image, generated->real and real->generated.

    Queries are a random subset of at most `max_queries` patches; the searched side always uses
    every patch (stride 1), so an exact copy gives 0 in both directions.
    """
    gen = torch.Generator().manual_seed(seed)
    s, r = _to_tensor(sample), _to_tensor(reference)
    rows_s, rows_r = _patches(s, patch), _patches(r, patch)
    q_s, _ = _query_rows(s, patch, max_queries, gen)
    q_r, _ = _query_rows(r, patch, max_queries, gen)
    _, d_coh = _nearest(q_s, rows_r)
    _, d_com = _nearest(q_r, rows_s)
    return float(d_coh.sqrt().mean()), float(d_com.sqrt().mean())


def diversity(samples: Sequence[np.ndarray], reference: np.ndarray) -> float:
    """The SinGAN paper's diversity: per-pixel std of intensity over samples, averaged over
    pixels, divided by the std of the reference's intensities (luma, ITU-R 601 weights).

    Samples must all have one size; the reference may have any size.
    """
    if len(samples) < 2:
        raise ValueError("diversity needs at least two samples")
    shapes = {np.asarray(s).shape for s in samples}
    if len(shapes) != 1:
        raise ValueError(f"diversity needs samples of one size, got {sorted(shapes)}")
    weights = np.array([0.299, 0.587, 0.114])
    stack = np.stack([np.asarray(s, dtype=np.float64) @ weights for s in samples])
    ref_std = float((np.asarray(reference, dtype=np.float64) @ weights).std())
    if ref_std == 0:
        raise ValueError("the reference image is flat (zero standard deviation)")
    return float(stack.std(axis=0).mean() / ref_std)


def copy_score(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: int = 7,
    max_queries: int = 2048,
    seed: int = 0,
) -> float:
    """Fraction of a sample's textured patches explained by ONE shift of the reference.

    For every query patch of the sample the nearest reference patch gives an offset; the most
    common offset (the mode) is the candidate rigid copy. A patch counts as copied when the
    reference patch at that offset is (nearly) as close as its nearest neighbour, which keeps
    near-ties in repetitive texture from hiding a copy. Flat patches (std < 0.02) are left out:
    they match anywhere. 1.0 = a pure shifted copy; independent textures score near 0.
    Returns 0.0 when the sample has no textured patch at all.
    """
    gen = torch.Generator().manual_seed(seed)
    s, r = _to_tensor(sample), _to_tensor(reference)
    queries, pos = _query_rows(s, patch, max_queries, gen)
    textured = queries.view(queries.shape[0], 3, -1).std(dim=2).max(dim=1).values >= _FLAT_STD
    queries, pos = queries[textured], pos[textured]
    if queries.shape[0] == 0:
        return 0.0
    rows_r = _patches(r, patch)
    ref_h, ref_w = r.shape[-2] - patch + 1, r.shape[-1] - patch + 1
    idx, d_nn = _nearest(queries, rows_r)
    match = torch.stack([idx // ref_w, idx % ref_w], dim=1)
    offsets = match - pos
    # The most common offset (offsets are shifted to be non-negative for bincount).
    hist_w = s.shape[-1] + r.shape[-1]
    code = (offsets[:, 0] + s.shape[-2]) * hist_w + (offsets[:, 1] + s.shape[-1])
    peak = int(torch.bincount(code).argmax())
    mode = torch.tensor([peak // hist_w - s.shape[-2], peak % hist_w - s.shape[-1]])
    target = pos + mode
    inside = (
        (target[:, 0] >= 0) & (target[:, 0] < ref_h) & (target[:, 1] >= 0) & (target[:, 1] < ref_w)
    )
    copied = torch.zeros(queries.shape[0], dtype=torch.bool)
    if inside.any():
        t_idx = target[inside, 0] * ref_w + target[inside, 1]
        d_mode = ((queries[inside] - rows_r[t_idx]) ** 2).mean(dim=1)
        copied[inside] = d_mode <= 1.1 * d_nn[inside] + 1e-4
    return float(copied.float().mean())
