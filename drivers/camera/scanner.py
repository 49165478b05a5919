"""``CameraCodeScanner``: a code scanner that reads QR and bar codes from a camera's frames.

It is a ``CodeScanner`` like the serial and HID scanners: it publishes a ``ScanEvent`` per code
through ``subscribe_scans``, with the text found by the one code decoder
(``drivers.codetext``), so a code reads the same whether it was scanned or photographed. The
image decoder is injected, because drivers do not import the core: ``decode(image)`` returns the
codes in a frame, each a ``(format, raw bytes)`` pair or an object with ``format`` and ``raw``
(the kiosk passes ``kiosk.vision.codes.read_codes`` in frame mode). A code whose bytes hold no
trustworthy text, when the decoder returns one, is published with ``error`` set, like a bad
read on a serial scanner.

It scans the camera's newest frame at most ``max_rate`` times a second on its own thread
and reports a code once: the same code again within ``repeat_seconds`` (a resident holding
the phone up) is counted as a repeat, not delivered again.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

from drivers.base import (BackgroundLoop, ConnectionLost, DeviceError, DeviceTimeout, HealthLevel, HealthReport,
                          NotOpenError, State)
from drivers.scanner.base import CodeScanner, ScanEvent

log = logging.getLogger(__name__)

Decoder = Callable[[Any], Iterable[Any]]  # image -> codes: (format, raw bytes) or objects with .format and .raw


def _parts(code: Any) -> tuple[str, bytes]:
    if isinstance(code, tuple):
        return str(code[0]), bytes(code[1])
    return str(code.format), bytes(code.raw)


def _event(code: Any, source: str) -> ScanEvent:
    """The event for one decoded code: the image decoder's text where it decided one (it saw the
    code's ECI designators, which the bare bytes no longer carry), else the bytes decoded here."""
    fmt, raw = _parts(code)
    if not isinstance(code, tuple) and hasattr(code, "problem") and hasattr(code, "text"):
        text = code.text if not code.problem else None
        return ScanEvent(text, raw, source, getattr(code, "encoding", "") if text is not None else "",
                         code.problem, fmt)
    return ScanEvent.from_bytes(raw, source, format=fmt)


class CameraCodeScanner(CodeScanner):
    device_class = "code_scanner"

    def __init__(self, camera, decode: Decoder, name: str | None = None, *, max_rate: float = 8.0,
                 repeat_seconds: float = 3.0, clock: Callable[[], float] = time.monotonic):
        super().__init__(name or "camera_scanner")
        self.camera = camera
        self.decode = decode
        self.min_interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.repeat_seconds = repeat_seconds
        self._clock = clock
        self._recent: dict[tuple[str, bytes], float] = {}
        self._loop = BackgroundLoop(f"{self.name}-scan", self._run, join_timeout=3.0)
        self._stop = self._loop.stop_event
        self._last_seq = 0

    # -- lifecycle -------------------------------------------------------------------------
    def _open(self) -> None:
        if not getattr(self.camera, "is_open", False):
            self.camera.open()
        self.set_status(State.ONLINE, {"camera": self.camera.name, "scanning": False})

    def _enable(self) -> None:
        if not self.camera.enabled:
            self.camera.enable()
        self._loop.start()
        self.update_detail(scanning=True)

    def _disable(self) -> None:
        self._loop.stop()
        self.update_detail(scanning=False)

    def _close(self) -> None:
        self._recent.clear()

    # -- scanning --------------------------------------------------------------------------
    def scan_once(self, timeout: float = 1.0) -> list[ScanEvent]:
        """Decode the next frame and publish the codes that are new; returns the events published."""
        frame = self.camera.wait_frame(self._last_seq, timeout=timeout)
        self._last_seq = frame.seq
        self.count("frames_scanned")
        try:
            codes = {_parts(code): code for code in self.decode(frame.image)}
        except Exception as exc:
            self.count("decode_errors")
            log.warning("code decoder failed", extra={"fields": {"device": self.name, "error": type(exc).__name__}})
            return []
        published = []
        now = self._clock()
        self._recent = {key: seen for key, seen in self._recent.items() if now - seen < self.repeat_seconds}
        for key in codes:
            if key in self._recent:
                self._recent[key] = now
                self.count("repeats")
                continue
            self._recent[key] = now
            event = _event(codes[key], self.name)
            published.append(event)
            self._publish_scan(event)
        return published

    def _run(self) -> None:
        while not self._stop.is_set():
            began = self._clock()
            try:
                self.scan_once(timeout=1.0)
            except DeviceTimeout:
                continue
            except (ConnectionLost, NotOpenError):
                self.set_status(State.OFFLINE, dict(self.status.detail, scanning=False),
                                error_code=ConnectionLost.code)
                return
            except DeviceError as exc:
                log.warning("camera scanner error", extra={"fields": {"device": self.name, "code": exc.code}})
                self._stop.wait(0.2)
                continue
            wait = self.min_interval - (self._clock() - began)
            if wait > 0:
                self._stop.wait(wait)

    # -- health ----------------------------------------------------------------------------
    def _health(self, level: HealthLevel) -> HealthReport:
        camera = self.camera.check_health(level)
        checks = [("camera", camera.ok, camera.summary),
                  ("scanning", self._loop.running or not self.enabled,
                   "scanning frames" if self.enabled else "not enabled")]
        ok = all(passed for _, passed, _ in checks)
        return HealthReport(self.name, level, ok, "reads codes from the camera" if ok else camera.summary, checks)
