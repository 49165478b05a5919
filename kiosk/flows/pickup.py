"""自助取件: collect a finished result from this terminal's locker.

The journey, as states:

- ``identify``: the resident places the ID card (or shows the e-ID code), scans the pickup code
  from the SMS or the acceptance receipt's QR code, or types the pickup code (``typing``). A
  resident who is signed in already — or who came from 办件查询 with the receipt — is verified
  at once, without waiting for the next heartbeat.
- ``verifying``: the backend says which results wait here for them. A wrong pickup code says
  so; too many wrong codes (the backend's limit) say how many minutes to wait.
- ``list``: the results waiting, each with its door; the resident chooses one and confirms.
  A result whose door this terminal has already unlocked once is shown but cannot be opened
  again: only a clerk can allow that (``kiosk.pickup_ledger``).
- ``opening`` → ``open``: the right door opens; voice and text say which ("请从 5 号柜门取件").
  After ``close_reminder_seconds`` the resident is reminded to close it; when the locker
  reports the door left open (``door_open_alert_seconds``) a technician is alerted through the
  backend (a staff call with an alert).
- ``confirming`` → ``done``: the door is closed again, the pickup is confirmed to the backend
  through the outbox (that closes the case; queued while the network is down), the pickup slip
  prints. The screen moves on to the rating by itself, or to the next result if there is one.
- ``failed``: the lock jammed, the board did not answer, the resident found the door empty
  (柜内没有), or the backend refused the confirmation: the pickup is not confirmed, the resident
  is told what happens next, and staff are called (with the door and what went wrong).

The flow holds the card reader and scanned codes while it identifies, and listens to the
locker's door events until it ends. It ends with the session; a door still open then is
reported to staff.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from typing import Any, Callable

from kiosk.flows.base import Background, Flow
from kiosk.flows.follow import PICKUP_PROOF, format_number
from kiosk.flows.identify import IDENTITY_CODE, REJECTED, backend_problem, card_problem, identity_from_card, \
    identity_from_person
from kiosk.flows.inputs import InputRouter
from kiosk.flows.rating import RatingTarget
from kiosk.receipts.case_slips import receipt_code
from kiosk.session import Session

log = logging.getLogger(__name__)

IDENTIFY, TYPING, VERIFYING, LIST, OPENING, OPEN, CONFIRMING, DONE, FAILED = (
    "identify", "typing", "verifying", "list", "opening", "open", "confirming", "done", "failed")
_CODE = re.compile(r"\d{6}")


class PickupFlow(Flow):
    name = "pickup"
    initial = IDENTIFY
    TRANSITIONS = {
        IDENTIFY: (TYPING, VERIFYING),
        TYPING: (IDENTIFY, VERIFYING),
        VERIFYING: (IDENTIFY, TYPING, LIST),
        LIST: (OPENING, IDENTIFY),
        OPENING: (OPEN, FAILED, LIST),
        OPEN: (CONFIRMING, FAILED),
        CONFIRMING: (DONE, FAILED),
        DONE: (LIST,),
        FAILED: (LIST,),
    }

    def __init__(self, session: Session, inputs: InputRouter, backend: Callable[[], Any | None],
                 background: Background, *, locker: Callable[[], Any | None],
                 subscribe_doors: Callable[[Callable[[Any], None]], Any] | None, ledger: Callable[[], Any],
                 slips: Any = None, print_receipt: Callable[[str, Any], Any] | None = None,
                 speak: Callable[..., Any] | None = None, close_reminder_seconds: float = 25.0,
                 clock: Callable[[], float] = time.monotonic, today: Callable[[], dt.date] = dt.date.today):
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.backend = backend
        self.background = background
        self.locker = locker
        self.subscribe_doors = subscribe_doors
        self.ledger = ledger
        self.slips = slips
        self.print_receipt = print_receipt
        self.speak = speak if speak is not None else (lambda key, **values: None)
        self.close_reminder_seconds = close_reminder_seconds
        self.clock = clock
        self.today = today
        self.matches: list[Any] = []  # PickupSlot: waiting here for this resident
        self.selected: str = ""  # the pickup id chosen in the list
        self.current: Any = None  # the PickupSlot being collected
        self.collected: list[Any] = []  # PickupSlot collected in this visit
        self.outcome = ""  # "delivered" / "queued": how the last confirmation went
        self.print_state = ""  # translation key of the pickup slip's printing
        self.field_problems: dict[str, str] = {}
        self.reminded = False
        self.alerted = False
        self.item_taken = False
        self._verified_by = ""
        self._attempt = 0
        self._opened_at: float | None = None
        self._opened_time: dt.datetime | None = None
        self._closed_at: dt.datetime | None = None

    def start(self) -> "PickupFlow":
        self.hold(self.inputs.claim(self.name, self.card_event, self.payload))
        self.hold(self.session.subscribe(lambda event, _reason: self.end() if event == "ended" else None))
        if self.subscribe_doors is not None:
            self.hold(self.subscribe_doors(self.door_event))
        proof = self.session.get(PICKUP_PROOF)
        if proof is not None:
            self.session.put(PICKUP_PROOF, None)
        identity = self.session.identity
        if identity is not None and identity.id_number:
            self._verify_card(identity.id_number, identity.id_type)
        elif proof is not None:
            self._verify(proof)
        else:
            self.speak("pickup.voice_identify")
        return self

    # -- who collects -------------------------------------------------------------------------
    def card_event(self, event: Any) -> None:
        if self.state not in (IDENTIFY, TYPING):
            return
        if event.kind != "card":
            self._say(card_problem(event))
            return
        card = event.card
        identity = self.session.identity
        if identity is not None and identity.id_number != card.id_number:
            self._say("identify.already_signed_in")
            return
        if card.is_expired(self.today()):
            self._say("identify.card_expired", valid_to=card.valid_to)
            return
        if identity is None:
            self.session.set_identity(identity_from_card(card))
        self._verify_card(card.id_number, identity_from_card(card).id_type)

    def payload(self, payload: Any) -> None:
        if self.state not in (IDENTIFY, TYPING):
            return
        if payload.kind == REJECTED:
            self._say(payload.problem or "payload.undecodable")
        elif payload.kind == "pickup_code":
            if _CODE.fullmatch(payload.value):
                self._verify_code(payload.value)
            else:
                self._say("pickup.code_wrong")
        elif payload.kind == "receipt":
            code = receipt_code(payload.text)
            identity = self.session.identity
            if code:
                from kiosk.backend import models as m

                self._verify(m.PickupVerify(method="receipt", acceptance_number=format_number(payload.value),
                                            verification_code=code))
            elif identity is not None:
                self._verify_card(identity.id_number, identity.id_type)
            else:
                self._say("pickup.receipt_without_code")
        elif payload.kind == IDENTITY_CODE and not self.session.signed_in:
            self._resolve(payload.value)
        else:
            self._say("pickup.not_a_pickup_code")

    def type_code(self) -> None:
        if self.state == IDENTIFY:
            self.field_problems = {}
            self._go(TYPING, "")

    def cancel_typing(self) -> None:
        if self.state == TYPING:
            self._go(IDENTIFY, "")

    def submit_code(self, text: str) -> bool:
        """The typed pickup code (6 digits, from the SMS)."""
        if self.state != TYPING:
            return False
        code = re.sub(r"\s+", "", text or "")
        if not _CODE.fullmatch(code):
            self.field_problems = {"code": "pickup.code_format"}
            self._say("pickup.code_format")
            return False
        self.field_problems = {}
        self._verify_code(code)
        return True

    def _verify_card(self, id_number: str, id_type: str) -> None:
        from kiosk.backend import models as m

        self._verify(m.PickupVerify(method="id_card", id_type=id_type, id_number=id_number))

    def _verify_code(self, code: str) -> None:
        from kiosk.backend import models as m

        self._verify(m.PickupVerify(method="pickup_code", pickup_code=code))

    def _resolve(self, code: str) -> None:
        backend = self.backend()
        if backend is None:
            self._say("pickup.network_down")
            return
        attempt = self._begin()

        def run() -> None:
            try:
                resolved = backend.resolve_identity(code)
            except Exception as exc:
                if self._current(attempt):
                    self._go(IDENTIFY, backend_problem(exc))
                return
            if self._current(attempt):
                identity = identity_from_person(resolved.person, "code")
                self.session.set_identity(identity)
                self._ask(backend, attempt, IDENTIFY, self._request_for(identity.id_number, identity.id_type))
        self.background(run)

    @staticmethod
    def _request_for(id_number: str, id_type: str) -> Any:
        from kiosk.backend import models as m

        return m.PickupVerify(method="id_card", id_type=id_type, id_number=id_number)

    def _verify(self, request: Any) -> None:
        backend = self.backend()
        if backend is None:
            self._say("pickup.network_down")
            return
        back = self.state if self.state in (IDENTIFY, TYPING) else IDENTIFY
        attempt = self._begin()
        self.background(lambda: self._ask(backend, attempt, back, request))

    def _ask(self, backend: Any, attempt: int, back: str, request: Any) -> None:
        try:
            matches = list(backend.verify_pickup(request))
        except Exception as exc:
            code = getattr(exc, "code", "")
            log.info("pickup not verified", extra={"fields": {"error": type(exc).__name__, "code": code}})
            if self._current(attempt):
                if code == "too_many_attempts":
                    seconds = getattr(exc, "retry_after_seconds", None) or 600
                    self._go(back, "pickup.too_many", minutes=max(1, -(-int(seconds) // 60)))
                elif getattr(exc, "transient", True):
                    self._go(back, "pickup.network_down")
                else:
                    self._go(back, "pickup.refused")
            return
        with self._lock:
            if not self._current(attempt):
                return
            if not matches:
                self._go(back, "pickup.code_wrong" if request.method == "pickup_code" else "pickup.nothing_here")
                return
            self._verified_by = request.method
            self.matches = sorted(matches, key=lambda slot: slot.door)
            self.selected = next((s.pickup_id for s in self.matches if not self.already_opened(s)), "")
            self._go(LIST, "")

    # -- the list -----------------------------------------------------------------------------
    def already_opened(self, slot: Any) -> bool:
        """This terminal unlocked the door for this result before: a clerk must re-issue it."""
        return self.ledger().unlocked(slot.pickup_id)

    def select(self, pickup_id: str) -> None:
        if self.state == LIST and any(slot.pickup_id == pickup_id for slot in self.matches):
            self.selected = pickup_id
            self._say("")
            self._listeners.publish(self)

    def confirm(self) -> None:
        """Open the door of the chosen result (once: the ledger remembers every unlock)."""
        if self.state != LIST:
            return
        slot = next((s for s in self.matches if s.pickup_id == self.selected), None)
        if slot is None:
            self._say("pickup.choose_one")
            return
        if not self.ledger().claim(slot.pickup_id, slot.door):
            self._say("pickup.already_opened", door=slot.door)
            self._call_staff("pickup.list", None, slot.door)
            return
        locker = self.locker()
        self.current = slot
        self.reminded = self.alerted = self.item_taken = False
        self._closed_at = None
        self.print_state = ""
        self._go(OPENING, "")
        self.background(lambda: self._open(locker, slot))

    def _open(self, locker: Any, slot: Any) -> None:
        from drivers.base import DeviceError
        from drivers.locker.locker import LockJammed

        ledger = self.ledger()
        if locker is None:
            ledger.note(slot.pickup_id, "silent")
            self._fail("pickup.locker_silent", "locker_silent", slot.door)
            return
        try:
            locker.open_door(slot.door)
        except LockJammed:
            ledger.note(slot.pickup_id, "jammed")
            self._fail("pickup.jammed", "lock_jammed", slot.door)
            return
        except (DeviceError, ValueError) as exc:
            log.warning("locker door not opened", extra={"fields": {"door": slot.door, "error": type(exc).__name__,
                                                                    "code": getattr(exc, "code", "")}})
            ledger.note(slot.pickup_id, "silent")
            self._fail("pickup.locker_silent", "locker_silent", slot.door)
            return
        ledger.note(slot.pickup_id, "opened")
        with self._lock:
            if self.ended or self.state != OPENING:
                return
            self._opened_at = self.clock()
            self._opened_time = dt.datetime.now(dt.timezone.utc)
            self.item_taken = False  # only the sensor seeing the item go says it was taken
            self._go(OPEN, "")
        self.speak("pickup.voice_take", door=slot.door)
        if self._closed_at is not None:  # shut again before we were listening for it
            self._confirm(door_closed=True)

    # -- the open door ------------------------------------------------------------------------
    def door_event(self, event: Any) -> None:
        slot = self.current
        if slot is None or self.state not in (OPENING, OPEN):
            return
        if event.kind == "board_silent" and self.state == OPEN:
            self.ledger().note(slot.pickup_id, "silent")
            self._fail("pickup.locker_silent", "locker_silent", slot.door)
            return
        if event.door != slot.door:
            return
        if event.kind == "item_removed":
            self.item_taken = True
        elif event.kind == "closed":
            self._closed_at = dt.datetime.now(dt.timezone.utc)
            if self.state == OPEN:
                self._confirm(door_closed=True)
        elif event.kind == "left_open" and self.state == OPEN and not self.alerted:
            self.alerted = True
            self.ledger().note(slot.pickup_id, "left_open")
            self._call_staff("pickup.open", "door_left_open", slot.door)
            if self.item_taken:  # the resident has the result: the case closes, staff shut the door
                self._confirm(door_closed=False)
            else:
                self._say("pickup.left_open_alerted", door=slot.door)

    def tick(self) -> None:
        """Called on a timer by the screen: remind the resident to close the door."""
        slot = self.current
        if self.state != OPEN or self.reminded or self._opened_at is None or slot is None:
            return
        if self.clock() - self._opened_at >= self.close_reminder_seconds:
            self.reminded = True
            if not self.alerted:
                self._say("pickup.close_reminder", door=slot.door)
            self.speak("pickup.voice_close", door=slot.door)

    def report_empty(self) -> None:
        """柜内没有: the door opened but the resident found nothing inside."""
        slot = self.current
        if self.state != OPEN or slot is None:
            return
        self.ledger().note(slot.pickup_id, "empty")
        self._fail("pickup.empty_reported", "door_empty", slot.door)
        self.speak("pickup.voice_close", door=slot.door)

    # -- confirming -----------------------------------------------------------------------------
    def _confirm(self, door_closed: bool) -> None:
        from kiosk.backend import models as m

        slot = self.current
        with self._lock:
            if self.state != OPEN or slot is None:
                return
            self._go(CONFIRMING, "")
        backend = self.backend()
        closed_at = self._closed_at if door_closed else None
        confirm = m.PickupConfirm(door=slot.door, picked_up_at=self._opened_time or dt.datetime.now(dt.timezone.utc),
                                  door_closed=door_closed, door_closed_at=closed_at,
                                  verified_by=self._verified_by or "id_card")

        def run() -> None:
            from kiosk.backend.service import Delivered, Queued

            try:
                outcome = backend.confirm_pickup(slot.pickup_id, confirm) if backend is not None else None
            except Exception as exc:
                log.warning("pickup confirmation not stored", extra={"fields": {"error": type(exc).__name__}})
                outcome = None
            if not isinstance(outcome, (Delivered, Queued)):
                log.warning("pickup confirmation refused", extra={"fields": {"code": getattr(outcome, "code", "")}})
                self._fail("pickup.confirm_refused", None, slot.door)
                return
            self.ledger().note(slot.pickup_id, "confirmed")
            self.outcome = "delivered" if isinstance(outcome, Delivered) else "queued"
            with self._lock:
                self.matches = [s for s in self.matches if s.pickup_id != slot.pickup_id]
                self.collected.append(slot)
                self.selected = next((s.pickup_id for s in self.matches if not self.already_opened(s)), "")
                self.print_state = "receipt.printing" if self._can_print() else ""
                self._go(DONE, "pickup.done_queued" if self.outcome == "queued" else "")
            self.speak("pickup.voice_done")
            self._print_slip(slot)
        self.background(run)

    def _can_print(self) -> bool:
        return self.print_receipt is not None and self.slips is not None

    def _print_slip(self, slot: Any) -> None:
        if not self._can_print():
            return
        identity = self.session.identity
        try:
            receipt = self.slips.pickup(slot, identity.name if identity is not None else "", slot.door,
                                        dt.datetime.now())
            job = self.print_receipt("pickup", receipt)
        except Exception as exc:
            log.warning("pickup slip not printed", extra={"fields": {"error": type(exc).__name__}})
            job = None
        self.print_state = job.message_key if job is not None else "receipt.printer_unavailable"
        self._listeners.publish(self)

    @property
    def more_waiting(self) -> int:
        """Results still waiting for this resident that can be opened."""
        return sum(1 for slot in self.matches if not self.already_opened(slot))

    def next_result(self) -> None:
        """After one result, the next: back to the list."""
        if self.state in (DONE, FAILED) and self.matches:
            self.current = None
            self.selected = next((s.pickup_id for s in self.matches if not self.already_opened(s)), "")
            self._go(LIST, "")

    def rating_target(self) -> RatingTarget | None:
        if not self.collected:
            return None
        last = self.collected[-1]
        return RatingTarget(acceptance_number=last.acceptance_number, item_name=last.item_name, journey="pickup")

    # -- failures and staff ---------------------------------------------------------------------
    def _fail(self, problem: str, alert: str | None, door: int) -> None:
        with self._lock:
            if self.ended or self.state in (DONE, FAILED):
                return
            self._go(FAILED, problem, door=door)
        self._call_staff(f"pickup.{'list' if alert is None else 'open'}", alert, door)

    def _call_staff(self, screen: str, alert: str | None, door: int | None) -> None:
        backend = self.backend()
        if backend is None:
            return

        def run() -> None:
            try:
                backend.call_staff(screen, alert=alert, door=door)
            except Exception as exc:
                log.warning("staff not called", extra={"fields": {"error": type(exc).__name__, "alert": alert}})
        self.background(run)

    def end(self) -> None:
        slot = self.current
        if not self.ended and self.state == OPEN and slot is not None:
            # the resident left with the door open: a person must see to it
            self.ledger().note(slot.pickup_id, "left_open")
            if not self.alerted:
                self._call_staff("pickup.open", "door_left_open", slot.door)
        super().end()

    # -- helpers ------------------------------------------------------------------------------------
    def _begin(self) -> int:
        with self._lock:
            self._attempt += 1
            self._go(VERIFYING, "")
            return self._attempt

    def _current(self, attempt: int) -> bool:
        return not self.ended and attempt == self._attempt and self.state == VERIFYING
