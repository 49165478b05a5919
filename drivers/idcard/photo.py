"""The card photo: raw WLT bytes, a decoder plug-in point, and a neutral silhouette.

The 1024-byte WLT photo on a second-generation card is compressed in a format with no open
decoder. The kiosk keeps the raw bytes and shows a neutral silhouette unless a decoder is
installed, either from Python (``set_photo_decoder(fn)``) or by a package that declares an
entry point in the group ``heyiban.wlt_decoder`` (a callable ``bytes -> PNG bytes``). A
decoder that fails falls back to the silhouette; the failure is logged without the photo.
"""
from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Callable

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "heyiban.wlt_decoder"
PHOTO_SIZE = (102, 126)  # pixels of the card photo

PhotoDecoder = Callable[[bytes], bytes]

_lock = threading.Lock()
_decoder: PhotoDecoder | None = None
_entry_points_loaded = False


@dataclass(frozen=True, repr=False)
class Photo:
    png: bytes
    decoded: bool  # False: the silhouette is shown

    def __repr__(self) -> str:
        return f"Photo(decoded={self.decoded}, {len(self.png)} bytes)"


def set_photo_decoder(decoder: PhotoDecoder | None) -> None:
    """Install (or with None remove) the WLT decoder used by ``photo_for``."""
    global _decoder, _entry_points_loaded
    with _lock:
        _decoder = decoder
        _entry_points_loaded = True  # an explicit choice wins over entry points


def _find_decoder() -> PhotoDecoder | None:
    global _decoder, _entry_points_loaded
    with _lock:
        if not _entry_points_loaded:
            _entry_points_loaded = True
            for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
                try:
                    _decoder = entry.load()
                    log.info("WLT photo decoder loaded", extra={"fields": {"entry_point": entry.name}})
                    break
                except Exception:
                    log.exception("WLT photo decoder failed to load", extra={"fields": {"entry_point": entry.name}})
        return _decoder


def photo_for(wlt: bytes) -> Photo:
    """A PNG to show for the card's photo: decoded where a decoder exists, else the silhouette."""
    decoder = _find_decoder()
    if decoder is not None and wlt:
        try:
            png = decoder(bytes(wlt))
            if isinstance(png, (bytes, bytearray)) and png.startswith(b"\x89PNG"):
                return Photo(bytes(png), True)
            log.warning("WLT photo decoder returned something that is not a PNG")
        except Exception as exc:  # a plug-in must not take the reader down
            log.warning("WLT photo decoder failed", extra={"fields": {"error": type(exc).__name__}})
    return Photo(silhouette_png(), False)


@lru_cache(maxsize=4)
def silhouette_png(width: int = PHOTO_SIZE[0], height: int = PHOTO_SIZE[1]) -> bytes:
    """A neutral grey head-and-shoulders outline on a light background, as PNG."""
    from PIL import Image, ImageDraw

    scale = 4  # draw large, then shrink: smooth edges
    w, h = width * scale, height * scale
    image = Image.new("RGB", (w, h), (236, 239, 242))
    draw = ImageDraw.Draw(image)
    figure = (176, 184, 194)
    head_r = int(w * 0.22)
    cx, cy = w // 2, int(h * 0.38)
    draw.ellipse((cx - head_r, cy - int(head_r * 1.15), cx + head_r, cy + int(head_r * 1.15)), fill=figure)
    shoulders_top = int(h * 0.66)
    draw.ellipse((int(w * 0.08), shoulders_top, int(w * 0.92), shoulders_top + int(h * 0.62)), fill=figure)
    image = image.resize((width, height), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
