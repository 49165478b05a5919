"""Line breaking for 58 mm (32 columns) and 80 mm (48 columns) paper, Chinese double width."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.receipts.wrapping import fit, pad_between, text_width, wrap


def test_chinese_is_two_columns_and_wraps_at_half_the_count():
    text = "城" * 20
    assert wrap(text, 32) == ["城" * 16, "城" * 4]
    assert wrap(text, 48) == ["城" * 20]
    assert text_width("城A") == 3


def test_latin_words_and_numbers_stay_whole():
    lines = wrap("受理编号 HK2025031800123 已生成", 20)
    assert "HK2025031800123" in lines[1]
    assert all(text_width(line) <= 20 for line in lines)


def test_closing_punctuation_never_starts_a_line():
    lines = wrap("一二三四五六七八，九十", 16)  # the comma would land in column 17
    assert lines == ["一二三四五六七", "八，九十"]


def test_opening_bracket_never_ends_a_line():
    lines = wrap("一二三四五六七（八九）", 16)
    assert not lines[0].endswith("（")


def test_explicit_newlines_are_kept_and_empty_text_gives_one_empty_line():
    assert wrap("a\nb", 10) == ["a", "b"]
    assert wrap("", 10) == [""]


def test_columns_and_fit():
    assert pad_between("已收材料", "页数", 16) == "已收材料    页数"
    assert pad_between("很长很长很长很长", "页数", 16) is None
    assert fit("城乡居民基本养老保险", 10) == "城乡居民…"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("河口区政务服务中心，。：（）《》ab c1234-①") + ["HK2025031800123"]),
                max_size=60).map("".join),
       st.sampled_from([32, 48, 16, 24]))
def test_wrapped_lines_fit_and_lose_nothing_but_break_spaces(text, columns):
    lines = wrap(text, columns)
    assert all(text_width(line) <= columns for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
