"""The technicians' screens as a technician meets them: the hidden corner, the PIN pad, diagnostics.

Against the demo's simulators: five taps in the corner, a wrong PIN and the lockout, the
right PIN, each device's status, a health check that finds the printer out of paper, the test
page, a card and a code shown masked, a locker door's bits, and leaving.
"""
from __future__ import annotations

import dataclasses

import pytest

from kiosk.config import DEMO_CONFIG_PATH, load_settings
from tests.screens.test_agent import type_digits
from tests.screens.test_identify import by_id, wait_until

DEMO_PIN = "135790"


@pytest.fixture(autouse=True)
def _own_state(own_state_dir):
    """Each test its own lockout file."""


def corner_taps(driver, count: int = 5) -> None:
    corner = by_id(driver, "tech.corner")
    for _ in range(count):
        driver.tap(corner)


def enter_pin(driver, pin: str) -> None:
    type_digits(driver, by_id(driver, "tech.pin"), pin)
    driver.tap(by_id(driver, "tech.pin_ok"))


def text_shown(driver, words: str) -> bool:
    return any(words in text for text in driver.texts())


def open_diag(driver) -> None:
    corner_taps(driver)
    assert wait_until(driver, lambda: driver.app.screens.current == "tech_pin")
    enter_pin(driver, DEMO_PIN)
    assert wait_until(driver, lambda: driver.app.screens.current == "diag")
    assert wait_until(driver, lambda: text_shown(driver, "HK-DEMO-001 · kiosk"), 20)


def test_the_corner_opens_the_pin_pad_and_wrong_pins_lock_it(start_app):
    settings = load_settings(DEMO_CONFIG_PATH)
    driver = start_app(technician=dataclasses.replace(settings.technician, free_attempts=2, lockout_seconds=30))
    corner_taps(driver, 4)
    assert driver.app.screens.current == "home"  # four taps are not enough
    corner_taps(driver, 1)
    assert wait_until(driver, lambda: driver.app.screens.current == "tech_pin")
    assert text_shown(driver, "请输入维护密码")
    enter_pin(driver, "111111")
    assert wait_until(driver, lambda: text_shown(driver, "密码不对，还可以再试 1 次"))
    assert driver.app.screens.current == "tech_pin"
    enter_pin(driver, "222222")
    assert wait_until(driver, lambda: text_shown(driver, "秒后再试"))
    assert by_id(driver, "tech.pin_ok").disabled and by_id(driver, "tech.pin").disabled
    driver.tap(by_id(driver, "tech.cancel"))
    assert driver.app.screens.current == "home" and driver.app.technician_flow is None
    driver.app.go("diag")  # no way round the PIN
    assert wait_until(driver, lambda: driver.app.screens.current == "home")


def test_diagnostics_show_each_device_and_find_the_printer_out_of_paper(kiosk_app):
    open_diag(kiosk_app)
    assert text_shown(kiosk_app, "idcard: 正常 OK")
    for device, status in (("scanner", "scanner: 正常 OK"), ("camera", "camera:"), ("locker", "locker: 正常 OK"),
                           ("backend", "backend:")):
        kiosk_app.tap(by_id(kiosk_app, f"diag.device.{device}"))
        assert wait_until(kiosk_app, lambda s=status: text_shown(kiosk_app, s)), device
    kiosk_app.tap(by_id(kiosk_app, "diag.device.system"))
    assert wait_until(kiosk_app, lambda: text_shown(kiosk_app, "串口 serial ports"))
    printer = kiosk_app.app.kiosk.devices.simulator("printer").simulator
    printer.set_paper("out")
    kiosk_app.tap(by_id(kiosk_app, "diag.device.printer"))
    kiosk_app.tap(by_id(kiosk_app, "diag.check.internal"))
    assert wait_until(kiosk_app, lambda: text_shown(kiosk_app, "printer [internal]: FAULT"), 20)
    printer.set_paper("ok")
    cuts = printer.cuts
    kiosk_app.tap(by_id(kiosk_app, "diag.printer.test_page"))
    assert wait_until(kiosk_app, lambda: printer.cuts > cuts, 20)  # the test page came out
    kiosk_app.tap(by_id(kiosk_app, "diag.exit"))
    assert wait_until(kiosk_app, lambda: kiosk_app.app.screens.current == "home")
    assert kiosk_app.app.technician_flow is None


def test_card_and_code_tests_are_masked_and_a_door_shows_its_bits(kiosk_app):
    open_diag(kiosk_app)
    devices = kiosk_app.app.kiosk.devices
    devices.simulator("idcard").place("resident")  # 李建军
    assert wait_until(kiosk_app, lambda: text_shown(kiosk_app, "李*军"), 15)
    shown = " ".join(kiosk_app.texts())
    assert "李建军" not in shown and "3705**********" in shown
    assert not kiosk_app.app.kiosk.session.signed_in  # the card went to the test, not to the sign-in
    kiosk_app.tap(by_id(kiosk_app, "diag.device.scanner"))
    devices.simulator("scanner").scan("HYBID:DEMO-OUYANG-NANA-0001")
    assert wait_until(kiosk_app, lambda: text_shown(kiosk_app, "identity_code · HYBID:****0001"), 15)
    assert "DEMO-OUYANG-NANA" not in " ".join(kiosk_app.texts())
    kiosk_app.tap(by_id(kiosk_app, "diag.device.locker"))
    kiosk_app.tap(by_id(kiosk_app, "diag.door.next"))
    kiosk_app.tap(by_id(kiosk_app, "diag.door.open"))
    assert wait_until(kiosk_app, lambda: text_shown(kiosk_app, "门 2: latch 锁舌 0"), 15)
    assert not devices.simulator("locker").doors[2].closed
