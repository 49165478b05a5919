"""The reference backend's side of following a case, collecting it and rating it (issue 12).

A mixin of ``ReferenceStore`` (``refbackend.store``), kept apart so that the journeys' rules
read in one place:

- the back office's steps between acceptance and decision: 审查中 (``review``) and 补正
  (``request_supplement``: every missing material at once, 一次性告知), back to 审查中 when
  the materials are in (``review`` again);
- ``reissue``: a clerk who has checked the locker puts the result (back) into a door; the
  old pickup is cancelled and a new one, with a new pickup code, replaces it. This is how a
  door is opened a second time for the same result: never without a clerk;
- the clerk's view of ratings (``clerk_ratings``: every rating, and counts per item and
  per terminal);
- ``door_flags``: the doors of a terminal compared with what its last heartbeat reported —
  free, loaded but not registered, registered but reported empty;
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kiosk.backend import models as m

#: an application's delivery choice (``DeliveryChoice.method``) as the case's delivery
_CASE_DELIVERY = {"window": "counter", "locker": "terminal", "post": "post"}


def delivery_for(form: dict[str, str], can_pickup: bool, choice: m.DeliveryChoice | None = None) -> str:
    """How the result will reach the applicant: the application's delivery choice, else what the
    form chose, else the locker where the item allows it, else the counter."""
    if choice is not None:
        return _CASE_DELIVERY[choice.method]
    chosen = str(form.get("delivery", "")).strip()
    if chosen in ("terminal", "counter", "post"):
        return chosen if (chosen != "terminal" or can_pickup) else "counter"
    return "terminal" if can_pickup else "counter"


class FollowupStore:
    """Methods of ``ReferenceStore`` for 审查中, 补正, re-issuing, ratings and door flags."""

    # provided by ReferenceStore
    def tx(self): ...  # pragma: no cover
    def _case(self, conn: Any, number: str) -> m.CaseStatus: ...  # pragma: no cover
    def _event(self, conn, number, state, title, detail=""): ...  # pragma: no cover
    def _issue_into(self, conn, case, issue): ...  # pragma: no cover
    def _lock_case(self, conn, number): ...  # pragma: no cover

    # -- 审查中 and 补正 -----------------------------------------------------------------------
    def review(self, number: str) -> m.CaseStatus:
        """已受理 → 审查中, or 待补正 → 审查中 once the missing materials were handed in."""
        from refbackend.store import ApiError

        with self.tx() as conn:
            self._lock_case(conn, number)
            case = self._case(conn, number)
            if case.state not in ("accepted", "supplement"):
                raise ApiError(409, "not_reviewable", f"the case is {case.state_text}; only 已受理 and 待补正 cases "
                                                      "go (back) to review")
            conn.execute("UPDATE cases SET state='reviewing', supplement=NULL WHERE acceptance_number=?", (number,))
            if case.state == "supplement":
                self._event(conn, number, "reviewing", "补正材料已收到", "继续审查")
            else:
                self._event(conn, number, "reviewing", "审查中", "工作人员正在审查您的申请材料")
            return self._case(conn, number)

    def request_supplement(self, number: str, request: m.ClerkSupplement) -> m.CaseStatus:
        """Ask for 补正: the case waits (待补正) until the clerk marks the materials received."""
        from refbackend.store import ApiError, add_working_days

        with self.tx() as conn:
            self._lock_case(conn, number)
            case = self._case(conn, number)
            if case.state not in ("accepted", "reviewing"):
                raise ApiError(409, "not_reviewable", f"the case is {case.state_text}; 补正 is asked for while a "
                                                      "case is 已受理 or 审查中")
            now = self.now()
            items = [item.strip() for item in request.items if item.strip()]
            deadline = add_working_days(now.date(), request.deadline_days) if request.deadline_days else None
            supplement = m.Supplement(requested_at=now, items=items, note=request.note.strip(), deadline=deadline)
            conn.execute("UPDATE cases SET state='supplement', supplement=? WHERE acceptance_number=?",
                         (supplement.model_dump_json(), number))
            self._event(conn, number, "supplement", "需要补正材料",
                        "请补正：" + "；".join(items) + (f"。{supplement.note}" if supplement.note else ""))
            return self._case(conn, number)

    # -- re-issuing ---------------------------------------------------------------------------
    def reissue(self, number: str, issue: m.ClerkIssue) -> m.IssuedPickup:
        """A clerk puts a waiting result (back) into a door: the old pickup is cancelled, a new one
        (new pickup id, new code) replaces it. A terminal opens a door once per pickup."""
        from refbackend.store import ApiError

        with self.tx() as conn:
            self._lock_case(conn, number)
            case = self._case(conn, number)
            if case.state != "ready_for_pickup":
                raise ApiError(409, "not_waiting", f"the case is {case.state_text}; only 待取件 results are re-issued")
            conn.execute("UPDATE pickups SET cancelled_at=? WHERE acceptance_number=? AND picked_up_at IS NULL AND "
                         "cancelled_at IS NULL", (self._stamp(), number))
            return self._issue_into(conn, case, issue)

    # -- ratings ------------------------------------------------------------------------------
    def clerk_ratings(self, terminal_id: str | None = None, item_code: str | None = None) -> m.ClerkRatingList:
        query = ("SELECT r.*, c.item_code, c.item_name, t.name AS terminal_name FROM ratings r "
                 "JOIN cases c USING (acceptance_number) LEFT JOIN terminals t ON t.terminal_id = r.terminal_id")
        where, args = [], []
        if terminal_id:
            where.append("r.terminal_id=?")
            args.append(terminal_id)
        if item_code:
            where.append("c.item_code=?")
            args.append(item_code)
        if where:
            query += " WHERE " + " AND ".join(where)
        with self.db.read() as conn:
            rows = conn.execute(query + " ORDER BY r.recorded_at DESC, r.rating_id LIMIT 1000", args).fetchall()
        ratings = [m.ClerkRating(rating_id=r["rating_id"], acceptance_number=r["acceptance_number"],
                                 item_code=r["item_code"], item_name=r["item_name"], terminal_id=r["terminal_id"],
                                 level=r["level"], level_text=m.RATING_LEVEL_TEXT[r["level"]],
                                 reasons=json.loads(r["reasons"]), comment=r["comment"],
                                 recorded_at=datetime.fromisoformat(r["recorded_at"])) for r in rows]
        names = {r["terminal_id"]: r["terminal_name"] or r["terminal_id"] for r in rows}
        return m.ClerkRatingList(
            ratings=ratings,
            by_item=_summaries(ratings, lambda x: x.item_code, {x.item_code: x.item_name for x in ratings}),
            by_terminal=_summaries(ratings, lambda x: x.terminal_id, names))

    # -- doors ------------------------------------------------------------------------------
    @staticmethod
    def door_flags(doors: int, registered: list[int], report: m.LockerReport | None) -> dict[str, list[int]]:
        """Free doors, and the doors to flag for a technician, from the registered results and the
        terminal's last locker report."""
        taken = set(registered)
        loaded = set(report.loaded) if report is not None and report.sensors else set()
        open_doors = set(report.open) if report is not None else set()
        flags = {"loaded_unregistered": sorted(loaded - taken),
                 "registered_empty": sorted(taken - loaded) if report is not None and report.sensors else [],
                 "free_doors": [d for d in range(1, doors + 1) if d not in taken and d not in loaded
                                and d not in open_doors]}
        return flags


