"""The durable outbox: every state-changing call is stored before it is sent.

A submission, a rating, a pickup confirmation, a staff call or a technician audit event is written to SQLite (WAL journal,
``synchronous=FULL``: committed means on disk) together with a client-generated
idempotency key, *then* sent. It is removed only once the server acknowledged it, in the
same transaction that notes the delivery. Killed at any point, the kiosk finds the item
again on restart and sends it again with the same key; the server answers a repeated key
with the original response, so each item takes effect exactly once.

Items go out in the order they were written. When the backend cannot be reached (network
down, timeout, 429, 401) draining stops and is tried again later. When the backend answers an
item with a server error (5xx), that item waits with its own growing pause (30 s, 1 min, 2 min
… 1 h) and the items behind it still go: one item the backend always fails on never holds up
the next residents. An item that has failed ``SERVER_ERROR_LIMIT`` times and is older than
``SERVER_ERROR_MIN_AGE`` is *quarantined* (kept, counted for the technician, sent again with
``kiosk backend outbox retry KEY``). An item the server refuses for good (a 4xx with the
contract's error body) is set aside as *rejected*; an item that cannot be read back (bytes
changed on disk, wrong key, unknown kind) is *quarantined* with a clear log line.

Payloads and attachments (page images) are encrypted with AES-GCM (``kiosk.backend.crypto``)
and deleted on acknowledgement; ``secure_delete`` zeroes the freed pages and the WAL is
truncated when the queue is idle (``compact``). Only a non-personal summary (e.g. the acceptance
number) is kept of a delivered item.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers.events import Listeners, Subscription
from kiosk.backend.crypto import DecryptError, RecordCipher
from kiosk.backend.errors import BackendError
from kiosk.sqlite_tx import immediate_transaction

log = logging.getLogger(__name__)

KINDS = frozenset({"application", "rating", "pickup.confirm", "staff.call", "audit"})  # audit: issue 13
RETENTION_SECONDS = 30 * 24 * 3600
#: an item the backend keeps failing with server errors is set aside after this many tries…
SERVER_ERROR_LIMIT = 10
#: …and only once it is this old (an hour-long backend outage is not the item's fault)
SERVER_ERROR_MIN_AGE = 3600.0
#: the pause before an item that met a server error is tried again: doubling, at most an hour
RETRY_PAUSE_FIRST, RETRY_PAUSE_MAX = 30.0, 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at REAL,
    last_error TEXT NOT NULL DEFAULT '',
    payload BLOB NOT NULL,
    after_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_items_state ON outbox_items(state, seq);
CREATE TABLE IF NOT EXISTS outbox_parts (
    item_key TEXT NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (item_key, name)
);
CREATE TABLE IF NOT EXISTS outbox_delivered (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    delivered_at REAL NOT NULL,
    summary TEXT NOT NULL
);
"""


SERVER_ERROR_MARK = "server error: "


def server_failed(exc: BackendError) -> bool:
    """The backend itself answered with a 5xx: about this item (maybe), not about the network."""
    return exc.status is not None and exc.status >= 500


class CorruptItem(Exception):
    """An outbox item that cannot be read back or makes no sense; it is quarantined."""


@dataclass
class Envelope:
    """One item as read back from disk, decrypted. Holds personal data: never log it."""

    seq: int
    key: str
    kind: str
    created_at: float
    attempts: int
    payload: dict[str, Any]
    parts: dict[str, bytes] = field(default_factory=dict)

    def part(self, name: str) -> bytes:
        try:
            return self.parts[name]
        except KeyError:
            raise CorruptItem(f"attachment {name!r} is missing") from None


@dataclass(frozen=True)
class ItemInfo:
    """What a technician may see of an item: no payload."""

    seq: int
    key: str
    kind: str
    state: str
    created_at: float
    attempts: int
    last_error: str
    parts: int


