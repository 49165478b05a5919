"""Inactivity timing for a resident session, independent of any UI toolkit.

The UI calls ``poke()`` on every touch or key and ``tick()`` a few times a second.
``tick`` returns the phase: ``idle`` (no session), ``active``, ``warning`` (the countdown
"长时间无操作，即将返回首页" is showing, with ``remaining`` seconds) or ``expired`` — at which
point the monitor has already ended the session, wiping the resident's data.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.session import Session


@dataclass(frozen=True)
class IdleState:
    phase: str  # "idle" | "active" | "warning" | "expired"
    remaining: int = 0  # whole seconds left on the countdown (warning phase)


class IdleMonitor:
    def __init__(self, session: Session, idle_seconds: float, countdown_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.session = session
        self.idle_seconds = idle_seconds
        self.countdown_seconds = countdown_seconds
        self._clock = clock
        self._last_activity = clock()

    def poke(self) -> None:
        """A touch or key: the resident is still there."""
        self._last_activity = self._clock()

    def backdate(self, seconds: float) -> None:
        """Pretend the last touch was ``seconds`` ago (testers' tools and screenshots)."""
        self._last_activity = self._clock() - seconds

    def tick(self) -> IdleState:
        if not self.session.active:
            self._last_activity = self._clock()
            return IdleState("idle")
        quiet = self._clock() - self._last_activity
        if quiet < self.idle_seconds:
            return IdleState("active")
        left = self.idle_seconds + self.countdown_seconds - quiet
        if left > 0:
            return IdleState("warning", math.ceil(left))
        self.session.end("timeout")
        self._last_activity = self._clock()
        return IdleState("expired")
