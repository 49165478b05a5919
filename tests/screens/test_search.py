"""查找事项 on a running kiosk: type, see the matched part, browse, read a guide, start over."""
from __future__ import annotations

import json
import re
import time

import pytest

from screens.keyboard import CandidateButton, KeyboardDock, KeyButton
from screens.search import GroupButton, GuideScreen, ResultRow, SearchScreen, TabButton
from screens.widgets import KioskButton, Tile
from tests.screens.test_identify import wait_until


def wait_ready(driver):
    deadline = time.monotonic() + 60
    catalog = driver.app.kiosk.catalog
    while not (catalog.ready and driver.app.kiosk.ime.ready):
        assert time.monotonic() < deadline and not catalog.error, catalog.error
        driver.wait(0.05)


@pytest.fixture
def search(kiosk_app):
    wait_ready(kiosk_app)
    tile = kiosk_app.find(lambda w: isinstance(w, Tile) and w.screen == "search")
    assert tile is not None and "查找事项" in tile.title
    kiosk_app.tap(tile)
    assert kiosk_app.app.screens.current == "search"
    return kiosk_app, kiosk_app.app.screens.get_screen("search")


def rows(driver):
    return [w for w in driver.widgets() if isinstance(w, ResultRow)]


def plain(markup: str) -> str:
    return re.sub(r"\[/?[^\]]*\]", "", markup)


def test_typing_pinyin_initials_shows_results_while_composing(search):
    driver, screen = search
    driver.tap(screen.ids.field)
    for letter in "sfz":
        driver.tap(driver.find(lambda w, l=letter: isinstance(w, KeyButton) and w.spec is not None
                               and w.spec.value == l))
    driver.wait(0.2)  # results follow the keys after a short pause
    found = rows(driver)
    assert found and "身份证" in plain(found[0].title)
    assert "[color=" in found[0].title  # the matched part is highlighted
    assert screen.status_text.startswith("找到")
    # choosing the candidate puts the characters in the field and keeps the results
    driver.tap(driver.find(lambda w: isinstance(w, CandidateButton) and w.text == "身份证"))
    driver.wait(0.2)
    assert screen.ids.field.text == "身份证"
    assert "[b][color=C8102E]身份证[/color][/b]" in rows(driver)[0].title


def test_everyday_words_find_the_official_item_and_say_why(search):
    driver, screen = search
    screen.set_query("开店")
    first = rows(driver)[0]
    assert plain(first.title) == "个体工商户设立登记"
    screen.set_query("瘫痪在床")
    care = next(r for r in rows(driver)[:3] if "长期护理保险" in plain(r.title))
    assert "相关：瘫痪" in care.detail  # the resident sees why an unfamiliar name came up


def test_no_result_says_so_and_offers_browsing(search):
    driver, screen = search
    screen.set_query("zzzzqqqq")
    assert rows(driver) == []
    assert "没有找到" in screen.status_text and "按类别" in screen.status_text
    driver.tap(driver.find(lambda w: isinstance(w, KioskButton) and w.text == "清空"))
    assert screen.mode == "browse" and rows(driver)  # popular items again


def test_result_opens_the_guide_counts_a_click_and_goes_back(search):
    driver, screen = search
    screen.set_query("结婚")
    driver.pump(5)  # the list may be drawn again as results settle: take the row that is shown
    row = next(r for r in rows(driver) if plain(r.title) == "内地居民结婚登记" and r.get_root_window() is not None)
    driver.tap(row)
    assert driver.app.screens.current == "guide"
    guide: GuideScreen = driver.app.screens.get_screen("guide")
    texts = driver.texts()
    assert guide.item_name == "内地居民结婚登记"
    for heading in ("办理条件", "所需材料", "办理时限", "收费标准", "办理地点", "咨询电话", "办理依据"):
        assert heading in texts, heading
    assert driver.app.kiosk.catalog.clicks.get(row.code) == 1
    driver.tap(guide.ids.back_button)
    assert driver.app.screens.current == "search" and screen.ids.field.text == "结婚"


def test_browse_by_life_event_department_and_audience(search):
    driver, screen = search
    driver.tap(driver.find(lambda w: isinstance(w, TabButton) and w.tab == "events"))
    # the keyboard that entering the screen showed slides away, and a catalogue refresh started on
    # entering may redraw the list: let the screen settle before a finger goes to a row
    driver.wait(0.6)
    groups = [w for w in driver.widgets() if isinstance(w, GroupButton)]
    assert groups[0].key == "出生" and any(g.key == "身后事" for g in groups)
    driver.tap(driver.find(lambda w: isinstance(w, GroupButton) and w.key == "结婚"))
    wait_until(driver, lambda: any(plain(r.title) == "内地居民结婚登记" for r in rows(driver)), 10)
    assert any(plain(r.title) == "内地居民结婚登记" for r in rows(driver)), [plain(r.title) for r in rows(driver)][:5]
    driver.tap(driver.find(lambda w: isinstance(w, GroupButton) and w.text.startswith("‹ 返回")))
    assert any(isinstance(w, GroupButton) and w.key == "出生" for w in driver.widgets())
    driver.tap(driver.find(lambda w: isinstance(w, TabButton) and w.tab == "departments"))
    department = driver.find(lambda w: isinstance(w, GroupButton) and "公安" in w.key)
    driver.tap(department)
    assert rows(driver) and all(driver.app.kiosk.catalog.item(r.code).department == department.key
                                for r in rows(driver))
    driver.tap(driver.find(lambda w: isinstance(w, TabButton) and w.tab == "organisation"))
    assert all(driver.app.kiosk.catalog.item(r.code).for_organisations for r in rows(driver))


def test_the_next_resident_starts_with_an_empty_search(search):
    driver, screen = search
    screen.set_query("离婚")
    driver.app.go_home()
    driver.pump(3)
    driver.tap(driver.find(lambda w: isinstance(w, Tile) and w.screen == "search"))
    assert screen.ids.field.text == "" and screen.mode == "browse"
    # the field is focused for typing, with nothing of the previous resident's composition
    keyboard = KeyboardDock.find().keyboard
    assert KeyboardDock.find().shown and keyboard.target is screen.ids.field.__self__ and not keyboard.preedit


def test_elderly_mode_and_english(search):
    driver, screen = search
    screen.set_query("sfz")
    normal = rows(driver)[0].children[-1].children[-1].font_size  # the name label
    driver.app.set_elderly(True)
    driver.pump(3)
    assert rows(driver)[0].children[-1].children[-1].font_size > normal
    driver.app.set_language("en")
    driver.pump(3)
    assert screen.status_text.endswith("Touch one to read its guide")
    assert "Clear" in driver.texts()


def test_a_broken_catalogue_says_so(start_app, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nothing": 1}), encoding="utf-8")
    driver = start_app(catalog={"file": str(bad)})
    deadline = time.monotonic() + 30
    while not driver.app.kiosk.catalog.error:
        assert time.monotonic() < deadline
        driver.wait(0.05)
    driver.app.go("search")
    driver.pump(3)
    screen: SearchScreen = driver.app.screens.get_screen("search")
    assert "暂时无法使用" in screen.status_text
