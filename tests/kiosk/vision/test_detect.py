"""The page is found where it is, empty desks give null (never a guess), and no picture crashes it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.camera import scene
from kiosk.vision.detect import detect_document
from kiosk.vision.geometry import quad_iou
from tests.vision_material import document_set


@pytest.fixture(scope="module")
def material():
    return document_set(n=14, seed=606)


def test_pages_on_varied_desks_are_found_with_their_corners(material):
    pages = [s for s in material if s.quad is not None]
    assert len(pages) >= 8
    ious = []
    for item in pages:
        found = detect_document(item.image)
        ious.append(0.0 if found is None else quad_iou(found.corners, item.quad))
    assert sum(iou >= 0.9 for iou in ious) >= len(pages) - 1, ious
    assert np.mean(ious) > 0.9


@pytest.mark.parametrize("desk", ["wood", "cluttered", "light", "dark", "fabric"])
def test_empty_desks_give_no_document(desk):
    rng = np.random.default_rng(hash(desk) % 1000)
    empty = scene.document_scene(rng, 1280, 720, kind="none", desk=desk, effects=["shadow", "noise", "jpeg"])
    assert detect_document(empty.image) is None


@pytest.mark.parametrize("effects", [["hand"], ["shadow"], ["glare"], ["blur", "noise", "jpeg"]])
def test_hard_frames_still_give_the_page(effects):
    rng = np.random.default_rng(len("".join(effects)))
    item = scene.document_scene(rng, 1280, 720, kind="text", desk="cluttered", effects=effects)
    found = detect_document(item.image)
    assert found is not None and quad_iou(found.corners, item.quad) > 0.9


def test_white_page_on_pale_desk_is_found():
    rng = np.random.default_rng(12)
    item = scene.document_scene(rng, 1280, 720, kind="form", desk="light", effects=["noise"])
    found = detect_document(item.image)
    assert found is not None and quad_iou(found.corners, item.quad) > 0.9


def test_corners_are_in_full_resolution_pixels():
    rng = np.random.default_rng(3)
    item = scene.document_scene(rng, 2592, 1944, kind="text", desk="wood", effects=[])
    found = detect_document(item.image)
    assert found is not None and quad_iou(found.corners, item.quad) > 0.95
    assert np.abs(found.corners - item.quad).max() < 25  # under 1 % of the frame


@pytest.mark.parametrize("image", [
    np.zeros((720, 1280, 3), np.uint8), np.full((720, 1280, 3), 255, np.uint8),
    np.zeros((5, 5, 3), np.uint8), np.zeros((1, 4000), np.uint8), np.zeros((300, 300, 4), np.uint8),
    np.random.default_rng(1).random((200, 300)).astype(np.float64), np.zeros((0, 0, 3), np.uint8),
])
def test_degenerate_pictures_give_none(image):
    assert detect_document(image) is None


@given(st.integers(8, 300), st.integers(8, 300), st.sampled_from([1, 3]), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_noise_never_crashes_and_is_no_page(h, w, channels, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, 3)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    result = detect_document(image)
    assert result is None or (result.corners.shape == (4, 2) and np.isfinite(result.corners).all())


def test_a_bank_card_asked_for_as_a_material_is_found_but_is_no_page_otherwise():
    """高龄津贴 asks for the bank card: a saturated blue card is a coloured object (no page) unless
    the material asked for is card-sized."""
    from pathlib import Path

    from drivers.camera.simulator import SimulatedSource

    picture = Path(__file__).resolve().parents[2] / "scenarios" / "pictures" / "bank-card.jpg"
    source = SimulatedSource(1280, 720, seed=5)
    source.open()
    source.show_picture(picture)
    frame = source.read()
    source.close()
    assert detect_document(frame) is None
    found = detect_document(frame, coloured_cards=True)
    assert found is not None
    xs, ys = found.corners[:, 0], found.corners[:, 1]
    ratio = (xs.max() - xs.min()) / (ys.max() - ys.min())
    assert abs(ratio - 85.6 / 54) < 0.15  # the card, not the desk around it


# Issue 16's harder material (tests/document_material.py), from the tuning seeds only: the
# held-apart seed 9100 is for benchmarks/vision.py.
@pytest.fixture(scope="module")
def desks_with_objects():
    from tests.document_material import hard_document_set

    return [item for _, item in hard_document_set(10, seed=1601, classes=("empty",))]


def test_phones_books_and_slips_without_a_page_give_no_outline(desks_with_objects):
    outlined = [i for i, item in enumerate(desks_with_objects) if detect_document(item.image) is not None]
    assert outlined == []


@pytest.mark.parametrize("cls", ["small", "dark_textured", "card_among"])
def test_small_pages_and_cards_on_dark_busy_desks_are_found(cls):
    from tests.document_material import hard_document_set

    items = [item for _, item in hard_document_set(3, seed=1602, classes=(cls,))]
    ious = [0.0 if (found := detect_document(item.image)) is None else quad_iou(found.corners, item.quad)
            for item in items]
    assert sum(iou >= 0.9 for iou in ious) >= 2, ious


def _framed_photo_on_a_printed_mat() -> np.ndarray:
    """A photo in a thin frame on a pale printed mat: pale-ish, but darker than what lies around it."""
    import cv2

    rng = np.random.default_rng(5)
    image = np.full((720, 1280, 3), 205, np.uint8)
    for y in range(60, 700, 34):
        cv2.line(image, (60, y), (int(rng.integers(500, 1200)), y), (90, 90, 90), 3)
    x0, y0, w, h = 820, 180, 250, 340  # long/short 1.36, a page's proportions
    cv2.rectangle(image, (x0 - 2, y0 - 2), (x0 + w + 2, y0 + h + 2), (60, 60, 60), 2)
    image[y0:y0 + h, x0:x0 + w] = (150, 140, 130)
    cv2.circle(image, (x0 + w // 2, y0 + 120), 60, (95, 100, 110), -1)
    cv2.ellipse(image, (x0 + w // 2, y0 + h), (110, 120), 0, 180, 360, (70, 70, 80), -1)
    return cv2.GaussianBlur(image, (3, 3), 0)


def _squarish_sheet() -> np.ndarray:
    """A pale, written-on thing whose sides are 1.2 to 1: no page kind (A4 1.41, ID-1 1.59) looks so."""
    import cv2

    image = np.full((720, 1280, 3), 70, np.uint8)
    x0, y0, w, h = 400, 150, 480, 400
    image[y0:y0 + h, x0:x0 + w] = 235
    for y in range(y0 + 40, y0 + h - 30, 28):
        cv2.line(image, (x0 + 30, y), (x0 + w - 40, y), (40, 40, 40), 3)
    return cv2.GaussianBlur(image, (3, 3), 0)


@pytest.mark.parametrize("make", [_framed_photo_on_a_printed_mat, _squarish_sheet])
def test_what_is_neither_paper_nor_a_page_shape_gets_no_outline(make):
    """Issue 16, empty desks: paper is pale and at least as bright as its surroundings
    (``MIN_PAPER``), and a page's sides are at least 1.22 to 1 (``MIN_ASPECT``)."""
    assert detect_document(make()) is None


