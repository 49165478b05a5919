"""Looking up a person's cases by ID number: limited per asker and written to an audit trail.

Two routes answer "which cases does this ID number have": a terminal's ``POST
/api/v1/cases/by-holder`` (the card holder in front of it) and the clerk's ``GET
/api/v1/clerk/cases?holder_id_number=…``. A stolen terminal key or clerk password could
otherwise walk through ID numbers without limit. ``HolderLookups``:

- allows each asker (``terminal:<id>``, ``clerk:<address>``) ``limit`` lookups per ``window``
  seconds; past it the lookup is refused with 429 and ``Retry-After`` (a terminal shows "try
  again later", as for any 429);
- records every lookup, allowed or refused: when, who, the ID number masked (``3705**********1234``)
  and how many cases were found, for the clerk's ``GET /api/v1/clerk/holder-lookups``; each one
  is also logged (logger ``refbackend.audit``) with the masked number only.

Counts and trail live in the backend's database (tables ``lookup_times`` and ``holder_lookups``):
every worker of a district backend counts the same look-ups, and the trail outlives a restart.
The trail keeps ``TRAIL_DAYS`` days.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from typing import Any

from kiosk.backend import models as m
from refbackend.masking import mask_id_number
from refbackend.store import ApiError

audit_log = logging.getLogger("refbackend.audit")

#: a kiosk looks its card holder up once or twice per resident (following, rating): 60 in 10 minutes
#: is a busy morning; a clerk looks people up by hand
TERMINAL_LIMIT = (60, 600.0)
CLERK_LIMIT = (60, 600.0)
#: how long the trail of look-ups (who asked for which masked number) is kept
TRAIL_DAYS = 365


class HolderLookups:
    def __init__(self, db: Any, limits: dict[str, tuple[int, float]] | None = None):
        self.db = db
        self.limits = limits or {"terminal": TERMINAL_LIMIT, "clerk": CLERK_LIMIT}
        self._forget_after = max(window for _, window in self.limits.values())

    def allow(self, kind: str, who: str, id_number: str, now: float) -> None:
        """Count one lookup by ``kind:who``; raise 429 (and record the refusal) past the limit."""
        limit, window = self.limits[kind]
        asker = f"{kind}:{who}"
        with self.db.transaction(durable=False) as conn:  # a count lost in a power cut is harmless
            self.db.lock(conn, f"lookups:{asker}")
            conn.execute("DELETE FROM lookup_times WHERE asker=? AND at <= ?", (asker, now - window))
            count, oldest = conn.execute("SELECT COUNT(*), MIN(at) FROM lookup_times WHERE asker=?",
                                         (asker,)).fetchone()
            refused = count >= limit
            if not refused:
                conn.execute("INSERT INTO lookup_times(asker, at) VALUES (?,?)", (asker, now))
        if refused:
            self.record(asker, id_number, None, now)
            raise ApiError(429, "too_many_lookups", "too many look-ups by ID number; try again later",
                           retry_after_seconds=max(1, math.ceil(window - (now - oldest))))

    def record(self, asker: str, id_number: str, found: int | None, now: float) -> None:
        """Add a lookup to the trail (``found`` None: refused) and log it with the number masked."""
        asker, masked = asker[:80], mask_id_number(id_number.strip().upper())[:32]
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO holder_lookups(at, asker, id_number_masked, found) VALUES (?,?,?,?)",
                         (now, asker, masked, found))
            conn.execute("DELETE FROM holder_lookups WHERE at < ?", (now - TRAIL_DAYS * 86400,))
            conn.execute("DELETE FROM lookup_times WHERE at <= ?", (now - self._forget_after,))  # idle askers
        audit_log.info("holder lookup", extra={"fields": {
            "asker": asker, "id_number": masked, "found": "refused" if found is None else found}})

    def trail(self, limit: int = 200) -> m.HolderLookupList:
        """The newest lookups first."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT at, asker, id_number_masked, found FROM holder_lookups "
                                "ORDER BY at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return m.HolderLookupList(lookups=[
            m.HolderLookup(at=datetime.fromtimestamp(row[0], timezone.utc), asker=row[1], id_number_masked=row[2],
                           found=row[3], refused=row[3] is None) for row in rows])
