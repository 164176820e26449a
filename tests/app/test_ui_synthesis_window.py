"""The window with a (tiny, random) SPADE model: first render -> ready, repaint, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from ui_support import ScriptedPrompts, drag, make_window

pytest.importorskip("ml.spade.synthesizer")
pytest.importorskip("app.ui.synthesis")
save_tiny_model = pytest.importorskip("spade_test_models").save_tiny_model

from app.document.document import Document  # noqa: E402
from ml.labels import load_label_set  # noqa: E402

LANDSCAPE = load_label_set("landscape")


@pytest.fixture
def window(qtbot, spadework_home):
    save_tiny_model("tiny-ui", crop_size=64)
    prompts = ScriptedPrompts()
    window = make_window(qtbot, prompts, model_id="tiny-ui")
    qtbot.waitUntil(window.is_ready, timeout=60_000)
    yield window
    window.synthesis.shutdown()


def test_first_render_makes_the_window_ready_and_shows_the_picture(qtbot, window):
    assert window.synthesis.card.id == "tiny-ui"
    assert not window.render_view.image().isNull()
    assert window.render_view.isVisible()
    assert window._latest_render is not None and window._latest_render.ndim == 3


def test_painting_requests_a_new_render(qtbot, window):
    window.set_document(Document.new(64, 64, "landscape", fill=LANDSCAPE.by_name("sky").id))
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    first = window._latest_render.copy()
    window.palette.select(LANDSCAPE.by_name("water").id)
    window.select_tool("fill")
    with qtbot.waitSignal(window.synthesis.rendered, timeout=60_000):
        drag(qtbot, window, [(10.5, 10.5)])
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    assert not np.array_equal(first, window._latest_render)


def test_render_in_place_toggle(qtbot, window):
    window.actions["render_in_place"].trigger()
    assert window.canvas.render_item.isVisible() and not window.render_view.isVisible()
    assert not window.canvas.render_item.image().isNull()
    window.actions["render_in_place"].trigger()
    assert not window.canvas.render_item.isVisible() and window.render_view.isVisible()


def test_export_render_at_a_chosen_size(qtbot, window, tmp_path):
    out = tmp_path / "render.jpg"
    window.prompts.size = (96, 48)
    window.prompts.paths = [out]
    with qtbot.waitSignal(window.synthesis.exported, timeout=60_000):
        window.actions["export_render"].trigger()
    assert Image.open(out).size == (96, 48) and Image.open(out).format == "JPEG"
    assert window.prompts.errors == []


def test_choosing_another_model_switches_the_worker_and_the_document(qtbot, window):
    save_tiny_model("tiny-zz", seed=1)
    with qtbot.waitSignal(window.synthesis.model_loaded, timeout=60_000):
        assert window.choose_model("tiny-zz")
    assert window.synthesis.card.id == "tiny-zz" and window.doc.model_id == "tiny-zz"
    with qtbot.waitSignal(window.synthesis.model_loaded, timeout=60_000):
        window.undo()  # the model choice is an undoable document change
    assert window.doc.model_id is None and window.synthesis.card.id == "tiny-ui"


def test_style_choice_renders_and_undo_restores_it(qtbot, window):
    window.set_document(Document.new(64, 64, "landscape", fill=LANDSCAPE.by_name("hill").id))
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    seed0 = window._latest_render.copy()
    with qtbot.waitSignal(window.synthesis.rendered, timeout=60_000):
        window.style_dock.choose_seed(7)
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    assert window.doc.style == {"kind": "seed", "seed": 7}
    assert not np.array_equal(seed0, window._latest_render)
    with qtbot.waitSignal(window.synthesis.rendered, timeout=60_000):
        window.undo()
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    assert window.doc.style == {"kind": "seed", "seed": 0}
    assert window.style_dock.current_style() == {"kind": "seed", "seed": 0}
    assert np.array_equal(seed0, window._latest_render)


def test_a_label_set_without_a_model_stops_rendering(qtbot, window, tmp_path):
    from app.ui.new_document_dialog import NewDocumentSpec

    assert window.files.new(NewDocumentSpec(32, 32, "cityscapes"))
    assert not window.render_view.isVisible() and not window.canvas.render_item.isVisible()
    assert "No model" in window.statusBar().currentMessage()
    assert window.files.export_render(tmp_path / "r.png", (32, 32)) is None
    assert "No model" in window.prompts.errors[-1][1]
    assert window.files.new(NewDocumentSpec(32, 32, "landscape"))
    assert window.render_view.isVisible()


def test_the_picture_has_the_canvas_aspect_ratio(qtbot, window):
    from app.ui.main_window import picture_size

    assert picture_size((64, 64), (200, 100)) == (91, 46)
    assert picture_size((256, 256), (512, 512)) == (256, 256)
    window.set_document(Document.new(80, 40, "landscape", fill=LANDSCAPE.by_name("hill").id))
    qtbot.waitUntil(lambda: not window.synthesis.is_busy(), timeout=60_000)
    assert window._latest_render.shape == (46, 91, 3)
