"""Clerk login throttling: how many wrong passwords a client, and the clerk account, may send.

``LoginThrottle`` is the interface the clerk gate (``refbackend.clerk_gate``) talks to; keys
are ``("client", address)`` and ``("account", user)``. ``MemoryLoginThrottle`` keeps the state
in this process; ``DatabaseLoginThrottle`` keeps it in the backend's database (table
``login_throttle``, SQLite or PostgreSQL), so that every worker of a backend behind one database
counts the same wrong passwords: with N workers a guesser gets the same tries as with one, not
N times as many. ``refbackend.app.create_app`` uses the database's throttle unless given another.

The rule: wrong passwords are counted per key; once a key has ``limit`` of them within
``window`` seconds it is locked, first for ``base_lock`` seconds, doubling with every further
wrong password, up to ``max_lock``. While any of a request's keys is locked the request is
refused (429 with ``Retry-After``) without its password being looked at, so guessing cannot
go on, even with the right password in the middle. A right password clears the client's own
count, never the account's (only time does): the account's limit is what stops a guesser with
many addresses. At most ``max_keys`` keys are tracked (the oldest are forgotten first).
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


def _count_failure(count: _Count, rule: Rule, now: float) -> _Count:
    """``count`` after one more wrong password under ``rule`` (the window restarts the count, the
    lock doubles with each wrong password past the limit)."""
    if now - count.last_failure > rule.window:
        count.failures = 0
    count.failures += 1
    count.last_failure = now
    if count.failures >= rule.limit:
        lock = min(rule.max_lock, rule.base_lock * 2 ** (count.failures - rule.limit))
        count.locked_until = max(count.locked_until, now + lock)
    return count


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
            return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: Iterable[Key], now: float) -> int:
        with self._lock:
            wait = 0.0
            for key in keys:
                rule = self.rules.get(key[0])
                if rule is None:
                    continue
                count = _count_failure(self._counts.pop(key, None) or _Count(), rule, now)
                self._counts[key] = count  # newest last: the oldest are forgotten first
                wait = max(wait, count.locked_until - now)
            while len(self._counts) > self.max_keys:
                self._counts.popitem(last=False)
            return math.ceil(wait) if wait > 0 else 0

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
    """``LoginThrottle`` with the counts in the backend's database (``refbackend.db.Database``),
    shared by every worker process on it.

    Each wrong password is one write transaction that holds the key's lock (an advisory lock on
    PostgreSQL; SQLite's write transaction excludes every other writer), so two workers counting
    the same key at once both count. Rows of keys neither locked nor counting any more are
    deleted now and then; beyond ``max_keys`` rows the oldest go first, as in memory."""

    def __init__(self, db: Any, rules: dict[str, Rule] | None = None, max_keys: int = 50_000,
                 prune_every: int = 200):
        self.db = db
        self.rules = dict(rules or DEFAULT_RULES)
        self.max_keys = max_keys
        self.prune_every = prune_every
        self._writes = 0
        self._lock = threading.Lock()

    def retry_after(self, keys: Iterable[Key], now: float) -> int:
        keys = list(keys)
        if not keys:
            return 0
        wait = 0.0
        with self.db.read() as conn:
            for kind, name in keys:
                row = conn.execute("SELECT locked_until FROM login_throttle WHERE kind=? AND name=?",
                                   (kind, name)).fetchone()
                if row is not None:
                    wait = max(wait, float(row[0]) - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: Iterable[Key], now: float) -> int:
        wait = 0.0
        with self.db.transaction() as conn:
            for kind, name in keys:
                rule = self.rules.get(kind)
                if rule is None:
                    continue
                self.db.lock(conn, f"login-throttle|{kind}|{name}")
                row = conn.execute("SELECT failures, last_failure, locked_until FROM login_throttle WHERE kind=? "
                                   f"AND name=?{self.db.for_update}", (kind, name)).fetchone()
                count = _count_failure(_Count(int(row[0]), float(row[1]), float(row[2])) if row else _Count(),
                                       rule, now)
                if row is None:
                    conn.execute("INSERT INTO login_throttle(kind, name, failures, last_failure, locked_until) "
                                 "VALUES (?,?,?,?,?)", (kind, name, count.failures, count.last_failure,
                                                        count.locked_until))
                else:
                    conn.execute("UPDATE login_throttle SET failures=?, last_failure=?, locked_until=? WHERE kind=? "
                                  "AND name=?", (count.failures, count.last_failure, count.locked_until, kind, name))
                wait = max(wait, count.locked_until - now)
        with self._lock:
            self._writes += 1
            prune = self._writes % self.prune_every == 0
        if prune:
            self.prune(now)
        return math.ceil(wait) if wait > 0 else 0

    def succeeded(self, keys: Iterable[Key], now: float) -> None:
        clients = [name for kind, name in keys if kind == "client"]
        if not clients:
            return
        with self.db.transaction() as conn:
            for name in clients:
                conn.execute("DELETE FROM login_throttle WHERE kind='client' AND name=?", (name,))

    def prune(self, now: float) -> None:
        """Forget keys whose lock is over and whose count has left its window; then the oldest
        beyond ``max_keys``."""
        window = max(rule.window for rule in self.rules.values())
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_throttle WHERE locked_until <= ? AND last_failure < ?",
                         (now, now - window))
            extra = conn.execute("SELECT COUNT(*) FROM login_throttle").fetchone()[0] - self.max_keys
            if extra > 0:
                conn.execute("DELETE FROM login_throttle WHERE (kind, name) IN (SELECT kind, name FROM login_throttle "
                             "ORDER BY last_failure LIMIT ?)", (extra,))

    def tracked(self) -> int:
        with self.db.read() as conn:
            return conn.execute("SELECT COUNT(*) FROM login_throttle").fetchone()[0]
