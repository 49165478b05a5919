"""Home tiles: a journey whose device or network is missing is disabled with the reason."""
from __future__ import annotations

from kiosk.flows.availability import journey_state
from kiosk.status import Availability, StatusBoard


def test_identification_needs_a_reader_or_a_scanner():
    board = StatusBoard()
    board.publish(Availability("idcard", False, "device.idcard.unavailable"))
    board.publish(Availability("scanner", True))
    assert journey_state("identify", board).available
    board.publish(Availability("scanner", False, "device.scanner.unavailable"))
    state = journey_state("identify", board)
    assert not state.available and state.reason == "device.idcard.unavailable"


def test_agent_needs_the_network_too():
    board = StatusBoard()
    board.publish(Availability("idcard", True))
    board.publish(Availability("network", False, "status.network_unreachable"))
    assert journey_state("agent", board).reason == "home.needs_network"
    board.publish(Availability("network", True))
    assert journey_state("agent", board).available
    assert journey_state("search", StatusBoard()).available


def test_a_device_still_starting_or_not_installed_says_which():
    board = StatusBoard()
    board.publish(Availability("idcard", None, "device.starting"))
    assert journey_state("identify", board).reason == "device.starting"
    assert journey_state("identify", StatusBoard()).reason == "home.not_installed"
