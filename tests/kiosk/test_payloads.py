"""Every scanned code goes through one parser: what the kiosk does with it depends on this."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner.base import ScanEvent, make_event
from kiosk.i18n import load_strings
from kiosk.payloads import MAX_CHARS, PICKUP_CODE, RECEIPT, REJECTED, UNKNOWN, URL, classify


@pytest.mark.parametrize("text,kind,value", [
    ("370503-20260612-000123", RECEIPT, "37050320260612000123"),
    ("37050320260612000123", RECEIPT, "37050320260612000123"),
    (" SL-370503-20260612-00012345 ", RECEIPT, "SL3705032026061200012345"),
    ("https://zwfw.example.gov.cn/kiosk/cases/370503-20260612-000123", RECEIPT, "37050320260612000123"),
    ("https://zwfw.example.gov.cn/q?case=37050320260612000123&sig=ab", RECEIPT, "37050320260612000123"),
    ("482913", PICKUP_CODE, "482913"),
    ("48291377", PICKUP_CODE, "48291377"),
    ("https://zzzw.sd.gov.cn/cert/view?id=AB12", URL, "https://zzzw.sd.gov.cn/cert/view?id=AB12"),
    ("HTTP://EXAMPLE.CN", URL, "HTTP://EXAMPLE.CN"),
    ("370503-19990612-000123", UNKNOWN, ""),  # not a plausible acceptance date
    ("12345", UNKNOWN, ""),
    ("东营市河口区政务服务中心", UNKNOWN, ""),
    ("javascript:alert(1)", UNKNOWN, ""),
    ("https://", UNKNOWN, ""),
    ("http://[::1", UNKNOWN, ""),
])
def test_classification(text, kind, value):
    payload = classify(text, source="scanner")
    assert (payload.kind, payload.value) == (kind, value)
    assert payload.source == "scanner"


@pytest.mark.parametrize("data,problem", [
    ("", "payload.empty"),
    ("   ", "payload.empty"),
    ("A" * (MAX_CHARS + 1), "payload.too_long"),
    ("370503\x1b[2J", "payload.garbage"),
    ("abc\u202edef", "payload.garbage"),  # a bidi override would reorder the screen
    ("abc\x00", "payload.garbage"),
    (b"\xff\xfe\x80\x81", "payload.undecodable"),
    (ScanEvent(None, b"\xff", "scanner", "", "undecodable"), "payload.undecodable"),
    (make_event(b"X" * 64, "scanner", oversized=True), "payload.too_long"),
])
def test_garbage_is_rejected_with_a_message_for_the_resident(data, problem):
    payload = classify(data)
    assert payload.kind == REJECTED and payload.problem == problem
    strings = load_strings()
    assert strings[problem]["zh"] and strings[problem]["en"]


def test_gb18030_bytes_are_read_as_chinese():
    assert classify("取件码 482913".encode("gb18030")).text == "取件码 482913"


def test_scan_events_are_classified_with_their_source():
    payload = classify(make_event("482913".encode(), "scanner"))
    assert payload.kind == PICKUP_CODE and payload.source == "scanner"


def test_repr_does_not_show_the_payload():
    assert "482913" not in repr(classify("482913"))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=1200), st.binary(max_size=1200)))
def test_any_input_gets_a_kind_and_rejections_carry_a_known_problem(data):
    payload = classify(data)
    assert payload.kind in (RECEIPT, PICKUP_CODE, URL, UNKNOWN, REJECTED)
    if payload.kind == REJECTED:
        assert payload.problem in ("payload.empty", "payload.too_long", "payload.garbage", "payload.undecodable")
        assert not payload.text
    else:
        assert payload.text and len(payload.text) <= MAX_CHARS
