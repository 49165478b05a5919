"""好差评: rate the service of a case, at the end of a journey or later from the home screen.

A journey that ends (applying, following, collecting) leaves a ``RatingTarget`` in the session
with ``offer_rating``; the rating screen starts a ``RatingFlow`` with it. From the home tile
there is no target yet: the flow asks who is rating (ID card, e-ID code, or the receipt's QR
code) and offers that resident's recent cases (``choose``).

States:

- ``choose``: who is rating, then which case (the list of the holder's cases);
- ``loading``: the backend is asked for that list or that case;
- ``levels``: five levels, nothing pre-selected (``LEVELS``: 5 非常满意 … 1 非常不满意). A tap
  on one of the three upper levels sends the rating at once;
- ``reasons``: after 不满意 or 非常不满意: the reasons (several may be chosen, at least one) and
  an optional comment, then ``submit``;
- ``sending`` → ``done``: the rating went through the outbox (``Delivered``, or ``Queued``
  while the network is down: it is sent later, exactly once). A refusal goes back to the
  levels with the reason.

``skip`` ends the flow without a rating. One flow sends at most one rating.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from kiosk.flows.base import Background, Flow
from kiosk.flows.identify import IDENTITY_CODE, REJECTED, backend_problem, card_problem, identity_from_card, \
    identity_from_person
from kiosk.flows.inputs import InputRouter
from kiosk.session import Session

log = logging.getLogger(__name__)

CHOOSE, LOADING, LEVELS, REASONS, SENDING, DONE = "choose", "loading", "levels", "reasons", "sending", "done"
LEVELS_SHOWN = (5, 4, 3, 2, 1)  # top to bottom on the screen
LOW = (1, 2)  # 不满意 and 非常不满意 ask for reasons
REASONS_OFFERED = ("slow", "attitude", "many_trips", "many_materials", "unclear_guide", "complicated_process",
                   "system_problem", "not_resolved", "other")
COMMENT_MAX = 500
RATE_TARGET = "rate.target"  # the session key a journey leaves its offer under


@dataclass(frozen=True)
class RatingTarget:
    """What is rated: a case by acceptance number, or an application still in the outbox by its key."""

    acceptance_number: str | None = None
    application_key: str | None = None
    item_name: str = ""
    journey: str = "home"  # apply, follow, pickup, home
    return_screen: str = ""  # where 继续 goes after rating ("" → the home screen)


def offer_rating(session: Session, target: RatingTarget) -> None:
    """A journey ends: the rating screen will rate ``target``."""
    session.put(RATE_TARGET, target)


def take_offered_rating(session: Session) -> RatingTarget | None:
    """The target a journey left (and forget it: it is rated once)."""
    target = session.get(RATE_TARGET)
    if target is not None:
        session.put(RATE_TARGET, None)
    return target if isinstance(target, RatingTarget) else None


def clean_comment(text: str) -> str:
    """The comment as sent: no control characters, runs of spaces as one, at most ``COMMENT_MAX``."""
    spaced = re.sub(r"[\t\r\n\v\f]+", " ", text)
    kept = "".join(char for char in spaced if unicodedata.category(char)[0] != "C")
    return re.sub(r"\s+", " ", kept).strip()[:COMMENT_MAX]


class RatingFlow(Flow):
    name = "rating"
    initial = LEVELS
    TRANSITIONS = {
        CHOOSE: (LOADING, LEVELS),
        LOADING: (CHOOSE, LEVELS),
        LEVELS: (REASONS, SENDING, CHOOSE),
        REASONS: (LEVELS, SENDING),
        SENDING: (DONE, LEVELS, REASONS),
        DONE: (),
    }

    def __init__(self, session: Session, inputs: InputRouter, backend: Callable[[], Any | None],
                 background: Background, target: RatingTarget | None = None,
                 speak: Callable[..., Any] | None = None, today: Callable[[], dt.date] = dt.date.today):
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.backend = backend
        self.background = background
        self.speak = speak if speak is not None else (lambda key, **values: None)
        self.today = today
        self.target = target
        self.cases: list[Any] = []  # CaseSummary, to choose from
        self.level: int | None = None
        self.reasons: list[str] = []
        self.comment = ""
        self.outcome = ""  # "delivered" or "queued" once done
        self.skipped = False
        self._attempt = 0
        if target is None:
            self.state = CHOOSE

    def start(self) -> "RatingFlow":
        self.hold(self.session.subscribe(lambda event, _reason: self.end() if event == "ended" else None))
        if self.state == CHOOSE:
            self.hold(self.inputs.claim(self.name, self.card_event, self.payload))
            if self.session.signed_in:
                self._load_cases()
        return self

    # -- choosing the case (from the home tile) ---------------------------------------------
    def card_event(self, event: Any) -> None:
        if self.state != CHOOSE:
            return
        if event.kind != "card":
            self._say(card_problem(event))
            return
        card = event.card
        identity = self.session.identity
        if identity is not None:
            if identity.id_number != card.id_number:
                self._say("identify.already_signed_in")
            return
        if card.is_expired(self.today()):
            self._say("identify.card_expired", valid_to=card.valid_to)
            return
        self.session.set_identity(identity_from_card(card))
        self._load_cases()

    def payload(self, payload: Any) -> None:
        if self.state != CHOOSE:
            return
        if payload.kind == REJECTED:
            self._say(payload.problem or "payload.undecodable")
        elif payload.kind == IDENTITY_CODE and not self.session.signed_in:
            self._resolve(payload.value)
        elif payload.kind == "receipt":
            from kiosk.flows.follow import format_number

            self.choose_case(format_number(payload.value), "")
        else:
            self._say("rate.scan_card_or_receipt")

    def _resolve(self, code: str) -> None:
        backend = self.backend()
        if backend is None:
            self._say("rate.unavailable")
            return
        attempt = self._begin()

        def run() -> None:
            try:
                resolved = backend.resolve_identity(code)
            except Exception as exc:
                if self._current(attempt):
                    self._go(CHOOSE, backend_problem(exc))
                return
            if self._current(attempt):
                self.session.set_identity(identity_from_person(resolved.person, "code"))
                self._fetch_cases(backend, attempt)
        self.background(run)

    def _load_cases(self) -> None:
        backend = self.backend()
        if backend is None:
            self._say("rate.unavailable")
            return
        attempt = self._begin()
        self.background(lambda: self._fetch_cases(backend, attempt))

    def _fetch_cases(self, backend: Any, attempt: int) -> None:
        identity = self.session.identity
        if identity is None:
            return
        try:
            cases = list(backend.cases_by_holder(identity.id_number, identity.id_type))
        except Exception as exc:
            log.info("cases to rate not listed", extra={"fields": {"error": type(exc).__name__}})
            if self._current(attempt):
                self._go(CHOOSE, "rate.unavailable")
            return
        with self._lock:
            if self._current(attempt):
                self.cases = sorted(cases, key=lambda c: (c.accepted_at, c.acceptance_number), reverse=True)[:8]
                self._go(CHOOSE, "" if self.cases else "rate.no_cases")

    def choose_case(self, acceptance_number: str, item_name: str) -> None:
        if self.state == CHOOSE:
            self.target = RatingTarget(acceptance_number=acceptance_number, item_name=item_name, journey="home")
            self._go(LEVELS)

    # -- rating -----------------------------------------------------------------------------
    def choose_level(self, level: int) -> None:
        """A tap on a level: the three upper ones send at once, the two lowest ask for reasons."""
        if self.state not in (LEVELS, REASONS) or level not in LEVELS_SHOWN:
            return
        self.level = level
        if level in LOW:
            self._go(REASONS, "")
        else:
            self.reasons, self.comment = [], ""
            self._send()

    def toggle_reason(self, reason: str) -> None:
        if self.state != REASONS or reason not in REASONS_OFFERED:
            return
        if reason in self.reasons:
            self.reasons.remove(reason)
        else:
            self.reasons.append(reason)
        self._say("")
        self._listeners.publish(self)

    def back_to_levels(self) -> None:
        if self.state == REASONS:
            self.level = None
            self._go(LEVELS, "")

    def submit(self, comment: str = "") -> None:
        """Send a low rating with its reasons (at least one) and the comment."""
        if self.state != REASONS:
            return
        if not self.reasons:
            self._say("rate.need_reason")
            return
        self.comment = clean_comment(comment)
        self._send()

    def _send(self) -> None:
        from kiosk.backend import models as m

        backend = self.backend()
        target = self.target
        back = self.state
        if backend is None or target is None:
            self._say("rate.unavailable")
            return
        try:
            rating = m.RatingCreate(acceptance_number=target.acceptance_number,
                                    application_key=target.application_key, level=self.level,
                                    reasons=list(self.reasons) if self.level in LOW else [],
                                    comment=self.comment if self.level in LOW else "")
        except ValueError:
            self._say("rate.refused")
            return
        with self._lock:
            if self.state == SENDING:
                return
            self._go(SENDING, "")

        def run() -> None:
            from kiosk.backend.service import Delivered, Queued

            try:
                outcome = backend.rate(rating)
            except Exception as exc:
                log.warning("rating not stored", extra={"fields": {"error": type(exc).__name__}})
                self._go(back, "rate.unavailable")
                return
            if isinstance(outcome, Delivered):
                self.outcome = "delivered"
                self._go(DONE, "rate.thanks")
            elif isinstance(outcome, Queued):
                self.outcome = "queued"
                self._go(DONE, "rate.thanks_queued")
            else:
                log.warning("rating refused", extra={"fields": {"code": getattr(outcome, "code", "")}})
                self._go(back, "rate.refused")
        self.background(run)

    def skip(self) -> None:
        """No rating this time."""
        if self.state in (SENDING, DONE):
            return
        self.skipped = True
        self.end()

    # -- helpers ----------------------------------------------------------------------------------
    def _begin(self) -> int:
        with self._lock:
            self._attempt += 1
            self._go(LOADING)
            return self._attempt

    def _current(self, attempt: int) -> bool:
        return not self.ended and attempt == self._attempt and self.state == LOADING
