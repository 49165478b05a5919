"""``DocumentCamera``: a camera device that captures on its own thread and keeps the latest frame.

Lifecycle (drivers/base.py): ``open()`` opens the source and waits for a first frame (a
camera that opens but never delivers is no camera); ``enable()`` starts the capture thread;
``disable()`` stops it; ``close()`` releases the camera. While enabled, ``latest()`` returns
the newest frame at once and ``wait_frame()`` blocks for a newer one.

Counters: ``frames``, ``dropped_frames`` (frames the camera promised at its frame rate but did
not deliver, estimated from gaps between frames — a sign the machine or the USB bus cannot
keep up), ``read_failures``, ``disconnects``. When reads keep failing or the source reports
the camera gone, the status turns OFFLINE with DEV-010; the device manager then closes and
reopens the device with backoff, which is how an unplug/replug is recovered.

**Standby** (``standby=True``, what the kiosk uses for a document camera that reads no codes):
``open()`` only probes the source (``source.probe()``: is the camera there?) and the stream is
opened by ``enable()`` — on the capture thread, so the caller does not wait — and closed
again by ``disable()``, which drops the frames. A document camera streams only while a
material is being captured; in between it holds no frame, and the kiosk does not even load
OpenCV and NumPy for it (≈100 MiB of the resident set with the simulated 1080p camera:
benchmarks/startup.py, docs/vision.md).
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import numpy as np

from drivers.base import (BackgroundLoop, ConnectionLost, Device, DeviceError, DeviceTimeout, HealthLevel, HealthReport,
                          NoDeviceError, State)
from drivers.camera.sources import FrameSource, StreamFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """One captured image (BGR, uint8). Shared between threads: never modify ``image`` in place."""

    image: np.ndarray
    seq: int
    timestamp: float  # time.monotonic() when it arrived

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


class DocumentCamera(Device):
    device_class = "camera"

    def __init__(self, source: FrameSource, name: str | None = None, *, first_frame_timeout: float = 5.0,
                 stall_seconds: float = 3.0, max_failed_reads: int = 5, standby: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(name)
        self.source = source
        self.standby = standby
        self._streaming = False  # the source is open (always, unless in standby)
        self.first_frame_timeout = first_frame_timeout
        self.stall_seconds = stall_seconds
        self.max_failed_reads = max_failed_reads
        self._clock = clock
        self.format: StreamFormat | None = None
        self._frame_lock = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._arrivals: collections.deque[float] = collections.deque(maxlen=60)
        self._loop = BackgroundLoop(f"{self.name}-capture", self._capture_loop, join_timeout=5.0)
        self._stop = self._loop.stop_event
        self._lost = False

    # -- lifecycle -------------------------------------------------------------------------
    def _open(self) -> None:
        self._lost = False
        if self.standby:
            try:
                self.format = self.source.probe()
            except DeviceError:
                raise
            except Exception as exc:
                raise NoDeviceError(f"camera could not be probed ({type(exc).__name__})") from exc
            fmt = self.format
            self.set_status(State.ONLINE, {"width": fmt.width, "height": fmt.height, "fourcc": fmt.fourcc,
                                           "fps": round(fmt.fps, 1), "streaming": False, "standby": True})
            return
        self._start_stream()
        fmt = self.format
        self.set_status(State.ONLINE, {"width": fmt.width, "height": fmt.height, "fourcc": fmt.fourcc,
                                       "fps": round(fmt.fps, 1), "streaming": False})

    def _start_stream(self) -> None:
        """Open the source and wait for its first frame (a camera that never delivers is none)."""
        try:
            self.format = self.source.open()
        except DeviceError:
            raise
        except Exception as exc:  # OpenCV raises cv2.error for odd devices
            raise NoDeviceError(f"camera could not be opened ({type(exc).__name__})") from exc
        # A camera that opens but delivers nothing is as good as none.
        deadline = self._clock() + self.first_frame_timeout
        while True:
            try:
                image = self.source.read()
            except ConnectionLost:
                self.source.close()
                raise NoDeviceError("camera went away while opening") from None
            if image is not None:
                self._store(image)
                break
            if self._clock() > deadline:
                self.source.close()
                raise DeviceTimeout("camera opened but delivered no frame")
            time.sleep(0.02)
        self._streaming = True

    def _stop_stream(self) -> None:
        """Close the source and drop the frames (standby between captures)."""
        self._streaming = False
        self.source.close()
        with self._frame_lock:
            self._latest = None
            self._arrivals.clear()

    def _enable(self) -> None:
        self._loop.start()
        self.update_detail(streaming=True)

    def _disable(self) -> None:
        self._loop.stop()
        if self.standby:
            self._stop_stream()
        if self.is_open:
            self.update_detail(streaming=False)
        with self._frame_lock:
            self._frame_lock.notify_all()

    def _close(self) -> None:
        self._stop_stream()

    # -- frames ----------------------------------------------------------------------------
    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one."""
        return self._latest

    def wait_frame(self, after_seq: int = 0, timeout: float = 2.0) -> Frame:
        """Block until a frame newer than ``after_seq`` arrives."""
        deadline = self._clock() + timeout
        with self._frame_lock:
            while True:
                self._require_open()
                if self._lost:
                    raise ConnectionLost(f"{self.name}: camera disconnected")
                frame = self._latest
                if frame is not None and frame.seq > after_seq:
                    return frame
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise DeviceTimeout(f"{self.name}: no new frame within {timeout:g} s")
                self._frame_lock.wait(min(remaining, 0.25))

    def measured_fps(self) -> float:
        arrivals = list(self._arrivals)
        if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
            return 0.0
        return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])

    def frame_age(self) -> float | None:
        frame = self._latest
        return None if frame is None else self._clock() - frame.timestamp

    def _store(self, image: np.ndarray) -> None:
        now = self._clock()
        with self._frame_lock:
            previous = self._latest
            fmt = self.format
            if previous is not None and fmt is not None and fmt.fps > 0:
                period = 1.0 / fmt.fps
                gap = now - previous.timestamp
                if gap > 1.5 * period:
                    self.count("dropped_frames", max(1, round(gap / period) - 1))
            self._seq += 1
            self._latest = Frame(image, self._seq, now)
            self._arrivals.append(now)
            self.count("frames")
            self._frame_lock.notify_all()

    def _capture_loop(self) -> None:
        if not self._streaming:  # standby: the stream opens here, not on the caller's thread
            try:
                self._start_stream()
            except DeviceError as exc:
                self._connection_lost(f"camera could not be opened: {exc}")
                return
        failures = 0
        while not self._stop.is_set():
            try:
                image = self.source.read()
            except ConnectionLost:
                self._connection_lost("source reported the camera gone")
                return
            except Exception as exc:  # a driver hiccup must not kill the thread silently
                log.warning("camera read raised", extra={"fields": {"device": self.name,
                                                                    "error": type(exc).__name__}})
                image = None
            if self._stop.is_set():
                return
            if image is None:
                failures += 1
                self.count("read_failures")
                if failures >= self.max_failed_reads:
                    self._connection_lost(f"{failures} reads in a row failed")
                    return
                time.sleep(0.01)
                continue
            failures = 0
            self._store(image)

    def _connection_lost(self, why: str) -> None:
        self._lost = True
        self.count("disconnects")
        log.warning("camera lost", extra={"fields": {"device": self.name, "why": why}})
        detail = dict(self.status.detail, streaming=False)
        self.set_status(State.OFFLINE, detail, error_code=ConnectionLost.code)
        with self._frame_lock:
            self._frame_lock.notify_all()

    def _read_one(self) -> "np.ndarray | None":
        """One frame for a health check; in standby the stream is opened for it and closed again."""
        if self._streaming:
            image = self.source.read()
            if image is not None:
                self._store(image)
            return image
        try:
            self._start_stream()
        except DeviceError:
            return None
        image = self._latest.image if self._latest is not None else None
        self._stop_stream()
        return image

    # -- health ----------------------------------------------------------------------------
    def _health(self, level: HealthLevel) -> HealthReport:
        checks: list[tuple[str, bool, str]] = []
        checks.append(("opened", self.is_open, "camera open" if self.is_open else "camera not open"))
        if not self.is_open:
            return HealthReport(self.name, level, False, "camera not open", checks)
        fmt = self.format
        checks.append(("format", True, f"{fmt.width}x{fmt.height} {fmt.fourcc} at {fmt.fps:g} fps"))
        checks.append(("connected", not self._lost, "frames arriving" if not self._lost else "disconnected"))
        age = self.frame_age()
        if self.enabled and not self._lost:
            fresh = age is not None and age < self.stall_seconds
            checks.append(("fresh frames", fresh, f"last frame {age:.1f} s ago" if age is not None else "no frame"))
            fps = self.measured_fps()
            checks.append(("frame rate", fps >= min(5.0, fmt.fps * 0.5) or fps == 0.0,
                           f"{fps:.1f} fps measured"))
        if level is not HealthLevel.INTERNAL:
            frame = self._latest if self.enabled else None
            image = frame.image if frame is not None else self._read_one()
            if image is None:
                checks.append(("picture", False, "no frame could be read"))
            else:
                import numpy as np

                spread = float(np.std(image[::8, ::8]))
                checks.append(("picture", spread > 2.0,
                               f"contrast {spread:.1f}" + ("" if spread > 2.0 else " — lens covered or sensor dead")))
        ok = all(passed for _, passed, _ in checks)
        summary = "camera streaming" if ok else next(detail for _, passed, detail in checks if not passed)
        return HealthReport(self.name, level, ok, summary, checks)
