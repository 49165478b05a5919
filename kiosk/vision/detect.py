"""Find the page in a camera frame: its four corners (TL, TR, BR, BL) or None.

The search runs on a copy about 640 px on its long side and stops at the first stage that
yields a convincing outline:

1. colour Canny edges → contours → convex hull → quadrilateral;
2. "paper" segmentation (bright, unsaturated: V − S, Otsu) — finds pages whose border is
   broken by glare or blur, and leaves a resident's hand (saturated skin) out of the page;
3. low-contrast fallback: CLAHE-equalised lightness with low Canny thresholds, for a white
   page on a pale desk;
4. straight lines (probabilistic Hough), when nothing convincing came before: two pairs of
   roughly parallel long lines meet in a quadrilateral — finds a page whose outline a hard
   shadow or an object has cut, so that no contour follows it.

A hull that is not a clean quadrilateral (a hand over a corner, a folded corner) is fitted
from its four longest sides, whose intersections restore the hidden corner. Each candidate
is refined by robust line fits to the edge pixels along its sides and judged on

- *edge support*: the share of points along each side where the picture steps in
  brightness or colour across it (every side must be supported), with no long stretch of
  a side unsupported (``MAX_SIDE_GAP``: a side that crosses the desk between two objects);
- *aspect*: its long/short side ratio against the known page kinds — A4 (1.414) and the
  ID-1 card (1.586), with room for A5, B5 and booklet pages and for perspective (1.22–1.85
  accepted: the generated pages in up to 6 % perspective measure 1.23 and up; a squarish
  object, such as two things side by side, is no page);
- *rectangularity*: how much of the quadrilateral the contour it came from fills;
- *paper*: what is inside looks like paper or a card — bright and unsaturated, brighter
  than the ring just outside (a phone, a book cover or a bank card is saturated; half
  paleness and half brightness must reach ``MIN_PAPER``: a framed photo or a dull notebook
  does not), with a near-neutral ground (median saturation at most ``MAX_GROUND_SATURATION``:
  a pale-coloured book or a patch of a coloured desk is tinted all over), not a third strongly
  coloured (``MAX_COLOURED_SHARE``: a book lying on a
  slip), with a margin (the strip just inside the outline) that is pale and not clearly
  darker than the inside (a phone's black bezel or a picture's frame is) — and carries
  content: ink, lines or a photo make edges inside (a blank notebook or a phone's screen
  does not);
- its angles: a page seen from above has corners within ``MAX_CORNER_DEVIATION`` (28°) of a
  right angle (a quad across two things or a slip cut diagonally has not), opposite sides
  within ``MAX_KEYSTONE`` of each other (the hull of two overlapping slips is a trapezoid),
  and that it does not run along the frame's border; a candidate longer than any page kind
  (``SLANT_ASPECT``) must be seen at a slant, with converging sides (a short receipt slip
  lying flat is not);
- its corners: a page's edges end there. Where the edges on both sides of a side go on past
  its ends, with the same surface between them (``MAX_RUN_ON``), the side is a line across a
  longer object — a receipt slip cut at one of its print lines.

The candidate with the best combined score wins; the area counts only a little, so a
small page beats a large coloured notebook beside it. Nothing convincing → None (the
caller asks for a manual capture; it never guesses).
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.geometry import (interior_angles, is_convex, line_intersection, order_corners, polygon_area,
                                   side_lengths)

log = logging.getLogger(__name__)

WORK_SIZE = 640
MIN_AREA_FRACTION = 0.03  # a page of 3 % of the frame (a card beside other things) still counts
MIN_SUPPORT = 0.62  # mean share of supported points over the four sides
MIN_SIDE_SUPPORT = 0.35
GOOD_ENOUGH = 1.6  # a candidate ranked this high (well supported, paper, right aspect) ends the search early
PAGE_ASPECTS = (297 / 210, 85.6 / 54)  # A4 (and A5, B5), the ID-1 card
MIN_ASPECT, MAX_ASPECT = 1.22, 1.85
MAX_SATURATION = 0.33  # mean HSV saturation inside: paper and ID cards are pale
CARD_ASPECT_TOLERANCE = 0.08  # a coloured object this close to ID-1 proportions may be a bank card
MAX_MARGIN_SATURATION = 0.25  # … and their margins paler still (no photo or stamp there)
MARGIN_DARKER = 20  # a margin this much darker (V) than the inside is a bezel or a frame, not paper
LINES_BELOW = 1.45  # the line stage runs only when nothing ranked this high was found
MAX_LINE_QUADS = 48
MAX_LINE_EDGES = 0.15  # share of edge pixels in the frame above which the line stage does not run
FIT_POINTS = 240  # edge pixels per side given to the robust line fit
MIN_CONTENT = 0.025  # share of edge pixels inside: text, lines, a photo (a blank notebook has none)
MAX_CONTENT = 0.4  # … but not edges everywhere (noise, a textured surface)
# paper evidence (half paleness, half brightness against the ring outside) a pale candidate
# needs: a photo in a printed frame, a grey notebook or a dull object is darker than what lies
# around it or tinted (issue 16, empty desks: 0.27–0.36 for such objects on the tuning seeds;
# pages and pale ID cards there 0.51 and up)
MIN_PAPER = 0.45
# a page seen from above has near-right corners: the generated pages in up to 6 % perspective
# deviate up to 23° (99 % under 14°); a quad across two things, or a slip cut diagonally by a
# line of the straight-line stage, 29–38° (issue 16, empty desks on the tuning seeds)
MAX_CORNER_DEVIATION = 28.0
# longest stretch of a side without an edge under it, as a share of the side: a side that
# crosses the desk between two objects has one (0.58); pages at most 0.4 on the tuning seeds
MAX_SIDE_GAP = 0.5
# share of a pale candidate's inside that is strongly coloured (saturation above 0.35): a book
# lying on a slip makes 0.4–0.5; pages with a photo and a red stamp at most 0.15 on the tuning seeds
MAX_COLOURED_SHARE = 0.3
# median saturation (above the chroma noise) of a pale candidate's inside: its ground, since ink,
# stamps and a photo cover less than half of a page or card. Paper and ID cards are near neutral;
# a pale-coloured book, folder or notebook, or a rectangle of a coloured desk, is tinted all over
# (issue 16's empty desks on the tuning seeds: books and desk patches 0.05–0.17 above the noise;
# 0.08 let pages in a deep shadow through only by luck, 0.04 keeps every tuning page).
# The mean (``MAX_SATURATION``) is raised by a photo or a red stamp; the median hardly is.
# Measured above the chroma noise (``CHROMA_NOISE``, see ``_tint``).
MAX_GROUND_SATURATION = 0.04
# chroma (max − min of B, G, R) that noise and JPEG give a neutral pixel: not counted as tint
# (pages in a deep shadow, V 50–60: chroma 5, saturation 0.08–0.09 from noise alone)
CHROMA_NOISE = 8
# a page lies flat under a camera that looks down on it: opposite sides differ little (pages on
# the tuning seeds, whose generator moves each corner on its own by up to 6 %: at most 1.38 to 1;
# a phone photo at a 30° slant: about 1.3). The hull of two overlapping slips, or of a slip and a
# notebook's corner, is a trapezoid: 1.6–1.9 on the tuning seeds' empty desks.
MAX_KEYSTONE = 1.5
# no page kind is longer than 1.65 to 1 (A4 1.41, ID-1 1.59, legal 1.65): a page or card
# measures more than SLANT_ASPECT only when seen at a slant, and then its sides converge (a card
# tilted 25° under a camera 40 cm above it: opposite sides about 5 % apart; such pages on the
# tuning seeds: 2.7 % and more). A thing this long with parallel sides (a receipt slip of
# 1.83 to 1: 0.7–0.8 %) truly is that long.
SLANT_ASPECT = 1.75
MIN_SLANT_KEYSTONE = 1.015
# a page's edges end at its corners. Just past both ends of a side (3–9 % of the meeting sides'
# length, on their lines), the share of points where the same two surfaces as before the corner
# still meet: a receipt slip cut at one of its print lines by the straight-line stage 0.67–0.83;
# pages on the tuning seeds (a sheet under a page included) at most 0.08 along their true
# outline, 0.67 for a slightly shifted candidate, whose page another candidate then outlines
RUN_ON_FROM, RUN_ON_TO = 0.03, 0.09
MAX_RUN_ON = 0.6


@dataclass(frozen=True)
class Detection:
    corners: np.ndarray  # (4, 2) float32, TL, TR, BR, BL in the input image's pixels
    score: float  # mean edge support, 0..1
    method: str  # which stage found it

    def as_list(self) -> list[list[float]]:
        return [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]


class _Work:
    """The downscaled frame and what every stage shares."""

    def __init__(self, image: np.ndarray):
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        h, w = image.shape[:2]
        self.scale = min(1.0, WORK_SIZE / max(h, w))
        small = image if self.scale == 1.0 else cv2.resize(image, (max(1, round(w * self.scale)),
                                                                   max(1, round(h * self.scale))),
                                                           interpolation=cv2.INTER_AREA)
        self.small = small
        self.h, self.w = small.shape[:2]
        self.area = float(self.h * self.w)
        self.blur = cv2.GaussianBlur(small, (5, 5), 0)
        self.profile = self.blur.astype(np.int16)
        self._hsv: np.ndarray | None = None
        self._edges: np.ndarray | None = None
        self._edge_points: np.ndarray | None = None

    @property
    def edges(self) -> np.ndarray:
        if self._edges is None:
            self._edges = cv2.Canny(self.blur, 30, 90)
        return self._edges

    @property
    def hsv(self) -> np.ndarray:
        if self._hsv is None:
            self._hsv = cv2.cvtColor(self.blur, cv2.COLOR_BGR2HSV)
        return self._hsv

    @property
    def edge_points(self) -> np.ndarray:
        if self._edge_points is None:
            ys, xs = np.nonzero(self.edges)
            self._edge_points = np.stack([xs, ys], axis=1).astype(np.float32)
        return self._edge_points


def detect_document(image: np.ndarray, *, min_area_fraction: float = MIN_AREA_FRACTION,
                    coloured_cards: bool = False) -> Detection | None:
    """The page's corners in ``image`` (BGR or grey), or None when no page is convincingly there.

    A coloured object (a phone, a book) is no page; with ``coloured_cards`` (the material asked
    for is card-sized: a bank or social security card) one of an ID-1 card's proportions is."""
    if image is None or image.ndim not in (2, 3) or min(image.shape[:2]) < 16:
        return None
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    work = _Work(image)
    best: tuple[float, np.ndarray, float, str] | None = None
    for method, stage in (("edges", _edge_contours), ("paper", _paper_regions), ("low_contrast", _low_contrast),
                          ("lines", _line_quads)):
        if method == "lines" and best is not None and best[0] >= LINES_BELOW:
            break
        for contour in stage(work, min_area_fraction):
            contour_area = cv2.contourArea(contour)
            for quad in _quads_from_contour(contour):
                result = _judge(work, quad, min_area_fraction, contour_area, coloured_cards)
                if result is None:
                    continue
                quad, support, rank = result
                # (judged last, and only for a candidate that would lead: the slowest check)
                if (best is None or rank > best[0]) and _run_on(work, quad.astype(np.float64)) <= MAX_RUN_ON:
                    best = (rank, quad, support, method)
        if best is not None and best[0] >= GOOD_ENOUGH:
            break
    if best is None:
        return None
    _, quad, support, method = best
    return Detection((quad / work.scale).astype(np.float32), round(float(support), 3), method)


