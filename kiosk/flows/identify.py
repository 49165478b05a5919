"""Identify: sign the resident in with an ID card or a personal identity code, at any time.

``IdentifyFlow`` is the kiosk-wide sign-in. The composition root starts one when the kiosk
starts; it claims the card reader and the scanned codes at the bottom of the ``InputRouter``
stack, so whatever screen shows, a card placed on the reader (or already lying on it when the
kiosk starts) signs the resident in, unless a journey has claimed the inputs for itself.

States:

- ``waiting``: nobody is signed in; ``problem`` says what went wrong last (an expired card,
  a read failure, an unknown code…) and the resident can simply try again;
- ``resolving``: an identity code is being checked with the backend;
- ``signed_in``: the session holds the identity. When the session ends (退出, 返回首页, the
  inactivity countdown) the flow goes back to ``waiting``. The card still on the reader does
  not sign in again: the reader only finds a card that has left the field and come back.

All four card types sign in; the card's validity is checked against today's date. A code is
resolved by the backend (``BackendServices.resolve_identity``).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from kiosk.flows.base import Background, Flow
from kiosk.flows.inputs import InputRouter
from kiosk.session import Identity, Session

log = logging.getLogger(__name__)

WAITING, RESOLVING, SIGNED_IN = "waiting", "resolving", "signed_in"
IDENTITY_CODE, REJECTED = "identity_code", "rejected"  # kinds of kiosk.payloads.Payload

# GA/T 467 card types → the contract's id types (kiosk.backend.models.IdType)
_PERMIT_REGIONS = {"81": "hk_macao_permit", "82": "hk_macao_permit", "83": "taiwan_permit"}


def identity_from_card(card: Any) -> Identity:
    """The session identity for a card read by the reader (a ``drivers.idcard.card.IdCard``)."""
    card_type = card.card_type.value
    if card_type == "resident":
        id_type = "resident_id"
    elif card_type == "hk_mo_tw_permit":
        id_type = _PERMIT_REGIONS.get(card.id_number[:2], "hk_macao_permit")
    else:
        id_type = "foreign_permanent"
    return Identity("idcard", id_number=card.id_number, name=card.name, id_type=id_type,
                    address=card.address, birth_date=card.birth_date, valid_to=card.valid_to,
                    extra={"card_type": card_type, "gender": card.gender, "nation": card.nation,
                           "english_name": card.english_name, "nationality": card.nationality})


def identity_from_person(person: Any, source: str) -> Identity:
    """The session identity for a contract ``Person`` (a resolved code, or typed in 代办)."""
    return Identity(source, id_number=person.id_number, name=person.name, id_type=person.id_type,
                    address=getattr(person, "address", "") or "", phone=getattr(person, "phone", "") or "",
                    birth_date=birth_date_of(person.id_number) if person.id_type == "resident_id" else "")


def birth_date_of(id_number: str) -> str:
    """YYYY-MM-DD from an 18-character citizen number (positions 7–14), or "" if there is none."""
    digits = id_number[6:14]
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return ""


def card_problem(event: Any) -> str:
    """The translation key telling a resident what to do after a card read went wrong."""
    from drivers.idcard.reader import CardReadError, NoCardError

    error = getattr(event, "error", None)
    if isinstance(error, NoCardError):
        return "idcard.place_card"
    if isinstance(error, CardReadError) or getattr(error, "code", "") in ("DEV-004", "DEV-005", "DEV-007"):
        return "idcard.read_failed"
    return "device.idcard.unavailable"


def backend_problem(error: Exception) -> str:
    """The translation key for a backend call that failed while identifying someone."""
    from kiosk.backend.errors import BackendAuthError

    code = getattr(error, "code", "")
    if code in ("identity_code_unknown", "identity_code_expired"):
        return f"identify.{code}"
    if isinstance(error, BackendAuthError):
        return "backend.terminal_problem"
    if getattr(error, "transient", True):
        return "identify.network_down"
    return "identify.code_refused"


class IdentifyFlow(Flow):
    name = "identify"
    initial = WAITING
    TRANSITIONS = {
        WAITING: (RESOLVING, SIGNED_IN),
        RESOLVING: (WAITING, SIGNED_IN),
        SIGNED_IN: (WAITING,),
    }

    def __init__(self, session: Session, inputs: InputRouter, backend: Callable[[], Any | None],
                 background: Background, today: Callable[[], dt.date] = dt.date.today):
        """``backend()`` returns the ``BackendServices`` (or None while it starts or when none is configured)."""
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.backend = backend
        self.background = background
        self.today = today
        self._code_attempt = 0

    def start(self) -> "IdentifyFlow":
        self.hold(self.inputs.claim(self.name, self.card_event, self.payload))
        self.hold(self.session.subscribe(self._session_event))
        if self.session.signed_in:
            self._go(SIGNED_IN)
        return self

    # -- what arrives -----------------------------------------------------------------------
    def card_event(self, event: Any) -> None:
        if event.kind != "card":
            if self.state != SIGNED_IN:
                self._go(WAITING, card_problem(event))
            return
        card = event.card
        if self.state == SIGNED_IN:
            self._other_while_signed_in(card.id_number)
            return
        if card.is_expired(self.today()):
            self._go(WAITING, "identify.card_expired", valid_to=card.valid_to)
            return
        self._sign_in(identity_from_card(card))

    def payload(self, payload: Any) -> None:
        if payload.kind == REJECTED:
            if self.state != SIGNED_IN:
                self._go(WAITING, payload.problem or "payload.undecodable")
            return
        if payload.kind != IDENTITY_CODE:
            if self.state != SIGNED_IN:
                self._go(WAITING, "identify.not_an_identity_code")
            return
        if self.state == SIGNED_IN:
            self._go(SIGNED_IN, "identify.already_signed_in")
            return
        backend = self.backend()
        if backend is None:
            self._go(WAITING, "identify.network_down")
            return
        with self._lock:
            if self.state == RESOLVING:
                return  # one code at a time; the scanner repeats itself
            self._code_attempt += 1
            attempt = self._code_attempt
            self._go(RESOLVING)
        self.background(lambda: self._resolve(backend, payload.value, attempt))

    def _resolve(self, backend: Any, code: str, attempt: int) -> None:
        try:
            resolved = backend.resolve_identity(code)
        except Exception as exc:  # a backend error of any kind: the resident is told, nothing is lost
            log.info("identity code not resolved", extra={"fields": {"error": type(exc).__name__,
                                                                     "code": getattr(exc, "code", "")}})
            with self._lock:
                if self.state == RESOLVING and attempt == self._code_attempt:
                    self._go(WAITING, backend_problem(exc))
            return
        with self._lock:
            if self.state != RESOLVING or attempt != self._code_attempt:
                return  # the session ended (or a card signed in) while the backend answered
            self._sign_in(identity_from_person(resolved.person, "code"))

    def _sign_in(self, identity: Identity) -> None:
        with self._lock:
            self.session.set_identity(identity)
            self._go(SIGNED_IN)

    def _other_while_signed_in(self, id_number: str) -> None:
        identity = self.session.identity
        if identity is not None and identity.id_number != id_number:
            self._go(SIGNED_IN, "identify.already_signed_in")

    # -- the session ------------------------------------------------------------------------
    def _session_event(self, event: str, _reason: str) -> None:
        if event == "ended":
            with self._lock:
                self._code_attempt += 1  # an answer still on its way is for nobody now
                self._go(WAITING)
        elif event == "identified" and self.state != SIGNED_IN:
            self._go(SIGNED_IN)  # signed in by another journey (代办)

    def dismiss_problem(self) -> None:
        """The resident read the message and tries again."""
        self._say("")
