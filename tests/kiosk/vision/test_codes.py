"""QR reading: Chinese payloads round-trip exactly, GB18030 only where the bytes say so,
mojibake is never returned, corners are where the code is, and garbage never crashes.
(The text rules themselves are tested in tests/drivers/test_codetext.py, the same bytes
through every path in tests/kiosk/test_code_paths.py.)"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.camera import scene
from drivers.codetext import decode_code_text, looks_like_mojibake
from kiosk.vision.codes import ReadStats, read_codes
from kiosk.vision.geometry import quad_iou
from tests.vision_material import COMMON_HANZI, code_set


def _code_image(data, module: int = 6) -> np.ndarray:
    matrix = scene.qr_matrix(data)
    return cv2.resize(matrix, None, fx=module, fy=module, interpolation=cv2.INTER_NEAREST)


def test_the_strings_zbar_misreads_come_back_exactly():
    from pyzbar import pyzbar

    rng = np.random.default_rng(85)
    misread_by_zbar = 0
    for _ in range(60):
        text = "".join(COMMON_HANZI[i] for i in rng.integers(0, len(COMMON_HANZI), int(rng.integers(2, 9))))
        image = _code_image(text)
        plain = pyzbar.decode(image)
        if plain and plain[0].data.decode("utf-8", "replace") != text:
            misread_by_zbar += 1
        codes = read_codes(image)
        assert [c.text for c in codes] == [text]
        assert codes[0].format == "QR_CODE" and codes[0].encoding == "utf-8"
    assert misread_by_zbar > 0  # the trap is real in this set


def test_zbar_alone_in_the_pipeline_also_reads_chinese_right():
    from kiosk.vision.codes import zbar_symbols

    symbols = zbar_symbols(_code_image("河易办 受理回执"))
    decoded = decode_code_text(symbols[0].raw)
    assert (decoded.text, decoded.encoding) == ("河易办 受理回执", "utf-8")


def test_zbar_without_binary_mode_gives_mojibake_that_the_decoder_repairs(monkeypatch):
    from pyzbar import pyzbar

    from kiosk.vision import codes

    image = next(image for image in (_code_image(text) for text in ("河易办", "受理回执", "取件码", "政务服务"))
                 if looks_like_mojibake(pyzbar.decode(image)[0].data.decode("utf-8")))

    def no_binary_mode(*args, **kwargs):
        raise AttributeError("this pyzbar has no private helpers")

    monkeypatch.setattr(codes, "_zbar_raw", no_binary_mode)
    zbar_only = (("grey", codes._identity, ("zbar_qr",)),)
    found = read_codes(image, steps=zbar_only)
    assert len(found) == 1 and found[0].decoder == "zbar" and found[0].encoding == "utf-8 (shift-jis repaired)"
    assert not looks_like_mojibake(found[0].text) and found[0].text in ("河易办", "受理回执", "取件码", "政务服务")


def test_gb18030_payload_is_read_as_chinese():
    codes = read_codes(_code_image("河口区便民服务中心".encode("gb18030")))
    assert [(c.text, c.encoding) for c in codes] == [("河口区便民服务中心", "gb18030")]


def test_binary_payload_is_not_passed_off_as_text():
    blob = bytes([0x80, 0x00, 0xFF, 0x81, 0x30, 0x81, 0x30, 0xFE, 0x01])
    assert read_codes(_code_image(blob)) == []
    refused = read_codes(_code_image(blob), refused=True)
    assert [(c.format, c.text, c.problem, c.raw) for c in refused] == [("QR_CODE", "", "undecodable", blob)]
    assert refused[0].as_json()["problem"] == "undecodable" and "text" not in refused[0].as_json()


def test_a_readable_code_comes_before_a_refused_one():
    image = np.hstack([_code_image("河易办 HK1"), _code_image(b"\x80\xff\x81\x30\xfe")])
    assert [(c.text, c.problem) for c in read_codes(image, refused=True)] == [("河易办 HK1", ""), ("", "undecodable")]
    assert [c.text for c in read_codes(image)] == ["河易办 HK1"]


def test_corners_are_where_the_code_is():
    rng = np.random.default_rng(7)
    item = scene.code_scene(rng, 1920, 1080, "河易办 HK20240601", "河易办 HK20240601", carrier="paper", effects=[])
    codes = read_codes(item.image)
    assert codes and codes[0].text == item.text
    corners = np.array(codes[0].corners)
    assert corners.shape == (4, 2)
    # the code sits inside its paper slip, well within the slip's outline
    assert quad_iou(corners, item.quad) > 0.35
    centre = item.quad.mean(axis=0)
    assert np.linalg.norm(corners.mean(axis=0) - centre) < 0.2 * np.linalg.norm(item.quad[2] - item.quad[0])


def test_degraded_frames_are_read_by_the_pipeline():
    items = code_set(n=8, seed=99)
    read = sum(any(c.text == item.text for c in read_codes(item.image)) for item in items)
    assert read >= 6


def test_ladder_reaches_later_steps_for_a_low_contrast_code():
    image = _code_image("低对比度", 5)
    faint = (image.astype(np.float32) * 0.08 + 120).astype(np.uint8)  # grey on grey
    faint = cv2.GaussianBlur(faint, (0, 0), 1.2)
    stats = ReadStats()
    codes = read_codes(faint, stats=stats)
    assert [c.text for c in codes] == ["低对比度"]
    assert stats.attempts >= 1 and stats.stage


def test_barcodes_are_read_too():
    import zxingcpp

    barcode = zxingcpp.create_barcode("6901234567892", zxingcpp.BarcodeFormat.EAN13) if hasattr(
        zxingcpp, "create_barcode") else None
    if barcode is None:
        pytest.skip("this zxing-cpp cannot write barcodes")
    image = np.asarray(barcode.to_image(scale=4, add_quiet_zones=True))
    image = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    codes = read_codes(image)
    assert [(c.format, c.text) for c in codes] == [("EAN_13", "6901234567892")]


@pytest.mark.parametrize("image", [
    np.zeros((1080, 1920, 3), np.uint8), np.full((10, 10), 255, np.uint8), np.zeros((1, 1), np.uint8),
    np.zeros((50, 50, 4), np.uint8), np.random.default_rng(2).random((64, 64)),
])
def test_codeless_pictures_give_nothing(image):
    assert read_codes(image) == []


def test_not_an_image_is_a_value_error():
    with pytest.raises(ValueError):
        read_codes(np.zeros((0,), np.uint8))


@given(st.integers(4, 160), st.integers(4, 160), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_pictures_never_crash(h, w, seed):
    image = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    for code in read_codes(image):
        assert not looks_like_mojibake(code.text)


def _segno_image(text, encoding=None, eci=False, module=6):
    import io

    import segno
    from PIL import Image

    buffer = io.BytesIO()
    data = text if encoding is None or eci else text.encode(encoding)
    kwargs = {"encoding": encoding, "eci": True} if eci else {"mode": "byte"}
    segno.make(data, micro=False, **kwargs).save(buffer, kind="png", scale=module, border=4)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"))


@pytest.mark.parametrize("text,encoding", [("必不", "gb18030"), ("ｶｰﾄﾞ", "shift_jis"), ("河易办受理", "gb18030"),
                                           ("café", "iso-8859-1"), ("受理回执", "utf-8")])
def test_an_eci_in_the_code_decides_its_charset(text, encoding):
    codes = read_codes(_segno_image(text, encoding, eci=True))
    assert [c.text for c in codes] == [text]


def test_without_eci_gb_or_katakana_is_refused_not_guessed():
    image = _segno_image("必不", "gb18030")
    assert read_codes(image) == []
    assert [c.problem for c in read_codes(image, refused=True)] == ["undecodable"]


def test_eci_segments_of_zxing_hex_text():
    from kiosk.vision.codes import eci_segments

    hex_text = " ".join(f"{b:02X}" for b in b"]Q2\\000029" + "河口".encode("gb18030") + b"\\000026a\\\\b")
    ident, segments = eci_segments(hex_text)
    assert ident == "]Q2" and segments == ((29, "河口".encode("gb18030")), (26, b"a\\b"))
    assert eci_segments("5D 51 31 41 5C 30")[1] == ((None, b"A\\0"),)


def test_gtin_check_digits():
    from kiosk.vision.codes import gtin_check_ok

    assert gtin_check_ok("6901234567892") and gtin_check_ok("96385074")
    assert not gtin_check_ok("6901234567893") and not gtin_check_ok("12")


def _linear(text, fmt, scale=4):
    import zxingcpp

    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(barcode.to_image(scale=scale, add_quiet_zones=True))
    return cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)


def test_short_1d_codes_are_noise_and_long_ones_need_two_observations():
    assert read_codes(_linear("AB", "Code39")) == []  # shorter than Code 39's minimum
    codes = read_codes(_linear("HK26", "Code39"))  # short: two decoders or two steps must agree
    assert [c.text for c in codes] == ["HK26"] and codes[0].votes >= 2


@pytest.mark.parametrize("seed", [118, 320])
def test_striped_fabric_is_no_film_edge_code(seed):
    # Found on a fresh seed of the vision benchmark's code-free class: zxing-cpp reads DX
    # film-edge codes (85-10/46A …) in these textures; a kiosk has no use for that symbology.
    from tests.vision_material import textured_desk

    assert read_codes(textured_desk(np.random.default_rng(seed), 1280, 720)) == []


def test_a_symbology_without_a_confirmation_rule_is_dropped():
    from kiosk.vision import codes as codes_module

    found = codes_module._DECODERS.copy()
    codes_module._DECODERS["fake"] = lambda grey: [codes_module._Symbol("SQ_CODE", b"A1B2C3D4", np.zeros((4, 2)), "zbar")]
    try:
        assert read_codes(_code_image("HK1"), steps=(("only", codes_module._identity, ("fake",)),)) == []
    finally:
        codes_module._DECODERS.clear()
        codes_module._DECODERS.update(found)


def test_a_short_1d_read_does_not_stop_the_ladder_before_a_qr_code():
    from kiosk.vision import codes as codes_module

    calls = []

    def fake_zbar(grey, qr_only=False):
        calls.append(qr_only)
        return [codes_module._Symbol("CODE_39", b"A1B2", np.zeros((4, 2)), "zbar")] if not qr_only else []

    qr = _code_image("河易办 HK1")
    steps = (("first", codes_module._identity, ("fake",)), ("second", codes_module._identity, ("zxing_qr",)))
    original = dict(codes_module._DECODERS)
    codes_module._DECODERS["fake"] = lambda grey: fake_zbar(grey)
    try:
        found = read_codes(qr, steps=steps)
    finally:
        codes_module._DECODERS.clear()
        codes_module._DECODERS.update(original)
    assert [c.text for c in found] == ["河易办 HK1"]  # the unconfirmed Code 39 seen once is dropped
