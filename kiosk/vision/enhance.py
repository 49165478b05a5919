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
division would wash it out: such regions (dense ink over a large area, or an upright
rectangle with sharp edges that is mostly dark inside — a portrait) are found and get only
the page's global white balance, which keeps faces and pictures readable.
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
    # A printed photo is a rectangle with sharp edges (ID-card and form portraits): its flat
    # parts escape the ink test above, so find such rectangles outright. A shadow is as dark
    # but its edges are soft and it is no rectangle.
    edges = cv2.dilate(cv2.Canny(cv2.GaussianBlur(grey.astype(np.uint8), (3, 3), 0), 40, 120),
                       np.ones((3, 3), np.uint8))
    page_area = float(grey.shape[0] * grey.shape[1])
    shapes, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for shape in shapes:
        x0, y0, bw, bh = cv2.boundingRect(shape)
        if not 0.01 * page_area <= bw * bh <= 0.45 * page_area or min(bw, bh) < 6:
            continue
        if cv2.contourArea(cv2.convexHull(shape)) < 0.85 * bw * bh:
            continue  # not a rectangle standing upright on the page
        inside = grey[y0 + 2:y0 + bh - 2, x0 + 2:x0 + bw - 2]
        # compared with the paper just around it (a shadow darkens both alike)
        m = max(3, int(0.15 * min(bw, bh)))
        ya, yb, xa, xb = max(0, y0 - m), min(grey.shape[0], y0 + bh + m), max(0, x0 - m), min(grey.shape[1], x0 + bw + m)
        ring = grey[ya:yb, xa:xb].copy()
        ring[y0 - ya:y0 - ya + bh, x0 - xa:x0 - xa + bw] = np.nan
        ring = ring[np.isfinite(ring)]
        if not inside.size or ring.size < 10:
            continue
        surround = float(np.percentile(ring, 75))
        if float(np.mean(inside < 0.7 * surround)) > 0.5:
            photo[y0:y0 + bh, x0:x0 + bw] = 1
    outlines, _ = cv2.findContours(photo, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    photo[:] = 0
    paper_level = float(np.percentile(bg_grey, 90))
    full_grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    for outline in outlines:
        if _looks_like_text(full_grey, bg_grey, outline, factor, paper_level):
            continue  # at quarter size dense text turns into grey blocks; at full size it is mostly paper
        cv2.drawContours(photo, [outline], -1, 1, thickness=-1)  # a bright face inside a photo is still photo
    photo = cv2.dilate(photo, np.ones((k, k), np.uint8))  # the open above ate the rim
    photo_soft = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), 2)
    bg_full = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    photo_full = cv2.resize(photo_soft, (w, h), interpolation=cv2.INTER_LINEAR)
    paper_white = np.percentile(bg.reshape(-1, 3), 90, axis=0).astype(np.float32)
    return bg_full, photo_full, paper_white


def _looks_like_text(full_grey: np.ndarray, bg_grey: np.ndarray, outline: np.ndarray, factor: int,
                     paper: float) -> bool:
    """True when a region found at quarter size is, at full size, mostly paper between strokes
    (dense text turns into grey blocks at quarter size). Paper is what is as bright as the
    local paper level, where that level is paper in light or shadow — not a photo's own
    flat background."""
    x0, y0, bw, bh = cv2.boundingRect(outline)
    region = full_grey[y0 * factor:(y0 + bh) * factor, x0 * factor:(x0 + bw) * factor].astype(np.float32)
    if region.size == 0:
        return True
    local = cv2.resize(bg_grey[y0:y0 + bh, x0:x0 + bw], (region.shape[1], region.shape[0]),
                       interpolation=cv2.INTER_LINEAR)
    paperish = (region >= 0.85 * local) & (local >= 0.55 * paper)
    return float(np.mean(paperish)) > 0.45


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
