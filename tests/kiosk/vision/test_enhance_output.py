"""The scan look: shadows gone, paper white, stamps still red, photos still photos; files at
the configured DPI and never over the size cap."""
from __future__ import annotations

import io
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from drivers.camera import scene
from kiosk.vision.enhance import enhance
from kiosk.vision.output import OutputError, encode_jpeg, encode_pdf, write_atomic


@pytest.fixture(scope="module")
def form_with_shadow():
    rng = np.random.default_rng(21)
    page = scene.render_page("form", rng, 900)
    # a shadow across the lower right of the page, as an arm over the desk casts it
    h, w = page.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1.0 - 0.45 * np.clip((xs / w + ys / h - 1.0) * 3, 0, 1)
    shaded = np.clip(page.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    return page, shaded


def _paper_mask(page: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    return cv2.erode((grey > 225).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)


def test_scan_look_removes_the_shadow_and_whitens_paper(form_with_shadow):
    page, shaded = form_with_shadow
    paper = _paper_mask(page)
    out = cv2.cvtColor(enhance(shaded, "scan"), cv2.COLOR_BGR2GRAY)
    before = cv2.cvtColor(shaded, cv2.COLOR_BGR2GRAY)[paper]
    assert before.std() > 20  # the shadow is really there
    assert out[paper].mean() > 245 and out[paper].std() < 8


def test_stamp_stays_red(form_with_shadow):
    page, shaded = form_with_shadow
    b, g, r = cv2.split(page.astype(np.int16))
    red = (r - g > 100) & (r - b > 100)
    assert red.sum() > 200
    out = enhance(shaded, "scan").astype(np.int16)
    assert np.median(out[..., 2][red] - out[..., 1][red]) > 100


def test_photo_keeps_its_tones(form_with_shadow):
    page, shaded = form_with_shadow
    # the portrait sits at the top right of the form's table
    hsv = cv2.cvtColor(page, cv2.COLOR_BGR2HSV)
    photo = cv2.erode(((hsv[..., 1] > 60) & (hsv[..., 2] < 200)).astype(np.uint8), np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(photo)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = labels == biggest
    out = enhance(shaded, "scan")
    original = page[region].astype(np.float32).mean(axis=0)
    after = out[region].astype(np.float32).mean(axis=0)
    assert np.abs(after - original).max() < 45, (original, after)  # not washed out to white


def test_modes_and_bad_mode():
    page = scene.render_page("text", np.random.default_rng(2), 400)
    assert enhance(page, "none") is page
    assert enhance(page, "gray").ndim == 2
    assert enhance(page, "color").shape == page.shape
    with pytest.raises(ValueError):
        enhance(page, "sepia")


def test_jpeg_has_the_dpi_and_fits_the_cap():
    page = scene.render_page("form", np.random.default_rng(4), 1654)
    data = encode_jpeg(page, dpi=200, quality=95, max_bytes=150_000)
    assert len(data) <= 150_000
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        width_inches = im.size[0] / im.info["dpi"][0]
        assert width_inches == pytest.approx(1654 / 200, rel=0.02)  # printed size kept when scaled down


def test_pdf_pages_have_the_physical_size():
    pages = [scene.render_page(k, np.random.default_rng(i), 827) for i, k in enumerate(("text", "form", "text"))]
    data = encode_pdf(pages, dpi=100, quality=80, max_bytes=3_000_000)
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)
    assert len(boxes) == 3
    w_pt, h_pt = (float(v) for v in boxes[0])
    assert w_pt == pytest.approx(827 / 100 * 72, rel=0.01)  # A4 width at 100 dpi → 595 pt
    assert h_pt == pytest.approx(pages[0].shape[0] / 100 * 72, rel=0.01)


def test_impossible_cap_is_a_clear_error():
    page = np.random.default_rng(1).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    with pytest.raises(OutputError):
        encode_jpeg(page, 200, 85, max_bytes=200)


def test_write_is_atomic(tmp_path):
    target = write_atomic(tmp_path / "a" / "page.jpg", b"x" * 10)
    assert target.read_bytes() == b"x" * 10
    assert [p.name for p in target.parent.iterdir()] == ["page.jpg"]


def test_id_card_portrait_survives_a_shadow_across_the_card():
    rng = np.random.default_rng(44)
    card = scene.render_page("id_card", rng, 856)
    h, w = card.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 1.0 - 0.4 * np.clip((xs / w - 0.45) * 4, 0, 1)  # the right half, photo included, in shadow
    shaded = np.clip(card.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    photo = (slice(int(60 / 856 * w) + 10, int(350 / 856 * w) - 10), slice(w - int(290 / 856 * w) + 10,
                                                                            w - int(60 / 856 * w) - 10))
    out = enhance(shaded, "scan")
    # a photo keeps its tones (with the shadow on it: it only gets the page's white balance)
    before = shaded[photo].astype(np.float32)
    after = out[photo].astype(np.float32)
    assert np.abs(after.mean(axis=(0, 1)) - before.mean(axis=(0, 1))).max() < 45
    assert after.mean() < 170  # not washed towards white
    assert after.std() > 0.6 * before.std()  # the face is still there
    text_paper = cv2.cvtColor(out[h - 40:h - 5, 20:int(0.4 * w)], cv2.COLOR_BGR2GRAY)
    assert np.median(text_paper) > 235  # paper around the text is white
