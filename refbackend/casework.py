"""Cases made straight in the reference backend, and the testers' handle on the back office.

``make_case(store, terminal_id, holder, state=…)`` runs a case through the store's own steps —
an application with a page for each required material, submitted, then reviewed, sent back
for 补正, decided, issued into a locker door or collected — so it looks exactly like one a
resident made at the terminal and a clerk worked on. An acceptance number, 查询码 and pickup
code can be chosen, so that a scenario can type them.

``BackendControl`` is what ``kiosk sim backend …`` drives (it is registered like a device
simulator, as ``backend``): make a case, move it on as a clerk would, and take the terminal
network down, slow or failing and back up (those words go to the ``refbackend.faults.FaultProxy``
the kiosk talks through).

The demo (``kiosk demo``) seeds a few cases with ``seed_demo_cases`` so that following and
collecting can be tried at once; tests and scenarios start with an empty backend.
"""
from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from kiosk.backend import models as m

log = logging.getLogger(__name__)

DEFAULT_ITEM = "370503-GA-0009"  # 居住证申领: a 承诺件 whose result can wait in a locker
STATES = ("accepted", "reviewing", "supplement", "approved", "rejected", "ready", "closed")
DEFAULT_MISSING = ("房屋租赁合同复印件（需出租人签字）", "近期一寸白底彩色照片 2 张")
DEFAULT_REASONS = ("申请人在本地连续居住未满半年，不符合居住证申领条件",)
_NUMBER = re.compile(r"\d{6}-\d{8}-\d{4,8}")


class CaseworkError(ValueError):
    """A case cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class MadeCase:
    acceptance_number: str
    verification_code: str
    state: str
    item_name: str
    pickup_code: str = ""
    pickup_id: str = ""
    door: int = 0


def holder_from_deck(key: str) -> m.Person:
    """The person on a card of the ID card simulator's deck (``senior``, ``resident``…)."""
    from drivers.idcard.deck import builtin_deck

    deck = builtin_deck()
    if key not in deck:
        raise CaseworkError(f"no card {key!r} in the deck (known: {', '.join(sorted(deck))})")
    card = deck[key].card
    kind = card.card_type.value
    id_type = {"resident": "resident_id", "hk_mo_tw_permit": "hk_macao_permit"}.get(kind, "foreign_permanent")
    if kind == "hk_mo_tw_permit" and card.id_number.startswith("83"):
        id_type = "taiwan_permit"
    return m.Person(id_type=id_type, id_number=card.id_number, name=card.name, address=card.address or "")