# ---------------------------------------------------------------------------------------
# Stages: each yields contours (at work scale) that might outline the page


def _large_contours(mask: np.ndarray, work: _Work, min_area_fraction: float, mode: int, limit: int = 6):
    contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_SIMPLE)
    sized = []
    for contour in contours:
        if len(contour) < 4:
            continue
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        if hull_area >= min_area_fraction * work.area:
            sized.append((hull_area, contour))
    sized.sort(key=lambda item: -item[0])
    return [contour for _, contour in sized[:limit]]


def _edge_contours(work: _Work, min_area_fraction: float):
    closed = cv2.dilate(work.edges, np.ones((3, 3), np.uint8))
    return _large_contours(closed, work, min_area_fraction, cv2.RETR_LIST, limit=12)


def _paper_regions(work: _Work, min_area_fraction: float):
    hsv = cv2.cvtColor(work.blur, cv2.COLOR_BGR2HSV)
    paper = cv2.subtract(hsv[..., 2], hsv[..., 1])
    _, mask = cv2.threshold(paper, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(3, int(min(work.w, work.h) / 40) | 1)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    return _large_contours(mask, work, min_area_fraction, cv2.RETR_EXTERNAL, limit=5)


def _low_contrast(work: _Work, min_area_fraction: float):
    lab = cv2.cvtColor(work.blur, cv2.COLOR_BGR2LAB)
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    lightness = clahe.apply(lab[..., 0])
    edges = cv2.Canny(cv2.GaussianBlur(lightness, (5, 5), 0), 10, 30)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    return _large_contours(edges, work, min_area_fraction, cv2.RETR_LIST)


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    """The z of the cross product of two 2-D vectors (NumPy 2 deprecates np.cross for them)."""
    return float(u[0] * v[1] - u[1] * v[0])


def _line_quads(work: _Work, min_area_fraction: float):
    if cv2.countNonZero(work.edges) > MAX_LINE_EDGES * work.area:
        return  # edges everywhere (noise, a busy texture): lines there are chance alignments
    size = max(work.w, work.h)
    found = cv2.HoughLinesP(work.edges, 1, np.pi / 180, threshold=50, minLineLength=0.07 * size, maxLineGap=8)
    if found is None:
        return
    segments = sorted((s.astype(np.float64) for s in np.asarray(found).reshape(-1, 4)),
                      key=lambda s: -np.hypot(s[2] - s[0], s[3] - s[1]))
    lines: list[tuple[np.ndarray, np.ndarray, float]] = []  # point, unit direction, angle
    for x1, y1, x2, y2 in segments:
        direction = np.array([x2 - x1, y2 - y1])
        unit = direction / (np.linalg.norm(direction) + 1e-9)
        angle = float(np.arctan2(unit[1], unit[0]) % np.pi)
        point = np.array([x1, y1])
        duplicate = any(min(abs(angle - a), np.pi - abs(angle - a)) < np.radians(4)
                        and abs(_cross(u, point - p)) < 0.015 * size for p, u, a in lines)
        if not duplicate:
            lines.append((point, unit, angle))
        if len(lines) >= 14:
            break
    min_side = 0.1 * np.sqrt(min_area_fraction * work.area)
    pairs = []
    for i, j in itertools.combinations(range(len(lines)), 2):
        (p1, u1, a1), (p2, u2, a2) = lines[i], lines[j]
        if min(abs(a1 - a2), np.pi - abs(a1 - a2)) < np.radians(20) and abs(_cross(u1, p2 - p1)) > min_side:
            pairs.append((i, j, a1))
    made = 0
    for (i, j, a), (k, m, b) in itertools.combinations(pairs, 2):
        if min(abs(a - b), np.pi - abs(a - b)) < np.radians(45) or len({i, j, k, m}) < 4:
            continue
        corners = []
        for first, second in ((i, k), (k, j), (j, m), (m, i)):
            p1, u1, _ = lines[first]
            p2, u2, _ = lines[second]
            point = line_intersection(p1, p1 + u1, p2, p2 + u2)
            if point is None:
                break
            corners.append(point)
        if len(corners) == 4:
            yield np.array(corners, np.float32).reshape(-1, 1, 2)
            made += 1
            if made >= MAX_LINE_QUADS:
                return


# ---------------------------------------------------------------------------------------
# From a contour to quadrilaterals


def _quads_from_contour(contour: np.ndarray) -> list[np.ndarray]:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    quads: list[np.ndarray] = []
    for eps in (0.02, 0.04):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True).reshape(-1, 2).astype(np.float64)
        quad = approx if len(approx) == 4 else _four_longest_sides(approx) if len(approx) > 4 else None
        # both tolerances often give the same quad: judge it once
        if quad is not None and not any(q.shape == quad.shape and np.abs(q - quad).max() < 1.0 for q in quads):
            quads.append(quad)
    return quads


