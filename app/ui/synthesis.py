"""SPADE synthesis off the UI thread: latest request wins, a quick pass first, exports on the side.

Usage (what the main window does)::

    controller = SynthesisController(model_id, device="auto")
    controller.rendered.connect(lambda image, rid, final, secs: render_view.set_image(image))
    controller.busy_changed.connect(render_view.set_busy)
    controller.status.connect(window.statusBar().showMessage)
    controller.failed.connect(lambda message: window.statusBar().showMessage(message, 8000))
    controller.first_render_done.connect(window.ready)
    document_changed -> controller.request(labels, style_dict, size=None, dirty_rect=(x0, y0, x1, y1))
    export: rid = controller.request_export(labels, style_dict, (2048, 1024));
            controller.exported.connect(lambda rid, image: ...)
    window close -> controller.shutdown()

Signals: rendered(image HxWx3 uint8, request_id, final, seconds), first_render_done(),
busy_changed(bool), status(str: device and last render time), failed(str: one line),
exported(export_id, image), export_failed(export_id, str), style_encoded(job_id, latent),
style_failed(job_id, str), model_loaded(ModelCard). Requests: request(labels, style, size,
dirty_rect) -> id, request_export(labels, style, size) -> id, request_style_encoding(rgb) -> id,
set_model(model_id); the style dicts are those of app.ui.style_picker.

Why a plain QThread with a long-lived QObject worker rather than superqt's `create_worker`:
the Synthesizer is thread-confined and keeps a per-label-map modulation cache, so it must be
built and used in ONE thread for the controller's whole life; superqt's workers run each job on
whichever QThreadPool thread is free, which would break that confinement and the cache.

How the worker keeps up with painting:
- `request()` copies the label map into a one-slot mailbox (`_Mailbox`), replacing any request
  the worker has not taken yet (their dirty rectangles are merged, so the incremental modulation
  still sees every changed pixel). Each request has a monotonically increasing id.
- Wake-ups to the worker go through a `QSignalThrottler` (leading + trailing edge), so while
  painting the worker is woken at most once per `throttle_ms`; a wake that finds the mailbox empty
  does nothing. A render in progress is never interrupted; when it ends the worker takes the
  newest request only.
- When the last full render with a warm label cache took longer than `preview_after_s`, the
  worker first renders at half size (`final=False`), then at full size unless a newer request
  is already waiting: while a slow model is painted on, quick passes follow the brush and the
  full picture comes when the stroke pauses.
- Stale results are dropped: a result older than the one already delivered, or made for a
  request issued before the latest `set_model()`, never reaches `rendered`. A request made
  after `set_model()` waits in the mailbox until that model is loaded.
- Quick passes and exports render at other sizes through a second Synthesizer sharing the
  loaded weights, so the main label cache (one size) is never evicted by them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from superqt.utils import QSignalThrottler

from ml.devices import describe
from ml.spade.library import load_style_presets
from ml.spade.synthesizer import Style, Synthesizer

log = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]
Size = tuple[int, int]

USER_ERRORS = (ValueError, OSError, KeyError, RuntimeError)


def one_line(exc: BaseException) -> str:
    """A message for the status bar: the user-facing text, never a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, KeyError) and text.startswith(("'", '"')) and text[-1:] in "'\"":
        text = text[1:-1]
    if not isinstance(exc, USER_ERRORS) or not text:
        return f"{type(exc).__name__}: {text or 'unexpected error'}"
    return text


def union_rect(a: Rect | None, b: Rect | None) -> Rect | None:
    """Bounding box of two dirty rectangles; None (= everything changed) absorbs all."""
    if a is None or b is None:
        return None
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def style_from_dict(style: dict | None, presets: dict[str, np.ndarray]) -> Style | None:
    """The document's style dict as the engine's `Style` (None = the model's default).

    Kinds: {"kind": "preset", "name": n} (looked up in the model's presets),
    {"kind": "latent", "values": [...]}, {"kind": "seed", "seed": n}; None or {} means none.
    """
    if not style or style.get("kind") in (None, "none"):
        return None
    kind = style["kind"]
    if kind == "preset":
        name = str(style.get("name", ""))
        if name not in presets:
            raise KeyError(f"this model has no style preset named {name!r}")
        return Style(latent=presets[name])
    if kind == "latent":
        return Style(latent=np.asarray(style["values"], dtype=np.float32))
    if kind == "seed":
        return Style(seed=int(style["seed"]))
    raise ValueError(f"unknown style kind {kind!r}")


