"""办件查询: follow a case — by the receipt's QR code, by ID card, or by the typed acceptance number.

The journey, as states:

- ``identify``: the resident places the ID card (or shows the e-ID code), scans the QR code
  of the acceptance receipt, or chooses to type the number (``typing``: acceptance number
  and the 6-digit 查询码 printed on the receipt). A card signs the resident in kiosk-wide. A
  resident who is signed in already skips this step.
- ``loading``: the backend is asked.
- ``list``: the holder's cases, newest first, and the applications still waiting in this
  terminal's outbox for the network (等待网络恢复后提交). With the network down the list
  shows what the kiosk itself holds and says why the rest is missing.
- ``case``: one case: its status timeline (``case_steps``: 已受理 → 审查中 → 补正 → 已办结 /
  不予批准, and 待取件 → 已取件 when the result comes to a locker), the promised date, how the
  result is delivered, the next step in one sentence (``next_step``), 补正 items all at once,
  a refusal's reasons and 行政救济途径. From here the resident can reprint the acceptance
  receipt, go to collect a result waiting in this terminal's locker (``collect``), or rate.

While the flow runs it holds the card reader and the scanned codes (``InputRouter``), so a
receipt's QR code or a card lands here. It ends with the session.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from kiosk.flows.base import Background, Flow
from kiosk.flows.identify import (IDENTITY_CODE, REJECTED, backend_problem, card_problem, identity_from_card,
                                  identity_from_person)
from kiosk.flows.inputs import InputRouter
from kiosk.payloads import case_number
from kiosk.receipts.case_slips import receipt_code
from kiosk.session import Session

log = logging.getLogger(__name__)

IDENTIFY, TYPING, LOADING, LIST, CASE = "identify", "typing", "loading", "list", "case"
RECEIPT, PICKUP_CODE = "receipt", "pickup_code"  # kinds of kiosk.payloads.Payload
_CODE = re.compile(r"\d{6}")

#: session key where a journey leaves what the pickup journey should verify with
PICKUP_PROOF = "pickup.proof"


def format_number(normalised: str) -> str:
    """``37050320260105000042`` (``kiosk.payloads``' normal form) → ``370503-20260105-000042``
    (the backend's acceptance number); a letter prefix is kept in front."""
    match = re.fullmatch(r"([A-Z]{0,4})(\d{6})(\d{8})(\d{4,8})", normalised)
    if not match:
        return normalised
    prefix, region, day, sequence = match.groups()
    return f"{prefix}{region}-{day}-{sequence}"


# -- what a case shows -------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseStep:
    """One step of the status timeline."""

    key: str  # translation key of its name: follow.step.accepted …
    status: str  # "done", "current", "todo" or "refused"
    at: dt.datetime | None = None
    detail: str = ""  # what the back office wrote (Chinese)


_DECIDED = ("approved", "rejected", "ready_for_pickup", "closed")


def case_steps(case: Any) -> list[CaseStep]:
    """The timeline of a ``CaseStatus``: 已受理 → 审查中 → (补正) → 已办结 / 不予批准 → (待取件 → 已取件)."""
    state = case.state
    first: dict[str, Any] = {}
    last: dict[str, Any] = {}
    for event in case.timeline:
        first.setdefault(event.state, event)
        last[event.state] = event

    def at(name: str) -> dt.datetime | None:
        event = first.get(name)
        return event.at if event is not None else None

    def detail(name: str) -> str:
        event = last.get(name)
        return event.detail if event is not None else ""

    steps = [CaseStep("follow.step.accepted", "done", at("accepted") or case.accepted_at, detail("accepted"))]
    reviewed = state in ("reviewing", "supplement") or state in _DECIDED or "reviewing" in first
    if state == "reviewing":
        steps.append(CaseStep("follow.step.reviewing", "current", at("reviewing"), detail("reviewing")))
    elif state == "accepted":
        steps.append(CaseStep("follow.step.reviewing", "todo"))
    elif reviewed or state == "supplement":
        steps.append(CaseStep("follow.step.reviewing", "done", at("reviewing")))
    if state == "supplement":
        steps.append(CaseStep("follow.step.supplement", "current", at("supplement"), detail("supplement")))
    elif "supplement" in first:
        steps.append(CaseStep("follow.step.supplement", "done", at("supplement")))
    if state == "rejected":
        steps.append(CaseStep("follow.step.rejected", "refused", at("rejected"), detail("rejected")))
        return steps
    if state in _DECIDED:
        steps.append(CaseStep("follow.step.approved", "done", at("approved") or (
            case.decision.decided_at if case.decision else None), detail("approved")))
    else:
        steps.append(CaseStep("follow.step.approved", "todo"))
    if case.delivery == "terminal" or state in ("ready_for_pickup", "closed"):
        if state == "ready_for_pickup":
            steps.append(CaseStep("follow.step.ready", "current", at("ready_for_pickup"), detail("ready_for_pickup")))
            steps.append(CaseStep("follow.step.closed", "todo"))
        elif state == "closed":
            steps.append(CaseStep("follow.step.ready", "done", at("ready_for_pickup")))
            steps.append(CaseStep("follow.step.closed", "done", at("closed"), detail("closed")))
        else:
            steps.append(CaseStep("follow.step.ready", "todo"))
    return steps


def can_collect_here(case: Any, terminal_id: str) -> bool:
    """The result waits in this terminal's locker."""
    pickup = case.pickup
    return (case.state == "ready_for_pickup" and pickup is not None and pickup.terminal_id == terminal_id
            and pickup.picked_up_at is None)


def next_step(case: Any, terminal_id: str) -> tuple[str, dict[str, Any]]:
    """The next step in one sentence: (translation key, values)."""
    state = case.state
    if state in ("accepted", "reviewing"):
        if case.promised_date is not None:
            return "follow.next.wait", {"date": _day(case.promised_date)}
        return "follow.next.wait_soon", {}
    if state == "supplement":
        supplement = case.supplement
        if supplement is not None and supplement.deadline is not None:
            return "follow.next.supplement_by", {"date": _day(supplement.deadline)}
        return "follow.next.supplement", {}
    if state == "rejected":
        return "follow.next.rejected", {}
    if state == "ready_for_pickup" and case.pickup is not None:
        if can_collect_here(case, terminal_id):
            return "follow.next.collect_here", {"door": case.pickup.door}
        return "follow.next.collect_elsewhere", {"terminal": case.pickup.terminal_id, "door": case.pickup.door}
    if state == "closed":
        return "follow.next.closed", {}
    return {"terminal": "follow.next.approved_terminal", "post": "follow.next.approved_post"}.get(
        case.delivery, "follow.next.approved_counter"), {}


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class _Proof:
    """How the case shown can be asked for again: its holder's ID, or its 查询码."""

    number: str
    code: str = field(default="", repr=False)
    holder: tuple[str, str] | None = field(default=None, repr=False)  # (id_number, id_type)


# -- the journey -------------------------------------------------------------------------------

class FollowFlow(Flow):
    name = "follow"
    initial = IDENTIFY
    TRANSITIONS = {
        IDENTIFY: (TYPING, LOADING),
        TYPING: (IDENTIFY, LOADING),
        LOADING: (IDENTIFY, TYPING, LIST, CASE),
        LIST: (LOADING, CASE, IDENTIFY),
        CASE: (LOADING, LIST, IDENTIFY),
    }

    def __init__(self, session: Session, inputs: InputRouter, backend: Callable[[], Any | None],
                 background: Background, terminal_id: str, slips: Any = None,
                 print_receipt: Callable[[str, Any], Any] | None = None, speak: Callable[..., Any] | None = None,
                 today: Callable[[], dt.date] = dt.date.today):
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.backend = backend
        self.background = background
        self.terminal_id = terminal_id
        self.slips = slips
        self.print_receipt = print_receipt
        self.speak = speak if speak is not None else (lambda key, **values: None)
        self.today = today
        self.cases: list[Any] = []  # CaseSummary, newest first
        self.queued: list[Any] = []  # QueuedApplication, oldest first
        self.case: Any = None  # the CaseStatus shown
        self.typed_number = ""  # prefilled when a receipt code came without its 查询码
        self.field_problems: dict[str, str] = {}
        self.print_state = ""  # translation key of the reprint's progress
        self._proof: _Proof | None = None
        self._attempt = 0
        self._back_to = IDENTIFY
        self._reprinted: set[str] = set()

    def start(self) -> "FollowFlow":
        self.hold(self.inputs.claim(self.name, self.card_event, self.payload))
        self.hold(self.session.subscribe(lambda event, _reason: self.end() if event == "ended" else None))
        backend = self.backend()
        outbox = getattr(backend, "outbox", None)
        if outbox is not None and hasattr(outbox, "subscribe"):
            self.hold(outbox.subscribe(self._outbox_changed))
        if self.session.signed_in:
            self.load_list()
        else:
            self.speak("follow.voice_identify")
        return self

    # -- who is asking ------------------------------------------------------------------------
    def _holder(self) -> tuple[str, str] | None:
        identity = self.session.identity
        if identity is None or not identity.id_number:
            return None
        return identity.id_number, identity.id_type

    def card_event(self, event: Any) -> None:
        if event.kind != "card":
            if self.state in (IDENTIFY, TYPING):
                self._say(card_problem(event))
            return
        card = event.card
        holder = self._holder()
        if holder is not None:
            if holder[0] != card.id_number:
                self._say("identify.already_signed_in")
            elif self.state in (IDENTIFY, TYPING):
                self.load_list()
            return
        if card.is_expired(self.today()):
            self._say("identify.card_expired", valid_to=card.valid_to)
            return
        self.session.set_identity(identity_from_card(card))
        self.load_list()

    def payload(self, payload: Any) -> None:
        if payload.kind == REJECTED:
            self._say(payload.problem or "payload.undecodable")
            return
        if payload.kind == RECEIPT:
            number = format_number(payload.value)
            holder = self._holder()
            code = receipt_code(payload.text)
            if code:
                self._load_case(_Proof(number, code=code))
            elif holder is not None:
                self._load_case(_Proof(number, holder=holder))
            else:
                self.typed_number = number
                self.field_problems = {}
                self._go(TYPING, "follow.need_code")
            return
        if payload.kind == IDENTITY_CODE and self._holder() is None:
            self._resolve_identity(payload.value)
            return
        if payload.kind == PICKUP_CODE:
            self._say("follow.pickup_code_here")
            return
        self._say("follow.not_a_receipt")

    def _resolve_identity(self, code: str) -> None:
        backend = self.backend()
        if backend is None:
            self._say("follow.network_down")
            return
        attempt = self._next_attempt(LOADING)
        previous = IDENTIFY

        def run() -> None:
            try:
                resolved = backend.resolve_identity(code)
            except Exception as exc:
                if self._current(attempt):
                    self._go(previous, backend_problem(exc))
                return
            if self._current(attempt):
                self.session.set_identity(identity_from_person(resolved.person, "code"))
                self._fetch_list(backend, attempt)
        self.background(run)

    # -- typing the number ------------------------------------------------------------------
    def type_number(self) -> None:
        if self.state == IDENTIFY:
            self.field_problems = {}
            self._go(TYPING)

    def cancel_typing(self) -> None:
        if self.state == TYPING:
            self.typed_number = ""
            self._go(IDENTIFY)

    def submit_number(self, number_text: str, code_text: str) -> bool:
        """The typed acceptance number and 查询码; False (with ``field_problems``) when malformed."""
        if self.state != TYPING:
            return False
        problems = {}
        normalised = case_number(re.sub(r"\s+", "", number_text or ""))
        if normalised is None:
            problems["number"] = "follow.bad_number"
        code = (code_text or "").strip()
        if not _CODE.fullmatch(code):
            problems["code"] = "follow.bad_code"
        self.field_problems = problems
        if problems:
            self._say("follow.check_fields")
            return False
        self.typed_number = format_number(normalised)
        self._load_case(_Proof(self.typed_number, code=code))
        return True

    # -- the list -----------------------------------------------------------------------------
    def load_list(self) -> None:
        """The signed-in holder's cases and waiting applications (asked again each time)."""
        backend = self.backend()
        if self._holder() is None:
            return
        if backend is None:
            self._go(LOADING)
            self._go(LIST, "follow.network_down")
            return
        attempt = self._next_attempt(LOADING)
        self.background(lambda: self._fetch_list(backend, attempt))

    def _fetch_list(self, backend: Any, attempt: int) -> None:
        holder = self._holder()
        if holder is None:
            return
        id_number, id_type = holder
        try:
            queued = list(backend.queued_applications(id_number))
        except Exception as exc:  # the outbox is local; a failure here is a bug worth a log line
            log.warning("waiting applications not read", exc_info=True,
                        extra={"fields": {"error": type(exc).__name__}})
            queued = []
        problem = ""
        try:
            cases = list(backend.cases_by_holder(id_number, id_type))
        except Exception as exc:
            log.info("cases not listed", extra={"fields": {"error": type(exc).__name__,
                                                           "code": getattr(exc, "code", "")}})
            cases, problem = [], self._problem(exc)
        with self._lock:
            if not self._current(attempt):
                return
            self.cases = sorted(cases, key=lambda c: (c.accepted_at, c.acceptance_number), reverse=True)
            self.queued = queued
            self._go(LIST, problem)

    def _outbox_changed(self) -> None:
        """An application left the outbox (or joined it): the list shows it at once."""
        backend = self.backend()
        holder = self._holder()
        if self.state != LIST or backend is None or holder is None:
            return
        try:
            queued = list(backend.queued_applications(holder[0]))
        except Exception:
            return
        if [q.key for q in queued] != [q.key for q in self.queued]:
            gone = len(queued) < len(self.queued)
            self.queued = queued
            if gone:
                self.load_list()  # it is a case now: list it as one
            else:
                self._listeners.publish(self)

    def open_case(self, acceptance_number: str) -> None:
        holder = self._holder()
        if self.state == LIST and holder is not None:
            self._load_case(_Proof(acceptance_number, holder=holder))

    def back_to_list(self) -> None:
        if self.state == CASE:
            if self._holder() is not None:
                self.load_list()
            else:
                self.case = None
                self._go(IDENTIFY)

    # -- one case -----------------------------------------------------------------------------
    def _load_case(self, proof: _Proof) -> None:
        backend = self.backend()
        if backend is None:
            self._say("follow.network_down")
            return
        back_to = self.state if self.state in (IDENTIFY, TYPING, LIST) else IDENTIFY
        attempt = self._next_attempt(LOADING)

        def run() -> None:
            try:
                if proof.holder is not None:
                    case = backend.case_for_holder(proof.number, proof.holder[0], proof.holder[1])
                else:
                    case = backend.case_status(proof.number, proof.code)
            except Exception as exc:
                log.info("case not shown", extra={"fields": {"error": type(exc).__name__,
                                                             "code": getattr(exc, "code", "")}})
                with self._lock:
                    if self._current(attempt):
                        self._go(back_to, self._problem(exc, number=proof.number), **self._values(exc))
                return
            with self._lock:
                if not self._current(attempt):
                    return
                self.case, self._proof, self._back_to = case, proof, back_to
                self.print_state = ""
                self._go(CASE)
        self.background(run)

    def steps(self) -> list[CaseStep]:
        return case_steps(self.case) if self.case is not None else []

    def next_step(self) -> tuple[str, dict[str, Any]]:
        return next_step(self.case, self.terminal_id) if self.case is not None else ("", {})

    @property
    def can_collect(self) -> bool:
        return self.case is not None and can_collect_here(self.case, self.terminal_id)

    @property
    def can_reprint(self) -> bool:
        return self.case is not None and self.print_receipt is not None and self.slips is not None \
            and bool(self.case.verification_code)

    def reprint(self) -> None:
        """Print the acceptance receipt again (once per case in a visit: paper is not for playing)."""
        if self.state != CASE or not self.can_reprint:
            return
        case = self.case
        if case.acceptance_number in self._reprinted:
            self._say("follow.reprinted_already")
            return
        self._reprinted.add(case.acceptance_number)
        identity = self.session.identity
        name = identity.name if identity is not None and self._proof is not None and self._proof.holder else ""
        receipt = self.slips.acceptance_again(case, name)
        self.print_state = "receipt.printing"
        self._say("")
        self._listeners.publish(self)

        def run() -> None:
            try:
                job = self.print_receipt("acceptance", receipt)
            except Exception as exc:
                log.warning("receipt not reprinted", extra={"fields": {"error": type(exc).__name__}})
                job = None
            self.print_state = job.message_key if job is not None else "follow.no_printer"
            self._listeners.publish(self)
        self.background(run)

    def collect(self) -> bool:
        """Go on to collect the result waiting here: leaves the pickup journey its proof. False when
        nothing of this case waits in this terminal's locker."""
        if self.state != CASE or not self.can_collect or self._proof is None:
            return False
        if self._proof.holder is None:
            from kiosk.backend import models as m

            self.session.put(PICKUP_PROOF, m.PickupVerify(method="receipt", acceptance_number=self._proof.number,
                                                          verification_code=self._proof.code))
        return True

    def rating_target(self) -> Any:
        """What the rating screen rates when the resident rates this case."""
        from kiosk.flows.rating import RatingTarget

        if self.case is None:
            return None
        return RatingTarget(acceptance_number=self.case.acceptance_number, item_name=self.case.item_name,
                            journey="follow", return_screen="follow.list")

    # -- helpers ----------------------------------------------------------------------------------
    def _next_attempt(self, state: str) -> int:
        with self._lock:
            self._attempt += 1
            self._go(state)
            return self._attempt

    def _current(self, attempt: int) -> bool:
        return not self.ended and attempt == self._attempt and self.state == LOADING

    @staticmethod
    def _problem(error: Exception, number: str = "") -> str:
        code = getattr(error, "code", "")
        if code == "too_many_attempts":
            return "follow.too_many"
        if code == "case_not_found" or getattr(error, "status", None) == 404:
            return "follow.not_found"
        if getattr(error, "transient", True):
            return "follow.network_down"
        return "follow.refused"

    @staticmethod
    def _values(error: Exception) -> dict[str, Any]:
        seconds = getattr(error, "retry_after_seconds", None)
        return {"minutes": max(1, -(-int(seconds) // 60))} if seconds else {"minutes": 10}