def _four_longest_sides(polygon: np.ndarray) -> np.ndarray | None:
    """Intersect the four longest sides of a convex polygon (in their order): the page's sides
    when a hand or a fold has cut a corner off."""
    n = len(polygon)
    lengths = [np.linalg.norm(polygon[(i + 1) % n] - polygon[i]) for i in range(n)]
    keep = sorted(sorted(range(n), key=lambda i: -lengths[i])[:4])
    corners = []
    for k in range(4):
        i, j = keep[k], keep[(k + 1) % 4]
        point = line_intersection(polygon[i], polygon[(i + 1) % n], polygon[j], polygon[(j + 1) % n])
        if point is None:
            return None
        corners.append(point)
    return np.array(corners)


def _judge(work: _Work, quad: np.ndarray, min_area_fraction: float,
           contour_area: float = 0.0, coloured_cards: bool = False) -> tuple[np.ndarray, float, float] | None:
    """(quad, edge support, rank) of an acceptable candidate, or None."""
    try:
        quad = order_corners(quad).astype(np.float64)
    except ValueError:
        return None
    if not _plausible(work, quad, min_area_fraction):
        return None
    support, sides, gap = _edge_support(work, quad)
    if support < MIN_SUPPORT - 0.25 or min(sides) < MIN_SIDE_SUPPORT - 0.25:
        return None  # the line fit below seldom rescues so little support, and it is the slow part
    refined = _refine(work, quad)
    if refined is not None and _plausible(work, refined, min_area_fraction):
        refined_support, refined_sides, refined_gap = _edge_support(work, refined)
        if refined_support >= support - 0.02:
            quad, support, sides, gap = refined, refined_support, refined_sides, refined_gap
    if support < MIN_SUPPORT or min(sides) < MIN_SIDE_SUPPORT or gap > MAX_SIDE_GAP:
        return None
    aspect = aspect_fit(quad)
    paper = _paper_score(work, quad, coloured_cards)
    if aspect <= 0 or paper <= 0:
        return None
    area = polygon_area(quad)
    fill = min(1.0, contour_area / area) if contour_area > 0 else 0.8
    rank = support + 0.35 * paper + 0.25 * aspect + 0.15 * fill + 0.1 * min(1.0, area / (0.3 * work.area))
    return quad.astype(np.float32), support, rank


