"""Load a picture from a file for the vision commands, with readable failures.

Files are decoded from their bytes (so any path works), the size is checked from the header
before the pixels are decoded (a 40000×40000 PNG would need gigabytes), and anything that is
not a picture becomes ``ImageLoadError`` with one line a person can act on.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MAX_PIXELS = 60_000_000


class ImageLoadError(Exception):
    pass


def load_image(path: Path | str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data:
        raise ImageLoadError(f"{path}: the file is empty")
    try:
        from PIL import Image

        with Image.open(path) as header:
            width, height = header.size
        if width * height > max_pixels:
            raise ImageLoadError(f"{path}: {width}×{height} is too large (at most {max_pixels // 1_000_000} MP)")
    except ImageLoadError:
        raise
    except Exception:
        pass  # Pillow does not know it; OpenCV may still
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageLoadError(f"{path}: not a picture OpenCV can read (JPEG, PNG, BMP, TIFF, WebP…)")
    return image
