"""Looking up a person's cases by ID number: limited per asker and written to an audit trail.

Two routes answer "which cases does this ID number have": a terminal's ``POST
/api/v1/cases/by-holder`` (the card holder in front of it) and the clerk's ``GET
/api/v1/clerk/cases?holder_id_number=…``. A stolen terminal key or clerk password could
otherwise walk through ID numbers without limit. ``HolderLookups``:

- allows each asker (``terminal:<id>``, ``clerk:<address>``) ``limit`` lookups per ``window``
  seconds; past it the lookup is refused with 429 and ``Retry-After`` (a terminal shows "try
  again later", as for any 429);
- records every lookup, allowed or refused: when, who, the ID number masked (``3705**********1234``)
  and how many cases were found; the newest ``keep`` stay in memory for the clerk's
  ``GET /api/v1/clerk/holder-lookups``, and each one is logged (logger ``refbackend.audit``)
  with the masked number only.

The state lives in this process, like the clerk login throttle.
"""
from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timezone

from kiosk.backend import models as m
from refbackend.masking import mask_id_number
from refbackend.store import ApiError

audit_log = logging.getLogger("refbackend.audit")

#: a kiosk looks its card holder up once or twice per resident (following, rating): 60 in 10 minutes
#: is a busy morning; a clerk looks people up by hand
TERMINAL_LIMIT = (60, 600.0)
CLERK_LIMIT = (60, 600.0)


class HolderLookups:
    def __init__(self, limits: dict[str, tuple[int, float]] | None = None, keep: int = 500,
                 max_askers: int = 10_000):
        self.limits = limits or {"terminal": TERMINAL_LIMIT, "clerk": CLERK_LIMIT}
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._trail: deque[m.HolderLookup] = deque(maxlen=keep)
        self._max_askers = max_askers
        self._lock = threading.Lock()

    def allow(self, kind: str, who: str, id_number: str, now: float) -> None:
        """Count one lookup by ``kind:who``; raise 429 (and record the refusal) past the limit."""
        limit, window = self.limits[kind]
        asker = f"{kind}:{who}"
        with self._lock:
            times = self._times.pop(asker, None) or deque()
            while times and now - times[0] >= window:
                times.popleft()
            self._times[asker] = times
            while len(self._times) > self._max_askers:
                self._times.popitem(last=False)
            if len(times) >= limit:
                wait = max(1, math.ceil(window - (now - times[0])))
                refused = True
            else:
                times.append(now)
                refused = False
        if refused:
            self.record(asker, id_number, None, now)
            raise ApiError(429, "too_many_lookups", "too many look-ups by ID number; try again later",
                           retry_after_seconds=wait)

    def record(self, asker: str, id_number: str, found: int | None, now: float) -> None:
        """Add a lookup to the trail (``found`` None: refused) and log it with the number masked."""
        entry = m.HolderLookup(at=datetime.fromtimestamp(now, timezone.utc), asker=asker[:80],
                               id_number_masked=mask_id_number(id_number.strip().upper())[:32],
                               found=found, refused=found is None)
        with self._lock:
            self._trail.append(entry)
        audit_log.info("holder lookup", extra={"fields": {
            "asker": entry.asker, "id_number": entry.id_number_masked,
            "found": "refused" if found is None else found}})

    def trail(self, limit: int = 200) -> m.HolderLookupList:
        """The newest lookups first."""
        with self._lock:
            newest = list(self._trail)[::-1][:limit]
        return m.HolderLookupList(lookups=newest)
