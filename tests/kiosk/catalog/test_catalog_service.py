"""Browsing, local click counts, guides and the catalogue service as the kiosk uses them."""
from __future__ import annotations

import json

import pytest

from kiosk.catalog.browse import LIFE_EVENTS, Browser
from kiosk.catalog.clicks import ClickStore
from kiosk.catalog.guide import build_guide
from kiosk.catalog.items import CatalogError, items_from_dicts, load_catalog_file
from kiosk.catalog.service import DEMO_CATALOG_PATH, CatalogPaths, CatalogService
from kiosk.catalog.synonyms import DEFAULT_SYNONYMS_PATH
from kiosk.i18n import Translator


@pytest.fixture(scope="module")
def demo_items():
    return load_catalog_file(DEMO_CATALOG_PATH).items


def test_life_events_come_in_the_order_of_a_life_and_lists_by_popularity(demo_items):
    browser = Browser(demo_items)
    events = [g.key for g in browser.life_events()]
    assert events == [e for e in LIFE_EVENTS if e in events]
    assert events[0] == "出生" and "身后事" in events
    births = browser.by_life_event("出生")
    assert births and all("出生" in i.life_events for i in births)
    assert [i.popularity for i in births] == sorted((i.popularity for i in births), reverse=True)


def test_departments_persons_organisations_and_hot(demo_items):
    browser = Browser(demo_items)
    departments = browser.departments()
    assert len(departments) >= 10 and departments[0].count >= departments[-1].count
    assert all(i.department == departments[0].key for i in browser.by_department(departments[0].key))
    people, companies = browser.by_audience("person"), browser.by_audience("organisation")
    assert all(i.for_persons for i in people) and all(i.for_organisations for i in companies)
    assert {i.code for i in people} != {i.code for i in companies}
    hot = browser.hot(5)
    assert len(hot) == 5 and hot[0].popularity == max(i.popularity for i in demo_items)
    with pytest.raises(ValueError):
        browser.by_audience("aliens")


def test_clicks_persist_and_make_an_item_hot(tmp_path):
    items = items_from_dicts([{"code": "A", "name": "甲", "popularity": 50},
                              {"code": "B", "name": "乙", "popularity": 45}]).items
    store = ClickStore(tmp_path)
    browser = Browser(items, store.counts)
    assert [i.code for i in browser.hot()] == ["A", "B"]
    store.record("B")
    store.close()
    reopened = ClickStore(tmp_path)
    assert reopened.get("B") == 1
    assert [i.code for i in Browser(items, reopened.counts).hot()] == ["B", "A"]


def test_clicks_without_a_writable_folder_still_count_in_memory(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = ClickStore(blocked / "state")
    assert store.record("A") == 1 and store.get("A") == 1


def test_guide_has_every_section_of_a_full_record(demo_items):
    tr = Translator("zh").tr
    item = next(i for i in demo_items if i.code == "370503-GA-0002")
    guide = build_guide(item, tr)
    titles = [s.title_key for s in guide.sections]
    assert titles == ["guide.about", "guide.conditions", "guide.materials", "guide.time_limit", "guide.fees",
                      "guide.process", "guide.where", "guide.phone", "guide.basis"]
    assert any("可在本机申请" == f or "需到窗口办理" == f for f in guide.facts)
    materials = next(s for s in guide.sections if s.title_key == "guide.materials")
    assert all("（" in line.text for line in materials.lines)  # format, copies, required


def test_guide_of_a_bare_record_is_short_not_broken():
    item = items_from_dicts([{"code": "X", "name": "甲", "time_limit": "soon", "materials": [1, {"x": 2}],
                              "fees": {"charged": False}, "locations": "here"}]).items[0]
    guide = build_guide(item, Translator("en").tr)
    assert guide.name == "甲"
    assert [s.title_key for s in guide.sections] == ["guide.fees"]
    assert "Free of charge" in guide.facts and "Apply at a service window" in guide.facts


def test_service_loads_lazily_searches_and_swaps_catalogues(tmp_path):
    catalog = tmp_path / "items.jsonl"
    catalog.write_text(json.dumps({"code": "A", "name": "居民身份证换领"}, ensure_ascii=False), encoding="utf-8")
    service = CatalogService(CatalogPaths(catalog, DEFAULT_SYNONYMS_PATH, tmp_path / "state", tmp_path / "cache"))
    assert not service.ready
    assert [r.item.code for r in service.search("sfz")] == ["A"]
    assert service.ready
    service.record_open("A")
    service.record_open("not-an-item")
    assert service.clicks.counts() == {"A": 1}
    problems = service.set_records([{"code": "B", "name": "结婚登记"}, {"name": "no code"}])
    assert len(problems) == 1 and service.item("A") is None
    assert service.search("jiehun")[0].item.code == "B"
    with pytest.raises(CatalogError):
        service.set_records([])


def test_service_with_a_missing_file_reports_and_keeps_the_error(tmp_path):
    service = CatalogService(CatalogPaths(tmp_path / "none.json", DEFAULT_SYNONYMS_PATH, tmp_path, tmp_path))
    with pytest.raises(CatalogError):
        service.load()
    assert "does not exist" in service.error and not service.ready


def test_a_backend_catalogue_cache_replaces_the_file_when_it_has_items(tmp_path):
    catalog = tmp_path / "items.json"
    catalog.write_text('[{"code": "F", "name": "文件里的事项"}]', encoding="utf-8")
    service = CatalogService(CatalogPaths(catalog, DEFAULT_SYNONYMS_PATH, tmp_path / "s", tmp_path / "c"))
    source = {"version": 0, "records": []}
    service.attach_source(lambda: source["version"], lambda: source["records"])
    service.load(warm_up=False)
    assert not service.refresh() and service.item("F") is not None  # an empty cache changes nothing
    source.update(version=3, records=[{"code": "B", "name": "内地居民结婚登记"}])
    assert service.refresh() and service.item("F") is None
    assert service.search("结婚")[0].item.code == "B"
    assert not service.refresh()  # same version: no rebuild

    def broken():
        raise RuntimeError("cache unreadable")
    service.attach_source(lambda: 4, broken)
    assert not service.refresh() and service.item("B") is not None


def test_guide_promises_only_what_this_terminal_offers(demo_items):
    tr = Translator("zh").tr
    item = next(i for i in demo_items if i.can_apply_here and i.can_pickup)
    plain = build_guide(item, tr)
    assert "可在本机申请" not in plain.facts and "可在本机取件" not in plain.facts
    full = build_guide(item, tr, offers={"apply", "pickup"})
    assert "可在本机申请" in full.facts and "可在本机取件" in full.facts
    window_only = next(i for i in demo_items if not i.can_apply)
    assert "需到窗口办理" in build_guide(window_only, tr).facts