@dataclass
class DrainReport:
    delivered: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    #: items the backend answered with a server error this time; they wait and the rest went on
    failed: dict[str, BackendError] = field(default_factory=dict)
    blocked_by: BackendError | None = None  # the transient error that stopped draining
    errors: dict[str, BackendError] = field(default_factory=dict)  # key → why it was rejected
    results: dict[str, Any] = field(default_factory=dict)  # key → the handler's full result (in memory only)


Deliver = Callable[[Envelope, Callable[[int, int], None] | None], tuple[Any, dict[str, Any]]]
"""A handler: sends an envelope and returns (full result, non-personal summary to keep)."""


class Outbox:
    def __init__(self, path: Path | str, cipher: RecordCipher, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._cipher = cipher
        self._clock = clock
        self._db_lock = threading.RLock()
        self._drain_lock = threading.Lock()
        self._recent: dict[str, Any] = {}
        self._listeners: Listeners[None] = Listeners("outbox")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._conn = self._open_checked()

    # -- opening ---------------------------------------------------------------------------
    def _connect(self, path: Path) -> sqlite3.Connection:
        # Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database's
        # permissions, and the WAL holds (encrypted) personal data too.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                os.chmod(companion, 0o600)
            except OSError:
                pass
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
        columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox_items)")}
        if "after_key" not in columns:  # an outbox written before items could wait for another
            conn.execute("ALTER TABLE outbox_items ADD COLUMN after_key TEXT NOT NULL DEFAULT ''")
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        try:
            conn = self._connect(self.path)
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict == "ok":
                return conn
            conn.close()
            problem = "integrity check failed"
        except sqlite3.DatabaseError as exc:
            problem = f"cannot be opened ({exc})"
        return self._salvage(problem)

    def _salvage(self, problem: str) -> sqlite3.Connection:
        """The file is damaged: keep every item that can still be read, set the file aside."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(self._clock())}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            extra = Path(str(self.path) + suffix)
            if extra.exists():
                os.replace(extra, Path(str(aside) + suffix))
        conn = self._connect(self.path)
        saved = lost = 0
        try:
            old = sqlite3.connect(f"file:{aside}?mode=ro", uri=True)
            try:
                seqs = [row[0] for row in old.execute("SELECT seq FROM outbox_items ORDER BY seq")]
            except sqlite3.DatabaseError:
                seqs = []
            for seq in seqs:
                try:
                    row = old.execute("SELECT key, kind, state, created_at, attempts, last_error, payload "
                                      "FROM outbox_items WHERE seq=?", (seq,)).fetchone()
                    parts = old.execute("SELECT name, data FROM outbox_parts WHERE item_key=?", (row[0],)).fetchall()
                except sqlite3.DatabaseError:
                    lost += 1
                    continue
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO outbox_items(seq, key, kind, state, created_at, attempts, last_error, "
                             "payload) VALUES (?,?,?,?,?,?,?,?)", (seq, *row))
                conn.executemany("INSERT INTO outbox_parts(item_key, name, data) VALUES (?,?,?)",
                                 [(row[0], n, d) for n, d in parts])
                conn.execute("COMMIT")
                saved += 1
            old.close()
        except sqlite3.DatabaseError:
            pass
        log.error("outbox database was damaged and has been rebuilt; items that could be read are kept",
                  extra={"fields": {"problem": problem, "saved": saved, "unreadable": lost,
                                    "damaged_copy": str(aside)}})
        return conn

    def close(self) -> None:
        with self._db_lock:
            self._conn.close()

    def _tx(self):
        return immediate_transaction(self._conn, self._db_lock)

    # -- writing ---------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any], parts: dict[str, bytes] | None = None,
                key: str | None = None, after: str | None = None) -> str:
        """Store an item durably; returns its idempotency key. On return it is on disk.

        ``after``: the key of an earlier item this one needs delivered first (a rating of an
        application still in the outbox). While that item is pending, this one is not sent, even
        when a server error lets later items overtake it; once it is delivered (or set aside),
        this one goes."""
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        key = key or uuid.uuid4().hex
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        sealed = self._cipher.encrypt(data, f"{key}|{kind}|payload")
        sealed_parts = [(key, name, self._cipher.encrypt(blob, f"{key}|{kind}|part|{name}"))
                        for name, blob in (parts or {}).items()]
        with self._tx() as conn:
            conn.execute("INSERT INTO outbox_items(key, kind, created_at, payload, after_key) VALUES (?,?,?,?,?)",
                         (key, kind, self._clock(), sealed, after or ""))
            conn.executemany("INSERT INTO outbox_parts(item_key, name, data) VALUES (?,?,?)", sealed_parts)
        log.info("outbox item stored", extra={"fields": {"key": key, "kind": kind, "parts": len(sealed_parts)}})
        self._changed()
        return key

    # -- reading ---------------------------------------------------------------------------
    def items(self, state: str | None = None) -> list[ItemInfo]:
        query = ("SELECT seq, key, kind, state, created_at, attempts, last_error, "
                 "(SELECT COUNT(*) FROM outbox_parts p WHERE p.item_key = i.key) FROM outbox_items i")
        args: tuple = ()
        if state:
            query += " WHERE state=?"
            args = (state,)
        with self._db_lock:
            rows = self._conn.execute(query + " ORDER BY seq", args).fetchall()
        return [ItemInfo(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._db_lock:
            rows = self._conn.execute("SELECT state, COUNT(*) FROM outbox_items GROUP BY state").fetchall()
        counts = {"pending": 0, "rejected": 0, "quarantined": 0}
        counts.update({state: n for state, n in rows})
        return counts

    def pending_count(self) -> int:
        return self.counts()["pending"]

    def delivered_summary(self, key: str) -> dict[str, Any] | None:
        with self._db_lock:
            row = self._conn.execute("SELECT summary FROM outbox_delivered WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def recent_result(self, key: str) -> Any:
        """The full result of an item delivered by this process (kept in memory only)."""
        return self._recent.get(key)

    def pending_payloads(self, kind: str) -> list[tuple[str, float, dict[str, Any]]]:
        """(key, created_at, payload) of every pending item of ``kind``, oldest first, without its
        attachments. Holds personal data: the caller keeps it in memory and never logs it. An item
        that cannot be read back is skipped here (the sender quarantines it)."""
        with self._db_lock:
            rows = self._conn.execute("SELECT seq, key, kind, created_at, attempts, payload FROM outbox_items "
                                      "WHERE state='pending' AND kind=? ORDER BY seq", (kind,)).fetchall()
        found = []
        for seq, key, row_kind, created_at, _attempts, sealed in rows:
            try:
                payload = json.loads(self._cipher.decrypt(sealed, f"{key}|{row_kind}|payload").decode("utf-8"))
            except (DecryptError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(payload, dict):
                found.append((key, created_at, payload))
        return found

    def _next_pending(self, after_seq: int, until_key: str | None) -> tuple | None:
        """The next pending item that is due: one that met a server error waits for its pause
        (the item a resident is waiting for at the kiosk never does), and one that needs an
        earlier item (``after``) waits while that one is pending."""
        while True:
            with self._db_lock:
                row = self._conn.execute(
                    "SELECT seq, key, kind, created_at, attempts, payload, last_attempt_at, last_error, "
                    "(SELECT COUNT(*) FROM outbox_items d WHERE d.key = i.after_key AND d.state='pending') "
                    "FROM outbox_items i WHERE state='pending' AND seq>? ORDER BY seq LIMIT 1",
                    (after_seq,)).fetchone()
            if row is None:
                return None
            seq, key, attempts, last_attempt, last_error = row[0], row[1], row[4], row[6], row[7]
            if row[8]:  # what it needs has not gone yet
                after_seq = seq
                continue
            if key == until_key or not last_attempt or not last_error.startswith(SERVER_ERROR_MARK):
                return row[:6]
            pause = min(RETRY_PAUSE_MAX, RETRY_PAUSE_FIRST * 2 ** max(0, attempts - 1))
            if self._clock() >= last_attempt + pause:
                return row[:6]
            after_seq = seq

    def _open(self, row: tuple) -> Envelope:
        seq, key, kind, created_at, attempts, sealed = row
        if kind not in KINDS:
            raise CorruptItem(f"unknown kind {str(kind)[:40]!r}")
        try:
            payload = json.loads(self._cipher.decrypt(sealed, f"{key}|{kind}|payload").decode("utf-8"))
        except DecryptError as exc:
            raise CorruptItem(f"payload cannot be decrypted: {exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CorruptItem("payload decrypts but is not JSON") from None
        if not isinstance(payload, dict):
            raise CorruptItem("payload is not a JSON object")
        parts: dict[str, bytes] = {}
        with self._db_lock:
            rows = self._conn.execute("SELECT name, data FROM outbox_parts WHERE item_key=?", (key,)).fetchall()
        for name, data in rows:
            try:
                parts[name] = self._cipher.decrypt(data, f"{key}|{kind}|part|{name}")
            except DecryptError as exc:
                raise CorruptItem(f"attachment {name!r} cannot be decrypted: {exc}") from None
        return Envelope(seq, key, kind, created_at, attempts, payload, parts)

    # -- draining --------------------------------------------------------------------------
    def drain(self, deliver: Deliver, *, until_key: str | None = None,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> DrainReport:
        """Send pending items in order until the queue is empty, ``until_key`` is delivered,
        a transient error stops it, or ``should_stop()`` says so (checked between items).
        ``progress`` is passed to the ``until_key`` item."""
        report = DrainReport()
        with self._drain_lock, _ProcessLock(self.path):
            last_seq = 0
            while not (should_stop and should_stop()):
                row = self._next_pending(last_seq, until_key)
                if row is None:
                    break
                last_seq = row[0]
                key = row[1]
                if not self._send_one(row, deliver, progress if key == until_key else None, report):
                    break
                if key == until_key:
                    break
        if report.delivered or report.rejected or report.quarantined:
            self._changed()
        return report

    def _send_one(self, row: tuple, deliver: Deliver, progress: Callable[[int, int], None] | None,
                  report: DrainReport) -> bool:
        """Send one item; False when a transient error means draining must stop here."""
        key, kind = row[1], row[2]
        try:
            envelope = self._open(row)
        except CorruptItem as exc:
            self._set_aside(key, kind, "quarantined", str(exc))
            report.quarantined.append(key)
            return True
        try:
            result, summary = deliver(envelope, progress)
        except CorruptItem as exc:
            self._set_aside(key, kind, "quarantined", str(exc))
            report.quarantined.append(key)
            return True
        except BackendError as exc:
            if exc.transient and server_failed(exc):
                return self._server_error(row, exc, report)
            if exc.transient:
                self._note_error(key, str(exc))
                report.blocked_by = exc
                log.warning("outbox paused: the backend did not take the next item",
                            extra={"fields": {"key": key, "kind": kind, "error": str(exc)}})
                return False
            self._set_aside(key, kind, "rejected", str(exc))
            report.rejected.append(key)
            report.errors[key] = exc
            return True
        finally:
            envelope.payload.clear()
            envelope.parts.clear()
        self._acknowledge(key, kind, summary)
        self._recent[key] = result
        if len(self._recent) > 200:
            self._recent.pop(next(iter(self._recent)))
        report.delivered.append(key)
        report.results[key] = result
        return True

    def _server_error(self, row: tuple, exc: BackendError, report: DrainReport) -> bool:
        """The backend answered this item with a server error: it waits, the rest goes on."""
        key, kind, created_at, attempts = row[1], row[2], row[3], row[4] + 1
        if attempts >= SERVER_ERROR_LIMIT and self._clock() - created_at >= SERVER_ERROR_MIN_AGE:
            self._set_aside(key, kind, "quarantined", f"the backend failed it {attempts} times; last: {exc}")
            report.quarantined.append(key)
            return True
        self._note_error(key, f"{SERVER_ERROR_MARK}{exc}")
        report.failed[key] = exc
        log.warning("outbox item failed with a server error; the items after it still go",
                    extra={"fields": {"key": key, "kind": kind, "attempts": attempts, "error": str(exc)}})
        return True

    def _note_error(self, key: str, error: str) -> None:
        # Attempts are counted when they fail: a success deletes the row anyway, and one commit
        # (one fsync) less per item doubles the drain rate.
        with self._tx() as conn:
            conn.execute("UPDATE outbox_items SET attempts=attempts+1, last_attempt_at=?, last_error=? WHERE key=?",
                         (self._clock(), error[:500], key))

    def _acknowledge(self, key: str, kind: str, summary: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM outbox_parts WHERE item_key=?", (key,))
            conn.execute("DELETE FROM outbox_items WHERE key=?", (key,))
            conn.execute("INSERT OR REPLACE INTO outbox_delivered(key, kind, delivered_at, summary) VALUES (?,?,?,?)",
                         (key, kind, self._clock(), json.dumps(summary, ensure_ascii=False)))
        log.info("outbox item delivered", extra={"fields": {"key": key, "kind": kind, **summary}})

    def _set_aside(self, key: str, kind: str, state: str, reason: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE outbox_items SET state=?, last_error=?, attempts=attempts+1, last_attempt_at=? "
                         "WHERE key=?", (state, reason[:500], self._clock(), key))
        if state == "quarantined":
            log.error("outbox item quarantined: it is kept but not sent until a technician retries it; the items "
                      "after it are still sent", extra={"fields": {"key": key, "kind": kind, "reason": reason}})
        else:
            log.error("outbox item rejected by the backend and set aside; the items after it are still sent",
                      extra={"fields": {"key": key, "kind": kind, "reason": reason}})

    def compact(self) -> None:
        """Fold the WAL into the database and truncate it, so no old (encrypted) rows linger in it.

        Costs ~20 ms of fsyncs, so the background sender calls it when the queue is idle rather
        than after every delivery."""
        with self._db_lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass

    # -- housekeeping ----------------------------------------------------------------------
    def retry_set_aside(self, key: str) -> bool:
        """Put a rejected or quarantined item back in the queue (after a technician fixed the
        cause), with its count of failed attempts reset. An item that still cannot be read back
        is quarantined again at the next drain."""
        with self._tx() as conn:
            changed = conn.execute("UPDATE outbox_items SET state='pending', last_error='', attempts=0 "
                                   "WHERE key=? AND state IN ('rejected', 'quarantined')", (key,)).rowcount
        if changed:
            self._changed()
        return bool(changed)

    def discard(self, key: str) -> bool:
        """Delete an item that was set aside (rejected or quarantined)."""
        with self._tx() as conn:
            changed = conn.execute("DELETE FROM outbox_items WHERE key=? AND state!='pending'", (key,)).rowcount
            if changed:
                conn.execute("DELETE FROM outbox_parts WHERE item_key=?", (key,))
        if changed:
            log.warning("outbox item discarded by a technician", extra={"fields": {"key": key}})
            self._changed()
        return bool(changed)

    def purge_expired(self, older_than: float = RETENTION_SECONDS) -> int:
        """Delete set-aside items and delivery notes older than the retention period."""
        cutoff = self._clock() - older_than
        with self._tx() as conn:
            keys = [k for (k,) in conn.execute("SELECT key FROM outbox_items WHERE state!='pending' AND created_at<?",
                                               (cutoff,))]
            for key in keys:
                conn.execute("DELETE FROM outbox_parts WHERE item_key=?", (key,))
                conn.execute("DELETE FROM outbox_items WHERE key=?", (key,))
            conn.execute("DELETE FROM outbox_delivered WHERE delivered_at<?", (cutoff,))
        if keys:
            log.info("expired outbox items removed", extra={"fields": {"count": len(keys)}})
        return len(keys)

    # -- listeners -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> Subscription:
        """``listener()`` runs (on the writing thread) whenever the queue changes."""
        return self._listeners.add(listener)

    def _changed(self) -> None:
        self._listeners.publish()


class _ProcessLock:
    """Only one process drains a given outbox at a time (a second kiosk process waits)."""

    def __init__(self, path: Path):
        self._path = Path(str(path) + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "_ProcessLock":
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
