"""Every screen, in normal and elderly mode, meets the sizes and contrast an elderly resident needs.

The figures are measured on the drawn window (``screens.accessibility``): text ≥ 32 px (42 in
长辈模式), touch targets ≥ 90 × 90 px, primary buttons ≥ 120 px high in 长辈模式, text contrast
≥ 4.5:1 against what is drawn behind it. With ``KIOSK_A11Y_REPORT=FILE`` the smallest value of
each figure is written there as JSON (``benchmarks/accessibility.py`` prints them).
"""
from __future__ import annotations

import json
import os

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


@pytest.mark.timeout(900)  # some forty screens, each drawn and read back
@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_every_screen_is_large_enough_and_readable(start_app, tmp_path, elderly):
    _walk(start_app, tmp_path, elderly, STATES)


@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "elderly"])
def test_every_apply_screen_is_large_enough_and_readable(start_app, tmp_path, elderly):
    _walk(start_app, tmp_path, elderly, APPLY_STATES)


def _walk(start_app, tmp_path, elderly: bool, states: dict) -> None:
    minima: dict[str, float] = {}
    problems: list[str] = []
    driver = start_app()
    driver.app.kiosk.warm_up()
    for name, setup in states.items():
        driver.app.go_home()
        driver.pump(2)  # the end of the last session resets the mode: let that happen first
        driver.app.set_elderly(elderly)
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
