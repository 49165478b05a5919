"""A real KioskApp, pumped frame by frame, with simulated touches and keys.

Kivy's window is created once per test process, so it is configured here at import time
(portrait 1080×1920, like a kiosk). Each test gets a fresh app on that window; nothing is
shared between tests but the window itself.
"""
from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import screens  # noqa: F401  (prepares Kivy's environment)
from kiosk.config import DEMO_CONFIG_PATH, load_settings
from kiosk.runtime import build_kiosk
from refbackend.embed import start_for_settings
from screens.launcher import configure_kivy

WIDTH, HEIGHT = 1080, 1920
configure_kivy(WIDTH, HEIGHT, fullscreen=True, hide_cursor=False)

from screens.fonts import register_default_font  # noqa: E402

register_default_font()

from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402


class AppDriver:
    """Drives a running KioskApp the way a resident would: taps, keys, waiting."""

    def __init__(self, app):
        self.app = app

    def pump(self, frames: int = 3) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait(self, seconds: float) -> None:
        """Let real time pass while the app keeps running (Clock events fire)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            EventLoop.idle()
            time.sleep(0.01)

    def tap(self, widget) -> None:
        self.pump(2)  # let layout settle, as it would before a finger arrives
        name = getattr(widget, "widget_id", "")
        if name and widget.get_root_window() is None:
            # redrawn meanwhile (a panel rebuilds its buttons): the finger goes to what shows now
            widget = self.find(lambda w: getattr(w, "widget_id", "") == name and w.get_root_window() is not None) \
                or widget
        x, y = widget.to_window(*widget.center)
        self.tap_at(x, y)

    def tap_at(self, x: float, y: float) -> None:
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(1)
        touch.touch_up()
        self.wait(0.05)  # a Button returns to "normal" after min_state_time of real time
        self.pump(2)

    def key(self, key: int, modifiers: tuple[str, ...] = ()) -> bool:
        """Dispatch a key like SDL does; returns True when something consumed it."""
        Window.dispatch("on_key_down", key, 0, None, list(modifiers))
        consumed = Window.dispatch("on_keyboard", key, 0, None, list(modifiers))
        Window.dispatch("on_key_up", key, 0)
        self.pump(1)
        return bool(consumed)

    @staticmethod
    def widgets():
        for top in Window.children:
            yield from top.walk(restrict=False)

    def find(self, predicate):
        return next((widget for widget in self.widgets() if predicate(widget)), None)

    def texts(self) -> list[str]:
        return [w.text for w in self.widgets() if isinstance(getattr(w, "text", None), str) and w.text]


# Rebuildable caches (the pinyin lexicon, jieba's dictionary cache) are built once per test
# session, in the background by the first app that needs them, and shared by every test.
SESSION_CACHE_DIR = Path(tempfile.mkdtemp(prefix="kiosk-test-cache-"))
atexit.register(shutil.rmtree, SESSION_CACHE_DIR, True)


@pytest.fixture(scope="session", autouse=True)
def pinyin_lexicon():
    """A smaller pinyin lexicon (words seen at least 200 times, every character), built once
    in ≈2 s, so that no app of the session builds the full one in the background."""
    from kiosk.ime.lexicon import LEXICON_FILE, build_lexicon

    build_lexicon(SESSION_CACHE_DIR / LEXICON_FILE, min_freq=200)
    return SESSION_CACHE_DIR


def make_settings(tmp_path: Path, **overrides):
    settings = load_settings(DEMO_CONFIG_PATH)
    session = dataclasses.replace(settings.session, scratch_dir=str(tmp_path / "scratch"),
                                  **overrides.pop("session", {}))
    display = dataclasses.replace(settings.display, width=WIDTH, height=HEIGHT, **overrides.pop("display", {}))
    catalog = dataclasses.replace(settings.catalog, state_dir=str(tmp_path / "state"),
                                  cache_dir=str(SESSION_CACHE_DIR), **overrides.pop("catalog", {}))
    return dataclasses.replace(settings, session=session, display=display, catalog=catalog, **overrides)


def clear_window_and_touches() -> None:
    for child in Window.children[:]:
        Window.remove_widget(child)
    EventLoop.touches.clear()
    for post_processor in EventLoop.postproc_modules:
        for attribute in ("touches", "last_touches"):
            if hasattr(post_processor, attribute):
                getattr(post_processor, attribute).clear()


def forget_app() -> None:
    """kv's `app` is a proxy that caches the running app; a new test needs a new app."""
    from kivy.app import App
    from kivy.lang.parser import global_idmap

    App._running_app = None
    object.__setattr__(global_idmap["app"], "_obj", None)


@pytest.fixture
def start_app(tmp_path):
    """Returns start(**overrides) → AppDriver; overrides as for make_settings. Torn down after."""
    from screens.app import KioskApp

    started: list[AppDriver] = []

    def start(**overrides) -> AppDriver:
        EventLoop.ensure_window()
        clear_window_and_touches()
        forget_app()
        app = KioskApp(build_kiosk(make_settings(tmp_path, **overrides), embed_backend=start_for_settings))
        app._run_prepare()
        driver = AppDriver(app)
        driver.pump(5)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.app._hide_overlay()
        clear_window_and_touches()
        driver.app.dispatch("on_stop")
        driver.pump(2)
        forget_app()
    Window.show_cursor = True


@pytest.fixture
def kiosk_app(start_app):
    """An AppDriver around a started KioskApp with the demo configuration."""
    return start_app()


# -- issue 13: the simulator panel talks to the simulators over the control socket ------------------

@pytest.fixture
def sim_devices():
    """``sim_devices(**sections)`` → the demo's ``[devices]`` with a private simulator control
    socket (short path under /tmp; the default one may belong to a running demo) and the
    given sections changed, e.g. ``sim_devices(idcard={"driver": "none"})``; pass it to
    ``start_app(devices=...)``."""
    folder = Path(tempfile.mkdtemp(prefix="ksp-", dir="/tmp"))  # a Unix socket path must stay short

    def make(**sections):
        base = load_settings(DEMO_CONFIG_PATH).devices
        changes = {name: dataclasses.replace(getattr(base, name), **values) for name, values in sections.items()}
        return dataclasses.replace(base, sim_control=str(folder / "sim.sock"), **changes)

    yield make
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_state_dir(tmp_path, monkeypatch):
    """A state folder for this test alone (the technician PIN lockout is kept there; the process-wide
    one would carry one test's lockout into the next)."""
    folder = tmp_path / "kiosk-state"
    folder.mkdir()
    monkeypatch.setenv("KIOSK_STATE_DIR", str(folder))
    return folder
