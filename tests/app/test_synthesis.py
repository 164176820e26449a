"""The synthesis worker: real tiny models, real threads; the UI thread never waits on a render."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from spade_test_models import LANDSCAPE, save_tiny_model, scene_labels

from app.ui.synthesis import RenderRequest, SynthesisController, _Mailbox, one_line, union_rect
from ml.spade.synthesizer import Style, Synthesizer

WAIT = 60_000
WATER = LANDSCAPE.by_name("water").id


class Recorder:
    """Everything a controller emitted, in order."""

    def __init__(self, controller: SynthesisController) -> None:
        self.renders: list[tuple[int, bool, tuple[int, ...], np.ndarray]] = []
        self.failures: list[str] = []
        self.busy: list[bool] = []
        self.status: list[str] = []
        self.seconds: list[float] = []
        self.arrivals: list[float] = []
        self.first = 0
        controller.rendered.connect(self._rendered)
        controller.failed.connect(self.failures.append)
        controller.busy_changed.connect(self.busy.append)
        controller.status.connect(self.status.append)
        controller.first_render_done.connect(self._first)

    def _rendered(self, image: np.ndarray, rid: int, final: bool, seconds: float) -> None:
        self.renders.append((rid, final, image.shape, image))
        self.seconds.append(seconds)
        self.arrivals.append(time.perf_counter())

    def _first(self) -> None:
        self.first += 1

    def finals(self) -> list[int]:
        return [rid for rid, final, _, _ in self.renders if final]

    def last_final(self, rid: int):
        return [r for r in self.renders if r[0] == rid and r[1]]


@pytest.fixture
def make_controller(qtbot, spadework_home):
    made: list[SynthesisController] = []

    def make(model_id: str = "tiny", wait: bool = True, **kwargs) -> SynthesisController:
        controller = SynthesisController(model_id, device="cpu", **kwargs)
        made.append(controller)
        if wait:
            qtbot.waitUntil(lambda: controller.card is not None, timeout=WAIT)
        return controller

    yield make
    for controller in made:
        controller.shutdown()
        assert not controller._thread.isRunning()


def _idle(qtbot, controller: SynthesisController) -> None:
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=WAIT)


def test_renders_the_native_size_and_reports_status(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller()
    seen = Recorder(controller)
    labels = scene_labels()
    rid = controller.request(labels, {"kind": "seed", "seed": 3})
    assert controller.is_busy()
    qtbot.waitUntil(lambda: seen.finals() == [rid], timeout=WAIT)
    _idle(qtbot, controller)
    rid2, final, shape, image = seen.renders[-1]
    assert shape == (64, 64, 3) and image.dtype == np.uint8
    reference = Synthesizer("tiny", device="cpu").render(labels, style=Style(seed=3))
    assert np.array_equal(image, reference)
    assert seen.first == 1 and seen.busy == [True, False]
    assert "CPU" in seen.status[-1] and "ms" in seen.status[-1]
    controller.request(labels, {"kind": "seed", "seed": 4})
    qtbot.waitUntil(lambda: len(seen.finals()) == 2, timeout=WAIT)
    assert seen.first == 1  # only once


def test_the_event_loop_keeps_turning_while_painting_during_a_slow_render(qtbot, make_controller):
    save_tiny_model("tiny", crop_size=256, ngf=16)  # a first render of about a second here
    controller = make_controller()
    seen = Recorder(controller)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    labels = scene_labels(256, 256)
    started = time.perf_counter()
    last = controller.request(labels, None)
    for stroke in range(8):  # painting: the labels change and are requested again
        labels[100 + stroke * 4 : 104 + stroke * 4, 20:200] = WATER
        last = controller.request(labels, None, dirty_rect=(20, 100 + stroke * 4, 200, 104 + stroke * 4))
        qtbot.wait(15)
    qtbot.waitUntil(lambda: last in seen.finals(), timeout=WAIT)
    timer.stop()
    first_done = seen.arrivals[0]  # the first render is full size (no quick pass yet)
    during_first = [t for t in ticks if started < t < first_done]
    # A UI thread blocked by the render would tick at most once while it runs; a free one
    # ticks every ~10 ms, so a render of `seconds` sees about 100 * seconds ticks.
    assert seen.seconds[0] > 0.1
    assert len(during_first) >= 5
    assert np.diff(ticks).max() < max(seen.seconds) / 2
    assert len(seen.finals()) < 9 and seen.finals()[-1] == last


def test_newer_requests_supersede_pending_ones(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller()
    seen = Recorder(controller)
    labels = scene_labels()
    ids = []
    for i in range(5):
        labels[i * 8 : i * 8 + 4, :] = WATER
        ids.append(controller.request(labels, {"kind": "seed", "seed": 1}))
    qtbot.waitUntil(lambda: ids[-1] in seen.finals(), timeout=WAIT)
    _idle(qtbot, controller)
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert len(seen.finals()) < 5
    assert seen.finals()[-1] == ids[-1]
    assert seen.finals() == sorted(seen.finals())
    reference = Synthesizer("tiny", device="cpu").render(labels, style=Style(seed=1))
    assert np.array_equal(seen.last_final(ids[-1])[0][3], reference)


def test_merged_dirty_rectangles_give_the_exact_picture(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller()
    seen = Recorder(controller)
    labels = scene_labels()
    controller.request(labels, None)
    _idle(qtbot, controller)
    labels[2:6, 2:6] = WATER
    controller.request(labels, None, dirty_rect=(2, 2, 6, 6))
    labels[50:60, 40:50] = WATER
    last = controller.request(labels, None, dirty_rect=(40, 50, 50, 60))
    qtbot.waitUntil(lambda: last in seen.finals(), timeout=WAIT)
    reference = Synthesizer("tiny", device="cpu").render(labels)
    assert np.array_equal(seen.last_final(last)[0][3], reference)


def test_mailbox_keeps_only_the_newest_and_merges_rectangles():
    box = _Mailbox()
    labels = np.zeros((4, 4), np.uint8)
    box.put(RenderRequest(1, labels, None, None, (0, 0, 2, 2)))
    box.put(RenderRequest(2, labels, None, None, (3, 1, 4, 4)))
    assert box.waiting()
    taken = box.take()
    assert taken.id == 2 and taken.dirty_rect == (0, 0, 4, 4)
    assert box.take() is None and not box.waiting()
    box.put(RenderRequest(3, labels, None, None, None))
    box.put(RenderRequest(4, labels, None, None, (1, 1, 2, 2)))
    assert box.take().dirty_rect is None  # "everything changed" is never narrowed
    assert union_rect((0, 0, 1, 1), None) is None


def test_slow_renders_get_a_quick_half_size_pass_first(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller(preview_after_s=0.0)
    seen = Recorder(controller)
    labels = scene_labels()
    ids = []
    for seed in (2, 5, 6):  # cold cache, warm (its time counts), then slow enough for a pass
        ids.append(controller.request(labels, {"kind": "seed", "seed": seed}))
        qtbot.waitUntil(lambda: ids[-1] in seen.finals(), timeout=WAIT)
    passes = [(final, shape) for rid, final, shape, _ in seen.renders if rid == ids[2]]
    assert passes == [(False, (32, 32, 3)), (True, (64, 64, 3))]
    assert [final for rid, final, _, _ in seen.renders if rid in ids[:2]] == [True, True]
    quick = [image for rid, final, _, image in seen.renders if rid == ids[2] and not final][0]
    reference = Synthesizer("tiny", device="cpu").render(labels, style=Style(seed=6), size=(32, 32))
    assert np.array_equal(quick, reference)


def test_painting_with_quick_passes_ends_in_the_exact_picture(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller(preview_after_s=0.0, throttle_ms=1)
    seen = Recorder(controller)
    labels = scene_labels()
    for seed in (1, 1):
        rid = controller.request(labels, {"kind": "seed", "seed": seed})
        qtbot.waitUntil(lambda rid=rid: rid in seen.finals(), timeout=WAIT)
    last = 0
    for i in range(6):  # finals skipped for superseded requests must not lose their rects
        labels[8 * i : 8 * i + 5, 4 * i : 4 * i + 5] = WATER
        last = controller.request(labels, {"kind": "seed", "seed": 1},
                                  dirty_rect=(4 * i, 8 * i, 4 * i + 5, 8 * i + 5))
        qtbot.wait(2)
    qtbot.waitUntil(lambda: last in seen.finals(), timeout=WAIT)
    reference = Synthesizer("tiny", device="cpu").render(labels, style=Style(seed=1))
    assert np.array_equal(seen.last_final(last)[0][3], reference)


def test_export_at_a_chosen_size_is_never_superseded(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller()
    seen = Recorder(controller)
    exported: list[tuple[int, np.ndarray]] = []
    controller.exported.connect(lambda eid, image: exported.append((eid, image)))
    labels = scene_labels()
    export_id = controller.request_export(labels, {"kind": "seed", "seed": 7}, (128, 64))
    for _ in range(3):
        controller.request(labels, None)
    qtbot.waitUntil(lambda: len(exported) == 1, timeout=WAIT)
    _idle(qtbot, controller)
    eid, image = exported[0]
    assert eid == export_id and image.shape == (64, 128, 3)
    assert export_id not in [rid for rid, *_ in seen.renders]
    reference = Synthesizer("tiny", device="cpu").render(labels, style=Style(seed=7), size=(128, 64))
    assert np.array_equal(image, reference)


def test_errors_come_as_one_line_messages_and_the_worker_carries_on(qtbot, make_controller):
    save_tiny_model("tiny")
    controller = make_controller()
    seen = Recorder(controller)
    bad = scene_labels()
    bad[0, 0] = 99  # not a landscape class
    controller.request(bad, None)
    qtbot.waitUntil(lambda: len(seen.failures) == 1, timeout=WAIT)
    assert "99" in seen.failures[0] and "\n" not in seen.failures[0]
    assert "Traceback" not in seen.failures[0]
    _idle(qtbot, controller)
    good = controller.request(scene_labels(), None)
    qtbot.waitUntil(lambda: good in seen.finals(), timeout=WAIT)
    assert seen.first == 1


def test_a_style_that_does_not_fit_the_model_is_said_once_and_the_default_renders(
    qtbot, make_controller
):
    save_tiny_model("tiny")
    save_tiny_model("plain", use_vae=False, encoder=False)
    controller = make_controller()
    seen = Recorder(controller)
    labels = scene_labels()
    ids = [controller.request(labels, {"kind": "preset", "name": "nope"})]
    qtbot.waitUntil(lambda: ids[-1] in seen.finals(), timeout=WAIT)
    ids.append(controller.request(labels, {"kind": "preset", "name": "nope"}))
    ids.append(controller.request(labels, {"kind": "latent", "values": [0.5] * 3}))
    qtbot.waitUntil(lambda: ids[-1] in seen.finals(), timeout=WAIT)
    assert len(seen.failures) == 2
    assert "no style preset named 'nope'" in seen.failures[0]
    assert "3 values" in seen.failures[1] and "default style" in seen.failures[1]
    default = Synthesizer("tiny", device="cpu").render(labels)
    assert np.array_equal(seen.last_final(ids[0])[0][3], default)
    assert np.array_equal(seen.last_final(ids[-1])[0][3], default)
    controller.set_model("plain")  # a model without style input ignores any style
    plain = controller.request(labels, {"kind": "preset", "name": "dusk"})
    qtbot.waitUntil(lambda: plain in seen.finals(), timeout=WAIT)
    assert len(seen.failures) == 2


def test_switching_models_drops_results_for_the_old_model(qtbot, make_controller):
    save_tiny_model("tiny")
    save_tiny_model("plain", use_vae=False, encoder=False, seed=1)
    controller = make_controller()
    seen = Recorder(controller)
    loaded = []
    controller.model_loaded.connect(lambda card: loaded.append(card.id))
    labels = scene_labels()
    old = controller.request(labels, None)
    controller.set_model("plain")
    new = controller.request(labels, None)
    qtbot.waitUntil(lambda: new in seen.finals(), timeout=WAIT)
    assert old not in [rid for rid, *_ in seen.renders]
    assert seen.failures == []
    assert loaded == ["plain"] and controller.card.id == "plain"
    reference = Synthesizer("plain", device="cpu").render(labels)
    assert np.array_equal(seen.last_final(new)[0][3], reference)


def test_a_model_that_cannot_load_is_a_message(qtbot, make_controller):
    controller = make_controller("no-such-model", wait=False)
    seen = Recorder(controller)
    qtbot.waitUntil(lambda: bool(seen.failures), timeout=WAIT)
    assert seen.failures[0].startswith("could not load model 'no-such-model'")
    assert controller.card is None


def test_style_from_an_image_goes_through_the_encoder(qtbot, make_controller):
    save_tiny_model("tiny")
    save_tiny_model("plain", use_vae=False, encoder=False)
    controller = make_controller()
    rgb = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    with qtbot.waitSignal(controller.style_encoded, timeout=WAIT) as blocker:
        job = controller.request_style_encoding(rgb)
    assert blocker.args[0] == job
    expected = Synthesizer("tiny", device="cpu").encode_style(rgb)
    np.testing.assert_allclose(blocker.args[1], expected, rtol=1e-5, atol=1e-6)
    controller.set_model("plain")
    qtbot.waitUntil(lambda: controller.card.id == "plain", timeout=WAIT)
    with qtbot.waitSignal(controller.style_failed, timeout=WAIT) as blocker:
        job = controller.request_style_encoding(rgb)
    assert blocker.args[0] == job and "no style encoder" in blocker.args[1]


def test_shutdown_is_prompt_and_idempotent(qtbot, spadework_home):
    save_tiny_model("tiny")
    controller = SynthesisController("tiny", device="cpu")
    controller.request(scene_labels(), None)
    controller.shutdown()
    assert not controller._thread.isRunning() and not controller.is_busy()
    controller.shutdown()
    with qtbot.assertNotEmitted(controller.busy_changed):
        controller.request(scene_labels(), None)  # a closing window may still ask: ignored
        controller.request_export(scene_labels(), None, (64, 64))


def test_one_line_messages():
    assert one_line(ValueError("bad map\nmore detail")) == "bad map"
    assert one_line(KeyError("no model 'x'")) == "no model 'x'"
    assert one_line(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
