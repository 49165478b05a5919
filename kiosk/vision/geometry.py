"""Quadrilateral helpers: corner order TL, TR, BR, BL, areas, IoU, sanity checks."""
from __future__ import annotations

import math

import cv2
import numpy as np


def order_corners(points) -> np.ndarray:
    """Order four points as top-left, top-right, bottom-right, bottom-left (image coordinates, y down).

    Points are sorted clockwise around their centroid; of the four sides, the one that runs
    left to right closest to level is the top side (for any page turned less than 45°, and
    for long thin pages too, where "the highest side" would pick a short side). Works for
    shuffled or mirrored input. Raises ValueError for anything that is not four distinct points.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if pts.shape != (4, 2) or not np.all(np.isfinite(pts)):
        raise ValueError("expected four (x, y) points")
    if min(np.linalg.norm(pts[i] - pts[j]) for i in range(4) for j in range(i + 1, 4)) < 1e-6:
        raise ValueError("corners must be distinct")
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    clockwise = pts[np.argsort(angles, kind="stable")]  # with y down, increasing angle is clockwise
    top_scores = []
    for i in range(4):
        a, b = clockwise[i], clockwise[(i + 1) % 4]
        # the top side runs left to right, closest to level; on a tie (45°) the higher one
        top_scores.append((round(abs(math.atan2(b[1] - a[1], b[0] - a[0])), 9), (a[1] + b[1]) / 2))
    start = min(range(4), key=lambda i: top_scores[i])
    return np.roll(clockwise, -start, axis=0).astype(np.float32)


def polygon_area(quad) -> float:
    return float(abs(cv2.contourArea(np.asarray(quad, np.float32).reshape(-1, 1, 2))))


def quad_iou(a, b) -> float:
    """Intersection over union of two convex quads (0 when either is degenerate)."""
    pa = np.asarray(a, np.float32).reshape(-1, 2)
    pb = np.asarray(b, np.float32).reshape(-1, 2)
    area_a, area_b = polygon_area(pa), polygon_area(pb)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    pa = cv2.convexHull(pa).reshape(-1, 2)
    pb = cv2.convexHull(pb).reshape(-1, 2)
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def is_convex(quad) -> bool:
    pts = np.asarray(quad, np.float64).reshape(4, 2)
    signs = []
    for i in range(4):
        a, b, c = pts[i], pts[(i + 1) % 4], pts[(i + 2) % 4]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        signs.append(cross)
    return all(s > 0 for s in signs) or all(s < 0 for s in signs)


def interior_angles(quad) -> list[float]:
    pts = np.asarray(quad, np.float64).reshape(4, 2)
    angles = []
    for i in range(4):
        prev, here, nxt = pts[i - 1], pts[i], pts[(i + 1) % 4]
        u, v = prev - here, nxt - here
        cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12))
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    return angles


def side_lengths(quad) -> list[float]:
    pts = np.asarray(quad, np.float64).reshape(4, 2)
    return [float(np.linalg.norm(pts[(i + 1) % 4] - pts[i])) for i in range(4)]


def line_intersection(p1, p2, p3, p4) -> np.ndarray | None:
    """Where the line through p1,p2 meets the line through p3,p4 (None when parallel)."""
    x1, y1 = p1
    x2, y2 = p2
    x3, y3 = p3
    x4, y4 = p4
    den = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if abs(den) < 1e-9:
        return None
    a = x1 * y2 - y1 * x2
    b = x3 * y4 - y3 * x4
    return np.array([(a * (x3 - x4) - (x1 - x2) * b) / den, (a * (y3 - y4) - (y1 - y2) * b) / den])
