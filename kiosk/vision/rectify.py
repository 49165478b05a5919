"""Perspective correction of a detected page to its real proportions, and deskew.

``rectify(image, corners, aspect, dpi)`` maps the quad TL, TR, BR, BL onto an upright
rectangle. The aspect is ``"a4"`` (210×297 mm), ``"id_card"`` (85.6×54 mm), ``"free"`` (the
page's own proportions, estimated from its sides) or ``"auto"`` (the nearer of A4 and ID card when the
estimate is within 12 % of it, else free). A4 and ID card come out at their
physical size at ``dpi``; a free page keeps the pixels the camera saw.

``deskew(image)`` turns a page by up to ±5° so that its text lines run level (projection
profile search); it is for pages captured without a clean outline and for the last degree
after rectification.
"""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.vision.geometry import order_corners, side_lengths

MM_PER_INCH = 25.4
PAPER_MM = {"a4": (210.0, 297.0), "id_card": (85.6, 54.0)}  # (width, height) as usually held
ASPECTS = ("auto", "a4", "id_card", "free")
SNAP_TOLERANCE = 0.12


def estimate_aspect(corners) -> float:
    """Height / width of the real page, from the mean lengths of opposite sides."""
    top, right, bottom, left = side_lengths(order_corners(corners))
    width = (top + bottom) / 2
    height = (left + right) / 2
    if width <= 0:
        raise ValueError("degenerate quad")
    return height / width


def resolve_aspect(corners, aspect: str) -> tuple[str, float]:
    """(the paper kind used, height/width of the output) for a requested aspect mode."""
    if aspect not in ASPECTS:
        raise ValueError(f"aspect must be one of {', '.join(ASPECTS)}")
    seen = estimate_aspect(corners)
    portrait = seen >= 1.0
    if aspect == "auto":
        matches = []
        for kind in ("a4", "id_card"):
            w, h = PAPER_MM[kind]
            target = max(w, h) / min(w, h) if portrait else min(w, h) / max(w, h)
            matches.append((abs(seen - target) / target, kind, target))
        error, kind, target = min(matches)
        return (kind, target) if error <= SNAP_TOLERANCE else ("free", seen)
    if aspect == "free":
        return "free", seen
    w, h = PAPER_MM[aspect]
    return aspect, (max(w, h) / min(w, h) if portrait else min(w, h) / max(w, h))


def output_size(corners, aspect: str, dpi: int) -> tuple[str, int, int]:
    kind, ratio = resolve_aspect(corners, aspect)
    if kind == "free":
        top, right, bottom, left = side_lengths(order_corners(corners))
        width = max(top, bottom)
        return kind, max(16, round(width)), max(16, round(width * ratio))
    w_mm, h_mm = sorted(PAPER_MM[kind])  # short side, long side
    if ratio < 1:
        w_mm, h_mm = h_mm, w_mm
    return kind, round(w_mm / MM_PER_INCH * dpi), round(h_mm / MM_PER_INCH * dpi)


def rectify(image: np.ndarray, corners, aspect: str = "auto", dpi: int = 200) -> np.ndarray:
    """The page inside ``corners`` as an upright rectangle (same channels as ``image``)."""
    quad = order_corners(corners)
    _, width, height = output_size(quad, aspect, dpi)
    # a hair of overscan: the desk's last pixels along a detected edge would show as a dark rim
    m = 0.004 * max(width, height)
    target = np.array([[-m, -m], [width - 1 + m, -m], [width - 1 + m, height - 1 + m], [-m, height - 1 + m]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def skew_angle(image: np.ndarray, max_degrees: float = 5.0) -> float:
    """The angle (degrees, counter-clockwise positive) by which the text lines are turned."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    scale = min(1.0, 600 / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    if cv2.countNonZero(ink) < 0.002 * ink.size:
        return 0.0
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        rot = cv2.getRotationMatrix2D(centre, angle, 1.0)
        turned = cv2.warpAffine(ink, rot, (w, h), flags=cv2.INTER_NEAREST)
        rows = turned.sum(axis=1, dtype=np.float64)
        return float(np.var(rows))

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    scores = [sharpness(a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    fine_scores = [sharpness(a) for a in fine]
    best_fine = float(fine[int(np.argmax(fine_scores))])
    level = sharpness(0.0)
    if max(fine_scores) < level * 1.05:  # no clear improvement: text is level already
        return 0.0
    return -best_fine


def deskew(image: np.ndarray, max_degrees: float = 5.0, min_degrees: float = 0.3) -> tuple[np.ndarray, float]:
    """``image`` turned so that its text runs level, and the angle it was off by."""
    angle = skew_angle(image, max_degrees)
    if abs(angle) < min_degrees:
        return image, 0.0
    h, w = image.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    # keep the page's size: the thin wedges at the corners are filled from the edge
    turned = cv2.warpAffine(image, rot, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return turned, angle
