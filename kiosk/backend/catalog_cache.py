"""The service catalogue kept on the kiosk, so search and guides work with the backend down.

``CatalogCache`` stores every item (as its contract JSON) in SQLite with the catalogue
version and ETag it came with. ``sync(client)`` asks only for what changed since that
version (``If-None-Match`` first: a 304 costs one round trip) and applies each page of
changes in one transaction, so a sync cut short leaves a consistent, older catalogue
that the next sync continues from. Reading never touches the network.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from pydantic import ValidationError

from kiosk.backend.client import BackendClient
from kiosk.backend.errors import BackendError
from kiosk.backend.models import ServiceItem
from kiosk.sqlite_tx import immediate_transaction

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    department TEXT NOT NULL,
    popularity INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SyncResult:
    version: int
    changed: int
    removed: int
    not_modified: bool
    error: str = ""  # set when the sync failed; the cache is unchanged from the last good page

    @property
    def ok(self) -> bool:
        return not self.error


class CatalogCache:
    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = self._open()
        self._items: dict[str, ServiceItem] | None = None

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            if conn.execute("PRAGMA quick_check").fetchone()[0] == "ok":
                return conn
            conn.close()
        except sqlite3.DatabaseError:
            pass
        # A cache can always be fetched again: start over rather than refuse to start.
        log.error("catalogue cache was damaged; starting an empty one (the next sync refills it)",
                  extra={"fields": {"path": str(self.path)}})
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- reading ---------------------------------------------------------------------------
    def _meta(self, name: str, default: str = "") -> str:
        with self._lock:
            row = self._conn.execute("SELECT value FROM catalog_meta WHERE name=?", (name,)).fetchone()
        return row[0] if row else default

    @property
    def version(self) -> int:
        return int(self._meta("version", "0"))

    @property
    def etag(self) -> str:
        return self._meta("etag")

    @property
    def synced_at(self) -> float | None:
        value = self._meta("synced_at")
        return float(value) if value else None

    def items(self) -> list[ServiceItem]:
        """Every cached item, most asked-for first."""
        return sorted(self._load().values(), key=lambda item: (-item.popularity, item.code))

    def get(self, code: str) -> ServiceItem | None:
        return self._load().get(code)

    def __len__(self) -> int:
        return len(self._load())

    def _load(self) -> dict[str, ServiceItem]:
        with self._lock:
            if self._items is None:
                items: dict[str, ServiceItem] = {}
                for code, body in self._conn.execute("SELECT code, body FROM catalog_items"):
                    try:
                        items[code] = ServiceItem.model_validate_json(body)
                    except ValidationError:
                        log.warning("cached catalogue item unreadable; it comes back with the next full sync",
                                    extra={"fields": {"code": code}})
                self._items = items
            return self._items

    # -- writing ---------------------------------------------------------------------------
    def apply(self, items: Iterable[ServiceItem], removed: Iterable[str], version: int, etag: str = "",
              replace_all: bool = False) -> None:
        with immediate_transaction(self._conn, self._lock) as conn:
            if replace_all:
                conn.execute("DELETE FROM catalog_items")
            conn.executemany(
                "INSERT OR REPLACE INTO catalog_items(code, name, department, popularity, body) VALUES (?,?,?,?,?)",
                [(i.code, i.name, i.department, i.popularity, i.model_dump_json()) for i in items])
            conn.executemany("DELETE FROM catalog_items WHERE code=?", [(c,) for c in removed])
            self._set_meta("version", str(version))
            self._set_meta("etag", etag)
            self._set_meta("synced_at", repr(self._clock()))
        with self._lock:
            self._items = None

    def _set_meta(self, name: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO catalog_meta(name, value) VALUES (?,?)", (name, value))

    def sync(self, client: BackendClient, max_pages: int = 100) -> SyncResult:
        """Bring the cache up to the backend's version. Never raises for backend trouble."""
        start_version = self.version
        changed = removed = 0
        etag = self.etag if start_version else ""
        try:
            for _ in range(max_pages):
                page, new_etag = client.catalog_changes(self.version, etag or None)
                if page is None:
                    with self._lock:
                        self._set_meta("synced_at", repr(self._clock()))
                    return SyncResult(self.version, 0, 0, not_modified=True)
                self.apply(page.items, page.removed, page.version, "" if page.has_more else (new_etag or ""),
                           replace_all=page.full)
                changed += len(page.items)
                removed += len(page.removed)
                etag = ""
                if not page.has_more:
                    break
        except BackendError as exc:
            log.warning("catalogue sync failed; the cached catalogue stays in use",
                        extra={"fields": {"error": str(exc), "version": self.version}})
            return SyncResult(self.version, changed, removed, not_modified=False, error=str(exc))
        log.info("catalogue synced", extra={"fields": {"from_version": start_version, "version": self.version,
                                                       "changed": changed, "removed": removed}})
        return SyncResult(self.version, changed, removed, not_modified=False)
