"""The testers' simulator panel as a tester meets it: keys open it, its buttons do what `kiosk sim` does."""
from __future__ import annotations

import dataclasses
import json

import pytest

from kiosk.config import DEMO_CONFIG_PATH, load_settings
from tests.screens.test_identify import by_id, wait_until

KEY_S, KEY_F9 = ord("s"), 290


@pytest.fixture
def sim_app(start_app, sim_devices):
    driver = start_app(devices=sim_devices())
    assert wait_until(driver, lambda: driver.app.kiosk.devices.control is not None and
                      driver.app.kiosk.status.is_available("idcard"), 15)
    return driver


def open_panel(driver):
    assert driver.key(KEY_S, ("ctrl", "shift"))
    assert wait_until(driver, lambda: by_id(driver, "sim.device.idcard") is not None)
    return driver.app.sim_panel


def tap(driver, widget_id: str) -> None:
    assert wait_until(driver, lambda: by_id(driver, widget_id) is not None), widget_id
    driver.pump(2)
    # Looked up again just before the finger lands: the panel redraws when a simulator's state
    # changes, and its buttons may have moved (a vanished door's row is one line shorter).
    widget = by_id(driver, widget_id)
    driver.tap_at(*widget.to_window(*widget.center))


def test_the_keys_open_and_close_the_panel_over_the_screen(sim_app):
    assert by_id(sim_app, "sim.close") is None
    assert not sim_app.key(KEY_S, ("ctrl",))  # other keys do nothing
    open_panel(sim_app)
    ids = {getattr(w, "widget_id", "") for w in sim_app.widgets()}
    assert {"sim.device.idcard", "sim.device.scanner", "sim.device.printer", "sim.device.locker"} <= ids
    assert by_id(sim_app, "home.search") is not None  # the screen above the panel still shows
    assert sim_app.key(KEY_S, ("ctrl", "shift"))
    sim_app.pump(2)
    assert by_id(sim_app, "sim.close") is None
    open_panel(sim_app)
    tap(sim_app, "sim.close")
    assert by_id(sim_app, "sim.device.idcard") is None


def test_a_card_from_the_deck_signs_in_as_placing_it_with_kiosk_sim_does(sim_app):
    open_panel(sim_app)
    tap(sim_app, "sim.device.idcard")
    tap(sim_app, "sim.section.card")
    tap(sim_app, "sim.card.place.senior")
    assert wait_until(sim_app, lambda: "欧**娜，您好" in sim_app.texts())
    assert any("kiosk sim card place senior" in t for t in sim_app.texts())
    assert sim_app.app.kiosk.devices.simulator("idcard").card.key == "senior"
    tap(sim_app, "sim.card.remove")
    assert wait_until(sim_app, lambda: sim_app.app.kiosk.devices.simulator("idcard").card is None)
    # the flight log has the request (as a scenario's `sim:` would replay it), not the panel's taps
    events = [json.loads(line) for line in sim_app.app.kiosk.flight.path.read_text(encoding="utf-8").splitlines()]
    assert {"device": "idcard", "action": "place", "card": "senior"} in [e.get("request") for e in events]
    assert not [e for e in events if e["kind"] == "tap" and e.get("widget", "").startswith("sim.")]


def test_a_fault_button_sets_the_fault_and_a_second_press_clears_it(sim_app):
    open_panel(sim_app)
    tap(sim_app, "sim.device.printer")
    tap(sim_app, "sim.fault.paper_out")
    printer = sim_app.app.kiosk.devices.simulator("printer")
    assert wait_until(sim_app, lambda: printer.simulator.paper_state.value == "out")
    assert wait_until(sim_app, lambda: by_id(sim_app, "sim.fault.paper_out").kind == "toggle_on")
    assert any("faults: paper_out" in t or "故障：paper_out" in t for t in sim_app.texts())
    tap(sim_app, "sim.fault.paper_out")  # kiosk sim fault printer paper_out --off
    assert wait_until(sim_app, lambda: printer.simulator.paper_state.value == "ok")
    assert wait_until(sim_app, lambda: by_id(sim_app, "sim.fault.paper_out").kind == "secondary")


