"""Where frames come from: the ``FrameSource`` interface and its OpenCV implementation.

A source is opened once, read frame by frame (blocking until the next frame), and closed.
``DocumentCamera`` runs it on its capture thread. ``OpenCVSource`` opens a V4L2 device by
index or path (or any file/URL OpenCV reads, which tests use), asks for the configured
format, size and rate — in that order, because V4L2 only offers the large sizes once MJPG
is chosen — and reports what the camera actually agreed to.
"""
from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # NumPy (and OpenCV) are imported when a camera is opened, not when it is built
    import numpy as np

from drivers.base import ConnectionLost, NoDeviceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamFormat:
    """What the camera delivers after negotiation."""

    width: int
    height: int
    fourcc: str
    fps: float


class FrameSource(Protocol):
    def open(self) -> StreamFormat:
        """Open the camera; raise ``NoDeviceError`` when there is none."""

    def read(self) -> np.ndarray | None:
        """Block until the next BGR frame; None for a failed read. Raise ``ConnectionLost`` when gone."""

    def close(self) -> None:
        """Release the camera; safe to call twice."""

    # Optional: ``probe() -> StreamFormat`` says whether the camera is there without opening
    # it (``NoDeviceError`` when not); a ``DocumentCamera`` in standby needs it.


def _fourcc_text(code: float) -> str:
    value = int(code)
    text = "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and value else ""


def probe_device(device: str) -> None:
    """Raise ``NoDeviceError`` when ``device`` names a V4L2 camera (a number or a /dev path) that is
    not there; a file or URL is taken on trust. Imports nothing heavy."""
    import os

    path = f"/dev/video{device}" if re.fullmatch(r"\d+", device) and sys.platform.startswith("linux") else device
    if path.startswith("/dev/") and not os.path.exists(path):
        raise NoDeviceError(f"no camera at {path}")


class OpenCVSource:
    """A camera (or video file/URL) read through ``cv2.VideoCapture``."""

    def __init__(self, device: str | int = 0, width: int = 1920, height: int = 1080, fourcc: str = "MJPG",
                 fps: int = 30):
        self.device = str(device)
        self.width, self.height, self.fourcc, self.fps = width, height, fourcc, fps
        self._cap = None

    def _target(self) -> tuple[str | int, int]:
        import cv2

        if re.fullmatch(r"\d+", self.device):
            backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
            return int(self.device), backend
        if self.device.startswith("/dev/"):
            return self.device, cv2.CAP_V4L2
        return self.device, cv2.CAP_ANY

    def probe(self) -> StreamFormat:
        """Is the camera there? (its device node exists) — without opening it or importing OpenCV.
        The format is the one asked for; ``open`` says what the camera really gives."""
        probe_device(self.device)
        return StreamFormat(self.width, self.height, self.fourcc, float(self.fps))

    def open(self) -> StreamFormat:
        import cv2

        target, backend = self._target()
        if isinstance(target, str) and target.startswith("/dev/"):
            import os

            if not os.path.exists(target):
                raise NoDeviceError(f"no camera at {target}")
        cap = cv2.VideoCapture(target, backend)
        if not cap.isOpened():
            cap.release()
            raise NoDeviceError(f"no camera at {self.device}")
        live = backend == getattr(cv2, "CAP_V4L2", -1)
        if live:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.fourcc))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
            # one buffered frame: the preview shows now, not a queue of the past
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap = cap
        fmt = StreamFormat(int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                           _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)) or self.fourcc,
                           float(cap.get(cv2.CAP_PROP_FPS) or self.fps))
        if live and (fmt.width, fmt.height) != (self.width, self.height):
            log.warning("camera offers another size", extra={"fields": {
                "asked": f"{self.width}x{self.height}", "got": f"{fmt.width}x{fmt.height}", "fourcc": fmt.fourcc}})
        return fmt

    def read(self) -> np.ndarray | None:
        cap = self._cap
        if cap is None:
            raise ConnectionLost("camera is closed")
        ok, frame = cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            import cv2

            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return frame

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
