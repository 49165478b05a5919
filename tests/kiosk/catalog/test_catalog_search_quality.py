"""Every kind of query a resident types finds the item they mean in the first three results.

The tables (catalog_query_tables.py) are run against the real demo catalogue
(assets/catalog/hekou_items.json) with the bundled synonyms table, as the kiosk would.
"""
from __future__ import annotations

import pytest

import catalog_query_tables as tables
from kiosk.catalog.index import SearchIndex
from kiosk.catalog.items import load_catalog_file
from kiosk.catalog.service import DEMO_CATALOG_PATH
from kiosk.catalog.synonyms import load_synonyms

KINDS = ("SUBSTRING", "WORDS", "PINYIN", "PINYIN_SPACED", "INITIALS", "MIXED", "TYPO", "EVERYDAY", "SYNONYMS")
ROWS = [(kind, query, "370503-" + code) for kind in KINDS + ("POLYPHONES",)
        for query, code in getattr(tables, kind)]


@pytest.fixture(scope="module")
def demo():
    items = load_catalog_file(DEMO_CATALOG_PATH).items
    return SearchIndex(items, load_synonyms()), {item.code: item for item in items}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_at_least_forty_queries(kind):
    assert len(getattr(tables, kind)) >= 40


@pytest.mark.parametrize("kind,query,code", ROWS, ids=[f"{k.lower()}:{q}" for k, q, _ in ROWS])
def test_query_finds_the_intended_item_in_the_top_three(demo, kind, query, code):
    index, items = demo
    assert code in items, f"{code} is not in the demo catalogue"
    results = index.search(query, 10)
    top = [r.item.code for r in results[:3]]
    assert code in top, (f"{kind} {query!r} should find {items[code].name}; got "
                         f"{[r.item.name for r in results[:3]]}")


@pytest.mark.parametrize("query,code", tables.EVERYDAY + tables.SYNONYMS)
def test_everyday_queries_share_no_character_with_the_name(demo, query, code):
    _index, items = demo
    assert not set(query) & set(items["370503-" + code].name)


@pytest.mark.parametrize("query,code", tables.SYNONYMS)
def test_synonym_queries_are_found_through_the_synonyms_table_only(demo, query, code):
    index, items = demo
    item = items["370503-" + code]
    assert not any(query in k or k in query for k in item.keywords), "the catalogue's keywords know this one"
    hit = next(r for r in index.search(query, 3) if r.item.code == item.code)
    assert (hit.match, hit.via_field) == ("synonym", "synonym")


def test_polyphone_reading_pypinyin_gets_wrong_still_finds_the_item(demo):
    from pypinyin import lazy_pinyin

    assert lazy_pinyin("长护险")[0] == "zhang"  # the context-free reading is wrong here
    index, _items = demo
    assert index.search("changhuxian", 3)[0].item.code == "370503-YB-0010"
