"""Corner order TL, TR, BR, BL whatever order the corners come in, and the IoU used to judge detections."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.vision.geometry import is_convex, order_corners, quad_iou

UPRIGHT = np.array([[100, 50], [500, 60], [510, 700], [90, 690]], np.float32)


@pytest.mark.parametrize("perm", [(0, 1, 2, 3), (2, 0, 3, 1), (3, 2, 1, 0), (1, 3, 0, 2)])
def test_shuffled_corners_come_back_tl_tr_br_bl(perm):
    assert np.allclose(order_corners(UPRIGHT[list(perm)]), UPRIGHT)


@given(angle=st.floats(-40, 40), cx=st.floats(200, 800), cy=st.floats(200, 800),
       w=st.floats(80, 600), h=st.floats(80, 600), seed=st.integers(0, 2**16))
@settings(max_examples=200, deadline=None)
def test_turned_pages_keep_their_top_side_first(angle, cx, cy, w, h, seed):
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    page = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ rot.T + [cx, cy]
    shuffled = page[np.random.default_rng(seed).permutation(4)]
    assert np.allclose(order_corners(shuffled), page, atol=1e-3)


def test_degenerate_input_is_refused():
    with pytest.raises(ValueError):
        order_corners([[0, 0], [0, 0], [1, 1], [2, 2]])
    with pytest.raises(ValueError):
        order_corners([[0, 0], [1, 1], [2, 2]])
    with pytest.raises(ValueError):
        order_corners([[0, 0], [1, float("nan")], [2, 2], [3, 0]])


def test_iou_of_identical_overlapping_and_disjoint_quads():
    assert quad_iou(UPRIGHT, UPRIGHT) == pytest.approx(1.0)
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]])
    assert quad_iou(square, square + [5, 0]) == pytest.approx(50 / 150)
    assert quad_iou(square, square + [50, 0]) == 0.0
    assert is_convex(UPRIGHT) and not is_convex([[0, 0], [10, 0], [2, 2], [0, 10]])
