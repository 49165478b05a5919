"""Catalogue and synonyms files: every usable record is kept, every problem is named."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.catalog.items import CatalogError, load_catalog_file
from kiosk.catalog.synonyms import SynonymError, load_synonyms, parse_synonyms
from kiosk.catalog.service import DEMO_CATALOG_PATH
from kiosk.catalog.synonyms import DEFAULT_SYNONYMS_PATH


def write(tmp_path, text, name="items.json"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_json_array_and_json_lines_give_the_same_items(tmp_path):
    records = [{"code": "X-1", "name": "甲"}, {"code": "X-2", "name": "乙", "popularity": 30}]
    as_array = load_catalog_file(write(tmp_path, json.dumps(records, ensure_ascii=False)))
    as_lines = load_catalog_file(write(tmp_path, "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
                                       + "\n\n", "items.jsonl"))
    wrapped = load_catalog_file(write(tmp_path, json.dumps({"items": records}), "wrapped.json"))
    for report in (as_array, as_lines, wrapped):
        assert [(i.code, i.name, i.popularity) for i in report.items] == [("X-1", "甲", 0), ("X-2", "乙", 30)]
        assert report.problems == []


def test_bad_records_are_skipped_with_a_reason_and_the_rest_kept(tmp_path):
    records = [{"code": "X-1", "name": "甲"}, {"name": "no code"}, {"code": "X-3"}, "text",
               {"code": "X-1", "name": "again"},
               {"code": "X-5", "name": "乙", "keywords": "一个词", "popularity": "high", "life_events": [1, "出生"]}]
    report = load_catalog_file(write(tmp_path, json.dumps(records, ensure_ascii=False)))
    assert [i.code for i in report.items] == ["X-1", "X-5"]
    text = "\n".join(report.problems)
    for expected in ("item 2: no \"code\"", "item 3 (X-3): no \"name\"", "item 4: not an object",
                     "item 5: code X-1 already used by item 1", "popularity should be a number",
                     "life_events has an entry that is not text"):
        assert expected in text
    x5 = report.items[1]
    assert x5.keywords == ("一个词",) and x5.life_events == ("出生",) and x5.popularity == 0


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\xff\xfe\x00broken", "not UTF-8"),
    (b"[{\"code\": \"X\", \"name\": \"y\"},\n oops]", "line 2: not valid JSON"),
    (b"{\"code\": \"X\", \"name\": \"y\"}\n{bad json", "line 2: not valid JSON"),
    (b"[]", "no usable item"),
    (b"[{\"name\": \"no code\"}]", "no usable item"),
    (b"{\"something\": 1}", "expected a JSON array"),
])
def test_unusable_files_say_why(tmp_path, content, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog_file(write(tmp_path, content))


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog_file(tmp_path / "nope.json")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "items.json"
    path.write_bytes(data)
    try:
        report = load_catalog_file(path)
    except CatalogError as exc:
        assert str(exc)
    else:
        assert report.items


def test_bundled_files_load():
    assert len(load_catalog_file(DEMO_CATALOG_PATH).items) >= 160
    table = load_synonyms(DEFAULT_SYNONYMS_PATH)
    assert len(table.groups) >= 40 and "怎么办" in table.stopwords


@pytest.mark.parametrize("text,message", [
    ("stopwords = [", "TOML syntax error"),
    ("[[synonym]]\nofficial = [\"a\"]", "\"everyday\" is missing"),
    ("[[synonym]]\neveryday = [\"开店\"]", "give \"official\" words or \"events\""),
    ("[[synonym]]\neveryday = \"开店\"\nofficial = [\"x\"]", "must be a list"),
    ("[[synonym]]\neveryday = [\"开店\"]\nofficial = [\"x\"]\ncolour = 1", "unknown key 'colour'"),
    ("colour = 1", "unknown key 'colour'"),
])
def test_synonyms_file_errors_name_the_group(text, message):
    with pytest.raises(SynonymError, match=message):
        parse_synonyms(text, "syn.toml")


def test_synonym_words_are_normalised():
    table = parse_synonyms('[[synonym]]\neveryday = [" 开店 ", "ＡＢＣ", "开店"]\nofficial = ["个体工商户"]')
    assert table.groups[0].everyday == ("开店", "abc")