@pytest.mark.parametrize("seed, index", [(1605, 9), (1606, 12), (1606, 24)])
def test_quads_across_two_things_or_a_cut_slip_give_no_outline(seed, index):
    """Issue 16, empty desks of the tuning seeds that used to get an outline: a quad across a book
    and the book beside it (a side crosses the desk: ``MAX_SIDE_GAP``), a slip with a coloured book
    lying on it (``MAX_COLOURED_SHARE``), a slip cut diagonally by the straight-line stage (corners
    far from right angles: ``MAX_CORNER_DEVIATION``)."""
    from tests.document_material import hard_document_set

    _, item = hard_document_set(index + 1, seed=seed, classes=("empty",))[index]
    assert item.quad is None
    assert detect_document(item.image) is None


@pytest.mark.parametrize("seed, index", [(1607, 31), (1614, 43), (1615, 46), (1609, 8)])
def test_tinted_books_and_coloured_desk_patches_give_no_outline(seed, index):
    """Issue 16, empty desks of the tuning seeds that used to get an outline: a pale green and a
    grey-green book, a grey book on granite, a rectangle of a plaid desk's own lines around a
    book. Their ground is tinted all over; a page's or an ID card's ground is near neutral, also
    in a deep shadow once the camera's chroma noise is discounted: ``MAX_GROUND_SATURATION``."""
    from tests.document_material import hard_document_set

    _, item = hard_document_set(index + 1, seed=seed, classes=("empty",))[index]
    assert item.quad is None
    assert detect_document(item.image) is None


@pytest.mark.parametrize("seed, index", [(1607, 20), (1613, 28), (1606, 44), (1614, 8), (1615, 18)])
def test_overlapping_or_short_whole_receipt_slips_give_no_outline(seed, index):
    """Issue 16, empty desks of the tuning seeds that used to get an outline: the hull of two
    overlapping slips is a trapezoid (opposite sides 1.6–1.9 to 1; a page under the camera at
    most 1.4: ``MAX_KEYSTONE``); a short slip lying flat measures 1.83 to 1 with parallel sides —
    a page or card looks that long (``SLANT_ASPECT``) only at a slant, and then its sides
    converge (``MIN_SLANT_KEYSTONE``)."""
    from tests.document_material import hard_document_set

    _, item = hard_document_set(index + 1, seed=seed, classes=("empty",))[index]
    assert item.quad is None
    assert detect_document(item.image) is None


@pytest.mark.parametrize("seed, index", [(1605, 42), (1606, 23)])
def test_a_slip_cut_at_one_of_its_print_lines_gives_no_outline(seed, index):
    """Issue 16: the straight-line stage made a page of a receipt slip cut short at one of its
    print lines. The slip's edges and paper go on past both ends of that line; a page's edges
    end at its corners (``MAX_RUN_ON``)."""
    from tests.document_material import hard_document_set

    _, item = hard_document_set(index + 1, seed=seed, classes=("empty",))[index]
    assert item.quad is None
    assert detect_document(item.image) is None


def test_a_page_on_a_sheet_is_not_taken_for_a_cut_slip():
    """The sheet under a page is paper past the page's corners too, but not between the same
    edges: the page is still found (clutter pages of the tuning seeds)."""
    from kiosk.vision.detect import _run_on, _Work

    for seed, index in [(1621, 21), (1603, 18)]:
        from tests.document_material import hard_document_set

        item = [it for cls, it in hard_document_set(30, seed=seed) if cls == "clutter"][index]
        found = detect_document(item.image)
        assert found is not None and quad_iou(found.corners, item.quad) >= 0.9
        work = _Work(item.image)
        assert _run_on(work, item.quad.astype(np.float64) * work.scale) <= 0.1