def _side_ratio(quad: np.ndarray) -> float:
    """Long over short, from the means of opposite sides."""
    sides = side_lengths(quad)
    across = ((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)
    return max(across) / max(1e-6, min(across))


def _keystone(quad: np.ndarray) -> float:
    """How much longer the longer of two opposite sides is than the other (the larger of the two
    pairs): 1 for a rectangle seen square on, growing with perspective."""
    sides = side_lengths(quad)
    return max(max(sides[0], sides[2]) / max(1e-6, min(sides[0], sides[2])),
               max(sides[1], sides[3]) / max(1e-6, min(sides[1], sides[3])))


def aspect_fit(quad: np.ndarray) -> float:
    """1 for the proportions of A4 or an ID-1 card, falling to 0 at the edges of the accepted
    range (long/short side ratio 1.22–1.85), negative outside it."""
    sides = side_lengths(quad)
    long_side = (max(sides[0], sides[2]) + max(sides[1], sides[3])) / 2
    ratio = _side_ratio(quad)
    if not MIN_ASPECT <= ratio <= MAX_ASPECT or long_side <= 0:
        return -1.0
    if ratio > SLANT_ASPECT and _keystone(quad) < MIN_SLANT_KEYSTONE:
        return -1.0  # this long with parallel sides: truly so long (a receipt slip), no page kind
    off = min(abs(np.log(ratio / kind)) for kind in PAGE_ASPECTS)
    worst = max(np.log(PAGE_ASPECTS[0] / MIN_ASPECT), np.log(MAX_ASPECT / PAGE_ASPECTS[1]))
    return float(max(0.0, 1.0 - off / worst)) + 1e-3


def _paper_score(work: _Work, quad: np.ndarray, coloured_cards: bool = False) -> float:
    """How much the inside looks like paper or a card: pale (low saturation) and at least as
    bright as the ring outside it, with content (edges) inside; 0 for a blank object, and for a
    coloured one (phone, book, bank card) — unless ``coloured_cards`` and it has an ID-1 card's
    proportions: a bank or social security card asked for as a material counts, below any
    pale card."""
    size = max(3, int(0.03 * np.sqrt(polygon_area(quad))) | 1)
    pad = 2 * size
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + pad
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(work.w, x1), min(work.h, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, np.rint(quad - [x0, y0]).astype(np.int32), 255)
    inner = cv2.erode(mask, np.ones((size, size), np.uint8))
    ring = cv2.subtract(cv2.dilate(mask, np.ones((3 * size, 3 * size), np.uint8)), mask)
    if not inner.any() or not ring.any():
        return 0.0
    hsv = work.hsv[y0:y1, x0:x1]
    _, saturation, inside = cv2.mean(hsv, inner)[:3]
    saturation /= 255.0
    outside = cv2.mean(hsv, ring)[2]
    coloured = saturation > MAX_SATURATION
    if not coloured and cv2.countNonZero(cv2.bitwise_and(cv2.compare(hsv[..., 1], 90, cv2.CMP_GT), inner)) > \
            MAX_COLOURED_SHARE * cv2.countNonZero(inner):
        return 0.0  # a pale sheet with a coloured thing on it (a book on a slip) is two things
    card_asked = coloured_cards and abs(np.log(_side_ratio(quad) / PAGE_ASPECTS[1])) <= CARD_ASPECT_TOLERANCE
    if coloured and not card_asked:
        return 0.0
    if not coloured and not card_asked and _median(_tint(hsv), inner) > MAX_GROUND_SATURATION * 255:
        return 0.0  # a tinted ground: a pale-coloured book or folder, a patch of a coloured desk
    # the margin: a strip just inside the outline. A page's is paper — not clearly darker than
    # what it encloses, and pale; a phone's bezel, a frame or a book's edge is neither.
    band = cv2.subtract(inner, cv2.erode(mask, np.ones((3 * size, 3 * size), np.uint8)))
    if band.any():
        _, band_saturation, band_value = cv2.mean(hsv, band)[:3]
        # (a coloured card asked for as a material is coloured to its edge)
        if band_value < inside - MARGIN_DARKER or (band_saturation / 255.0 > MAX_MARGIN_SATURATION
                                                   and not coloured):
            return 0.0
    content_mask = cv2.erode(inner, np.ones((size, size), np.uint8))
    content = cv2.mean(work.edges[y0:y1, x0:x1], content_mask)[0] / 255.0 if content_mask.any() else 0.0
    if not MIN_CONTENT <= content <= MAX_CONTENT:
        return 0.0
    pale = 0.0 if coloured else 1.0 - saturation / MAX_SATURATION
    brighter = float(np.clip((inside - outside) / 60.0 + 0.5, 0.0, 1.0))
    paper = 0.5 * pale + 0.5 * brighter
    if not coloured and paper < MIN_PAPER:
        return 0.0  # pale-ish but dull or darker than its surroundings: not a sheet of paper
    return paper + 1e-3


def _tint(hsv: np.ndarray) -> np.ndarray:
    """Saturation (0..255) above the camera's chroma noise: sensor noise and JPEG give every
    pixel a few levels of chroma (max − min of B, G, R), which in a dark pixel is a large
    saturation — a page in a deep shadow would look tinted."""
    value = hsv[..., 2].astype(np.float32)
    chroma = hsv[..., 1].astype(np.float32) * value / 255.0
    return np.clip((chroma - CHROMA_NOISE) * 255.0 / np.maximum(value, 1.0), 0, 255).astype(np.uint8)


def _median(channel: np.ndarray, mask: np.ndarray) -> float:
    """Median of an 8-bit channel under a mask (a histogram: faster than sorting)."""
    histogram = cv2.calcHist([channel], [0], mask, [256], [0, 256]).ravel()
    cumulative = np.cumsum(histogram)
    return float(np.searchsorted(cumulative, cumulative[-1] / 2))


def _plausible(work: _Work, quad: np.ndarray, min_area_fraction: float) -> bool:
    if not is_convex(quad):
        return False
    if polygon_area(quad) < min_area_fraction * work.area:
        return False
    margin_x, margin_y = 0.04 * work.w, 0.04 * work.h
    if (quad[:, 0].min() < -margin_x or quad[:, 1].min() < -margin_y or quad[:, 0].max() > work.w + margin_x
            or quad[:, 1].max() > work.h + margin_y):
        return False
    angles = interior_angles(quad)
    if min(angles) < 90 - MAX_CORNER_DEVIATION or max(angles) > 90 + MAX_CORNER_DEVIATION:
        return False
    sides = side_lengths(quad)
    if min(sides) < 0.05 * max(work.w, work.h):
        return False
    if _keystone(quad) > MAX_KEYSTONE:
        return False
    # a side running along the frame's edge is the frame, not a page
    near = 0.012 * max(work.w, work.h) + 1
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        if (a[0] < near and b[0] < near) or (a[1] < near and b[1] < near) or \
                (a[0] > work.w - 1 - near and b[0] > work.w - 1 - near) or \
                (a[1] > work.h - 1 - near and b[1] > work.h - 1 - near):
            return False
    return True


def _edge_support(work: _Work, quad: np.ndarray, samples: int = 40, step: float = 3.0,
                  threshold: int = 14) -> tuple[float, list[float], float]:
    """Share of points along each side where the blurred picture steps across the side, and the
    longest run of points without a step on any side (as a share of the side)."""
    per_side = []
    longest_gap = 0.0
    t = np.linspace(0.06, 0.94, samples)[:, None]
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        direction = b - a
        length = np.linalg.norm(direction)
        if length < 1:
            return 0.0, [0.0] * 4, 1.0
        normal = np.array([direction[1], -direction[0]]) / length
        points = a + direction * t
        outside = np.rint(points + normal * step).astype(int)
        inside = np.rint(points - normal * step).astype(int)
        valid = ((outside[:, 0] >= 0) & (outside[:, 0] < work.w) & (outside[:, 1] >= 0) & (outside[:, 1] < work.h)
                 & (inside[:, 0] >= 0) & (inside[:, 0] < work.w) & (inside[:, 1] >= 0) & (inside[:, 1] < work.h))
        if not valid.any():
            per_side.append(0.0)
            continue
        o = work.profile[outside[valid, 1], outside[valid, 0]]
        n = work.profile[inside[valid, 1], inside[valid, 0]]
        steps = np.abs(o - n).max(axis=1)
        # in a deep shadow both sides are dark: a step of a fifth of the brighter side counts too
        relative = steps * 5 >= np.maximum(o.max(axis=1), n.max(axis=1))
        # Where glare has burnt both sides out there is no evidence either way: such points
        # do not count, as long as most of the side can still be seen.
        glare = (o.min(axis=1) >= 235) & (n.min(axis=1) >= 235)
        seen = samples - int(glare.sum()) - int((~valid).sum())
        if seen < 0.5 * samples:
            per_side.append(0.0)
            continue
        supported = (steps >= threshold) | (relative & (steps >= threshold // 2))
        per_side.append(float(supported[~glare].sum()) / seen)
        # glare and points off the picture neither break nor extend a run
        unsupported = (~supported[~glare]).astype(np.int8)
        bounds = np.flatnonzero(np.diff(np.concatenate(([0], unsupported, [0]))))
        if len(bounds):
            longest_gap = max(longest_gap, float((bounds[1::2] - bounds[::2]).max()) / seen)
    return float(np.mean(per_side)), per_side, longest_gap


def _run_on(work: _Work, quad: np.ndarray, samples: int = 12, step: float = 3.0, threshold: int = 14,
            same: int = 20) -> float:
    """How far the object goes on past one of the outline's sides: for each side, the share of
    points just past each of its two ends, on the lines of the two sides that meet it there,
    where the picture still steps across those lines between the same two surfaces as just
    before the corner (the candidate's own and what lies beside it); the larger over the four
    sides of the smaller share of its two ends. A page's edges end at its corners; a line across
    a longer object (a receipt slip cut at one of its print lines) is met by edges that go on,
    with the same paper between them."""
    worst = 0.0
    t = np.linspace(RUN_ON_FROM, RUN_ON_TO, samples)[:, None]
    centre = quad.mean(axis=0)

    def sample(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = np.rint(points).astype(int)
        ok = (p[:, 0] >= 0) & (p[:, 0] < work.w) & (p[:, 1] >= 0) & (p[:, 1] < work.h)
        p[:, 0] = np.clip(p[:, 0], 0, work.w - 1)
        p[:, 1] = np.clip(p[:, 1], 0, work.h - 1)
        return work.profile[p[:, 1], p[:, 0]], ok

    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        shares = []
        for corner, before in ((a, quad[i - 1]), (b, quad[(i + 2) % 4])):
            direction = corner - before
            length = np.linalg.norm(direction)
            if length < 1:
                return 0.0
            normal = np.array([direction[1], -direction[0]]) / length
            if float(normal @ (centre - corner)) > 0:
                normal = -normal  # +normal points away from the candidate
            own, own_ok = sample(corner - direction * t - normal * step)
            beside, beside_ok = sample(corner - direction * t + normal * step)
            if not (own_ok & beside_ok).any():
                return 0.0
            reference = np.median(own[own_ok & beside_ok], axis=0)
            around = np.median(beside[own_ok & beside_ok], axis=0)
            past = corner + direction * t
            near, near_ok = sample(past - normal * step)
            far, far_ok = sample(past + normal * step)
            valid = near_ok & far_ok
            if valid.sum() < samples // 2:
                shares.append(0.0)  # off the picture: no evidence either way
                continue
            stepping = np.abs(far[valid] - near[valid]).max(axis=1) >= threshold
            continuing = ((np.abs(near[valid] - reference).max(axis=1) <= same)
                          & (np.abs(far[valid] - around).max(axis=1) <= 1.5 * same))
            shares.append(float((stepping & continuing).mean()))
        worst = max(worst, min(shares))
    return worst


def _refine(work: _Work, quad: np.ndarray) -> np.ndarray | None:
    """Fit each side to the edge pixels near it (robust line fit) and intersect the fitted lines."""
    points = work.edge_points
    if len(points) < 20:
        return None
    band = 0.012 * np.hypot(work.w, work.h) + 2
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        direction = b - a
        length = float(np.linalg.norm(direction))
        unit = direction / length
        rel = points - a.astype(np.float32)
        along = rel @ unit.astype(np.float32)
        across = rel @ np.array([-unit[1], unit[0]], np.float32)
        near = (np.abs(across) < band) & (along > 0.1 * length) & (along < 0.9 * length)
        chosen = points[near]
        if len(chosen) < max(10, 0.2 * length):
            lines.append((a, b))
            continue
        if len(chosen) > FIT_POINTS:  # an even sample is as good a fit, and fitLine's time grows with it
            chosen = chosen[np.linspace(0, len(chosen) - 1, FIT_POINTS).astype(int)]
        vx, vy, x0, y0 = cv2.fitLine(chosen, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        fitted_unit = np.array([vx, vy])
        if abs(float(fitted_unit @ unit)) < 0.97:  # fitted something across the side, not along it
            lines.append((a, b))
            continue
        origin = np.array([x0, y0])
        lines.append((origin, origin + fitted_unit * 100))
    corners = []
    for i in range(4):
        point = line_intersection(*lines[i - 1], *lines[i])
        if point is None:
            return None
        corners.append(point)
    corners = np.array(corners)
    if np.max(np.linalg.norm(corners - quad, axis=1)) > 0.08 * np.hypot(work.w, work.h):
        return None
    return corners