def test_unplugging_shows_the_service_unavailable_to_a_resident_and_replug_brings_it_back(sim_app):
    open_panel(sim_app)
    tap(sim_app, "sim.device.idcard")
    tap(sim_app, "sim.unplug")
    kiosk = sim_app.app.kiosk
    assert wait_until(sim_app, lambda: kiosk.status.get("idcard").available is False, 20)
    assert any("已拔出" in t for t in sim_app.texts())
    tap(sim_app, "sim.replug")
    assert wait_until(sim_app, lambda: kiosk.status.get("idcard").available is True, 40)


def test_ready_made_codes_and_a_refused_request_say_what_happened(sim_app):
    open_panel(sim_app)
    tap(sim_app, "sim.device.scanner")
    tap(sim_app, "sim.section.scan")
    tap(sim_app, "sim.scan.identity")
    assert wait_until(sim_app, lambda: sim_app.app.kiosk.session.signed_in, 10)
    tap(sim_app, "sim.device.locker")
    tap(sim_app, "sim.section.door")
    for _ in range(3):
        tap(sim_app, "sim.door.prev")  # 1 → 16 → 15 → 14
    assert any("门 14" in t for t in sim_app.texts())
    tap(sim_app, "sim.door.open")
    locker = sim_app.app.kiosk.devices.simulator("locker")
    assert wait_until(sim_app, lambda: not locker.doors[14].closed)
    with locker._lock:  # the simulator's thread reads the doors
        locker.doors.pop(14)  # the cabinet "loses" the door: the next request is refused
    tap(sim_app, "sim.door.close")
    # the panel's request waits its turn behind the kiosk's own door polls: give a loaded machine time
    assert wait_until(sim_app, lambda: any("× kiosk sim door close 14" in t and "no door" in t
                                           for t in sim_app.texts()), 30)


def test_the_result_line_tells_of_the_latest_press_when_an_earlier_one_answers_late(sim_app):
    import threading

    panel = open_panel(sim_app)
    tap(sim_app, "sim.device.locker")
    tap(sim_app, "sim.section.door")
    locker = sim_app.app.kiosk.devices.simulator("locker")
    door = panel.model.reported.door
    slow = threading.Event()
    press = panel.model.press

    def press_slowly(entry):
        answer = press(entry)
        if entry.widget_id == "sim.door.open":
            slow.wait(20)  # the door is open, but the answer is still on its way back
        return answer

    panel.model.press = press_slowly
    tap(sim_app, "sim.door.open")
    assert wait_until(sim_app, lambda: not locker.doors[door].closed)
    with locker._lock:
        locker.doors.pop(door)  # the next request is refused
    tap(sim_app, "sim.door.close")
    assert wait_until(sim_app, lambda: any("× kiosk sim door close" in t and "no door" in t
                                           for t in sim_app.texts()), 20)
    slow.set()
    sim_app.wait(1.0)
    assert any("× kiosk sim door close" in t and "no door" in t for t in sim_app.texts())
    assert not any("kiosk sim door open" in t for t in sim_app.texts())


def test_the_panel_follows_the_configured_keys_and_is_absent_without_simulators(start_app, sim_devices):
    from kiosk.config import TechnicianSettings

    settings = load_settings(DEMO_CONFIG_PATH)
    driver = start_app(devices=sim_devices(),
                       technician=dataclasses.replace(settings.technician, sim_panel_keys="ctrl+f9"))
    assert not driver.key(KEY_S, ("ctrl", "shift"))
    assert driver.key(KEY_F9, ("ctrl",))
    assert wait_until(driver, lambda: by_id(driver, "sim.close") is not None)
    real = {name: {"driver": "none"} for name in ("idcard", "scanner", "printer", "camera", "locker")}
    plain = start_app(devices=sim_devices(**real), technician=TechnicianSettings())
    assert not plain.key(KEY_S, ("ctrl", "shift"))
    assert plain.app.toggle_sim_panel() is False and plain.app.sim_panel is None
