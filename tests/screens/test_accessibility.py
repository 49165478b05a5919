"""Every screen, in normal and elderly mode, meets the sizes and contrast an elderly resident needs.

The figures are measured on the drawn window (``screens.accessibility``): text ≥ 32 px (43 in
长辈模式), touch targets ≥ 90 × 90 px, primary buttons ≥ 120 px high in 长辈模式, text contrast
≥ 4.5:1 against what is drawn behind it. With ``KIOSK_A11Y_REPORT=FILE`` the smallest value of
each figure is written there as JSON (``benchmarks/accessibility.py`` prints them).
"""
from __future__ import annotations

import json
import os
import time

import pytest

from drivers.idcard.reader import CardEvent, CardReadError
from kiosk.flows.identify import identity_from_card
from kiosk.session import Agent, Identity
from kiosk.status import Availability
from screens.accessibility import Pixels, audit
from tests.kiosk.flows.conftest import FakeBackend, card
from tests.screens.test_identify import by_id


def _home(d):
    d.app.go_home()


def _home_signed_in(d):
    d.app.go_home()
    d.app.kiosk.session.set_identity(Identity("idcard", "370503194003050029", "欧阳娜娜"))


def _home_agent(d):
    d.app.go_home()
    d.app.kiosk.session.set_identity(Identity("manual", "370503194003050029", "欧阳娜娜"),
                                     agent=Agent("WG-0001", "王晓梅"))


def _home_devices_down(d):
    d.app.go_home()
    for name in ("idcard", "scanner"):
        d.app.kiosk.status.publish(Availability(name, False, f"device.{name}.unavailable"))
    d.app.kiosk.status.publish(Availability("network", False, "status.network_unreachable"))


def _search_results(d):
    d.app.go("search")
    d.app.screens.get_screen("search").set_query("sfz")


def _search_keyboard(d):
    d.app.go("search")
    d.app.screens.get_screen("search").prepare_shot(keys="shenfenz")


def _guide(d):
    d.app.go("search")
    d.app.screens.get_screen("search").prepare_shot(query="结婚", open_result=1)


def _identify_problem(d):
    d.app.go("identify")
    d.app.kiosk.inputs.card(CardEvent("error", error=CardReadError("x")))


def _identify_signed_in(d):
    d.app.go("identify")
    d.app.kiosk.inputs.card(card("senior"))


def _agent(*steps):
    def setup(d):
        d.app.kiosk.backend_services = lambda: FakeBackend()
        d.app.go("agent")
        flow = d.app.screens.get_screen("agent").flow
        for step in steps:
            step(d, flow)
    return setup


def _worker_card(d, flow):
    d.app.kiosk.inputs.card(card("grid-worker"))


def _pin(d, flow):
    flow.enter_pin("246810")


def _resident_card(d, flow):
    d.app.kiosk.inputs.card(card("senior"))


# -- issue 11: applying -------------------------------------------------------------------------

def _apply(*steps, code="370503-XZ-0004", card_key="senior"):
    def setup(d):
        from screens.apply import start_application

        vars(d.app.kiosk).pop("backend_services", None)  # the 代办 states put a fake backend there
        d.app.kiosk.session.set_identity(identity_from_card(card(card_key).card))
        start_application(d.app, code)
        d.wait(0.2)
        flow = d.app.kiosk.apply
        for step in steps:
            step(d, flow)
            d.wait(0.3)
    return setup


def _phone(d, flow):
    flow.set_field("phone", "13805461234")
    flow.next()


def _bad_phone(d, flow):
    flow.set_field("phone", "1380546")


def _page(d, flow):
    d.app.kiosk.session.scratch_dir()
    from kiosk.apply.pages import write_page
    from tests.backend_support import jpeg_page

    material = flow.material
    material.pages.append(write_page(d.app.kiosk.session.scratch_dir() / "apply", "m1", jpeg_page(40 * 1024)))
    material.how = "pages"
    flow._changed()


def _consent(d, flow):
    flow.next()


def _ticked(d, flow):
    for box in flow.consent_boxes:
        flow.tick(box)


def _delivery(d, flow):
    flow.agree()


def _post(d, flow):
    flow.choose_delivery("post")


def _review(d, flow):
    flow.choose_delivery("window")


def _submit(d, flow):
    flow.submit()
    d.wait(2.0)


# -- following, collecting and rating (issue 12) --------------------------------------------------
from tests.screens.followup_support import FOLLOWUP_STATES  # noqa: E402

STATES = {
    "home": _home,
    "home-signed-in": _home_signed_in,
    "home-agent": _home_agent,
    "help": lambda d: d.app.go("help"),
    "search-browse": lambda d: d.app.go("search"),
    "search-results": _search_results,
    "search-keyboard": _search_keyboard,
    "guide": _guide,
    "identify": lambda d: d.app.go("identify"),
    "identify-problem": _identify_problem,
    "identify-signed-in": _identify_signed_in,
    "agent-staff": _agent(),
    "agent-pin": _agent(_worker_card),
    "agent-resident": _agent(_worker_card, _pin),
    "agent-typing": _agent(_worker_card, _pin, lambda d, flow: flow.type_resident()),
    "agent-confirm": _agent(_worker_card, _pin, _resident_card),
    "countdown": lambda d: (d.app.go("help"), d.app.start_countdown()),
    "toast": lambda d: (d.app.go("help"), d.app.show_toast("已通知工作人员，请在原地稍候")),
    **FOLLOWUP_STATES,
    "home-devices-down": _home_devices_down,  # last: the devices stay "down" for this app
}


