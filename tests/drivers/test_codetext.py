"""The one decoder for the text inside a code: honest text or a clear refusal, never mojibake."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.codetext import (ASCII, EMPTY, GARBAGE, GB18030, SJIS_REPAIRED, UNDECODABLE, UTF8, decode_code_text,
                              looks_like_mojibake)

# What zbar makes of '河易办' in UTF-8 when it guesses Shift-JIS, sent on as UTF-8
MOJIBAKE = "豐ｳ譏灘萱"


@pytest.mark.parametrize("raw,text,encoding", [
    (b"370503-20260612-000123", "370503-20260612-000123", ASCII),
    ("河易办 受理回执".encode("utf-8"), "河易办 受理回执", UTF8),
    ("\ufeff受理".encode("utf-8"), "受理", UTF8),  # a byte-order mark is dropped
    (b"\xef\xbb\xbfHK1", "HK1", UTF8),
    ("东营市河口区政务服务中心：取件码 482913".encode("gb18030"), "东营市河口区政务服务中心：取件码 482913", GB18030),
    (MOJIBAKE.encode("utf-8"), "河易办", SJIS_REPAIRED),
    ("Zoë Müller".encode("utf-8"), "Zoë Müller", UTF8),
    ("周䶮".encode("utf-8"), "周䶮", UTF8),  # rare characters are fine in UTF-8
])
def test_text_the_bytes_really_hold(raw, text, encoding):
    decoded = decode_code_text(raw)
    assert (decoded.text, decoded.encoding, decoded.problem) == (text, encoding, "")
    assert decoded.ok


@pytest.mark.parametrize("raw,problem", [
    (b"", EMPTY),
    (b"\xef\xbb\xbf", EMPTY),
    (b"\x80\x00\xff\x81\x30\x81\x30\xfe\x01", UNDECODABLE),  # binary
    (b"\xff\xfe\x80", UNDECODABLE),
    ("café".encode("latin-1"), UNDECODABLE),  # not UTF-8, and no Chinese in it
    ("周䶮".encode("gb18030"), UNDECODABLE),  # GB18030 with a character outside GB 2312: no evidence
    ("：，。".encode("gb18030"), UNDECODABLE),  # punctuation alone is no evidence of Chinese
    (b"\xef\xbb\xbf" + "河口".encode("gb18030"), UNDECODABLE),  # a UTF-8 mark on bytes that are not UTF-8
    ("ﾂｱ".encode("utf-8"), UNDECODABLE),  # Shift-JIS round trip gives '±': could be either, so refused
    (b"370503\x1b[2J", GARBAGE),
    (b"line one\nline two", GARBAGE),
    (b"abc\x00", GARBAGE),
    ("受理\u0085".encode("utf-8"), GARBAGE),  # a C1 control
    ("受理\ue000".encode("utf-8"), GARBAGE),  # private use
    ("受理\ufffd".encode("utf-8"), GARBAGE),
    (b"\x00" + "河口".encode("gb18030"), GARBAGE),
])
def test_refusals_say_why(raw, problem):
    decoded = decode_code_text(raw)
    assert decoded.text is None and decoded.encoding == "" and decoded.problem == problem
    assert not decoded.ok


def test_repr_never_shows_the_text():
    assert "482913" not in repr(decode_code_text(b"482913"))
    assert "河" not in repr(decode_code_text("河易办".encode()))


def test_mojibake_detector():
    assert looks_like_mojibake(MOJIBAKE)
    assert not looks_like_mojibake("河易办") and not looks_like_mojibake("abc") and not looks_like_mojibake("")


def _encode(text: str, codec: str) -> bytes | None:
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        return None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=200),
                 st.text(max_size=40).map(lambda t: t.encode("utf-8")),
                 st.text(alphabet="河易办受理回执东营市口区政务服务中心取件码：，。 0123456789ABC", max_size=20)
                 .map(lambda t: t.encode("gb18030"))))
def test_any_bytes_give_honest_readable_text_or_a_refusal(raw):
    decoded = decode_code_text(raw)
    if not decoded.ok:
        assert decoded.problem in (EMPTY, UNDECODABLE, GARBAGE) and decoded.encoding == ""
        return
    text = decoded.text
    assert text and decoded.problem == ""
    assert "\ufffd" not in text
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in text)
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if decoded.encoding == SJIS_REPAIRED:  # the mojibake written back as Shift-JIS is the text's UTF-8
        assert text.encode("utf-8") in (_encode(body.decode("utf-8"), "shift_jis"),
                                        _encode(body.decode("utf-8"), "cp932"))
    elif decoded.encoding == GB18030:
        assert text.encode("gb18030") == body
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    else:
        assert text.encode("utf-8") == body
