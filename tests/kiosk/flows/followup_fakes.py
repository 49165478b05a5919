"""Collaborators for the follow, pickup and rating flows: the reference backend's real rules
(its store, called in process instead of over HTTP), a locker that does what a test says, and a
print queue that keeps what it was given."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from drivers.events import Listeners
from drivers.locker.locker import DoorEvent, DoorState, LockJammed
from drivers.base import DeviceTimeout
from kiosk.backend import models as m
from kiosk.backend.errors import BackendNotFound, BackendRejected, BackendUnavailable
from kiosk.backend.service import Delivered, Queued, QueuedApplication, Refused
from kiosk.backend.signing import generate_key
from refbackend.casework import holder_from_deck, make_case
from refbackend.server import prepare_store
from refbackend.store import ApiError

TERMINAL = "HK-TEST-001"


def _error(exc: ApiError):
    text = f"{exc.status} {exc.code}: {exc.message}"
    if exc.status == 404:
        return BackendNotFound(text, code=exc.code, status=404)
    if exc.status == 429:
        return BackendUnavailable(text, code=exc.code, status=429, retry_after_seconds=exc.retry_after_seconds)
    return BackendRejected(text, code=exc.code, status=exc.status)


class StoreBackend:
    """``BackendServices``' methods the journeys call, answered by a ``ReferenceStore``.

    ``down`` makes every call fail as unreachable (state changes are then ``Queued``)."""

    def __init__(self):
        self.store = prepare_store(terminals={TERMINAL: generate_key()}, terminal_doors={TERMINAL: 16})
        self.down = False
        self.queued: list[QueuedApplication] = []
        self.staff_calls: list[tuple[str, str | None, int | None]] = []
        self.ratings: list[m.RatingCreate] = []
        self.confirmed: list[tuple[str, m.PickupConfirm]] = []
        self._keys = itertools.count(1)
        self.outbox = None

    def case(self, holder: str = "senior", **kwargs) -> Any:
        return make_case(self.store, TERMINAL, holder_from_deck(holder), **kwargs)

    def _call(self, fn, *args):
        if self.down:
            raise BackendUnavailable("no route to the backend", code="unreachable")
        try:
            return fn(*args)
        except ApiError as exc:
            raise _error(exc) from None

    def _key(self) -> str:
        return f"key{next(self._keys):08d}"

    # reads
    def cases_by_holder(self, id_number: str, id_type: str = "resident_id"):
        return self._call(lambda: self.store.cases_by_holder(m.HolderQuery(id_type=id_type, id_number=id_number)).cases)

    def case_status(self, number: str, code: str):
        return self._call(self.store.case_by_number, TERMINAL,
                          m.CaseQuery(acceptance_number=number, verification_code=code))

    def case_for_holder(self, number: str, id_number: str, id_type: str = "resident_id"):
        return self._call(self.store.case_by_number, TERMINAL,
                          m.CaseQuery(acceptance_number=number, holder=m.HolderQuery(id_type=id_type,
                                                                                     id_number=id_number)))

    def queued_applications(self, id_number: str):
        return list(self.queued)

    def verify_pickup(self, request: m.PickupVerify):
        return self._call(lambda: self.store.verify_pickup(TERMINAL, request).matches)

    def resolve_identity(self, code: str):
        return self._call(self.store.resolve_identity, TERMINAL, m.IdentityCodeQuery(code=code))

    # through the outbox
    def confirm_pickup(self, pickup_id: str, confirm: m.PickupConfirm):
        key = self._key()
        if self.down:
            self.confirmed.append((pickup_id, confirm))
            return Queued(key, "unreachable")
        try:
            with self.store.tx() as conn:
                _status, record, _ref = self.store.confirm_pickup(conn, TERMINAL, pickup_id, confirm)
        except ApiError as exc:
            return Refused(key, exc.code, exc.message, [])
        self.confirmed.append((pickup_id, confirm))
        return Delivered(key, record)

    def rate(self, rating: m.RatingCreate):
        key = self._key()
        self.ratings.append(rating)
        if self.down:
            return Queued(key, "unreachable")
        try:
            with self.store.tx() as conn:
                _status, receipt, _ref = self.store.rate(conn, TERMINAL, rating)
        except ApiError as exc:
            return Refused(key, exc.code, exc.message, [])
        return Delivered(key, receipt)

    def call_staff(self, screen: str, alert: str | None = None, door: int | None = None):
        self.staff_calls.append((screen, alert, door))
        return Queued(self._key(), "unreachable") if self.down else Delivered(self._key(), None)


class FakeLocker:
    """Doors that open, jam or stay silent as a test says; door events go to ``subscribe_doors``."""

    def __init__(self):
        self.listeners: Listeners[DoorEvent] = Listeners("door")
        self.items: set[int] = set()
        self.jam: set[int] = set()
        self.silent = False
        self.unlocks: list[int] = []

    def subscribe_doors(self, listener):
        return self.listeners.add(listener)

    def open_door(self, door: int) -> DoorState:
        self.unlocks.append(door)
        if self.silent:
            raise DeviceTimeout(f"board did not answer (door {door})")
        if door in self.jam:
            raise LockJammed(f"door {door}: the lock stayed shut")
        state = DoorState(door, False, door in self.items)
        self.listeners.publish(DoorEvent("opened", door, state))
        return state

    def event(self, kind: str, door: int | None = None) -> None:
        if kind == "item_removed":
            self.items.discard(door)
        self.listeners.publish(DoorEvent(kind, door, DoorState(door, kind == "closed", door in self.items)
                                         if door else None))


@dataclass
class Job:
    message_key: str = "receipt.printed"


@dataclass
class Printed:
    jobs: list[tuple[str, Any]] = field(default_factory=list)

    def __call__(self, kind: str, receipt: Any) -> Job:
        self.jobs.append((kind, receipt))
        return Job()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def today() -> dt.date:
    return dt.date(2026, 12, 6)
