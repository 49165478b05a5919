"""The Japanese word list that decides half-width katakana against GB 2312 hanzi."""
from __future__ import annotations

import pytest

from drivers import japanese_words


def test_the_word_list_ships_with_the_package_and_knows_place_names_and_loanwords():
    assert japanese_words.available()
    for word in ("ｵｵｻｶ", "ﾅｺﾞﾔ", "ｳｪﾌﾞ", "ﾌｧｲﾙ", "オオサカ"):  # half- or full-width
        assert japanese_words.is_word(word), word
    for not_a_word in ("ｳﾏｻﾌｳﾏ", "ﾓﾖｸｨﾊﾋ", "ｵｵ", ""):
        assert not japanese_words.is_word(not_a_word), not_a_word


@pytest.mark.parametrize("full,half", [("オオサカ", "ｵｵｻｶ"), ("ガッコウ", "ｶﾞｯｺｳ"), ("パン", "ﾊﾟﾝ"), ("ヰ", None)])
def test_katakana_are_written_in_half_width_as_a_code_carries_them(full, half):
    assert japanese_words.to_halfwidth(full) == half
