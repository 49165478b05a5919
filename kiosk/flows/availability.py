"""Which journeys can run right now, and if not, why — for the home screen's tiles.

Each journey names what it needs: every component in ``all_of`` and at least one in
``any_of`` (e.g. identification needs the card reader or the code scanner; 代办 also needs
the network, because the backend checks the worker's PIN). A journey that is not available
comes with the reason its first missing component published on the status board, in words
for a resident.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.status import StatusBoard


@dataclass(frozen=True)
class Needs:
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()


JOURNEYS: dict[str, Needs] = {
    "search": Needs(),
    "help": Needs(),
    "identify": Needs(any_of=("idcard", "scanner")),
    "agent": Needs(all_of=("network",), any_of=("idcard", "scanner")),
    # following, collecting and rating (issue 12); a home tile names its screen, e.g. "pickup.list"
    # follow: works offline too (applications waiting in the outbox; the flow says what needs the network)
    "follow": Needs(),
    "pickup": Needs(all_of=("network", "locker")),  # a pickup code can be typed: no reader needed
    "rate": Needs(any_of=("idcard", "scanner")),  # who rates: card or a receipt's code; sent through the outbox
}

# -- issue 11: applying needs a way to identify the resident; the network may be down (the
# application waits in the outbox), the camera and the printer may fail half-way (the flow says so)
JOURNEYS["apply"] = Needs(any_of=("idcard", "scanner"))


@dataclass(frozen=True)
class JourneyState:
    available: bool
    reason: str = ""  # a translation key, when not available


def journey_state(journey: str, status: StatusBoard) -> JourneyState:
    """``journey`` is a journey's name or the name of its first screen (``pickup.list``)."""
    needs = JOURNEYS.get(journey) or JOURNEYS.get(journey.split(".", 1)[0], Needs())
    for component in needs.all_of:
        if not status.is_available(component):
            return JourneyState(False, _reason(component, status))
    if needs.any_of and not any(status.is_available(component) for component in needs.any_of):
        return JourneyState(False, _reason(needs.any_of[0], status))
    return JourneyState(True)


def _reason(component: str, status: StatusBoard) -> str:
    item = status.get(component)
    if component == "network":
        return "home.needs_network"
    if item.available is None and item.reason == "device.starting":
        return "device.starting"
    if item.available is None:
        return "home.not_installed"
    return item.reason or "home.unavailable"
