"""The terminal's memory of the doors it unlocked: a locker door opens once per pickup.

Before the kiosk sends an unlock command for a result it writes the pickup's id down
(``claim``), durably, so that neither a second tap, a second resident with the same pickup
code, nor a restart after a crash can open the same door for the same result again. What
happened next is noted (``note``: opened, jammed, silent, empty, confirmed) for the
technician. Only a clerk can make a door open again: re-issuing the result on the clerk's
page gives it a new pickup id.

An unlock still ``sent`` or ``opened`` when the kiosk starts belongs to a kiosk that stopped
(power cut, kill -9) between unlocking the door and confirming the pickup: nobody knows
whether the resident took the result. ``unfinished`` lists them; the kiosk reports each to
staff once (``reported``), see ``kiosk.runtime``.

The ledger is a small SQLite file next to the outbox (``<state dir>/pickup-ledger.sqlite3``);
it holds pickup ids, door numbers and times, nothing about a person. Entries older than
180 days are removed when it opens.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_SECONDS = 180 * 24 * 3600


class PickupLedger:
    def __init__(self, path: Path | str | None = None, clock=time.time):
        """``path`` None keeps the ledger in memory (tests)."""
        self._lock = threading.Lock()
        self._clock = clock
        target = ":memory:"
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            target = str(path)
        self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS unlocks (pickup_id TEXT PRIMARY KEY, door INTEGER NOT NULL, "
                           "at REAL NOT NULL, outcome TEXT NOT NULL DEFAULT 'sent')")
        self._conn.execute("DELETE FROM unlocks WHERE at < ?", (self._clock() - KEEP_SECONDS,))

    def claim(self, pickup_id: str, door: int) -> bool:
        """Write down that door ``door`` is about to be unlocked for ``pickup_id``; False when it was
        unlocked for this pickup before (then it must not be unlocked again)."""
        with self._lock:
            try:
                self._conn.execute("INSERT INTO unlocks(pickup_id, door, at) VALUES (?,?,?)",
                                   (pickup_id, int(door), self._clock()))
            except sqlite3.IntegrityError:
                log.warning("a door was asked to open a second time for the same pickup",
                            extra={"fields": {"pickup": pickup_id, "door": door}})
                return False
        return True

    def unlocked(self, pickup_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM unlocks WHERE pickup_id=?", (pickup_id,)).fetchone() is not None

    def note(self, pickup_id: str, outcome: str) -> None:
        """What came of the unlock: opened, jammed, silent, empty, confirmed, left_open, reported."""
        with self._lock:
            self._conn.execute("UPDATE unlocks SET outcome=? WHERE pickup_id=?", (outcome, pickup_id))

    def unfinished(self) -> list[tuple[str, int]]:
        """(pickup id, door) of every unlock whose pickup was neither confirmed nor reported."""
        with self._lock:
            return [(pickup_id, int(door)) for pickup_id, door in self._conn.execute(
                "SELECT pickup_id, door FROM unlocks WHERE outcome IN ('sent', 'opened') ORDER BY at").fetchall()]

    def outcome(self, pickup_id: str) -> str:
        with self._lock:
            row = self._conn.execute("SELECT outcome FROM unlocks WHERE pickup_id=?", (pickup_id,)).fetchone()
        return row[0] if row else ""

    def close(self) -> None:
        with self._lock:
            self._conn.close()