# the apply journey's screens (issue 11), walked by a test of their own
APPLY_STATES = {
    "apply-form": _apply(),
    "apply-form-problem": _apply(_bad_phone),
    "apply-ineligible": _apply(card_key="resident-long-term"),
    "apply-materials": _apply(_phone),
    "apply-materials-page": _apply(_phone, _page),
    "apply-signing": _apply(lambda d, f: (f.set_field("phone", "13805461234"), f.set_field("kind", "异地转诊"),
                                          f.set_field("place", "海南省三亚市"), f.next(), f.start_signing()),
                            code="370503-YB-0003"),
    "apply-notice": _apply(_phone, lambda d, f: f.print_notice()),
    "apply-consent": _apply(_phone, _page, _consent, _ticked),
    "apply-delivery": _apply(_phone, _page, _consent, _ticked, _delivery),
    "apply-post": _apply(_phone, _page, _consent, _ticked, _delivery, _post),
    "apply-review": _apply(_phone, _page, _consent, _ticked, _delivery, _review),
    "apply-done": _apply(_phone, _page, _consent, _ticked, _delivery, _review, _submit),
}


# -- technicians and testers (issue 13): the PIN pad, the diagnostics screen, the simulator panel --------

def _until(d, condition, seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        d.wait(0.05)
    assert condition(), "the screen did not get ready"


def _technician(d, pin: str | None = None) -> None:
    """The hidden entry ends the session (and with it 长辈模式): the mode is set again on the pad."""
    elderly = d.app.elderly
    d.app.open_technician()
    d.pump(3)
    d.app.set_elderly(elderly)
    if pin is not None:
        d.app.technician_flow.enter_pin(pin)
        d.pump(3)


def _diag(device: str, then=None):
    def setup(d):
        _technician(d, "135790")
        _until(d, lambda: d.app.screens.current == "diag")
        screen = d.app.screens.get_screen("diag")
        _until(d, lambda: screen.session is not None and screen.session.state.report is not None)
        screen.select(device)
        if then is not None:
            then(d, screen)
        d.pump(3)
    return setup


def _diag_check(d, screen):
    screen.session.check(screen.selected, "internal")
    _until(d, lambda: not screen.session.state.busy)


def _sim_panel(device: str, section: str = ""):
    def setup(d):
        if d.app.sim_panel is None or not d.app.sim_panel.shown:
            d.app.toggle_sim_panel()
        panel = d.app.sim_panel
        _until(d, lambda: device in panel.model.devices)
        panel.select(device)
        if section:
            panel.choose(tuple(section.split(".")))
        d.pump(3)
    return setup


TECHNICIAN_STATES = {
    "tech-pin": lambda d: _technician(d),
    "tech-pin-wrong": lambda d: _technician(d, "111111"),
    "diag-idcard": _diag("idcard"),
    "diag-printer-checked": _diag("printer", _diag_check),
    "diag-locker": _diag("locker"),
    "diag-camera": _diag("camera"),
    "diag-backend": _diag("backend"),
    "diag-system": _diag("system"),
    "sim-panel-faults": _sim_panel("printer"),
    "sim-panel-cards": _sim_panel("idcard", "card"),
    "sim-panel-doors": _sim_panel("locker", "door"),
    "sim-panel-scan": _sim_panel("scanner", "scan"),
}


@pytest.mark.timeout(600)  # some thirty screens, each drawn and read back
@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_every_screen_is_large_enough_and_readable(start_app, tmp_path, elderly, sim_devices, own_state_dir):
    _walk(start_app(devices=sim_devices()), tmp_path, elderly, STATES)


@pytest.mark.timeout(600)  # a walk of many screens; a loaded full run is slow
@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_every_apply_screen_is_large_enough_and_readable(start_app, tmp_path, elderly, sim_devices, own_state_dir):
    _walk(start_app(devices=sim_devices()), tmp_path, elderly, APPLY_STATES)


@pytest.mark.timeout(600)  # a walk of many screens; a loaded full run is slow
@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_every_technician_screen_is_large_enough_and_readable(start_app, tmp_path, elderly, sim_devices,
                                                              own_state_dir):
    """issue 13: the simulator panel needs its own control socket (``sim_devices``)."""
    _walk(start_app(devices=sim_devices()), tmp_path, elderly, TECHNICIAN_STATES)


def _walk(driver, tmp_path, elderly: bool, states: dict) -> None:
    minima: dict[str, float] = {}
    problems: list[str] = []
    driver.app.kiosk.warm_up()
    for name, setup in states.items():
        driver.app.go_home()
        driver.pump(2)  # the end of the last session resets the mode: let that happen first
        driver.app.set_elderly(elderly)
        panel = driver.app.sim_panel
        if panel is not None and panel.shown and not name.startswith("sim-panel"):
            panel.hide()  # the simulator panel shows only in its own states
        setup(driver)
        driver.wait(0.3)
        report = audit(elderly, Pixels.capture(tmp_path / f"{name}.png"), where=name)
        problems += report.problems
        for figure, value in report.minima.items():
            minima[figure] = min(value, minima.get(figure, value))
        assert report.counts["text_px"] >= 3 and report.counts["touch_px"] >= 1, name  # the walk saw the screen
    target = os.environ.get("KIOSK_A11Y_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"elderly": elderly, "minima": minima, "states": len(states)}) + "\n")
    assert not problems, f"{len(problems)} shortfalls:\n" + "\n".join(problems)
