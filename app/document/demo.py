"""The scene the application opens with: a landscape in three label layers.

`demo_document()` loads `resources/demo/landscape.ora` when it is there, else builds the same
scene procedurally. `python -m app.document.demo` (re)writes that file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from app.document.document import Document
from app.document.layers import UNLABELED
from app.document.ora import load_ora, save_ora
from ml.labels import load_label_set
from ml.resources import resource_path

DEMO_PATH = resource_path("demo", "landscape.ora")
WIDTH, HEIGHT = 512, 384
LABEL_SET = "landscape"


def _ridge(xs: np.ndarray, base: float, waves: list[tuple[float, float, float]]) -> np.ndarray:
    """A skyline height per column: base plus a few sines (amplitude, period, phase)."""
    y = np.full(xs.shape, base, np.float64)
    for amp, period, phase in waves:
        y += amp * np.sin(2 * np.pi * xs / period + phase)
    return y


def _below(curve: np.ndarray, height: int) -> np.ndarray:
    """Mask of the pixels below a per-column curve."""
    rows = np.arange(height)[:, None] + 0.5
    return rows >= curve[None, :]


def build_demo_layers() -> dict[str, np.ndarray]:
    """The scene's layers bottom to top: background (sky, mountains), land, plants."""
    ids = {c.name: c.id for c in load_label_set(LABEL_SET).classes}
    xs = np.arange(WIDTH) + 0.5

    back = np.full((HEIGHT, WIDTH), ids["sky"], np.uint8)
    for cx, cy, ax, ay in [
        (96, 48, 58, 15),
        (136, 60, 40, 11),
        (360, 36, 70, 14),
        (420, 58, 36, 9),
    ]:
        cv2.ellipse(back, (cx, cy), (ax, ay), 0, 0, 360, ids["cloud"], -1, cv2.LINE_8)
    peaks = _ridge(xs, 168, [(34, 230, 0.4), (18, 97, 1.9), (7, 41, 0.7)])
    back[_below(peaks, HEIGHT)] = ids["mountain"]
    snow_line = np.minimum(peaks + 16, 150)
    snow = _below(peaks, HEIGHT) & ~_below(snow_line, HEIGHT)
    back[snow] = ids["snow"]

    land = np.full((HEIGHT, WIDTH), UNLABELED, np.uint8)
    hills = _ridge(xs, 236, [(14, 310, 2.2), (6, 120, 0.3)])
    land[_below(hills, HEIGHT)] = ids["hill"]
    meadow = _ridge(xs, 276, [(8, 400, 4.0), (3, 90, 1.0)])
    land[_below(meadow, HEIGHT)] = ids["grass"]
    cv2.ellipse(land, (300, 318), (126, 30), 0, 0, 360, ids["sand"], -1, cv2.LINE_8)
    cv2.ellipse(land, (300, 318), (114, 23), 0, 0, 360, ids["water"], -1, cv2.LINE_8)
    road = np.array([[18, 384], [64, 384], [120, 300], [108, 296]], np.int32)
    cv2.fillPoly(land, [road], ids["dirt"], cv2.LINE_8)

    plants = np.full((HEIGHT, WIDTH), UNLABELED, np.uint8)
    for x, base, size in [
        (40, 262, 34),
        (70, 258, 42),
        (452, 246, 38),
        (480, 252, 30),
        (150, 270, 26),
    ]:
        crown = np.array(
            [[x, base - size * 2], [x - size // 2, base], [x + size // 2, base]], np.int32
        )
        cv2.fillPoly(plants, [crown], ids["tree"], cv2.LINE_8)
    for cx, cy in [(200, 300), (226, 304), (430, 296), (470, 350)]:
        cv2.ellipse(plants, (cx, cy), (16, 9), 0, 0, 360, ids["bush"], -1, cv2.LINE_8)
    for cx, cy in [(120, 350), (150, 362), (96, 366), (460, 372)]:
        cv2.circle(plants, (cx, cy), 6, ids["flower"], -1, cv2.LINE_8)
    return {"Background": back, "Land": land, "Plants": plants}


def build_demo_document() -> Document:
    """The demo scene built from scratch, as a clean, untitled document."""
    doc = Document(WIDTH, HEIGHT, label_set=LABEL_SET, style={"kind": "seed", "seed": 0})
    for name, ids in build_demo_layers().items():
        doc.add_label_layer(name, pixels=ids, index=len(doc.layers))
    doc.set_active(len(doc.layers) - 1)
    doc.history.clear()
    doc.mark_saved()
    return doc


def demo_document() -> Document:
    """The bundled demo scene (untitled, so saving asks where), or the procedural one."""
    doc = load_ora(DEMO_PATH) if DEMO_PATH.is_file() else build_demo_document()
    doc.path = None
    return doc


def write_demo_file(path: str | Path = DEMO_PATH) -> Path:
    """Write the procedural scene to `path` (the bundled resource by default)."""
    doc = build_demo_document()
    save_ora(doc, path, mark_saved=False)
    return Path(path)


if __name__ == "__main__":
    print(write_demo_file(*sys.argv[1:2]))
