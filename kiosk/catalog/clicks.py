"""How often residents at this kiosk opened each item, kept across restarts.

A small SQLite file in the catalogue state folder (``[catalog] state_dir``): one row per
item code with a count — no time, no resident, nothing personal. Search and "hot items"
rank locally popular items higher. A file that cannot be opened or written costs the
ranking its local flavour, never the search: the counts are then kept in memory only.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CLICKS_FILE = "catalog_clicks.sqlite3"


class ClickStore:
    def __init__(self, state_dir: Path | str | None):
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._db: sqlite3.Connection | None = None
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._opened = False
        self.path: Path | None = None

    def _open(self) -> None:
        """Open the file on first use (not at start-up: a kiosk may never search)."""
        if self._opened:
            return
        self._opened = True
        if self._state_dir is None:
            return
        path = self._state_dir / CLICKS_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS clicks (code TEXT PRIMARY KEY, count INTEGER NOT NULL)")
            self._counts = {code: int(count) for code, count in db.execute("SELECT code, count FROM clicks")}
            self._db, self.path = db, path
        except (OSError, sqlite3.Error) as exc:
            log.warning("click counts not persisted", extra={"fields": {"file": str(path), "error": str(exc)}})

    def record(self, code: str) -> int:
        """Count one opening of item ``code``; returns its new count."""
        with self._lock:
            self._open()
            count = self._counts.get(code, 0) + 1
            self._counts[code] = count
            if self._db is not None:
                try:
                    self._db.execute("INSERT INTO clicks (code, count) VALUES (?, 1) "
                                     "ON CONFLICT(code) DO UPDATE SET count = count + 1", (code,))
                except sqlite3.Error as exc:
                    log.warning("click count not saved", extra={"fields": {"error": str(exc)}})
            return count

    def counts(self) -> dict[str, int]:
        if not self._opened:
            with self._lock:
                self._open()
        return self._counts

    def get(self, code: str) -> int:
        return self.counts().get(code, 0)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
