"""Capturing one material (材料): pages taken automatically when the outline holds still or by
hand at any time, several pages, retake, and the files that result.

``MaterialCapture.observe(frame, detection)`` is fed the live detections (see
``kiosk.vision.live``) and answers with a ``Hint`` for the screen: *searching* (no page),
*hold_still* (a page, with progress towards the steady time), *ready* (capture now — given
once), *captured* (waiting for the next page), *replace* (a page that was there before this
material was asked for: see ``wait_for_new_page``) or *full*. After a capture, auto-capture waits
until the page is taken away, moved or replaced by another page (its picture changes), so
the same page is never taken twice. ``capture(frame)`` works with or without an outline and
does the heavy work (detection at full resolution, perspective correction, deskew,
enhancement); run it off the UI thread. ``save(folder, stem)`` writes one JPEG per page and
one PDF for the material.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from kiosk.vision.detect import Detection, detect_document
from kiosk.vision.enhance import enhance
from kiosk.vision.output import encode_jpeg, encode_pdf, write_atomic
from kiosk.vision.rectify import deskew, rectify

log = logging.getLogger(__name__)


class CaptureError(Exception):
    """Something the resident or the screen must handle (too many pages, no page to retake…)."""


@dataclass(frozen=True)
class CaptureOptions:
    aspect: str = "auto"
    dpi: int = 200
    jpeg_quality: int = 85
    max_file_kb: int = 1024
    enhance: str = "scan"
    steady_seconds: float = 1.0
    max_pages: int = 10

    @classmethod
    def from_settings(cls, camera, aspect: str = "auto", max_pages: int = 10) -> "CaptureOptions":
        """From a ``kiosk.config.CameraSettings`` section."""
        return cls(aspect, camera.output_dpi, camera.jpeg_quality, camera.max_file_kb, camera.enhance,
                   camera.steady_seconds, max_pages)


@dataclass
class Page:
    image: np.ndarray  # the finished page (BGR, or grey for the gray look)
    corners: list[list[float]] | None  # the outline in the captured frame; None: taken without one
    auto: bool
    deskew_degrees: float = 0.0


@dataclass(frozen=True)
class Hint:
    state: str  # searching | hold_still | ready | captured | full
    progress: float = 0.0  # 0..1 towards an automatic capture
    corners: np.ndarray | None = None


@dataclass
class SavedMaterial:
    jpegs: list[Path] = field(default_factory=list)
    pdf: Path | None = None


def _thumb(image: np.ndarray, corners) -> np.ndarray | None:
    if corners is None:
        return None
    target = np.float32([[0, 0], [35, 0], [35, 47], [0, 47]])
    matrix = cv2.getPerspectiveTransform(np.asarray(corners, np.float32), target)
    small = cv2.warpPerspective(image, matrix, (36, 48), flags=cv2.INTER_AREA)
    grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return cv2.GaussianBlur(grey, (3, 3), 0).astype(np.float32)


class MaterialCapture:
    STEADY_TOLERANCE = 0.015  # corners within 1.5 % of the frame diagonal count as still
    GONE_SECONDS = 0.4  # a page missing this long has been taken away
    CHANGED_LEVELS = 18.0  # mean grey difference of the page thumbnails: another page

    def __init__(self, options: CaptureOptions = CaptureOptions(), clock: Callable[[], float] = time.monotonic):
        self.options = options
        self._clock = clock
        self.pages: list[Page] = []
        self._retake_index: int | None = None
        self._history: deque[tuple[float, np.ndarray]] = deque()
        self._last_seen = 0.0
        self._armed = True
        self._fired = False
        self._captured_thumb: np.ndarray | None = None
        self._captured_corners: np.ndarray | None = None
        self._reference_pending = False

    def wait_for_new_page(self, previous: "MaterialCapture | None" = None, in_view: bool = True) -> None:
        """No automatic capture of the page in view now (it may be the previous material still
        lying there): only once it is taken away, moved or replaced. The capture button works.

        ``in_view`` False: the camera shows nothing yet (it waits in standby and starts now), so
        what lies there is known only from ``previous``, the capture that took the last page:
        that page, where it was, is the one to see replaced; without one, the first page seen
        was laid down after the request and is taken as it steadies."""
        self._fired = False
        self._history.clear()
        self._captured_thumb = self._captured_corners = None
        if in_view:
            self._armed, self._reference_pending = False, True
        elif previous is not None and previous._captured_corners is not None:
            self._armed, self._reference_pending = False, False
            self._captured_corners, self._captured_thumb = previous._captured_corners, previous._captured_thumb
        else:
            self._armed, self._reference_pending = True, False

    # -- live ------------------------------------------------------------------------------
    def observe(self, frame: np.ndarray, detection: Detection | None) -> Hint:
        now = self._clock()
        if self.full and self._retake_index is None:
            return Hint("full", 0.0, None if detection is None else detection.corners)
        if detection is None:
            self._history.clear()
            self._fired = False
            if now - self._last_seen >= self.GONE_SECONDS:
                self._armed = True
                self._reference_pending = False
            return Hint("searching")
        h, w = frame.shape[:2]
        diagonal = float(np.hypot(w, h))
        corners = np.asarray(detection.corners, np.float32)
        self._last_seen = now
        if self._reference_pending:  # the page lying there when this material was asked for
            self._reference_pending = False
            self._captured_corners = corners
            self._captured_thumb = _thumb(frame, corners)
            return Hint("replace", 0.0, corners)
        if not self._armed:
            moved = self._captured_corners is not None and float(
                np.max(np.linalg.norm(corners - self._captured_corners, axis=1))) > 0.08 * diagonal
            thumb = _thumb(frame, corners)
            changed = (thumb is not None and self._captured_thumb is not None
                       and float(np.mean(np.abs(thumb - self._captured_thumb))) > self.CHANGED_LEVELS)
            if moved or changed:
                self._armed = True
                self._history.clear()
            else:
                return Hint("replace" if not self.pages else "captured", 1.0, corners)
        self._history.append((now, corners))
        while self._history and np.max(np.linalg.norm(self._history[0][1] - corners, axis=1)) > \
                self.STEADY_TOLERANCE * diagonal:
            self._history.popleft()
        steady_for = now - self._history[0][0]
        wanted = self.options.steady_seconds
        if wanted <= 0:  # auto-capture off: show the outline, wait for the button
            return Hint("hold_still", 0.0, corners)
        progress = min(1.0, steady_for / wanted)
        if progress >= 1.0 and not self._fired:
            self._fired = True
            return Hint("ready", 1.0, corners)
        return Hint("hold_still", progress, corners)

    # -- pages -----------------------------------------------------------------------------
    @property
    def full(self) -> bool:
        return len(self.pages) >= self.options.max_pages

    def capture(self, frame: np.ndarray, detection: Detection | None = None, *, auto: bool = False) -> Page:
        """Straighten and clean up the page in ``frame`` and add it (or put it in place of the
        page being retaken). ``detection`` (from a preview frame) is used when the full-size
        frame yields no outline of its own; without either, the whole frame is the page."""
        if self.full and self._retake_index is None:
            raise CaptureError(f"this material already has {self.options.max_pages} pages")
        found = detect_document(frame, coloured_cards=self.options.aspect == "id_card")
        corners = None
        if found is not None:
            corners = found.corners
        elif detection is not None:
            corners = np.asarray(detection.corners, np.float32)
        if corners is not None:
            page = rectify(frame, corners, self.options.aspect, self.options.dpi)
        else:
            page = frame.copy()
        page, angle = deskew(page)
        page = enhance(page, self.options.enhance)
        result = Page(page, None if corners is None else [[float(x), float(y)] for x, y in corners], auto, angle)
        if self._retake_index is not None:
            self.pages[self._retake_index] = result
            self._retake_index = None
        else:
            self.pages.append(result)
        self._armed = False
        self._fired = False
        self._history.clear()
        self._captured_corners = None if corners is None else np.asarray(corners, np.float32)
        self._captured_thumb = _thumb(frame, corners)
        log.info("page captured", extra={"fields": {"pages": len(self.pages), "auto": auto,
                                                    "outline": corners is not None}})
        return result

    def retake(self, index: int) -> None:
        """The next capture replaces page ``index`` (0-based)."""
        if not 0 <= index < len(self.pages):
            raise CaptureError(f"there is no page {index + 1} to retake")
        self._retake_index = index
        self._armed = True
        self._fired = False

    @property
    def retaking(self) -> int | None:
        return self._retake_index

    def remove(self, index: int) -> None:
        if not 0 <= index < len(self.pages):
            raise CaptureError(f"there is no page {index + 1}")
        del self.pages[index]
        if self._retake_index is not None:
            self._retake_index = None

    def clear(self) -> None:
        self.pages.clear()
        self._retake_index = None
        self._armed = True

    # -- files -----------------------------------------------------------------------------
    def save(self, folder: Path | str, stem: str, *, jpeg: bool = True, pdf: bool = True) -> SavedMaterial:
        if not self.pages:
            raise CaptureError("no pages captured yet")
        folder = Path(folder)
        cap = self.options.max_file_kb * 1024
        saved = SavedMaterial()
        if jpeg:
            for number, page in enumerate(self.pages, start=1):
                data = encode_jpeg(page.image, self.options.dpi, self.options.jpeg_quality, cap)
                saved.jpegs.append(write_atomic(folder / f"{stem}-{number:02d}.jpg", data))
        if pdf:
            data = encode_pdf([p.image for p in self.pages], self.options.dpi, self.options.jpeg_quality, cap)
            saved.pdf = write_atomic(folder / f"{stem}.pdf", data)
        return saved
