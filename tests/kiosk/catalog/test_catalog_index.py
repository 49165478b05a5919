"""Ranking, highlighting, clicks and robustness of the search index on a small catalogue."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from kiosk.catalog.index import SearchIndex, click_boost
from kiosk.catalog.items import items_from_dicts
from kiosk.catalog.synonyms import parse_synonyms

RECORDS = [
    {"code": "A-1", "name": "居民身份证换领", "popularity": 50, "keywords": ["换身份证"]},
    {"code": "A-2", "name": "居民身份证补领", "popularity": 60},
    {"code": "A-3", "name": "身份证", "popularity": 10},
    {"code": "A-4", "name": "身份证明开具", "popularity": 90},
    {"code": "B-1", "name": "个体工商户设立登记", "popularity": 40, "life_events": ["经营"]},
    {"code": "B-2", "name": "食品经营许可（餐饮）", "popularity": 30},
    {"code": "C-1", "name": "职工长期护理保险待遇申请", "popularity": 20, "keywords": ["长护险"]},
    {"code": "C-2", "name": "占用、挖掘城市道路审批", "popularity": 5},
]
SYNONYMS = parse_synonyms('''
stopwords = ["我想", "怎么办"]
[[synonym]]
everyday = ["开店", "做生意"]
official = ["个体工商户"]
''')


def make_index(records=RECORDS, clicks=None):
    return SearchIndex(items_from_dicts(records).items, SYNONYMS, clicks=clicks)


SHARED = make_index()


def codes(results):
    return [r.item.code for r in results]


def test_exact_beats_prefix_beats_word_then_popularity():
    results = make_index().search("身份证")
    assert [r.match for r in results[:4]] == ["exact", "prefix", "word", "word"]
    assert codes(results)[:4] == ["A-3", "A-4", "A-2", "A-1"]  # the two "word" hits by popularity


def test_pinyin_ranks_below_characters_and_synonym_below_pinyin():
    index = make_index()
    assert index.search("sfz")[0].match == "pinyin"
    hit = index.search("开店")[0]
    assert (hit.item.code, hit.match, hit.via) == ("B-1", "synonym", "开店")
    assert hit.spans == ((0, 5),)  # the official word in the name is highlighted


def test_highlight_spans_point_at_the_matched_characters():
    index = make_index()
    name = "居民身份证补领"
    for query in ("身份证补领", "shenfenzhengbuling", "sfzbl", "身份zheng补领"):
        hit = next(r for r in index.search(query) if r.item.code == "A-2")
        start, end = hit.spans[0]
        assert name[start:end].startswith("身份证"), query


def test_highlight_skips_punctuation_in_names():
    hit = make_index().search("占用挖掘")[0]
    assert hit.item.code == "C-2"
    (start, end), = hit.spans
    assert "占用、挖掘城市道路审批"[start:end] == "占用、挖掘"
    assert make_index().search("zhanyongwajue")[0].item.code == "C-2"


def test_keyword_match_says_which_keyword():
    hit = make_index().search("长护险")[0]
    assert (hit.item.code, hit.via_field, hit.via) == ("C-1", "keyword", "长护险")


def test_local_clicks_break_ties_between_equal_matches():
    counts = {}
    index = make_index(clicks=lambda: counts)
    assert codes(index.search("身份证 领"))[:2] == ["A-2", "A-1"]
    counts["A-1"] = 5  # residents here keep opening 换领
    assert codes(index.search("身份证 领"))[:2] == ["A-1", "A-2"]
    assert click_boost(0) == 0 and click_boost(1) == 8 and click_boost(10_000) == 30


def test_words_in_any_order_and_stopwords():
    index = make_index()
    assert codes(index.search("补领身份证"))[0] == "A-2"
    assert codes(index.search("我想开店怎么办"))[0] == "B-1"


def test_typos_and_sound_alikes_are_fuzzy_matches():
    index = make_index()
    for query in ("shengfenzheng", "shenfwnzheng", "身分证"):
        results = index.search(query)
        assert results and results[0].item.name.find("身份证") >= 0, query
        assert results[0].match == "fuzzy"


def test_empty_garbage_and_huge_queries_return_quickly_and_sensibly():
    index = make_index()
    for query in ("", "   ", "!!!???", "\x00\x01", "🙂🙂🙂", "qqqqqqqqqq", "#$%^&*()"):
        assert index.search(query) == [], repr(query)
    assert index.search(None) == []  # type: ignore[arg-type]
    long = "身份证" * 5000
    results = index.search(long)
    assert len(results) <= 10
    assert index.search("sfz", limit=0) == []
    assert len(index.search("s", limit=2)) <= 2


def test_item_code_finds_its_item():
    assert codes(make_index().search("a-2")) == ["A-2"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_at_most_limit_results_with_valid_spans(text):
    results = SHARED.search(text, 5)
    assert len(results) <= 5
    for result in results:
        for start, end in result.spans:
            assert 0 <= start < end <= len(result.item.name)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz' ", max_size=40))
def test_any_letters_are_handled(text):
    assert len(SHARED.search(text, 5)) <= 5
