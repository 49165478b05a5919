"""Signing in as a resident sees it: a card on the reader greets them by their masked name."""
from __future__ import annotations

import time

from screens.widgets import KioskButton



def wait_until(driver, condition, seconds: float = 20.0) -> bool:
    # generous: only a failing test waits this long, and a full run on two busy cores is slow
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        driver.wait(0.05)
    return condition()


def shown(widget) -> bool:
    """Visible to a person: it and every parent opaque and of some size."""
    while widget is not None and widget is not widget.parent:
        if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
            return False
        widget = widget.parent
    return True


def by_id(driver, widget_id: str):
    return driver.find(lambda w: getattr(w, "widget_id", "") == widget_id and shown(w))


def place(driver, key: str) -> None:
    assert wait_until(driver, lambda: driver.app.kiosk.status.is_available("idcard"))
    driver.app.kiosk.devices.simulator("idcard").place(key)


def test_a_card_on_the_home_screen_signs_in_and_the_top_bar_shows_the_masked_name(kiosk_app):
    place(kiosk_app, "senior")
    assert wait_until(kiosk_app, lambda: "欧**娜，您好" in kiosk_app.texts())
    texts = kiosk_app.texts()
    assert "欧阳娜娜" not in " ".join(texts)
    assert any("欧**娜，您好！您已登录" in text for text in texts)
    sign_out = by_id(kiosk_app, "nav.sign_out")
    assert sign_out is not None
    kiosk_app.tap(sign_out)
    assert not kiosk_app.app.kiosk.session.signed_in
    kiosk_app.wait(1.0)  # the card is still on the reader: it must not sign in again
    assert not kiosk_app.app.kiosk.session.signed_in
    assert by_id(kiosk_app, "nav.sign_out") is None


def test_an_expired_card_on_the_identify_screen_says_why_and_offers_a_way_on(kiosk_app):
    kiosk_app.tap(by_id(kiosk_app, "home.identify"))
    assert kiosk_app.app.screens.current == "identify"
    place(kiosk_app, "resident-expired")
    assert wait_until(kiosk_app, lambda: any("2024-09-01 过期" in t for t in kiosk_app.texts()))
    assert by_id(kiosk_app, "identify.retry") is not None
    place(kiosk_app, "resident")
    assert wait_until(kiosk_app, lambda: kiosk_app.app.kiosk.session.signed_in)
    assert wait_until(kiosk_app, lambda: kiosk_app.app.screens.current == "home", 6)
    assert any("李*军，您好" in t for t in kiosk_app.texts())


def test_a_card_already_on_the_reader_at_start_signs_in(start_app):
    driver = start_app()  # fresh app; put the card down before the reader's first poll is read
    driver.app.kiosk.devices.simulator("idcard").place("resident-young")
    assert wait_until(driver, lambda: any("张*涵，您好" in t for t in driver.texts()))


def test_call_staff_from_any_screen_reaches_the_backend(kiosk_app):
    assert wait_until(kiosk_app, lambda: kiosk_app.app.kiosk.backend is not None)
    kiosk_app.tap(by_id(kiosk_app, "home.help"))
    kiosk_app.tap(by_id(kiosk_app, "nav.call_staff"))
    assert wait_until(kiosk_app, lambda: any("已通知工作人员" in t for t in kiosk_app.texts()))
    button = by_id(kiosk_app, "nav.call_staff")
    assert isinstance(button, KioskButton) and button.text == "已呼叫工作人员"
