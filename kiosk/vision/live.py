"""Page detection on live camera frames, on its own thread, for the preview.

``LiveDetector`` takes the newest frame from a camera (any callable returning an object
with ``image`` and ``seq``, such as ``DocumentCamera.latest``), detects the page, feeds
``MaterialCapture.observe`` when one is attached, and keeps the newest ``LiveResult`` for
the preview to draw. It skips frames it has no time for instead of queueing them, so the
outline never lags behind the picture by more than one detection.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from kiosk.vision.capture import Hint, MaterialCapture
from kiosk.vision.detect import Detection, detect_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveResult:
    seq: int
    frame_size: tuple[int, int]  # (width, height) of the frame the corners belong to
    detection: Detection | None
    hint: Hint | None
    ms: float


class LiveDetector:
    def __init__(self, latest_frame: Callable[[], Any], capture: MaterialCapture | None = None,
                 on_result: Callable[[LiveResult], None] | None = None, max_rate: float = 15.0):
        self.latest_frame = latest_frame
        self.capture = capture
        self.on_result = on_result
        self.min_interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.latest: LiveResult | None = None
        self.detections = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="live-detector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2.0)

    def step(self) -> LiveResult | None:
        """Detect on the newest frame if it is new; returns the result (also kept in ``latest``)."""
        frame = self.latest_frame()
        if frame is None or (self.latest is not None and frame.seq == self.latest.seq):
            return None
        started = time.perf_counter()
        detection = detect_document(frame.image, coloured_cards=self.capture is not None
                                    and self.capture.options.aspect == "id_card")
        hint = self.capture.observe(frame.image, detection) if self.capture is not None else None
        h, w = frame.image.shape[:2]
        result = LiveResult(frame.seq, (w, h), detection, hint, (time.perf_counter() - started) * 1000)
        self.latest = result
        self.detections += 1
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("live detection listener failed")
        return result

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                result = self.step()
            except Exception:
                log.exception("live detection failed")
                result = None
            wait = self.min_interval - (time.monotonic() - began)
            if result is None:
                wait = max(wait, 0.005)
            if wait > 0:
                self._stop.wait(wait)
