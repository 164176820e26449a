"""A small line chart drawn with Pillow (no plotting library is a dependency)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194))


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average, so noisy GAN losses show their trend."""
    if window <= 1 or len(values) < 2:
        return values
    c = np.cumsum(np.insert(values.astype(np.float64), 0, 0.0))
    out = np.empty(len(values))
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def line_chart(series: dict[str, tuple[np.ndarray, np.ndarray]], title: str,
               size: tuple[int, int] = (900, 420), window: int = 25) -> np.ndarray:
    """HxWx3 uint8 chart of named (x, y) series, each smoothed over `window` points."""
    w, h = size
    left, right, top, bottom = 60, 170, 30, 40
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.text((left, 8), title, fill=(0, 0, 0))
    smoothed = {k: (np.asarray(x, float), smooth(np.asarray(y, float), window))
                for k, (x, y) in series.items() if len(x)}
    if not smoothed:
        return np.asarray(img)
    xs = np.concatenate([x for x, _ in smoothed.values()])
    ys = np.concatenate([y for _, y in smoothed.values()])
    x0, x1 = float(xs.min()), float(max(xs.max(), xs.min() + 1))
    y0, y1 = float(min(ys.min(), 0.0)), float(ys.max() * 1.05 + 1e-6)
    pw, ph = w - left - right, h - top - bottom

    def to_px(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        px = left + (x - x0) / (x1 - x0) * pw
        py = top + ph - (y - y0) / (y1 - y0) * ph
        return list(zip(px.tolist(), py.tolist(), strict=True))

    draw.rectangle([left, top, left + pw, top + ph], outline=(0, 0, 0))
    for i in range(6):
        yv = y0 + (y1 - y0) * i / 5
        yp = top + ph - ph * i / 5
        draw.line([left - 4, yp, left, yp], fill=(0, 0, 0))
        draw.text((4, yp - 6), f"{yv:.2f}", fill=(0, 0, 0))
        xv = x0 + (x1 - x0) * i / 5
        xp = left + pw * i / 5
        draw.line([xp, top + ph, xp, top + ph + 4], fill=(0, 0, 0))
        draw.text((xp - 12, top + ph + 8), f"{xv:.0f}", fill=(0, 0, 0))
    draw.text((left + pw / 2 - 15, h - 16), "step", fill=(0, 0, 0))
    for i, (name, (x, y)) in enumerate(smoothed.items()):
        colour = COLOURS[i % len(COLOURS)]
        if len(x) > 1:
            draw.line(to_px(x, y), fill=colour, width=2)
        ly = top + 10 + 18 * i
        draw.line([left + pw + 12, ly + 6, left + pw + 32, ly + 6], fill=colour, width=3)
        draw.text((left + pw + 38, ly), name, fill=(0, 0, 0))
    return np.asarray(img)
