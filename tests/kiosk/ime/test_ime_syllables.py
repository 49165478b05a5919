"""Typed letters → syllables, one-edit typo variants, and what each kind of field accepts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.catalog.typos import ALPHABET, typo_variants
from kiosk.ime.fields import accept, first_page
from kiosk.ime.readings import char_readings
from kiosk.ime.syllables import full_split, segmentations


def texts(split):
    return [(t.text, t.kind) for t in split]


@pytest.mark.parametrize("letters,best", [
    ("shenfenzheng", [("shen", "full"), ("fen", "full"), ("zheng", "partial")]),
    ("sfz", [("s", "abbr"), ("f", "abbr"), ("z", "partial")]),
    ("zhengm", [("zheng", "full"), ("m", "partial")]),
    ("shen fen zheng", [("shen", "full"), ("fen", "full"), ("zheng", "partial")]),
    ("xi'an", [("xi", "full"), ("an", "partial")]),
    ("lvse", [("lv", "full"), ("se", "partial")]),
])
def test_best_split(letters, best):
    assert texts(segmentations(letters)[0]) == best


def test_ambiguous_runs_keep_their_alternatives():
    assert {tuple(t.text for t in s) for s in segmentations("xian")} >= {("xian",), ("xi", "an")}
    assert {tuple(t.text for t in s) for s in segmentations("fangan")} >= {("fang", "an"), ("fan", "gan")}
    assert ("g", "a", "t", "x", "z") in {tuple(t.text for t in s) for s in segmentations("gatxz")}  # 港澳通行证


@pytest.mark.parametrize("letters", ["", "iu", "身份", "abc1", "v"])
def test_non_pinyin_gives_nothing(letters):
    assert segmentations(letters) == []


def test_full_split():
    assert full_split("zhengming") == ("zheng", "ming")
    assert full_split("sfz") is None


def test_polyphones_have_every_reading_in_use_but_not_archaic_ones():
    assert set(char_readings("长")) == {"chang", "zhang"}
    assert {"xing", "hang"} <= set(char_readings("行"))
    assert set(char_readings("给")) == {"gei", "ji"}
    assert "guo" not in char_readings("划") and "hu" not in char_readings("许")
    assert char_readings("绿")[:2] == ("lv", "lu")
    assert char_readings("，") == () and char_readings("B") == ("b",)


def brute_force_variants(letters):
    out = set()
    for a in range(len(letters) + 1):
        for ch in ALPHABET:
            out.add(letters[:a] + ch + letters[a:])
        if a < len(letters):
            out.add(letters[:a] + letters[a + 1:])
            for ch in ALPHABET:
                out.add(letters[:a] + ch + letters[a + 1:])
            if a + 1 < len(letters):
                out.add(letters[:a] + letters[a + 1] + letters[a] + letters[a + 2:])
    out.discard(letters)
    return {v for v in out if v and segmentations(v, limit=1, allow_abbr=False)}


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="aeinoughzs", min_size=4, max_size=9))
def test_typo_variants_are_exactly_the_one_edit_spellings_that_are_pinyin(letters):
    assert set(typo_variants(letters)) == brute_force_variants(letters)


def test_typo_variants_examples():
    assert "shenfenzheng" in typo_variants("shengfenzheng")
    assert "shenfenzheng" in typo_variants("shenfnezheng")
    assert typo_variants("sfz") == []  # too short to guess


@pytest.mark.parametrize("kind,text,cursor,insert,taken", [
    ("digits", "12", 2, "3a4", "34"),
    ("phone", "0546", 4, "-123x", "-123"),
    ("phone", "1" * 19, 19, "234", "2"),
    ("id_number", "", 0, "37050319800101123", "37050319800101123"),
    ("id_number", "37050319800101123", 17, "x", "X"),
    ("id_number", "3705031980", 10, "X", ""),          # X only as the 18th character
    ("id_number", "370503198001011234", 18, "5", ""),  # 18 is all
    ("chinese", "河口", 2, "区", "区"),
    ("english", "", 0, "Wang", "Wang"),
])
def test_fields_take_only_what_they_can_hold(kind, text, cursor, insert, taken):
    assert accept(kind, text, cursor, insert) == taken


def test_numeric_fields_open_the_digits_page():
    assert [first_page(k) for k in ("chinese", "english", "digits", "phone", "id_number")] == \
        ["pinyin", "english", "digits", "digits", "digits"]


def test_readings_table_matches_installed_pypinyin():
    """assets/ime/char_readings.txt is what pypinyin gives today (else: python -m kiosk.ime.readings --write)."""
    from kiosk.ime.readings import TABLE_PATH, table_text

    assert TABLE_PATH.read_text(encoding="utf-8") == table_text()


def test_the_kiosk_core_does_not_import_pypinyin_or_jieba():
    import subprocess
    import sys

    code = ("import sys, kiosk.runtime\n"
            "from kiosk.catalog.index import SearchIndex\n"
            "from kiosk.catalog.items import items_from_dicts\n"
            "i = SearchIndex(items_from_dicts([{'code': 'A-1', 'name': '居民身份证补领'}]).items)\n"
            "assert i.search('shenfenzheng') and i.search('补领身份证')\n"
            "print(sorted(m for m in ('pypinyin', 'jieba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
