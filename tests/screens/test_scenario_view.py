"""What a scenario counts as visible on a running kiosk, and the text it reads there."""
from __future__ import annotations

import time

import pytest

from screens.scenario_view import View, contains, plain_text


@pytest.mark.parametrize("markup, text", [
    ("[b][color=C8102E]高龄津贴[/color][/b]发放", "高龄津贴发放"),
    ("A &amp; B &bl;1&br;", "A & B [1]"),
    ("[size=20]x[/size] [i]y[/i] [ref=r]z[/ref][anchor=a]", "x y z"),
    ("[notatag] stays", "[notatag] stays"),
    ("&amp;bl; is shown as typed", "&bl; is shown as typed"),
])
def test_markup_reads_as_plain_text(markup, text):
    assert plain_text(markup) == text
    assert plain_text(markup, markup=False) == markup


def test_spaces_and_line_breaks_read_as_one_space():
    assert contains("没有找到“x”\n试试换个说法", "没有找到“x” 试试")
    assert not contains("Find a service", "find a service")


def wait_until(driver, condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        driver.wait(0.05)


def test_hidden_and_scrolled_out_widgets_and_highlighted_names(kiosk_app):
    driver = kiosk_app
    app = driver.app
    wait_until(driver, lambda: app.kiosk.catalog.ready)
    view = View()
    assert "您好，欢迎使用河易办" in view.texts() and view.with_id("nav.home") == []  # not on the home screen
    app.go("search")
    driver.pump(5)
    screen = app.screens.get_screen("search")
    screen.choose_tab("events")
    driver.pump(5)
    view = View()
    clear = view.with_id("search.clear")[0]
    assert clear.visible is None and clear.hidden_because == "transparent"
    first, last = view.with_id("search.group.1")[0], sorted(
        (s for s in view.seen if s.widget_id.startswith("search.group.")),
        key=lambda s: int(s.widget_id.rsplit(".", 1)[1]))[-1]
    assert first.visible is not None and last.visible is None and last.hidden_because == "scrolled out of view"
    assert any(t.startswith("出生") for t in view.texts()) and not any(t.startswith("身后事") for t in view.texts())
    tapped = view.by_text("出生")
    assert tapped and tapped[0].widget_id == "search.group.1"
    screen.set_query("gljt")
    driver.pump(5)
    view = View()
    row = view.by_text("高龄津贴发放")[0]
    assert row.widget_id == "search.result.1" and "高龄津贴发放" in row.texts_inside  # markup read as plain text
