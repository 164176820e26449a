"""Label map and picture import/export: colour-coded and id PNGs, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.document import UNLABELED, Document, ImageLayer, LabelLayer
from app.document.labelmaps import (
    document_from_label_map,
    export_label_map,
    import_image,
    import_label_map,
    read_label_map,
)
from ml.images import ImageReadError, write_image
from ml.labels import LabelError, load_label_set

LANDSCAPE = load_label_set("landscape")
IDS = np.array([[0, 0, 7, 8], [8, 11, 11, 14], [4, 4, 3, 255]], np.uint8)


def test_colour_coded_png_imports_as_a_label_layer(tmp_path):
    rgb = LANDSCAPE.colorize(np.where(IDS == 255, 0, IDS))
    write_image(tmp_path / "colours.png", rgb)
    doc = Document.new(4, 3)
    index = import_label_map(doc, tmp_path / "colours.png")
    layer = doc.layer(index)
    assert isinstance(layer, LabelLayer) and layer.name == "colours"
    assert np.array_equal(layer.pixels, np.where(IDS == 255, 0, IDS))
    doc.undo()
    assert len(doc.layers) == 1


def test_transparent_pixels_of_a_colour_png_mean_no_label(tmp_path):
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., :3] = LANDSCAPE.colorize(np.where(IDS == 255, 0, IDS))
    rgba[..., 3] = np.where(IDS == 255, 0, 255)
    rgba[2, 3, :3] = (1, 2, 3)  # an unknown colour, but transparent: ignored
    write_image(tmp_path / "a.png", rgba)
    assert np.array_equal(read_label_map(tmp_path / "a.png", LANDSCAPE), IDS)


def test_unknown_colours_are_named(tmp_path):
    rgb = LANDSCAPE.colorize(np.zeros((3, 4), np.uint8))
    rgb[1, 1] = (0x12, 0x34, 0x56)
    write_image(tmp_path / "odd.png", rgb)
    with pytest.raises(LabelError, match="odd.png.*#123456"):
        read_label_map(tmp_path / "odd.png", LANDSCAPE)


def test_id_png_grayscale_and_palette_are_read_as_ids_and_validated(tmp_path):
    write_image(tmp_path / "ids.png", IDS)
    assert np.array_equal(read_label_map(tmp_path / "ids.png", LANDSCAPE), IDS)
    pal = Image.fromarray(IDS, mode="P")
    pal.putpalette(bytes(range(256)) * 3)
    pal.save(tmp_path / "pal.png")
    assert np.array_equal(read_label_map(tmp_path / "pal.png", LANDSCAPE), IDS)
    bad = IDS.copy()
    bad[0, 0] = 77
    write_image(tmp_path / "bad.png", bad)
    with pytest.raises(LabelError, match="77"):
        read_label_map(tmp_path / "bad.png", LANDSCAPE)


def test_size_mismatch_and_unreadable_files(tmp_path):
    write_image(tmp_path / "ids.png", IDS)
    with pytest.raises(ValueError, match="4x3, the canvas 5x5"):
        import_label_map(Document.new(5, 5), tmp_path / "ids.png")
    (tmp_path / "junk.png").write_bytes(b"junk")
    with pytest.raises(ImageReadError, match="junk.png"):
        import_label_map(Document.new(4, 3), tmp_path / "junk.png")


def test_export_both_modes_reimports_exactly(tmp_path):
    doc = Document.new(4, 3)
    doc.replace_pixels(0, IDS)
    export_label_map(doc, tmp_path / "colour.png", mode="color")
    export_label_map(doc, tmp_path / "ids.png", mode="ids")
    shown = np.asarray(Image.open(tmp_path / "colour.png").convert("RGBA"))
    assert tuple(shown[0, 2, :3]) == LANDSCAPE[7].color and shown[2, 3, 3] == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "ids.png")), IDS)
    for name in ("colour.png", "ids.png"):
        assert np.array_equal(read_label_map(tmp_path / name, LANDSCAPE), IDS)
    with pytest.raises(ValueError, match="unknown label export mode"):
        export_label_map(doc, tmp_path / "x.png", mode="jpeg")


def test_document_from_label_map_is_clean(tmp_path):
    write_image(tmp_path / "scene.png", IDS)
    doc = document_from_label_map(tmp_path / "scene.png")
    assert doc.size == (4, 3) and not doc.dirty and len(doc.history) == 0
    assert np.array_equal(doc.composite_labels(), IDS)


def test_import_image_fits_and_centres(tmp_path):
    photo = np.zeros((10, 40, 3), np.uint8)
    photo[..., 2] = 250
    write_image(tmp_path / "wide.png", photo)
    doc = Document.new(20, 20)
    index = import_image(doc, tmp_path / "wide.png")
    layer = doc.layer(index)
    assert isinstance(layer, ImageLayer) and layer.pixels.shape == (20, 20, 4)
    alpha = layer.pixels[..., 3]
    assert (alpha[7:12] == 255).all() and (alpha[:7] == 0).all() and (alpha[12:] == 0).all()
    assert tuple(layer.pixels[10, 10, :3]) == (0, 0, 250)
    assert (doc.composite_labels() == UNLABELED).all()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size (no pixel data): decoders must refuse before allocating."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_huge_images_are_refused_clearly(tmp_path):
    (tmp_path / "huge.png").write_bytes(png_header_only(40000, 40000))
    doc = Document.new(8, 8)
    with pytest.raises(ImageReadError, match="huge.png.*(large|megapixel)"):
        import_image(doc, tmp_path / "huge.png")
    with pytest.raises(ImageReadError, match="huge.png"):
        import_label_map(doc, tmp_path / "huge.png")
    assert len(doc.layers) == 1 and not doc.dirty
