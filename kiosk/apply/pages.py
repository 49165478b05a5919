"""Captured pages and signed commitments as files in the session's scratch folder.

Each page is written once as the JPEG that will be uploaded, plus a small preview for the
screen (at most ``PREVIEW_PIXELS`` on its longer side). File names are unique, so a retaken
page never shows a stale picture from an image cache. Everything lives in the session's
private folder, which ``Session.end`` overwrites and removes; ``discard`` removes a page at once
(a retake, or a declined consent).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.vision.output import write_atomic

PREVIEW_PIXELS = 480


@dataclass(frozen=True)
class PageFile:
    path: Path  # the page as uploaded (JPEG)
    preview: Path  # a small JPEG for the screen
    size: int  # bytes of ``path``
    width: int
    height: int


def write_page(folder: Path, stem: str, data: bytes) -> PageFile:
    """Store one page's JPEG bytes and its preview under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{stem}-{uuid.uuid4().hex[:8]}"
    path = write_atomic(folder / f"{name}.jpg", data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("the page is not a readable JPEG")
    height, width = image.shape[:2]
    scale = min(1.0, PREVIEW_PIXELS / max(height, width))
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1.0 else image
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    preview = write_atomic(folder / f"{name}-preview.jpg", encoded.tobytes())
    return PageFile(path, preview, len(data), width, height)


def discard(page: PageFile) -> None:
    """Overwrite and delete a page's files now."""
    for path in (page.path, page.preview):
        try:
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(b"\0" * size)
            path.unlink()
        except OSError:
            pass
