"""Make a captured page look scanned: shadows gone, paper white, text dark, stamps red and
photos intact.

Modes:
- ``none``: unchanged;
- ``color``: uneven lighting removed (each channel divided by its estimated paper
  brightness), contrast stretched, colours kept;
- ``scan``: ``color`` plus paper pushed to white and text deepened — the clean look of a
  flatbed scan. Stamps keep their colour because the division works per channel;
- ``gray``: ``scan`` in grey.

The paper brightness is estimated by a max filter (which removes text strokes) and a median
on a quarter-size copy. A photo or a large dark block is bigger than that filter, so
division would wash it out: such regions (dense ink over a large area) are found and get
only the page's global white balance, which keeps faces and pictures readable.
"""
from __future__ import annotations

import cv2
import numpy as np

MODES = ("none", "color", "scan", "gray")


def _background(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(paper brightness per pixel and channel at full size, photo-likeness 0..1 at full size,
    the paper's overall white per channel)."""
    h, w = image.shape[:2]
    factor = 4
    small = cv2.resize(image, (max(8, w // factor), max(8, h // factor)), interpolation=cv2.INTER_AREA)
    k = max(5, (min(small.shape[:2]) // 40) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    bg = cv2.dilate(small, kernel)
    bg = cv2.medianBlur(bg, min(255, (k * 2) | 1) if k * 2 < 255 else 255)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    bg_grey = cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY).astype(np.float32)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    ink = ((grey < 0.8 * bg_grey) | (hsv[..., 1] > 70)).astype(np.float32)
    density = cv2.blur(ink, (k * 2 + 1, k * 2 + 1))
    photo = (density > 0.55).astype(np.uint8)
    photo = cv2.morphologyEx(photo, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    # A large dark region with a sharp rim is a picture (its flat parts escape the ink test);
    # a shadow is as dark but its rim is soft.
    paper_grey = float(np.percentile(bg_grey, 90))
    dark = (bg_grey < 0.85 * paper_grey).astype(np.uint8)
    gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    regions, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    for region in regions:
        if cv2.contourArea(region) < (2 * k) ** 2:
            continue
        rim = region.reshape(-1, 2)
        x0, y0, bw, bh = cv2.boundingRect(region)
        if x0 <= 1 or y0 <= 1 or x0 + bw >= dark.shape[1] - 1 or y0 + bh >= dark.shape[0] - 1:
            continue  # reaches the page's edge: a shadow falling across the page, not a picture on it
        inner = np.zeros((bh, bw), np.uint8)
        cv2.drawContours(inner, [region - [x0, y0]], -1, 1, thickness=-1)
        # the sharpest stretch of the rim: sample the gradient just inside the region's outline
        strength = cv2.dilate(gradient, np.ones((k, k), np.uint8))[rim[:, 1], rim[:, 0]]
        if float(np.median(strength)) > 60:
            photo[y0:y0 + bh, x0:x0 + bw] |= inner
    outlines, _ = cv2.findContours(photo, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(photo, outlines, -1, 1, thickness=-1)  # a bright face inside a photo is still photo
    photo = cv2.dilate(photo, np.ones((k, k), np.uint8))  # the open above ate the rim
    photo_soft = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 2)
    bg_full = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    photo_full = cv2.resize(photo_soft, (w, h), interpolation=cv2.INTER_LINEAR)
    paper_white = np.percentile(bg.reshape(-1, 3), 90, axis=0).astype(np.float32)
    return bg_full, photo_full, paper_white


def enhance(image: np.ndarray, mode: str = "scan") -> np.ndarray:
    if mode not in MODES:
        raise ValueError(f"enhance mode must be one of {', '.join(MODES)}")
    if mode == "none":
        return image
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    bg, photo, paper_white = _background(image)
    # uint8 arithmetic and lookup tables: a 200-dpi A4 page is 11 million samples
    flat = cv2.divide(image, np.maximum(bg, 1), scale=255.0)
    levels = np.arange(256, dtype=np.float32)
    if mode == "color":
        low = float(np.percentile(flat[::8, ::8], 1))
        table = (levels - low) * (255.0 / max(255.0 - low, 1.0))
    else:
        white, black = 235.0, 40.0
        table = np.clip((levels - black) / (white - black), 0, 1) ** 1.2 * 255.0  # paper white, text deeper
    out = cv2.LUT(flat, np.clip(table, 0, 255).astype(np.uint8))
    ys, xs = np.nonzero(photo > 0.01)
    if len(ys):
        # photos: the page's global white balance only, blended in softly
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        gains = (255.0 / np.maximum(paper_white, 1.0)).astype(np.float32)
        region = image[y0:y1, x0:x1].astype(np.float32) * gains
        alpha = photo[y0:y1, x0:x1, None]
        mixed = out[y0:y1, x0:x1].astype(np.float32) * (1 - alpha) + region * alpha
        out[y0:y1, x0:x1] = np.clip(mixed, 0, 255).astype(np.uint8)
    if mode == "gray":
        return cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    return out