def _page() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (420, 594), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 560, 28):
        draw.line((40, y, 380, y), fill=(90, 90, 90), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def make_case(store: Any, terminal_id: str, holder: m.Person, *, state: str = "accepted",
              item_code: str = DEFAULT_ITEM, door: int | None = None, number: str | None = None,
              code: str | None = None, pickup_code: str | None = None, missing: list[str] | None = None,
              reasons: list[str] | None = None, delivery: str | None = None,
              issue_terminal: str | None = None) -> MadeCase:
    """A case of ``holder`` at ``terminal_id``, brought to ``state`` (one of ``STATES``)."""
    if state not in STATES:
        raise CaseworkError(f"state must be one of {', '.join(STATES)}")
    if state in ("ready", "closed") and not door:
        raise CaseworkError("a result in the locker needs a door (--door N)")
    if number is not None and not _NUMBER.fullmatch(number):
        raise CaseworkError("an acceptance number looks like 370503-20260105-000042")
    for name, value in (("code", code), ("pickup code", pickup_code)):
        if value is not None and not re.fullmatch(r"\d{6}", value):
            raise CaseworkError(f"the {name} is 6 digits")
    item = store.item(item_code)
    if state == "accepted" and item.time_limit.kind == "即办件":
        raise CaseworkError(f"{item.name} is a 即办件: it is decided on the spot, never merely accepted")
    form = {"delivery": delivery} if delivery else {}
    with store.tx() as conn:
        _status, application, application_id = store.create_application(
            conn, terminal_id, m.ApplicationCreate(item_code=item.code, applicant=holder, form=form))
    page = _page()
    for index, material in enumerate(item.materials):
        if material.required and material.kiosk_capture:
            store.put_page(terminal_id, application_id, index, 1, "image/jpeg", page)
    with store.tx() as conn:
        _status, result, _ref = store.submit(conn, terminal_id, application_id,
                                             m.SubmitRequest(declaration_accepted=True))
    current, current_code = result.acceptance_number, result.verification_code
    if number or code:
        current, current_code = _rename(store, current, number or current, code or current_code)
    made = {"pickup_code": "", "pickup_id": "", "door": 0}
    if state == "reviewing":
        store.review(current)
    elif state == "supplement":
        store.request_supplement(current, m.ClerkSupplement(items=list(missing or DEFAULT_MISSING),
                                                            note="请携带原件到便民服务中心综合受理窗口补正",
                                                            deadline_days=5))
    elif state == "rejected":
        store.decide(current, m.ClerkDecision(approve=False, reasons=list(reasons or DEFAULT_REASONS)))
    elif state in ("approved", "ready", "closed") and item.time_limit.kind != "即办件":
        store.decide(current, m.ClerkDecision(approve=True))
    if state in ("ready", "closed"):
        issued = store.issue(current, m.ClerkIssue(terminal_id=issue_terminal or terminal_id, door=int(door)))
        made.update(pickup_code=issued.pickup_code, pickup_id=issued.pickup_id, door=issued.door)
        if pickup_code:
            with store.tx() as conn:
                conn.execute("UPDATE pickups SET pickup_code=? WHERE pickup_id=?", (pickup_code, issued.pickup_id))
            made["pickup_code"] = pickup_code
        if state == "closed":
            now = datetime.now(timezone.utc)
            with store.tx() as conn:
                store.confirm_pickup(conn, issue_terminal or terminal_id, issued.pickup_id, m.PickupConfirm(
                    door=issued.door, picked_up_at=now, door_closed=True, door_closed_at=now, verified_by="id_card"))
    log.info("case made for testing", extra={"fields": {"acceptance_number": current, "state": state}})
    return MadeCase(current, current_code, state, item.name, **made)


def _rename(store: Any, old: str, new: str, code: str) -> tuple[str, str]:
    """Give a just-submitted case another acceptance number and 查询码 (testers type them)."""
    with store.tx() as conn:
        if new != old and conn.execute("SELECT 1 FROM cases WHERE acceptance_number=?", (new,)).fetchone():
            raise CaseworkError(f"case {new} exists already")
        row = conn.execute("SELECT submit_result FROM cases WHERE acceptance_number=?", (old,)).fetchone()
        result = json.loads(row["submit_result"])
        result.update(acceptance_number=new, verification_code=code)
        conn.execute("UPDATE cases SET acceptance_number=?, verification_code=?, submit_result=? "
                     "WHERE acceptance_number=?", (new, code, json.dumps(result, ensure_ascii=False), old))
        conn.execute("UPDATE applications SET acceptance_number=? WHERE acceptance_number=?", (new, old))
        conn.execute("UPDATE case_events SET acceptance_number=? WHERE acceptance_number=?", (new, old))
    return new, code


# ---------------------------------------------------------------------------------------
# The embedded backend's switch and the testers' handle


class BackendControl:
    """``kiosk sim backend …``: the back office and the network, on command (a device-simulator-like
    ``control(action, params)`` / ``state()``)."""

    kind = "backend"

    #: the words the network switch answers (``refbackend.faults.FaultProxy``)
    NETWORK_ACTIONS = ("down", "up", "slow", "error")

    def __init__(self, store: Any, terminal_id: str, network: Any | None = None, desk: Any | None = None):
        from refbackend.clerk_desk import StoreDesk

        self.store = store
        self.terminal_id = terminal_id
        self.network = network
        #: what a clerk does goes through this (the clerk's HTTP API in the embedded backend)
        self.desk = desk if desk is not None else StoreDesk(store)

    def state(self) -> dict[str, Any]:
        pickups = self.store.waiting_pickups(self.terminal_id).slots
        return {"kind": self.kind, "terminal": self.terminal_id,
                "network": self.network.mode if self.network is not None else "up",
                "cases": self.store.count("cases"), "ratings": self.store.count("ratings"),
                "waiting_doors": [slot.door for slot in pickups]}

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        from drivers.sim.base import SimulatorError
        from refbackend.store import ApiError

        try:
            return self._control(action, params)
        except (CaseworkError, ValueError) as exc:  # DeskError is a ValueError
            raise SimulatorError(str(exc)) from None
        except ApiError as exc:
            raise SimulatorError(f"{exc.code}: {exc.message}") from None

    def _control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        number = params.get("number")
        if action == "case":
            holder = holder_from_deck(str(params.get("holder", "senior")))
            made = make_case(self.store, self.terminal_id, holder, state=params.get("state", "accepted"),
                             item_code=params.get("item") or DEFAULT_ITEM, door=params.get("door"),
                             number=number, code=params.get("code"), pickup_code=params.get("pickup_code"),
                             missing=params.get("missing"), reasons=params.get("reasons"),
                             delivery=params.get("delivery"))
            return {**self.state(), "made": asdict(made)}
        if action in self.NETWORK_ACTIONS or action in ("clear", "replug", "unplug", "fault", "status"):
            if self.network is None:
                raise CaseworkError("this backend has no network switch (not embedded)")
            self.network.control(action, params)
            return self.state()
        if not number:
            raise CaseworkError("say which case: the acceptance number (or latest)")
        if number == "latest":
            number = self._latest()
        if action == "check":
            return self._check(number, params)
        desk = self.desk
        if action == "review":
            desk.review(number)
        elif action == "supplement":
            desk.supplement(number, m.ClerkSupplement(items=list(params.get("missing") or DEFAULT_MISSING)))
        elif action == "approve":
            desk.decide(number, m.ClerkDecision(approve=True))
        elif action == "reject":
            desk.decide(number, m.ClerkDecision(approve=False, reasons=list(params.get("reasons") or DEFAULT_REASONS)))
        elif action in ("issue", "reissue"):
            issue = m.ClerkIssue(terminal_id=self.terminal_id, door=int(params.get("door") or 0))
            issued = desk.issue(number, issue, again=action == "reissue")
            return {**self.state(), "issued": issued.model_dump(mode="json")}
        else:
            raise CaseworkError(f"unknown backend action {action!r}")
        return {**self.state(), "case": desk.case(number).state}

    def _latest(self) -> str:
        """The newest case (what a scenario that just applied means by ``latest``)."""
        with self.store.tx() as conn:
            row = conn.execute("SELECT acceptance_number FROM cases ORDER BY accepted_at DESC, "
                               "acceptance_number DESC LIMIT 1").fetchone()
        if row is None:
            raise CaseworkError("there is no case yet")
        return row["acceptance_number"]

    def _check(self, number: str, params: dict[str, Any]) -> dict[str, Any]:
        """Fails (a scenario step fails) unless the case is as said: its state, how many ratings,
        the level of the last one."""
        case = self.desk.case(number)
        levels = self.desk.rating_levels(number)
        found = {"state": case.state, "ratings": len(levels), "level": levels[-1] if levels else None}
        wanted = {"state": {"ready": "ready_for_pickup"}.get(params.get("state"), params.get("state")),
                  "ratings": params.get("ratings"), "level": params.get("level")}
        wrong = [f"{key} is {found[key]!r}, not {value!r}" for key, value in wanted.items()
                 if value is not None and found[key] != value]
        if wrong:
            raise CaseworkError(f"case {number}: " + "; ".join(wrong))
        return {**self.state(), "case": number, **found}


def seed_demo_cases(store: Any, terminal_id: str) -> list[MadeCase]:
    """A few cases of 刘桂英 (the deck's ``resident-long-term`` card) for the demo: under review, waiting
    for 补正, refused, and a result in door 5 (the demo locker holds items in doors 2, 5 and 9)."""
    holder = holder_from_deck("resident-long-term")
    made = [make_case(store, terminal_id, holder, state="reviewing", item_code="370503-GA-0007"),
            make_case(store, terminal_id, holder, state="supplement"),
            make_case(store, terminal_id, holder, state="rejected", item_code="370503-BDC-0008"),
            make_case(store, terminal_id, holder, state="ready", door=5, item_code="370503-GA-0009")]
    log.info("demo cases seeded", extra={"fields": {"cases": len(made)}})
    return made
