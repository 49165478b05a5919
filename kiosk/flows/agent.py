"""代办: a village grid worker signs in and acts for a resident (seed §4 and §11).

The journey, as states:

- ``staff``: the worker shows their staff QR code, or places their own ID card (the staff
  card). While this flow runs it holds the card reader and the codes, so the worker's card
  never signs the worker in as a resident.
- ``pin``: the worker types the 6-digit PIN; ``checking`` while the backend verifies it.
  A wrong PIN says how many attempts are left; too many lock the worker out (``locked``,
  with the minutes to wait). The PIN itself is never kept or logged.
- ``resident``: the worker places the resident's card (or the resident's identity code is
  scanned), or chooses to type the resident's ID number, name and phone (``typing``).
- ``confirm``: the resident checks their details and that this worker acts for them, and
  confirms. The session then holds the resident's identity together with the agent, and
  everything submitted later carries the agent; 退出 ends both.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Callable

from drivers.idcard.codes import gb11643_valid
from kiosk.flows.base import Background, Flow
from kiosk.flows.identify import (IDENTITY_CODE, REJECTED, backend_problem, birth_date_of, card_problem,
                                  identity_from_card, identity_from_person)
from kiosk.flows.inputs import InputRouter
from kiosk.session import Agent, Identity, Session

log = logging.getLogger(__name__)

STAFF, PIN, CHECKING, LOCKED, RESIDENT, TYPING, RESOLVING, CONFIRM, DONE = (
    "staff", "pin", "checking", "locked", "resident", "typing", "resolving", "confirm", "done")
STAFF_CODE = "staff_code"
PIN_LENGTH = 6
_NAME = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z .'-]{1,30}")
_PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


def typed_resident_problems(id_number: str, name: str, phone: str) -> dict[str, str]:
    """Per field, the translation key of what is wrong with a typed-in resident (empty when all is well)."""
    problems = {}
    if not gb11643_valid(id_number.strip().upper()):
        problems["id_number"] = "agent.bad_id_number"
    if not _NAME.fullmatch(name.strip()):
        problems["name"] = "agent.bad_name"
    if not _PHONE.fullmatch(phone.strip()):
        problems["phone"] = "agent.bad_phone"
    return problems


class AgentFlow(Flow):
    name = "agent"
    initial = STAFF
    TRANSITIONS = {
        STAFF: (PIN,),
        PIN: (CHECKING, STAFF),
        CHECKING: (PIN, LOCKED, RESIDENT, STAFF),
        LOCKED: (STAFF,),
        RESIDENT: (TYPING, RESOLVING, CONFIRM),
        TYPING: (RESIDENT, CONFIRM),
        RESOLVING: (RESIDENT, CONFIRM),
        CONFIRM: (RESIDENT, DONE),
        DONE: (),
    }

    def __init__(self, session: Session, inputs: InputRouter, backend: Callable[[], Any | None],
                 background: Background, today: Callable[[], dt.date] = dt.date.today):
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.backend = backend
        self.background = background
        self.today = today
        self._credential: tuple[str, str] | None = None
        self.worker: Agent | None = None
        self.resident: Identity | None = None
        self.field_problems: dict[str, str] = {}
        self._attempt = 0

    def start(self) -> "AgentFlow":
        self.hold(self.inputs.claim(self.name, self.card_event, self.payload))
        self.hold(self.session.subscribe(lambda event, _reason: self.end() if event == "ended" else None))
        return self

    # -- the worker -------------------------------------------------------------------------
    def card_event(self, event: Any) -> None:
        if event.kind != "card":
            if self.state in (STAFF, RESIDENT):
                self._say(card_problem(event))
            return
        card = event.card
        if self.state == STAFF:
            self._credential = ("id_card", card.id_number)
            self._go(PIN)
        elif self.state == RESIDENT:
            if card.is_expired(self.today()):
                self._say("identify.card_expired", valid_to=card.valid_to)
                return
            self._offer(identity_from_card(card))

    def payload(self, payload: Any) -> None:
        if payload.kind == REJECTED:
            if self.state in (STAFF, RESIDENT):
                self._say(payload.problem or "payload.undecodable")
            return
        if self.state == STAFF:
            if payload.kind == STAFF_CODE:
                self._credential = (STAFF_CODE, payload.value)
                self._go(PIN)
            else:
                self._say("agent.not_a_staff_code")
        elif self.state == RESIDENT:
            if payload.kind == IDENTITY_CODE:
                self._resolve_resident(payload.value)
            else:
                self._say("identify.not_an_identity_code")

    def enter_pin(self, pin: str) -> None:
        """Check the PIN with the backend (on a worker thread)."""
        if self.state != PIN or self._credential is None:
            return
        if not (len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()):
            self._say("agent.pin_format", n=PIN_LENGTH)
            return
        backend = self.backend()
        if backend is None:
            self._say("identify.network_down")
            return
        kind, value = self._credential
        self._go(CHECKING)
        self.background(lambda: self._check_pin(backend, kind, value, pin))

    def _check_pin(self, backend: Any, kind: str, value: str, pin: str) -> None:
        try:
            worker = backend.staff_sign_in(kind, value, pin)
        except Exception as exc:
            code = getattr(exc, "code", "")
            log.info("grid worker not signed in", extra={"fields": {"code": code, "error": type(exc).__name__}})
            if code == "wrong_pin":
                self._go(PIN, "agent.wrong_pin", left=getattr(exc, "attempts_left", None) or 0)
            elif code == "pin_locked":
                seconds = getattr(exc, "retry_after_seconds", None) or 900
                self._go(LOCKED, "agent.pin_locked", minutes=max(1, -(-int(seconds) // 60)))
            elif code == "unknown_staff":
                self._credential = None
                self._go(STAFF, "agent.unknown_staff")
            else:
                self._go(PIN, backend_problem(exc))
            return
        self.worker = Agent(worker.worker_id, worker.name, getattr(worker, "phone", "") or "")
        self._credential = None
        log.info("grid worker signed in", extra={"fields": {"worker": worker.worker_id}})
        self._go(RESIDENT)

    def back_to_staff(self) -> None:
        """Another worker, or the locked-out worker tries again later."""
        if self.state in (PIN, LOCKED):
            self._credential = None
            self._go(STAFF)

    # -- the resident -----------------------------------------------------------------------
    def type_resident(self) -> None:
        if self.state == RESIDENT:
            self.field_problems = {}
            self._go(TYPING)

    def submit_typed(self, id_number: str, name: str, phone: str) -> bool:
        """Check what the worker typed; on success the resident is asked to confirm."""
        if self.state != TYPING:
            return False
        problems = typed_resident_problems(id_number, name, phone)
        self.field_problems = problems
        if problems:
            self._say("agent.check_fields")
            return False
        self._offer(Identity("manual", id_number=id_number.strip().upper(), name=name.strip(),
                             phone=phone.strip(), birth_date=birth_date_of(id_number.strip())))
        return True

    def cancel_typing(self) -> None:
        if self.state == TYPING:
            self._go(RESIDENT)

    def _resolve_resident(self, code: str) -> None:
        backend = self.backend()
        if backend is None:
            self._say("identify.network_down")
            return
        with self._lock:
            self._attempt += 1
            attempt = self._attempt
            self._go(RESOLVING)

        def run() -> None:
            try:
                resolved = backend.resolve_identity(code)
            except Exception as exc:
                with self._lock:
                    if self.state == RESOLVING and attempt == self._attempt:
                        self._go(RESIDENT, backend_problem(exc))
                return
            with self._lock:
                if self.state == RESOLVING and attempt == self._attempt:
                    self._offer(identity_from_person(resolved.person, "code"))
        self.background(run)

    def _offer(self, identity: Identity) -> None:
        self.resident = identity
        self._go(CONFIRM)

    def reject(self) -> None:
        """The resident says these are not their details: identify them again."""
        if self.state == CONFIRM:
            if self.resident is not None:
                self.resident.wipe()
            self.resident = None
            self._go(RESIDENT)

    def confirm(self) -> None:
        """The resident confirms: they are signed in, with the worker acting for them."""
        if self.state != CONFIRM or self.resident is None or self.worker is None:
            return
        self.session.set_identity(self.resident, agent=self.worker)
        self._go(DONE)
        self.end()

    def end(self) -> None:
        if self.ended:  # the screen ends it again when it closes: the confirmed resident is the session's now
            return
        if self.state != DONE and self.resident is not None:
            self.resident.wipe()  # not confirmed: nothing of the resident stays
        super().end()

