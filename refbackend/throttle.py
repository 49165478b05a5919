"""Clerk login throttling: how many wrong passwords a client, and the clerk account, may send.

``LoginThrottle`` is the interface the clerk gate (``refbackend.clerk_gate``) talks to; keys
are ``("client", address)`` and ``("account", user)``. ``MemoryLoginThrottle`` keeps the state
in this process (what a single reference backend needs); a backend with several workers behind
one database would keep it there instead, behind the same three methods.

``DatabaseLoginThrottle`` keeps the same counts in the backend's database (table
``login_failures``), so that every worker of a district backend, and a restarted backend, sees
the same counts: with counts per process a guesser behind a load balancer would get one
allowance per worker. The reference backend uses it; the memory one stays for unit tests.

The rule: wrong passwords are counted per key; once a key has ``limit`` of them within
``window`` seconds it is locked, first for ``base_lock`` seconds, doubling with every further
wrong password, up to ``max_lock``. While any of a request's keys is locked the request is
refused (429 with ``Retry-After``) without its password being looked at, so guessing cannot
go on, even with the right password in the middle. A right password clears the client's own
count, never the account's (only time does): the account's limit is what stops a guesser with
many addresses. At most ``max_keys`` keys are tracked in memory (the oldest are forgotten
first); the database forgets a key once its window and its lock are over.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

Key = tuple[str, str]


class LoginThrottle(Protocol):
    def retry_after(self, keys: Iterable[Key], now: float) -> int:
        """Seconds until these keys may try again (0: they may try now)."""

    def failed(self, keys: Iterable[Key], now: float) -> int:
        """Count a wrong password; return the seconds until the next try is allowed (0: at once)."""

    def succeeded(self, keys: Iterable[Key], now: float) -> None:
        """A right password: forget the client's count."""


@dataclass(frozen=True)
class Rule:
    limit: int
    window: float = 900.0
    base_lock: float = 30.0
    max_lock: float = 900.0


#: per client address: 5 wrong passwords, then 30 s, 60 s, 120 s … up to 15 minutes;
#: per account: 20 wrong passwords from anywhere within 15 minutes
DEFAULT_RULES = {"client": Rule(limit=5), "account": Rule(limit=20, base_lock=60.0)}


@dataclass
class _Count:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


def _after_failure(count: _Count, rule: Rule, now: float) -> _Count:
    """The count of a key after one more wrong password at ``now``."""
    failures = 1 if now - count.last_failure > rule.window else count.failures + 1
    locked_until = count.locked_until
    if failures >= rule.limit:
        locked_until = max(locked_until, now + min(rule.max_lock, rule.base_lock * 2 ** (failures - rule.limit)))
    return _Count(failures, now, locked_until)


def _seconds(wait: float) -> int:
    return math.ceil(wait) if wait > 0 else 0


class MemoryLoginThrottle:
    """``LoginThrottle`` with the counts in a dictionary of this process (thread-safe)."""

    def __init__(self, rules: dict[str, Rule] | None = None, max_keys: int = 50_000):
        self.rules = dict(rules or DEFAULT_RULES)
        self.max_keys = max_keys
        self._counts: OrderedDict[Key, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[Key], now: float) -> int:
        with self._lock:
            wait = 0.0
            for key in keys:
                count = self._counts.get(key)
                if count is not None:
                    wait = max(wait, count.locked_until - now)
            return _seconds(wait)

    def failed(self, keys: Iterable[Key], now: float) -> int:
        with self._lock:
            wait = 0.0
            for key in keys:
                rule = self.rules.get(key[0])
                if rule is None:
                    continue
                count = _after_failure(self._counts.pop(key, None) or _Count(), rule, now)
                self._counts[key] = count  # newest last: the oldest are forgotten first
                wait = max(wait, count.locked_until - now)
            while len(self._counts) > self.max_keys:
                self._counts.popitem(last=False)
            return _seconds(wait)

    def succeeded(self, keys: Iterable[Key], now: float) -> None:
        with self._lock:
            for key in keys:
                if key[0] == "client":
                    self._counts.pop(key, None)

    def tracked(self) -> int:
        """How many keys have a count (for tests and the memory bound)."""
        with self._lock:
            return len(self._counts)


class DatabaseLoginThrottle:
    """``LoginThrottle`` with the counts in the backend's database (``refbackend.db``), shared by
    every worker on it. A count lost in a power cut is harmless, so the writes skip the fsync."""

    def __init__(self, db: Any, rules: dict[str, Rule] | None = None):
        self.db = db
        self.rules = dict(rules or DEFAULT_RULES)
        self._forget_after = max(max(rule.window, rule.max_lock) for rule in self.rules.values())

    def retry_after(self, keys: Iterable[Key], now: float) -> int:
        wait = 0.0
        with self.db.read() as conn:
            for kind, name in keys:
                row = conn.execute("SELECT locked_until FROM login_failures WHERE kind=? AND name=?",
                                   (kind, name)).fetchone()
                if row is not None:
                    wait = max(wait, row[0] - now)
        return _seconds(wait)

    def failed(self, keys: Iterable[Key], now: float) -> int:
        wait = 0.0
        with self.db.transaction(durable=False) as conn:
            for kind, name in keys:
                rule = self.rules.get(kind)
                if rule is None:
                    continue
                self.db.lock(conn, f"login:{kind}:{name}")
                row = conn.execute("SELECT failures, last_failure, locked_until FROM login_failures "
                                   f"WHERE kind=? AND name=?{self.db.for_update}", (kind, name)).fetchone()
                count = _after_failure(_Count(*row) if row is not None else _Count(), rule, now)
                conn.execute("INSERT INTO login_failures(kind, name, failures, last_failure, locked_until) "
                             "VALUES (?,?,?,?,?) ON CONFLICT (kind, name) DO UPDATE SET failures=excluded.failures, "
                             "last_failure=excluded.last_failure, locked_until=excluded.locked_until",
                             (kind, name, count.failures, count.last_failure, count.locked_until))
                wait = max(wait, count.locked_until - now)
            # keys whose window and lock are over count for nothing: this bounds the table
            conn.execute("DELETE FROM login_failures WHERE last_failure < ? AND locked_until < ?",
                         (now - self._forget_after, now))
        return _seconds(wait)

    def succeeded(self, keys: Iterable[Key], now: float) -> None:
        clients = [name for kind, name in keys if kind == "client"]
        with self.db.read() as conn:  # the usual case, nothing to forget, writes nothing
            clients = [name for name in clients if conn.execute(
                "SELECT 1 FROM login_failures WHERE kind='client' AND name=?", (name,)).fetchone() is not None]
        if clients:
            with self.db.transaction(durable=False) as conn:
                for name in clients:
                    conn.execute("DELETE FROM login_failures WHERE kind='client' AND name=?", (name,))

    def tracked(self) -> int:
        with self.db.read() as conn:
            return conn.execute("SELECT COUNT(*) FROM login_failures").fetchone()[0]
