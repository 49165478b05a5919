"""The kiosk shell as a resident meets it: home, tiles, language, elderly mode, lockdown."""
from __future__ import annotations

from kivy.core.window import Window

from screens.widgets import KioskButton, Tile


def home_tile(kiosk_app, screen: str) -> Tile:
    tile = kiosk_app.find(lambda w: isinstance(w, Tile) and w.screen == screen)
    assert tile is not None, f"no home tile for {screen}"
    return tile


def test_home_shows_brand_prompt_and_tiles(kiosk_app):
    texts = kiosk_app.texts()
    assert "河易办" in texts
    assert "请点击下方您要办理的业务" in texts
    assert kiosk_app.app.screens.current == "home"
    assert not kiosk_app.app.kiosk.session.active


def test_touching_a_home_tile_opens_it_and_starts_a_session(kiosk_app):
    kiosk_app.tap(home_tile(kiosk_app, "help"))
    assert kiosk_app.app.screens.current == "help"
    assert kiosk_app.app.kiosk.session.active
    assert kiosk_app.app.show_home_button


def test_home_button_returns_and_wipes_the_session(kiosk_app):
    kiosk_app.tap(home_tile(kiosk_app, "help"))
    kiosk_app.app.kiosk.session.put("phone", "13812345678")
    home = kiosk_app.find(lambda w: isinstance(w, KioskButton) and w.text == "返回首页")
    kiosk_app.tap(home)
    assert kiosk_app.app.screens.current == "home"
    assert kiosk_app.app.kiosk.session.get("phone") is None
    assert not kiosk_app.app.kiosk.session.active


def test_language_toggle_re_renders_live(kiosk_app):
    toggle = kiosk_app.find(lambda w: isinstance(w, KioskButton) and w.text == "English")
    kiosk_app.tap(toggle)
    texts = kiosk_app.texts()
    assert "Touch the service you need below" in texts
    assert "How to use" in texts  # tiles too
    assert "请点击下方您要办理的业务" not in texts
    kiosk_app.tap(kiosk_app.find(lambda w: isinstance(w, KioskButton) and w.text == "中文"))
    assert "请点击下方您要办理的业务" in kiosk_app.texts()


def test_elderly_mode_enlarges_type_and_targets(kiosk_app):
    tile = home_tile(kiosk_app, "help")
    button = kiosk_app.find(lambda w: isinstance(w, KioskButton) and w.text == "长辈模式")
    normal_font, normal_title = button.font_size, tile.ids.tile_title.font_size
    kiosk_app.tap(button)
    assert kiosk_app.app.elderly
    kiosk_app.pump(3)
    assert button.font_size > normal_font
    assert tile.ids.tile_title.font_size > normal_title  # the tile itself is shorter: titles only
    for widget in kiosk_app.widgets():
        if isinstance(widget, (KioskButton, Tile)) and widget.opacity > 0 and widget.width > 0:
            assert widget.height >= 60, widget


def test_widgets_gone_before_or_during_a_theme_change_do_not_stop_elderly_mode(kiosk_app):
    """Kivy can leave a kv binding behind a widget that is gone (seen under load), or lose a widget
    while the theme changes: every living widget still gets the elderly sizes, and nothing raises
    (before: ReferenceError out of the mode switch, and the screen half in the old sizes)."""
    import gc
    import weakref

    from kivy.uix.widget import Widget

    app = kiosk_app.app
    tile = home_tile(kiosk_app, "help")
    normal_title = tile.ids.tile_title.font_size

    calls = []

    def kv_like(element, *_):  # what kv's call_fn does with its widget's proxy
        calls.append("kv_like")
        element.opacity = 1

    gone = Widget()
    app.fbind("theme", kv_like, gone.proxy_ref)
    del gone
    gc.collect()

    class Thing:
        opacity = 0

    dying = [Thing()]

    def dies_on_the_way(proxy, *_):
        calls.append("dies_on_the_way")
        dying.clear()  # the last reference goes while the theme is being dispatched
        proxy.opacity = 1

    app.fbind("theme", dies_on_the_way, weakref.proxy(dying[0]))
    app.set_elderly(True)
    kiosk_app.pump(3)
    assert tile.ids.tile_title.font_size > normal_title
    app.set_elderly(False)  # the bindings of the things that are gone are not called again
    kiosk_app.pump(3)
    assert tile.ids.tile_title.font_size == normal_title
    assert calls == ["dies_on_the_way"]


