"""The countdown appears after the idle time, a touch keeps the session, zero wipes it."""
from __future__ import annotations

from screens.widgets import IdleOverlay


class StepClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def overlay_of(kiosk_app):
    return kiosk_app.find(lambda w: isinstance(w, IdleOverlay))


def test_countdown_touch_extends_and_zero_wipes(kiosk_app, tmp_path):
    app = kiosk_app.app
    clock = StepClock()
    app.kiosk.idle._clock = clock
    app.go("help")
    app.kiosk.session.put("name", "张三")
    image = app.kiosk.session.scratch_dir() / "page.jpg"
    image.write_bytes(b"jpeg")

    clock.now += app.kiosk.settings.session.idle_seconds + 1
    kiosk_app.wait(0.4)
    overlay = overlay_of(kiosk_app)
    assert overlay is not None
    assert "长时间无操作，即将返回首页" in kiosk_app.texts()
    assert overlay.remaining == app.kiosk.settings.session.countdown_seconds - 1

    kiosk_app.tap_at(540, 300)  # anywhere
    kiosk_app.wait(0.4)
    assert overlay_of(kiosk_app) is None
    assert app.kiosk.session.get("name") == "张三"
    assert app.screens.current == "help"

    clock.now += app.kiosk.settings.session.idle_seconds + app.kiosk.settings.session.countdown_seconds + 1
    kiosk_app.wait(0.4)
    assert overlay_of(kiosk_app) is None
    assert app.screens.current == "home"
    assert app.kiosk.session.get("name") is None
    assert not image.exists()