def _summaries(ratings: list[m.ClerkRating], key, names: dict[str, str]) -> list[m.RatingSummary]:
    groups: dict[str, list[int]] = {}
    for rating in ratings:
        groups.setdefault(key(rating), []).append(rating.level)
    out = []
    for group, levels in groups.items():
        counts = {str(level): levels.count(level) for level in range(1, 6)}
        out.append(m.RatingSummary(key=group, name=names.get(group, group), count=len(levels),
                                   average=round(sum(levels) / len(levels), 2), levels=counts))
    return sorted(out, key=lambda s: (-s.count, s.key))


def case_extras(conn: Any, row: Any, item: Any) -> dict[str, Any]:
    """What a ``CaseStatus`` tells beyond the timeline: 补正, delivery, department, materials,
    the applicant masked and the 查询码 (``row`` is the case's row, ``item`` its catalogue item or None)."""
    from refbackend.masking import mask_name

    application = conn.execute("SELECT applicant FROM applications WHERE application_id=?",
                               (row["application_id"],)).fetchone()
    applicant = m.Person.model_validate_json(application["applicant"]) if application else None
    counts = {r[0]: r[1] for r in conn.execute("SELECT material_index, COUNT(*) FROM pages WHERE application_id=? "
                                               "GROUP BY material_index", (row["application_id"],))}
    materials = []
    for index, pages in sorted(counts.items()):
        name = item.materials[index].name if item is not None and index < len(item.materials) else f"材料{index + 1}"
        materials.append(m.CaseMaterial(name=name, pages=pages))
    keys = row.keys()
    supplement = row["supplement"] if "supplement" in keys else None
    delivery = (row["delivery"] if "delivery" in keys else None) or "counter"
    return {"supplement": m.Supplement.model_validate_json(supplement) if supplement and row["state"] == "supplement"
            else None,
            "delivery": delivery,
            "delivery_terminal_id": (row["delivery_terminal"] if "delivery_terminal" in keys else None)
            if delivery == "terminal" else None,
            "department": item.department if item is not None else "",
            "materials": materials,
            "applicant_masked": mask_name(applicant.name) if applicant else "",
            "verification_code": row["verification_code"]}
