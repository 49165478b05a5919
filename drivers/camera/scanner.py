"""``CameraCodeScanner``: a code scanner that reads QR and bar codes from a camera's frames.

It is the camera counterpart of the serial and HID scanners: it delivers decoded text to
the same kind of callback (``on_code(text, format)``), which the composition root wires to
the payload parser. The decoder is injected (``decode(image) -> [(format, text, corners)]``;
the kiosk passes ``kiosk.vision.codes.read_codes`` in frame mode), because drivers do not
import the core.

It scans the camera's newest frame at most ``max_rate`` times a second on its own thread
and reports a code once: the same text again within ``repeat_seconds`` (a resident holding
the phone up) is counted as a repeat, not delivered again.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Sequence

from drivers.base import (BackgroundLoop, ConnectionLost, Device, DeviceError, DeviceTimeout, HealthLevel, HealthReport,
                          NotOpenError, State)

log = logging.getLogger(__name__)

Decoded = tuple[str, str, Sequence[Sequence[float]]]  # (format, text, corners)
Decoder = Callable[[Any], Iterable[Any]]


def _parts(code: Any) -> tuple[str, str]:
    if isinstance(code, tuple):
        return str(code[0]), str(code[1])
    return str(code.format), str(code.text)


class CameraCodeScanner(Device):
    device_class = "code_scanner"

    def __init__(self, camera, decode: Decoder, on_code: Callable[[str, str], None] | None = None,
                 name: str | None = None, *, max_rate: float = 8.0, repeat_seconds: float = 3.0,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(name or "camera_scanner")
        self.camera = camera
        self.decode = decode
        self._callbacks: list[Callable[[str, str], None]] = [on_code] if on_code else []
        self.min_interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.repeat_seconds = repeat_seconds
        self._clock = clock
        self._recent: dict[tuple[str, str], float] = {}
        self._loop = BackgroundLoop(f"{self.name}-scan", self._run, join_timeout=3.0)
        self._stop = self._loop.stop_event
        self._last_seq = 0

    def add_callback(self, on_code: Callable[[str, str], None]) -> None:
        """Another receiver of decoded text (e.g. ``payloads.parse`` once it lands)."""
        self._callbacks.append(on_code)

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
    def scan_once(self, timeout: float = 1.0) -> list[tuple[str, str]]:
        """Decode the next frame and deliver what is new; returns the (format, text) delivered."""
        frame = self.camera.wait_frame(self._last_seq, timeout=timeout)
        self._last_seq = frame.seq
        self.count("frames_scanned")
        try:
            codes = list(self.decode(frame.image))
        except Exception as exc:
            self.count("decode_errors")
            log.warning("code decoder failed", extra={"fields": {"device": self.name, "error": type(exc).__name__}})
            return []
        delivered = []
        now = self._clock()
        self._recent = {key: seen for key, seen in self._recent.items() if now - seen < self.repeat_seconds}
        for code in codes:
            fmt, text = _parts(code)
            key = (fmt, text)
            if key in self._recent:
                self._recent[key] = now
                self.count("repeats")
                continue
            self._recent[key] = now
            self.count("codes")
            delivered.append(key)
            for callback in list(self._callbacks):
                try:
                    callback(text, fmt)
                except Exception:
                    log.exception("code callback failed", extra={"fields": {"device": self.name}})
        return delivered

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
