"""代办 as a grid worker and a resident meet it: staff card, PIN, resident card, confirmation."""
from __future__ import annotations

from tests.screens.test_identify import by_id, place, wait_until


def type_digits(driver, field, digits: str) -> None:
    from screens.keyboard import KeyboardDock

    field.focus = True
    driver.pump(2)
    keyboard = KeyboardDock.find().keyboard
    for key in digits:
        keyboard.press_key(key)
    driver.pump(2)


def test_grid_worker_acts_for_a_resident(kiosk_app):
    assert wait_until(kiosk_app, lambda: kiosk_app.app.kiosk.status.is_available("network"))
    kiosk_app.tap(by_id(kiosk_app, "home.agent"))
    assert kiosk_app.app.screens.current == "agent"
    place(kiosk_app, "grid-worker")
    assert wait_until(kiosk_app, lambda: by_id(kiosk_app, "agent.pin") is not None)
    assert not kiosk_app.app.kiosk.session.signed_in
    type_digits(kiosk_app, by_id(kiosk_app, "agent.pin"), "111111")
    kiosk_app.tap(by_id(kiosk_app, "agent.pin_ok"))
    assert wait_until(kiosk_app, lambda: any("还可尝试 4 次" in t for t in kiosk_app.texts()))
    type_digits(kiosk_app, by_id(kiosk_app, "agent.pin"), "246810")
    kiosk_app.tap(by_id(kiosk_app, "agent.pin_ok"))
    assert wait_until(kiosk_app, lambda: by_id(kiosk_app, "agent.type_resident") is not None)
    assert any("网格员 王晓梅 已登录" in t for t in kiosk_app.texts())
    place(kiosk_app, "senior")
    assert wait_until(kiosk_app, lambda: by_id(kiosk_app, "agent.confirm") is not None)
    assert "欧阳娜娜" in kiosk_app.texts()  # the resident sees their own name in full to confirm it
    kiosk_app.tap(by_id(kiosk_app, "agent.confirm"))
    assert wait_until(kiosk_app, lambda: kiosk_app.app.screens.current == "home")
    assert "代办：王*梅 为 欧**娜 办理" in kiosk_app.texts()
    kiosk_app.tap(by_id(kiosk_app, "nav.sign_out"))
    session = kiosk_app.app.kiosk.session
    assert session.identity is None and session.agent is None