def test_memory_is_given_back_between_residents_not_during_a_session(kiosk_app, monkeypatch):
    import screens.app

    released = []
    monkeypatch.setattr(screens.app, "release_free_memory", lambda: released.append(1))
    kiosk_app.tap(home_tile(kiosk_app, "help"))
    kiosk_app.app.kiosk.session.end("timeout")
    kiosk_app.app.kiosk.session.start()  # the next resident is already there: nothing runs under them
    kiosk_app.wait(2.5)
    assert released == []
    kiosk_app.app.kiosk.session.end("timeout")
    kiosk_app.wait(2.5)
    assert released == [1]


def test_escape_f1_alt_f4_and_close_do_not_leave(kiosk_app):
    assert kiosk_app.key(27)  # Esc
    assert kiosk_app.key(282)  # F1 (Kivy settings)
    assert kiosk_app.key(285, ("alt",))  # Alt+F4
    assert Window.dispatch("on_request_close")
    kiosk_app.pump(2)
    assert kiosk_app.app.root in Window.children
    assert kiosk_app.app.screens.current == "home"


def test_session_end_restores_terminal_defaults(kiosk_app):
    kiosk_app.tap(home_tile(kiosk_app, "help"))
    kiosk_app.app.toggle_language()
    kiosk_app.app.toggle_elderly()
    kiosk_app.app.kiosk.session.end("timeout")
    kiosk_app.pump(3)
    assert kiosk_app.app.lang == "zh" and not kiosk_app.app.elderly
    assert kiosk_app.app.screens.current == "home"


def test_a_long_press_or_shortcuts_in_a_field_open_nothing(kiosk_app):
    """No menu, file dialog or shell is reachable: no bubble on a long press, shortcuts do nothing."""
    from kivy.uix.bubble import Bubble

    kiosk_app.tap(home_tile(kiosk_app, "search"))
    field = kiosk_app.app.screens.get_screen("search").ids.field
    before = list(Window.children)
    from kivy.tests.common import UnitTestTouch

    x, y = field.to_window(*field.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    kiosk_app.wait(1.2)  # a long press
    touch.touch_up()
    kiosk_app.pump(3)
    for key, modifiers in ((116, ("ctrl", "alt")), (111, ("ctrl",)), (293, ()), (292, ()), (9, ("alt",))):
        kiosk_app.key(key, modifiers)  # Ctrl+Alt+T, Ctrl+O, F12, F11, Alt+Tab
    assert list(Window.children) == before
    assert kiosk_app.find(lambda w: isinstance(w, Bubble)) is None
    assert kiosk_app.app.screens.current == "search"


def test_in_elderly_mode_every_home_tile_is_in_view_without_scrolling(kiosk_app):
    """长辈模式 shows titles only, so that a resident who does not know to scroll still sees every service."""
    from screens.registry import HOME_TILES

    kiosk_app.app.set_elderly(True)
    kiosk_app.pump(5)
    scroll = kiosk_app.app.screens.get_screen("home").ids.tiles.parent
    bottom = scroll.to_window(scroll.x, scroll.y)[1]
    for spec in HOME_TILES:
        tile = home_tile(kiosk_app, spec.screen)
        assert tile.to_window(tile.x, tile.y)[1] >= bottom - 1, f"{tile.title} is below the fold"
        assert "\n" not in tile.title and tile.subtitle == ""
    assert home_tile(kiosk_app, "search").title == "查找事项"
    kiosk_app.app.set_elderly(False)
    kiosk_app.pump(5)
    assert home_tile(kiosk_app, "search").title == "查找事项 · 办事指南" and home_tile(kiosk_app, "search").subtitle
