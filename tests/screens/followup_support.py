"""Driving the follow, pickup and rating screens in UI tests: cases made in the embedded
reference backend (``kiosk sim backend case``'s handle), and each screen state the
accessibility test measures (``FOLLOWUP_STATES``)."""
from __future__ import annotations

import time

from kiosk.flows.identify import identity_from_card
from screens.journey import journey_flows
from tests.kiosk.flows.conftest import card

def real_backend(driver) -> None:
    """Undo a test's stand-in backend (the 代办 states use a scripted one): the journeys here talk
    to the embedded reference backend."""
    driver.app.kiosk.__dict__.pop("backend_services", None)


def backend_case(driver, **params) -> dict:
    """A case in the app's embedded backend (``state``, ``holder``, ``door``…); returns what was made."""
    real_backend(driver)
    control = driver.app.kiosk.backend.embedded.control
    return control.control("case", {"holder": "senior", **params})["made"]


def sign_in(driver, key: str = "senior") -> None:
    driver.app.kiosk.session.set_identity(identity_from_card(card(key).card))


def wait_for(driver, check, timeout: float = 10.0) -> None:
    """Pump the app until ``check()`` holds (the flows' backend calls run on worker threads)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the screen did not get there in time")
        driver.wait(0.05)
    driver.wait(0.1)


def flow(driver, journey: str):
    return journey_flows(driver.app).get(journey)


def at(driver, screen: str, state: str | None = None, journey: str = "") -> None:
    try:
        wait_for(driver, lambda: driver.app.screens.current == screen and (
            state is None or (flow(driver, journey) is not None and flow(driver, journey).state == state)))
    except AssertionError:
        current = flow(driver, journey or screen.split(".")[0])
        raise AssertionError(f"wanted {screen} {state or ''}; the screen is {driver.app.screens.current}, the flow "
                             f"{current.state if current else None} {current.problem if current else ''}") from None


# -- the states -------------------------------------------------------------------------------------

def _follow_identify(d):
    real_backend(d)
    d.app.go("follow.list")
    at(d, "follow.list", "identify", "follow")


def _follow_typing(d):
    _follow_identify(d)
    flow(d, "follow").type_number()
    flow(d, "follow").submit_number("123", "")  # field problems shown too


def _follow_list(d):
    backend_case(d, state="reviewing")
    backend_case(d, state="supplement")
    sign_in(d)
    d.app.go("follow.list")
    at(d, "follow.list", "list", "follow")


def _follow_case(state: str):
    def setup(d):
        extra = {"door": free_door(d)} if state == "ready" else {}
        made = backend_case(d, state=state, **extra)
        sign_in(d)
        d.app.go("follow.list")
        at(d, "follow.list", "list", "follow")
        flow(d, "follow").open_case(made["acceptance_number"])
        at(d, "follow.case")
    return setup


def _pickup_identify(d):
    real_backend(d)
    d.app.go("pickup.list")
    at(d, "pickup.list", "identify", "pickup")


def _pickup_typing(d):
    _pickup_identify(d)
    flow(d, "pickup").type_code()


def _pickup_list(d) -> int:
    door = free_door(d)
    backend_case(d, state="ready", door=door)
    sign_in(d)
    d.app.go("pickup.list")
    at(d, "pickup.list", "list", "pickup")
    pickup = flow(d, "pickup")
    pickup.select(next(slot.pickup_id for slot in pickup.matches if slot.door == door))
    return door


def free_door(d) -> int:
    """A door with no result registered and shut (earlier states leave results and open doors)."""
    waiting = set(d.app.kiosk.backend.embedded.control.state()["waiting_doors"])
    locker = d.app.kiosk.devices.simulator("locker")
    return next(n for n in range(1, 17) if n not in waiting and locker.doors[n].closed)


def _pickup_open(d):
    _pickup_list(d)
    flow(d, "pickup").confirm()
    at(d, "pickup.open", "open", "pickup")


def _pickup_failed(d):
    door = _pickup_list(d)
    d.app.kiosk.devices.simulator("locker").set_fault("jammed", door=door)
    flow(d, "pickup").confirm()
    at(d, "pickup.open", "failed", "pickup")
    d.app.kiosk.devices.simulator("locker").clear_faults()


def _pickup_list_opened(d):
    """The list with a result whose door was opened once (it needs a clerk now)."""
    _pickup_failed(d)
    flow(d, "pickup").next_result()
    at(d, "pickup.list", "list", "pickup")


def _pickup_done(d):
    _pickup_open(d)
    d.app.kiosk.devices.simulator("locker").close(flow(d, "pickup").current.door)
    at(d, "pickup.done")


def _rate(level: int | None = None):
    def setup(d):
        from kiosk.flows.rating import RatingTarget, offer_rating

        made = backend_case(d, state="closed", door=free_door(d))
        offer_rating(d.app.kiosk.session, RatingTarget(acceptance_number=made["acceptance_number"],
                                                       item_name=made["item_name"], journey="pickup"))
        d.app.go("rate")
        screen = d.app.screens.get_screen("rate")
        wait_for(d, lambda: screen.flow is not None and screen.flow.state == "levels")
        if level is not None:
            screen.flow.choose_level(level)
            wait_for(d, lambda: screen.flow.state in ("reasons", "done"))
            if level <= 2:
                screen.flow.toggle_reason("slow")
    return setup


def _rate_choose(d):
    backend_case(d, state="closed", door=free_door(d))
    sign_in(d)
    d.app.go("rate")
    screen = d.app.screens.get_screen("rate")
    wait_for(d, lambda: screen.flow is not None and screen.flow.state == "choose" and screen.flow.cases)


FOLLOWUP_STATES = {
    "follow-identify": _follow_identify,
    "follow-typing": _follow_typing,
    "follow-list": _follow_list,
    "follow-case-supplement": _follow_case("supplement"),
    "follow-case-rejected": _follow_case("rejected"),
    "follow-case-ready": _follow_case("ready"),
    "pickup-identify": _pickup_identify,
    "pickup-typing": _pickup_typing,
    "pickup-list": _pickup_list,
    "pickup-open": _pickup_open,
    "pickup-failed": _pickup_failed,
    "pickup-list-opened": _pickup_list_opened,
    "pickup-done": _pickup_done,
    "rate-choose": _rate_choose,
    "rate-levels": _rate(),
    "rate-reasons": _rate(1),
    "rate-done": _rate(5),
}
