"""Rectangles in canvas pixels: (x0, y0, x1, y1) with exclusive ends, the Synthesizer's order."""

from __future__ import annotations

Rect = tuple[int, int, int, int]


def union(a: Rect | None, b: Rect | None) -> Rect | None:
    """Smallest rect holding both; None stands for the empty rect."""
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def clip(rect: Rect, width: int, height: int) -> Rect | None:
    """`rect` cut to the canvas; None when nothing is left."""
    x0, y0 = max(rect[0], 0), max(rect[1], 0)
    x1, y1 = min(rect[2], width), min(rect[3], height)
    if x0 >= x1 or y0 >= y1:
        return None
    return (x0, y0, x1, y1)


def slices(rect: Rect) -> tuple[slice, slice]:
    """Row and column slices of `rect`, for `array[slices(rect)]`."""
    return slice(rect[1], rect[3]), slice(rect[0], rect[2])


def area(rect: Rect | None) -> int:
    if rect is None:
        return 0
    return (rect[2] - rect[0]) * (rect[3] - rect[1])
