"""The one decoder for the text inside a code: honest text or a clear refusal, never mojibake."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.codetext import (ASCII, ECI_CHARSETS, EMPTY, GARBAGE, GB18030, LATIN1, SHIFT_JIS, SJIS_REPAIRED,
                              UNDECODABLE, UTF8, decode_code_segments, decode_code_text, looks_like_mojibake)

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
    # no ECI: the charset is weighed by the evidence in the bytes, not by order
    ("東京都千代田区".encode("shift_jis"), "東京都千代田区", SHIFT_JIS),  # JIS level-1 kanji: rare GBK hanzi
    ("ご来店ありがとうございます".encode("shift_jis"), "ご来店ありがとうございます", SHIFT_JIS),  # hiragana
    ("ポイントカード 12".encode("shift_jis"), "ポイントカード 12", SHIFT_JIS),
    ("会員番号：ﾔﾏﾀﾞ ﾀﾛｳ".encode("cp932"), "会員番号：ﾔﾏﾀﾞ ﾀﾛｳ", SHIFT_JIS),  # kanji and half-width kana
    ("ﾃｽﾄ".encode("cp932"), "ﾃｽﾄ", SHIFT_JIS),  # odd length: not GB18030
    ("café Müller".encode("latin-1"), "café Müller", LATIN1),
    ("Größe 42".encode("latin-1"), "Größe 42", LATIN1),
    ("河易办受理".encode("gb18030"), "河易办受理", GB18030),
    ("营业执照 No.12".encode("gb18030"), "营业执照 No.12", GB18030),
    ("ｶﾀｶﾅ".encode("utf-8"), "ｶﾀｶﾅ", UTF8),
    ("中文".encode("gb18030"), "中文", GB18030),  # ÖÐÎÄ in Latin-1 (no Latin words), ﾖﾐﾎﾄ in Shift_JIS: a Chinese word  # half-width katakana in UTF-8 is UTF-8
    ("東京都のラーメン".encode("utf-8"), "東京都のラーメン", UTF8),
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
    ("周䶮".encode("gb18030"), UNDECODABLE),  # GB18030 with a character outside GB 2312: no evidence
    # GB2312 hanzi whose bytes are also spelled half-width katakana: no decoder can tell
    ("必不".encode("gb18030"), UNDECODABLE),  # = ｱﾘｲｻ in Shift_JIS
    ("ｶｰﾄﾞ".encode("cp932"), UNDECODABLE),  # = 栋馁 in GB18030
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


@settings(max_examples=fuzz_examples(500), deadline=None)
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
    elif decoded.encoding in (GB18030, SHIFT_JIS, LATIN1):
        # what the bytes say in that charset (cp932 gives some kanji two codes: 纊 is FA5C and ED40)
        assert body.decode({SHIFT_JIS: "cp932"}.get(decoded.encoding, decoded.encoding)) == text
    else:
        assert text.encode("utf-8") == body


# -- ECI: the code says which charset its bytes are in (ISO/IEC 18004 §7.4.2) --------------------

ECI_TABLE = [
    ("河易办受理回执", "gb18030", 29, GB18030),
    ("河易办受理回执", "gb18030", 32, GB18030),
    ("河易办受理回执", "utf-8", 26, UTF8),
    ("ｶｰﾄﾞ 東京", "shift_jis", 20, SHIFT_JIS),
    ("必不", "gb18030", 29, GB18030),  # ambiguous without the ECI, certain with it
    ("ｶｰﾄﾞ", "shift_jis", 20, SHIFT_JIS),
    ("café ÖÐÎÄ", "latin-1", 3, LATIN1),
    ("Привет", "iso-8859-5", 7, "iso-8859-5"),
    ("臺北市", "big5", 28, "big5"),
    ("서울", "euc-kr", 30, "euc-kr"),
    ("受理", "utf-16-be", 25, "utf-16-be"),
]


@pytest.mark.parametrize("text,codec,eci,encoding", ECI_TABLE)
def test_an_eci_decides_the_charset(text, codec, eci, encoding):
    decoded = decode_code_text(text.encode(codec), eci=eci)
    assert (decoded.text, decoded.encoding) == (text, encoding)


@pytest.mark.parametrize("raw,eci,problem", [
    ("河口".encode("gb18030"), 26, UNDECODABLE),  # declared UTF-8, but the bytes are not
    (b"abc", 999, UNDECODABLE),  # an ECI we do not know
    (b"\x00\x01", 3, GARBAGE),
    (b"", 26, EMPTY),
])
def test_a_wrong_or_unknown_eci_is_refused(raw, eci, problem):
    decoded = decode_code_text(raw, eci=eci)
    assert not decoded.ok and decoded.problem == problem


def test_eci_table_names_codecs_python_knows():
    for codec in ECI_CHARSETS.values():
        "x".encode(codec)


def test_segments_with_their_own_eci_are_joined():
    segments = [(None, b"No.12 "), (29, "河口".encode("gb18030")), (26, " 受理".encode())]
    decoded = decode_code_segments(segments)
    assert decoded.text == "No.12 河口 受理"
    assert not decode_code_segments([(26, b"ok"), (26, "河口".encode("gb18030"))]).ok
    assert decode_code_segments([]).problem == EMPTY


# -- each charset without an ECI, with and without the decoders' readings -------------------------

@pytest.mark.parametrize("text,codec", [
    ("办件编号：HK2026", "gb18030"), ("东营市河口区六合街道", "gb18030"), ("不动产登记", "utf-8"),
    ("ご利用ありがとうございました", "shift_jis"), ("お客様番号 3", "shift_jis"), ("Ærø señor", "latin-1"),
    ("déjà vu", "latin-1"),
])
def test_each_charset_without_eci(text, codec):
    decoded = decode_code_text(text.encode(codec))
    assert decoded.text == text


def test_readings_break_a_tie_and_nothing_else():
    raw = "ｶｰﾄﾞ".encode("cp932")  # GB18030 '栋馁' (no Chinese word) or Shift_JIS 'ｶｰﾄﾞ' (marks)
    assert not decode_code_text(raw).ok
    assert decode_code_text(raw, readings=["ｶｰﾄﾞ"]).text == "ｶｰﾄﾞ"
    # 'ｶﾀｶﾅ' (独杜) has no mark and two frequent hanzi: the decoders' Shift_JIS reading and one
    # Japanese word are no evidence enough against GB18030
    assert not decode_code_text("ｶﾀｶﾅ".encode("cp932"), readings=["ｶﾀｶﾅ", "ｶﾀｶﾅ"]).ok
    # hanzi that form a word win over the decoders' Shift_JIS reading
    assert decode_code_text("河口".encode("gb18030"), readings=["ｺﾓｿﾚ"]).text == "河口"
    # a reading never overrides strong evidence
    assert decode_code_text("河易办".encode(), readings=["豐ｳ譏灘萱"]).text == "河易办"
    # a weak candidate that a decoder read the same way is taken
    assert decode_code_text("ﾂｱ".encode("utf-8"), readings=["ﾂｱ"]).text == "ﾂｱ"


@pytest.mark.parametrize("text", ["罗霞", "蒋英云", "石云磊", "陶刚伟", "姿化 106231", "No.27191 堵百",
                                  "樊忱", "罗莺莺"])  # ｷｮｳﾀ (a Japanese name) and ﾂﾞﾝｺﾝｺ: names first
def test_chinese_whose_gb_bytes_spell_katakana_is_never_read_as_japanese(text):
    """Names and two-hanzi non-words in GB 2312 whose bytes also spell half-width katakana
    with a mark (罗霞 = ﾂﾞﾏｼ): even when both decoders read Shift_JIS, they are refused, not
    shown as Japanese."""
    raw = text.encode("gb18030")
    katakana = raw.decode("cp932")
    assert katakana != text and any(mark in katakana for mark in "ﾞﾟｰｯｬｭｮ")
    decoded = decode_code_text(raw, readings=[katakana, katakana])
    assert decoded.text in (text, None)


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(st.sampled_from(["utf-8", "gb18030", "shift_jis", "iso-8859-1"]), st.integers(0, 2 ** 32 - 1))
def test_generated_payloads_are_read_right_or_refused(charset, seed):
    import numpy as np

    from tests.charset_material import payload_text

    text = payload_text(np.random.default_rng(seed), charset)
    raw = text.encode("cp932" if charset == "shift_jis" else charset)
    decoded = decode_code_text(raw)
    assert decoded.text in (text, None)


def test_gb18030_hanzi_that_are_also_valid_utf8_hangul_read_as_chinese():
    # found by the generated-payload property: 飓风： in GB18030 is the UTF-8 of 쫷磺, a hangul
    # syllable next to a rare hanzi, which is no one's text
    raw = "飓风：741780".encode("gb18030")
    assert raw.decode("utf-8") == "쫷磺741780"
    assert decode_code_text(raw).text == "飓风：741780"
    assert decode_code_text("안녕하세요 123".encode()).text == "안녕하세요 123"  # Korean alone is still Korean


# -- GB 2312 hanzi or half-width katakana: the ambiguous byte strings, decided (issue 16) ----------
# Japanese names and loanwords written for this table (not the benchmark's word lists). Each
# reading pair is (the katakana, the GB18030 reading of the same bytes).

@pytest.mark.parametrize("katakana,hanzi", [
    ("ﾃﾞﾝｷ", "棉莘"),  # ﾞ ﾝ, 莘 rare and second-level: three pieces of evidence and more
    ("ﾊﾟｽﾀ", "蔬嚼"),  # ﾟ, two rare hanzi
    ("ｼﾏﾀﾞ", "枷擂"),  # ﾞ, two rare hanzi
])
def test_short_katakana_with_evidence_is_read_when_zxing_reads_it(katakana, hanzi):
    raw = katakana.encode("cp932")
    assert raw.decode("gb18030") == hanzi
    assert not decode_code_text(raw).ok  # without the decoders' agreement: refused
    assert decode_code_text(raw, readings=[katakana]).text == katakana
    assert not decode_code_text(raw, readings=[hanzi]).ok  # a decoder that read the hanzi: no agreement


@pytest.mark.parametrize("katakana,hanzi", [
    ("ｶﾀｶﾅ", "独杜"),  # a Japanese word, but no mark and two frequent hanzi: nothing else says which
    ("ｷｮｳﾄ", "樊衬"),  # 樊 starts a name
])
def test_truly_ambiguous_katakana_is_refused_even_when_zxing_reads_it(katakana, hanzi):
    raw = katakana.encode("cp932")
    assert raw.decode("gb18030") == hanzi
    assert not decode_code_text(raw, readings=[katakana, katakana]).ok


# Japanese words written for this table (place names, a surname, loanwords; not the benchmark's
# lists), whose bytes are also two GB 2312 hanzi that form no Chinese word.
@pytest.mark.parametrize("katakana,hanzi", [
    ("ｵｵｻｶ", "档欢"),  # 大阪: no mark, one rare hanzi — a word of the Japanese dictionary decides
    ("ﾏﾂﾓﾄ", "下幽"),  # 松本
    ("ｾｲｶﾂ", "静堵"),  # 生活
    ("ﾅｶﾑﾗ", "哦炎"),  # 中村
])
def test_katakana_that_spell_a_japanese_word_are_read_when_zxing_reads_them(katakana, hanzi):
    raw = katakana.encode("cp932")
    assert raw.decode("gb18030") == hanzi
    assert decode_code_text(raw, readings=[katakana]).text == katakana
    assert not decode_code_text(raw).ok  # without the decoders' agreement: refused


@pytest.mark.parametrize("text", ["诚惶诚 629658", "又辅仕 355755"])
def test_chinese_whose_katakana_spell_no_japanese_word_is_not_read_as_japanese(text):
    """Found in generated GB payloads: their bytes spell katakana with small kana and rare
    hanzi (ｳﾏｻﾌｳﾏ, ﾓﾖｸｨﾊﾋ) — Japanese-looking, but no Japanese word."""
    raw = text.encode("gb18030")
    katakana = raw.decode("cp932")
    assert decode_code_text(raw, readings=[katakana, katakana]).text in (text, None)


@pytest.mark.parametrize("text", ["有恃无恐", "有恃无恐兢 12", "姿化 106231"])
def test_chinese_that_spells_katakana_is_read_as_chinese(text):
    """An idiom of four hanzi has no two-hanzi word in it (有恃 恃无 无恐), but lies in the
    dictionary whole; ﾗﾋｻｯ (姿化) ends a word in a small ｯ, which Japanese never does."""
    raw = text.encode("gb18030")
    katakana = raw.decode("cp932")
    assert decode_code_text(raw, readings=[katakana, katakana]).text == text
