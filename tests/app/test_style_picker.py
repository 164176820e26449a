"""The style dock with real tiny models: presets, seeds, style from a photo, favourites."""

from __future__ import annotations

import numpy as np
import pytest
from spade_test_models import save_tiny_model, scene_labels

from app.ui.settings import settings
from app.ui.style_picker import NO_STYLE_NOTE, StylePicker
from app.ui.synthesis import SynthesisController
from ml.images import write_image
from ml.spade.library import get_card
from ml.spade.synthesizer import Synthesizer

WAIT = 60_000


@pytest.fixture
def controller(qtbot, spadework_home):
    save_tiny_model("styled", presets=("dawn", "dusk"))
    save_tiny_model("plain", use_vae=False, encoder=False)
    save_tiny_model("seeds-only", encoder=False)
    made = SynthesisController("styled", device="cpu")
    qtbot.waitUntil(lambda: made.card is not None, timeout=WAIT)
    yield made
    made.shutdown()


def _picker(qtbot, controller=None) -> StylePicker:
    picker = StylePicker(controller)
    qtbot.addWidget(picker)
    picker.show()
    return picker


def test_presets_are_listed_with_their_thumbnails(qtbot, controller):
    picker = _picker(qtbot, controller)
    assert [picker.presets.item(i).text() for i in range(picker.presets.count())] == ["dawn", "dusk"]
    icon = picker.presets.item(1).icon().pixmap(16, 16).toImage()
    assert icon.pixelColor(8, 8).getRgb()[:3] == (80, 80, 80)  # the saved thumbnail's grey
    assert picker.presets.isEnabled() and picker.seed.isEnabled()
    assert picker.from_image_button.isEnabled()
    assert not picker.note.isVisibleTo(picker)
    with qtbot.waitSignal(picker.style_changed) as blocker:
        picker._on_preset_clicked(picker.presets.item(1))
    assert blocker.args == [{"kind": "preset", "name": "dusk"}]
    assert picker.presets.item(1).isSelected()


def test_seed_and_random_emit_seed_styles(qtbot, controller):
    picker = _picker(qtbot, controller)
    with qtbot.waitSignal(picker.style_changed) as blocker:
        picker.seed.setValue(42)
    assert blocker.args == [{"kind": "seed", "seed": 42}]
    with qtbot.waitSignal(picker.style_changed) as blocker:
        picker.random_button.click()
    assert blocker.args[0]["kind"] == "seed" and isinstance(blocker.args[0]["seed"], int)


def test_set_style_shows_a_document_style_without_emitting(qtbot, controller):
    picker = _picker(qtbot, controller)
    with qtbot.assertNotEmitted(picker.style_changed):
        picker.set_style({"kind": "seed", "seed": 9})
        picker.set_style({"kind": "preset", "name": "dawn"})
    assert picker.seed.value() == 9 and picker.presets.item(0).isSelected()
    assert picker.current_style() == {"kind": "preset", "name": "dawn"}


def test_a_model_without_style_input_says_so_and_offers_nothing(qtbot, controller):
    picker = _picker(qtbot, controller)
    with qtbot.waitSignal(controller.model_loaded, timeout=WAIT):
        controller.set_model("plain")
    assert picker.note.isVisibleTo(picker) and picker.note.text() == NO_STYLE_NOTE
    assert "no style input" in picker.note.text()
    for widget in (picker.presets, picker.seed, picker.random_button, picker.from_image_button,
                   picker.add_favourite_button):
        assert not widget.isEnabled()
    assert picker.presets.count() == 0
    with qtbot.assertNotEmitted(picker.style_changed):
        picker.choose_seed(5)


def test_a_model_without_encoder_keeps_seeds_but_not_photos(qtbot, controller):
    picker = _picker(qtbot, controller)
    picker.set_model(get_card("seeds-only"))
    assert picker.seed.isEnabled() and not picker.from_image_button.isEnabled()
    assert "encoder" in picker.note.text()


def test_style_from_an_image_is_the_encoded_latent(qtbot, controller, tmp_path):
    picker = _picker(qtbot, controller)
    photo = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    write_image(path, photo)
    with qtbot.waitSignal(picker.style_changed, timeout=WAIT) as blocker:
        picker.load_style_image(path)
    style = blocker.args[0]
    assert style["kind"] == "latent" and len(style["values"]) == controller.card.config.z_dim
    expected = Synthesizer("styled", device="cpu").encode_style(photo)
    np.testing.assert_allclose(style["values"], expected, rtol=1e-5, atol=1e-6)


def test_a_broken_style_image_is_a_message(qtbot, controller, tmp_path):
    picker = _picker(qtbot, controller)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with qtbot.assertNotEmitted(picker.style_changed):
        picker.load_style_image(bad)
    assert "broken.png" in picker.message.text() and "\n" not in picker.message.text()


def test_favourites_persist_per_model(qtbot, controller):
    picker = _picker(qtbot, controller)
    picker.add_favourite("nothing yet")
    assert picker.favourites.count() == 0 and "Choose a style" in picker.message.text()
    picker.choose_seed(7)
    picker.add_favourite("calm sea")
    picker.choose_preset("dusk")
    picker.add_favourite("evening")
    again = _picker(qtbot, controller)  # a new dock (next session) reads the settings
    assert [again.favourites.item(i).text() for i in range(2)] == ["calm sea", "evening"]
    with qtbot.waitSignal(again.style_changed) as blocker:
        again._on_favourite_clicked(again.favourites.item(0))
    assert blocker.args == [{"kind": "seed", "seed": 7}]
    again.favourites.setCurrentRow(0)
    again.remove_selected_favourite()
    assert [again.favourites.item(i).text() for i in range(again.favourites.count())] == ["evening"]
    again.set_model(get_card("seeds-only"))
    assert again.favourites.count() == 0  # favourites belong to one model


def test_a_style_change_re_renders_the_same_labels(qtbot, controller):
    picker = _picker(qtbot, controller)
    images: dict[int, np.ndarray] = {}
    controller.rendered.connect(lambda image, rid, final, secs: images.__setitem__(rid, image))
    labels = scene_labels()
    picker.style_changed.connect(lambda style: controller.request(labels, style))
    first = controller.request(labels, picker.current_style())
    qtbot.waitUntil(lambda: first in images, timeout=WAIT)
    picker.choose_preset("dawn")
    qtbot.waitUntil(lambda: first + 1 in images, timeout=WAIT)
    picker.choose_preset("dusk")
    qtbot.waitUntil(lambda: first + 2 in images, timeout=WAIT)
    assert not np.array_equal(images[first + 1], images[first + 2])


def test_unreadable_favourites_are_an_empty_list(qtbot, controller):
    for junk in ("{not json", "5"):
        store = settings()
        store.setValue("styles/favourites/styled", junk)
        store.sync()
        picker = _picker(qtbot, controller)
        assert picker.favourites.count() == 0
    picker.choose_seed(3)
    picker.add_favourite("fresh start")
    assert [picker.favourites.item(i).text() for i in range(picker.favourites.count())] == [
        "fresh start"
    ]
