"""Fakes for the flows' collaborators: cards from the simulator's deck, a scripted backend."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from drivers.idcard.deck import builtin_deck
from drivers.idcard.reader import CardEvent, CardReadError
from kiosk.backend.errors import BackendNotFound, BackendRejected, BackendUnavailable
from kiosk.flows.inputs import InputRouter
from kiosk.payloads import classify
from kiosk.session import Session

TODAY = dt.date(2026, 12, 6)


def card(key: str) -> CardEvent:
    return CardEvent("card", builtin_deck()[key].card)


def read_error() -> CardEvent:
    return CardEvent("error", error=CardReadError("read failed"))


@dataclass
class Person:
    id_type: str
    id_number: str
    name: str
    phone: str = ""
    address: str = ""


@dataclass
class Resolved:
    person: Person


@dataclass
class Worker:
    worker_id: str
    name: str
    phone: str = ""


def rejected(code: str, **extra):
    error = BackendRejected(f"refused: {code}", code=code, status=403)
    for key, value in extra.items():
        setattr(error, key, value)
    return error


class FakeBackend:
    """Answers like the reference backend's demo seed; ``down`` makes every call fail as unreachable."""

    def __init__(self):
        self.down = False
        self.wrong = 0
        self.calls: list[tuple] = []

    def resolve_identity(self, code: str) -> Resolved:
        self.calls.append(("resolve", code))
        if self.down:
            raise BackendUnavailable("no route")
        if code == "HYBID:DEMO-OUYANG-NANA-0001":
            return Resolved(Person("resident_id", "370503194003050029", "欧阳娜娜", "13805461234"))
        if code == "HYBID:DEMO-EXPIRED-000001":
            raise rejected("identity_code_expired")
        raise BackendNotFound("unknown", code="identity_code_unknown", status=404)

    def staff_sign_in(self, kind: str, value: str, pin: str) -> Worker:
        self.calls.append(("staff", kind))
        if self.down:
            raise BackendUnavailable("no route")
        if (kind, value) not in (("staff_code", "HYBSTAFF:WG0001DEMO2026"), ("id_card", "370503198811230026")):
            raise BackendNotFound("unknown", code="unknown_staff", status=404)
        if pin != "246810":
            self.wrong += 1
            if self.wrong >= 5:
                raise rejected("pin_locked", retry_after_seconds=900)
            raise rejected("wrong_pin", attempts_left=5 - self.wrong)
        self.wrong = 0
        return Worker("WG-0001", "王晓梅", "13905460001")


@pytest.fixture
def session(tmp_path):
    return Session(tmp_path / "scratch")


@pytest.fixture
def router():
    return InputRouter()


@pytest.fixture
def backend():
    return FakeBackend()


def scan(text: str):
    return classify(text.encode("utf-8"), "scanner")


def run_now(work):
    work()

