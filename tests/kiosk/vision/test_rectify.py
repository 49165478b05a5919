"""A page photographed in perspective comes out flat, upright, at its real proportions and DPI."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.camera import scene
from kiosk.vision.detect import detect_document
from kiosk.vision.rectify import deskew, estimate_aspect, output_size, rectify, skew_angle


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    ga = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gb = cv2.cvtColor(cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA),
                      cv2.COLOR_BGR2GRAY).astype(np.float32)
    ga = cv2.GaussianBlur(ga, (0, 0), 3)
    gb = cv2.GaussianBlur(gb, (0, 0), 3)
    ga -= ga.mean()
    gb -= gb.mean()
    return float((ga * gb).sum() / (np.linalg.norm(ga) * np.linalg.norm(gb) + 1e-9))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rectified_page_is_the_original_page_upright(seed):
    rng = np.random.default_rng(seed)
    item = scene.document_scene(rng, 1920, 1080, kind="text", desk="wood", effects=["noise"], max_rotation=25)
    found = detect_document(item.image)
    assert found is not None
    flat = rectify(item.image, found.corners, "a4", 150)
    assert flat.shape[:2] == (round(297 / 25.4 * 150), round(210 / 25.4 * 150))
    upright = _similarity(flat, item.page)
    upside_down = _similarity(flat, cv2.rotate(item.page, cv2.ROTATE_180))
    assert upright > 0.75, upright
    assert upright > upside_down + 0.3


def test_auto_aspect_snaps_to_a4_and_id_card_and_keeps_free_pages():
    a4 = np.array([[0, 0], [210, 0], [210, 297], [0, 297]], np.float32) * 3
    card = np.array([[0, 0], [856, 0], [856, 540], [0, 540]], np.float32)
    odd = np.array([[0, 0], [400, 0], [400, 400], [0, 400]], np.float32)
    assert output_size(a4, "auto", 200)[:1] == ("a4",)
    assert output_size(a4, "auto", 200)[1:] == (1654, 2339)
    assert output_size(card, "auto", 300)[0] == "id_card"
    assert output_size(card, "auto", 300)[1:] == (1011, 638)  # landscape, 85.6 × 54 mm at 300 dpi
    kind, w, h = output_size(odd, "auto", 200)
    assert kind == "free" and (w, h) == (400, 400)
    assert estimate_aspect(a4) == pytest.approx(297 / 210)
    with pytest.raises(ValueError):
        output_size(a4, "letter", 200)


def test_id_card_comes_out_landscape_with_its_photo_on_the_right():
    rng = np.random.default_rng(8)
    item = scene.document_scene(rng, 1920, 1080, kind="id_card", desk="dark", effects=[], max_rotation=15)
    found = detect_document(item.image)
    assert found is not None
    flat = rectify(item.image, found.corners, "auto", 300)
    assert flat.shape[1] > flat.shape[0]
    assert _similarity(flat, item.page) > 0.75


@pytest.mark.parametrize("angle", [-3.0, 2.0])
def test_deskew_levels_turned_text(angle):
    rng = np.random.default_rng(5)
    page = scene.render_page("text", rng, 700)
    h, w = page.shape[:2]
    turned = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h),
                            borderMode=cv2.BORDER_REPLICATE)
    assert skew_angle(turned) == pytest.approx(angle, abs=0.35)
    fixed, found = deskew(turned)
    assert found == pytest.approx(angle, abs=0.35)
    assert abs(skew_angle(fixed)) <= 0.3


def test_level_page_is_left_alone():
    page = scene.render_page("text", np.random.default_rng(9), 700)
    fixed, angle = deskew(page)
    assert angle == 0.0 and fixed is page
