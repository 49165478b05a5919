"""Write captured pages as JPEG and PDF files at a given DPI and under a size cap.

Files are written next to their final name and renamed into place, so a half-written file
never appears. When a file comes out larger than the cap, the JPEG quality is lowered in
steps down to 50, and then the picture is scaled down (its DPI tag lowered with it, so the
printed size stays right) until it fits. PDFs are written with Pillow: each page is a JPEG
image on a page of the picture's physical size.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MIN_QUALITY = 50


class OutputError(Exception):
    """A page that cannot be written to fit (cap far too small, disk full…)."""


def _pil(image: np.ndarray) -> Image.Image:
    if image.ndim == 2:
        return Image.fromarray(image, "L")
    return Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), "RGB")


def _fit(render, images: list[Image.Image], dpi: int, quality: int, max_bytes: int) -> tuple[bytes, int, float]:
    """Try quality steps, then scales, until ``render`` fits ``max_bytes``: (data, quality, scale)."""
    qualities = [quality] + [q for q in range(quality - 10, MIN_QUALITY - 1, -10) if q < quality]
    if qualities[-1] != MIN_QUALITY and quality > MIN_QUALITY:
        qualities.append(MIN_QUALITY)
    scale = 1.0
    for _ in range(12):
        scaled = images if scale == 1.0 else [
            im.resize((max(16, round(im.width * scale)), max(16, round(im.height * scale))), Image.LANCZOS)
            for im in images]
        for q in qualities if scale == 1.0 else [MIN_QUALITY]:
            data = render(scaled, q, dpi * scale)
            if len(data) <= max_bytes:
                return data, q, scale
        scale *= 0.8
    raise OutputError(f"cannot fit the page into {max_bytes // 1024} KB")


def _render_jpeg(images: list[Image.Image], quality: int, dpi: float) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "JPEG", quality=quality, optimize=True, dpi=(round(dpi), round(dpi)))
    return buffer.getvalue()


def _render_pdf(images: list[Image.Image], quality: int, dpi: float) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi),
                   quality=quality, title="河易办 材料", producer="heyiban-kiosk")
    return buffer.getvalue()


def encode_jpeg(image: np.ndarray, dpi: int = 200, quality: int = 85, max_bytes: int = 1 << 20) -> bytes:
    data, _, _ = _fit(_render_jpeg, [_pil(image)], dpi, quality, max_bytes)
    return data


def encode_pdf(pages: list[np.ndarray], dpi: int = 200, quality: int = 85, max_bytes: int = 4 << 20) -> bytes:
    if not pages:
        raise OutputError("a PDF needs at least one page")
    data, _, _ = _fit(_render_pdf, [_pil(p) for p in pages], dpi, quality, max_bytes)
    return data


def write_atomic(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".part-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return path
