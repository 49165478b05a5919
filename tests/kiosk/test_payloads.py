"""Every scanned code goes through one parser: what the kiosk does with it depends on this."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

import unicodedata

from drivers.scanner.base import ScanEvent
from kiosk.i18n import load_strings
from kiosk.payloads import (IDENTITY_CODE, MAX_CHARS, PICKUP_CODE, RECEIPT, REJECTED, STAFF_CODE, UNKNOWN, URL,
                            classify)

KINDS = (IDENTITY_CODE, STAFF_CODE, RECEIPT, PICKUP_CODE, URL, UNKNOWN, REJECTED)
PROBLEMS = ("payload.empty", "payload.too_long", "payload.garbage", "payload.undecodable")
ID_TOKEN = "Ab3_x-9QrT5vWz0L"  # 16 characters


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
    (f"HYBID:{ID_TOKEN}", IDENTITY_CODE, f"HYBID:{ID_TOKEN}"),
    (" HYBID:" + "a" * 64 + " ", IDENTITY_CODE, "HYBID:" + "a" * 64),
    ("HYBID:" + ID_TOKEN[:15], UNKNOWN, ""),  # 15 characters: too short
    ("HYBID:" + "a" * 65, UNKNOWN, ""),
    (f"HYBID:{ID_TOKEN[:8]}+{ID_TOKEN[9:]}", UNKNOWN, ""),  # '+' is not allowed
    (f"hybid:{ID_TOKEN}", UNKNOWN, ""),
    (f"HYBID: {ID_TOKEN}", UNKNOWN, ""),
    ("HYBSTAFF:GW-0042_a", STAFF_CODE, "HYBSTAFF:GW-0042_a"),
    ("HYBSTAFF:" + "Z9" * 32, STAFF_CODE, "HYBSTAFF:" + "Z9" * 32),
    ("HYBSTAFF:GW-0042", UNKNOWN, ""),  # 7 characters: too short
    ("HYBSTAFF:" + "Z" * 65, UNKNOWN, ""),
    ("HYBSTAFF:网格员0042abc", UNKNOWN, ""),
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
    (ScanEvent.from_bytes(b"X" * 64, "scanner", oversized=True), "payload.too_long"),
    (ScanEvent.from_bytes(b"370503\x1b[2J", "scanner"), "payload.garbage"),
    (ScanEvent.from_bytes(b"\xef\xbb\xbf", "scanner"), "payload.empty"),
    (b"370503\x1b[2J", "payload.garbage"),  # bytes and text with the same characters: the same problem
    (b"", "payload.empty"),
    ("周䶮".encode("gb18030"), "payload.undecodable"),  # GB18030 without evidence of common Chinese
])
def test_garbage_is_rejected_with_a_message_for_the_resident(data, problem):
    payload = classify(data)
    assert payload.kind == REJECTED and payload.problem == problem
    strings = load_strings()
    assert strings[problem]["zh"] and strings[problem]["en"]


def test_gb18030_bytes_are_read_as_chinese():
    assert classify("取件码 482913".encode("gb18030")).text == "取件码 482913"


def test_zbar_mojibake_bytes_are_read_as_the_chinese_they_were():
    assert classify("豐ｳ譏灘萱".encode("utf-8")).text == "河易办"


def test_scan_events_are_classified_with_their_source():
    payload = classify(ScanEvent.from_bytes("482913".encode(), "scanner"))
    assert payload.kind == PICKUP_CODE and payload.source == "scanner"


@pytest.mark.parametrize("text", ["482913", f"HYBID:{ID_TOKEN}", "HYBSTAFF:GW-0042_a", "东营市河口区"])
def test_repr_does_not_show_the_payload(text):
    payload = classify(text)
    assert text not in repr(payload) and text[-6:] not in repr(payload)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.one_of(st.text(max_size=1200), st.binary(max_size=1200)))
def test_any_input_gets_a_kind_and_rejections_carry_a_known_problem(data):
    payload = classify(data)
    assert payload.kind in KINDS
    if payload.kind == REJECTED:
        assert payload.problem in PROBLEMS
        assert not payload.text
    else:
        assert payload.text and len(payload.text) <= MAX_CHARS


@settings(max_examples=fuzz_examples(500), deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_and_never_give_control_characters_or_replacement_marks(raw):
    for payload in (classify(raw), classify(ScanEvent.from_bytes(raw, "scanner"))):
        assert payload.kind in KINDS
        if payload.kind == REJECTED:
            assert payload.problem in PROBLEMS and not payload.text
        else:
            assert "\ufffd" not in payload.text
            assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in payload.text)
    assert classify(raw).to_json() == classify(ScanEvent.from_bytes(raw, "")).to_json()  # one meaning
