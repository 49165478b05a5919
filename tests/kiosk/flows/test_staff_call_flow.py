"""呼叫工作人员: one call per minute, recorded even when the network is down."""
from __future__ import annotations

from kiosk.backend.service import Delivered, Queued
from kiosk.flows.staff_call import StaffCallFlow
from tests.kiosk.flows.conftest import run_now


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


class CallingBackend:
    def __init__(self, outcome):
        self.outcome = outcome
        self.screens: list[str] = []

    def call_staff(self, screen):
        self.screens.append(screen)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_a_call_is_recorded_then_rests_for_a_minute():
    backend, clock = CallingBackend(Delivered("k", None)), Clock()
    flow = StaffCallFlow(lambda: backend, run_now, cooldown=60, clock=clock)
    flow.call("search")
    assert flow.state == "called" and flow.problem == "staff_call.called"
    flow.call("search")
    assert backend.screens == ["search"]  # a second touch does not call twice
    clock.now += 61
    flow.refresh()
    assert flow.state == "ready"
    flow.call("guide")
    assert backend.screens == ["search", "guide"]


def test_network_down_keeps_the_call_for_later():
    flow = StaffCallFlow(lambda: CallingBackend(Queued("k", "offline")), run_now)
    flow.call("home")
    assert flow.state == "queued" and flow.problem == "staff_call.queued"


def test_no_backend_or_a_failure_says_so_and_allows_another_try():
    flow = StaffCallFlow(lambda: None, run_now)
    flow.call("home")
    assert flow.state == "failed" and flow.problem == "staff_call.no_backend"
    backend = CallingBackend(RuntimeError("disk full"))
    flow.backend = lambda: backend
    flow.call("home")
    assert flow.state == "failed" and flow.problem == "staff_call.failed"