@dataclass
class RenderRequest:
    id: int
    labels: np.ndarray
    style: dict | None
    size: Size | None
    dirty_rect: Rect | None = None
    generation: int = 0  # which set_model() call the request was made after


@dataclass
class _Mailbox:
    """One pending interactive request, shared by the UI thread (put) and the worker (take).

    A request is only handed to a worker that has the model it was made for: one made after a
    set_model() waits for that load, one made before it is dropped.
    """

    _request: RenderRequest | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, request: RenderRequest) -> None:
        with self._lock:
            if self._request is not None:
                request.dirty_rect = union_rect(self._request.dirty_rect, request.dirty_rect)
            self._request = request

    def take(self, generation: int | None = None) -> RenderRequest | None:
        """The pending request for the worker's model generation (None = any)."""
        with self._lock:
            request = self._request
            if request is None:
                return None
            if generation is not None and request.generation > generation:
                return None  # its model is still loading
            self._request = None
            if generation is not None and request.generation < generation:
                return None  # made for a model that is gone
            return request

    def waiting(self) -> bool:
        with self._lock:
            return self._request is not None


class _Worker(QObject):
    """Lives in the synthesis thread; owns the Synthesizers and does every engine call.

    The engine keeps one label cache per Synthesizer, for one render size. The interactive
    full-size renders use the main Synthesizer; quick passes and exports (other sizes) use a
    second one made on demand from the same loaded model, so they never evict the main cache.
    """

    model_loaded = Signal(object, str)  # ModelCard, device description
    rendered = Signal(object, int, bool, float)
    exported = Signal(int, object)
    export_failed = Signal(int, str)
    style_encoded = Signal(int, object)
    style_failed = Signal(int, str)
    failed = Signal(str)
    render_done = Signal()

    def __init__(self, mailbox: _Mailbox, device: str, precision: str, preview_after_s: float):
        super().__init__()
        self._mailbox = mailbox
        self._device = device
        self._precision = precision
        self._preview_after_s = preview_after_s
        self._synth: Synthesizer | None = None
        self._side: Synthesizer | None = None
        self._presets: dict[str, np.ndarray] = {}
        self._last_full_seconds = 0.0
        self._main_shape: tuple[int, ...] | None = None  # label map the main cache has seen
        self._unseen: list[Rect | None] = []  # dirty rects of requests the main cache missed
        self._generation = 0
        self._style_warned: set[str] = set()  # unusable styles already reported

    @Slot(str, int)
    def load(self, model_id: str, generation: int) -> None:
        """Switch model; on failure the previous model (if any) stays in use."""
        self._generation = generation
        try:
            synth = Synthesizer(model_id, device=self._device, precision=self._precision)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            self._report(exc, f"could not load model {model_id!r}: ")
        else:
            self._synth, self._side, self._presets = synth, None, {}
            self._last_full_seconds = 0.0
            self._main_shape, self._unseen, self._style_warned = None, [], set()
            self.model_loaded.emit(synth.card, describe(synth.device))
            try:
                self._presets = {p.name: p.latent for p in load_style_presets(model_id)}
            except Exception as exc:  # noqa: BLE001 - the model still renders without them
                self._report(exc, "style presets not loaded: ")
        self.wake()  # a request may be waiting for this model

    @Slot()
    def wake(self) -> None:
        request = self._mailbox.take(self._generation)
        if request is None:
            self.render_done.emit()
            return
        try:
            self._render_interactive(request)
        except Exception as exc:  # noqa: BLE001
            self._main_shape = None
            self._report(exc)
        finally:
            self.render_done.emit()

    @Slot(object)
    def export(self, request: RenderRequest) -> None:
        try:
            image, _ = self._timed(self._side_synth(), request, request.size, None)
        except Exception as exc:  # noqa: BLE001
            self.export_failed.emit(request.id, one_line(exc))
            self._report(exc, "export failed: ")
            return
        self.exported.emit(request.id, image)

    @Slot(int, object)
    def encode_style(self, job_id: int, rgb: np.ndarray) -> None:
        try:
            latent = self._require_synth().encode_style(rgb)
        except Exception as exc:  # noqa: BLE001
            self.style_failed.emit(job_id, one_line(exc))
            self._report(exc, "style from image failed: ")
            return
        self.style_encoded.emit(job_id, np.asarray(latent, dtype=np.float32))

    def _render_interactive(self, request: RenderRequest) -> None:
        synth = self._require_synth()
        size = request.size or synth.native_size
        if self._last_full_seconds > self._preview_after_s:
            half = (max(1, size[0] // 2), max(1, size[1] // 2))
            image, seconds = self._timed(self._side_synth(), request, half, None)
            self.rendered.emit(image, request.id, False, seconds)
            if self._mailbox.waiting():  # superseded: the main cache never saw these labels
                self._unseen.append(request.dirty_rect)
                return
        dirty = request.dirty_rect
        for rect in self._unseen:
            dirty = union_rect(dirty, rect)
        warm = request.labels.shape == self._main_shape
        if not warm:
            dirty = None
        self._main_shape = None  # until this render succeeds
        image, seconds = self._timed(synth, request, size, dirty)
        self._main_shape, self._unseen = request.labels.shape, []
        if warm:  # a cold render also builds the label cache: it says nothing of the next
            self._last_full_seconds = seconds
        self.rendered.emit(image, request.id, True, seconds)

    def _timed(self, synth: Synthesizer, request: RenderRequest, size: Size | None,
               dirty: Rect | None) -> tuple[np.ndarray, float]:
        style = self._style_for(synth, request.style)
        start = time.perf_counter()
        image = synth.render(request.labels, style=style, size=size, dirty_rect=dirty)
        return image, time.perf_counter() - start

    def _style_for(self, synth: Synthesizer, style: dict | None) -> Style | None:
        """The engine style; one that does not fit this model renders the model's default.

        Models without style input ignore styles. A document's style can outlive its model
        (a preset of another model, a latent of another length): that is said once per model,
        and the picture still comes instead of an error on every stroke.
        """
        if not synth.has_style_input:
            return None
        try:
            engine_style = style_from_dict(style, self._presets)
            synth.style_latent(engine_style)  # checks a latent's length and values
            return engine_style
        except (KeyError, ValueError, TypeError) as exc:
            key = repr(style)[:200]
            if key not in self._style_warned:
                self._style_warned.add(key)
                self.failed.emit(f"{one_line(exc)}; rendering with the model's default style")
            return None

    def _require_synth(self) -> Synthesizer:
        if self._synth is None:
            raise RuntimeError("no model is loaded yet")
        return self._synth

    def _side_synth(self) -> Synthesizer:
        main = self._require_synth()
        if self._side is None:
            self._side = Synthesizer(main.model, device=main.device, precision=main.precision)
        return self._side

    def _report(self, exc: BaseException, prefix: str = "") -> None:
        if not isinstance(exc, USER_ERRORS):
            log.error("synthesis error", exc_info=exc)
        self.failed.emit(prefix + one_line(exc))


class SynthesisController(QObject):
    """The UI side of synthesis. Every public method returns at once; results come as signals."""

    rendered = Signal(object, int, bool, float)  # image HxWx3 uint8, request id, final, seconds
    first_render_done = Signal()
    busy_changed = Signal(bool)
    status = Signal(str)
    failed = Signal(str)
    exported = Signal(int, object)  # export id, image HxWx3 uint8
    export_failed = Signal(int, str)
    style_encoded = Signal(int, object)  # job id, latent (z_dim,) float32
    style_failed = Signal(int, str)  # job id, one-line message
    model_loaded = Signal(object)  # ModelCard

    _load = Signal(str, int)
    _wake = Signal()
    _export = Signal(object)
    _encode = Signal(int, object)

    def __init__(
        self,
        model_id: str | None = None,
        device: str = "auto",
        precision: str = "fp32",
        throttle_ms: int = 40,
        preview_after_s: float = 0.3,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._mailbox = _Mailbox()
        self._next_id = 1
        self._valid_from = 1
        self._generation = 0
        self._last_delivered = 0
        self._exports_pending = 0
        self._busy = False
        self._rendered_once = False
        self._stopped = False
        self.card = None
        self.device_name = ""
        self.last_seconds: float | None = None

        self._thread = QThread()
        self._thread.setObjectName("spadework-synthesis")
        self._worker = _Worker(self._mailbox, device, precision, preview_after_s)
        self._worker.moveToThread(self._thread)
        self._load.connect(self._worker.load)
        self._wake.connect(self._worker.wake)
        self._export.connect(self._worker.export)
        self._encode.connect(self._worker.encode_style)
        self._worker.model_loaded.connect(self._on_model_loaded)
        self._worker.rendered.connect(self._on_rendered)
        self._worker.render_done.connect(self._update_busy)
        self._worker.exported.connect(self._on_exported)
        self._worker.export_failed.connect(self._on_export_failed)
        self._worker.style_encoded.connect(self.style_encoded)
        self._worker.style_failed.connect(self.style_failed)
        self._worker.failed.connect(self.failed)

        self._throttler = QSignalThrottler(parent=self)
        self._throttler.setTimeout(throttle_ms)
        self._throttler.triggered.connect(self._wake)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:  # never leave the thread running into interpreter shutdown
            app.aboutToQuit.connect(self.shutdown)
        if model_id is not None:
            self.set_model(model_id)

    # -- requests -------------------------------------------------------------------------------
    def set_model(self, model_id: str) -> None:
        """Load another model in the worker; results of earlier requests are dropped."""
        self._valid_from = self._next_id
        self._generation += 1
        self._load.emit(str(model_id), self._generation)

    def request(
        self,
        labels: np.ndarray,
        style: dict | None = None,
        size: Size | None = None,
        dirty_rect: Rect | None = None,
    ) -> int:
        """Queue an interactive render (replacing any not yet started); returns its id.

        `size` is the output (W, H), None for the model's native size; `dirty_rect` is the
        (x0, y0, x1, y1) box of label pixels changed since the previous request (None = all).
        After `shutdown()` requests are ignored (a closing window may still ask for one).
        """
        request = RenderRequest(
            self._take_id(), np.array(labels, copy=True), style, size, dirty_rect, self._generation
        )
        if self._stopped:
            return request.id
        self._mailbox.put(request)
        self._set_busy(True)
        self._throttler.throttle()
        return request.id

    def request_export(self, labels: np.ndarray, style: dict | None, size: Size | None) -> int:
        """Render at a chosen size for export; never superseded. Result: `exported(id, image)`."""
        request = RenderRequest(self._take_id(), np.array(labels, copy=True), style, size)
        if self._stopped:
            return request.id
        self._exports_pending += 1
        self._set_busy(True)
        self._export.emit(request)
        return request.id

    def request_style_encoding(self, rgb: np.ndarray) -> int:
        """Encode a reference photo into a style latent; result: `style_encoded(id, latent)`."""
        job_id = self._take_id()
        if self._stopped:
            return job_id
        self._encode.emit(job_id, np.array(rgb, dtype=np.uint8, copy=True))
        return job_id

    def is_busy(self) -> bool:
        return self._busy

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop the worker thread after the job in progress (call on window close)."""
        self._stopped = True
        if not self._thread.isRunning():
            return
        self._throttler.cancel()
        self._mailbox.take()
        self._thread.quit()
        if not self._thread.wait(timeout_ms):
            log.warning("synthesis thread did not stop within %d ms", timeout_ms)
        self._set_busy(False)

    # -- worker results (UI thread) -------------------------------------------------------------
    def _take_id(self) -> int:
        request_id, self._next_id = self._next_id, self._next_id + 1
        return request_id

    @Slot(object, str)
    def _on_model_loaded(self, card, device_name: str) -> None:
        self.card, self.device_name = card, device_name
        self.model_loaded.emit(card)
        self.status.emit(f"{card.name} on {device_name}")

    @Slot(object, int, bool, float)
    def _on_rendered(self, image: np.ndarray, request_id: int, final: bool, seconds: float) -> None:
        if request_id < self._valid_from or request_id < self._last_delivered:
            return
        self._last_delivered = request_id
        self.rendered.emit(image, request_id, final, seconds)
        if final:
            self.last_seconds = seconds
            height, width = image.shape[:2]
            self.status.emit(f"{self.device_name} · last render {seconds * 1000:.0f} ms at {width}×{height}")
            if not self._rendered_once:
                self._rendered_once = True
                self.first_render_done.emit()

    @Slot(int, object)
    def _on_exported(self, export_id: int, image: np.ndarray) -> None:
        self._exports_pending -= 1
        self.exported.emit(export_id, image)
        self._update_busy()

    @Slot(int, str)
    def _on_export_failed(self, export_id: int, message: str) -> None:
        self._exports_pending -= 1
        self.export_failed.emit(export_id, message)
        self._update_busy()

    @Slot()
    def _update_busy(self) -> None:
        self._set_busy(self._mailbox.waiting() or self._exports_pending > 0)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
