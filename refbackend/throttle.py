"""Clerk login throttling: how many wrong passwords a client, and the clerk account, may send.

``LoginThrottle`` is the interface the clerk gate (``refbackend.clerk_gate``) talks to; keys
are ``("client", address)`` and ``("account", user)``. ``MemoryLoginThrottle`` keeps the state
in this process (what a single reference backend needs); a backend with several workers behind
one database would keep it there instead, behind the same three methods.

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
from typing import Iterable, Protocol

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
                count = self._counts.pop(key, None) or _Count()
                if now - count.last_failure > rule.window:
                    count.failures = 0
                count.failures += 1
                count.last_failure = now
                if count.failures >= rule.limit:
                    lock = min(rule.max_lock, rule.base_lock * 2 ** (count.failures - rule.limit))
                    count.locked_until = max(count.locked_until, now + lock)
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
