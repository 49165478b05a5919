"""Wrong technician PINs lock the entry out, for longer each time.

The first ``free_attempts`` wrong PINs only count; each further one locks the entry for
``lockout_seconds`` × 2^(lockouts so far), at most an hour. A right PIN clears the count. The
state lives in a small JSON file (``path``), so restarting the kiosk does not reset it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.atomic_file import write_json_atomically
from kiosk.technician.pin import pin_matches

MAX_LOCKOUT = 3600


@dataclass(frozen=True)
class Attempt:
    result: str  # "ok", "wrong", "locked", "not_set_up"
    attempts_left: int = 0  # before the next lockout (wrong)
    retry_after: int = 0  # seconds (locked; also wrong when this attempt started a lockout)


class PinGate:
    def __init__(self, pin_hash: str, path: str | Path | None = None, free_attempts: int = 3,
                 lockout_seconds: int = 30, clock: Callable[[], float] = time.time):
        self.pin_hash = pin_hash
        self.path = Path(path) if path else None
        self.free_attempts = free_attempts
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self.failures = 0
        self.lockouts = 0
        self.locked_until = 0.0
        self._load()

    @property
    def set_up(self) -> bool:
        return bool(self.pin_hash)

    def locked_for(self) -> int:
        """Seconds until a PIN may be tried again (0: now)."""
        return max(0, int(round(self.locked_until - self.clock() + 0.499)))

    def attempt(self, pin: str) -> Attempt:
        if not self.set_up:
            return Attempt("not_set_up")
        wait = self.locked_for()
        if wait:
            return Attempt("locked", retry_after=wait)
        if pin_matches(pin, self.pin_hash):
            self.failures = self.lockouts = 0
            self.locked_until = 0.0
            self._save()
            return Attempt("ok")
        self.failures += 1
        if self.failures >= self.free_attempts:
            seconds = min(MAX_LOCKOUT, self.lockout_seconds * 2 ** self.lockouts)
            self.lockouts += 1
            self.failures = self.free_attempts - 1  # after a lockout, each wrong PIN locks again
            self.locked_until = self.clock() + seconds
            self._save()
            return Attempt("locked", 0, int(seconds))
        self._save()
        return Attempt("wrong", self.free_attempts - self.failures)

    # -- the file -------------------------------------------------------------------------
    def _load(self) -> None:
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.failures = int(data.get("failures", 0))
            self.lockouts = int(data.get("lockouts", 0))
            self.locked_until = float(data.get("locked_until", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            return

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            write_json_atomically(self.path, {"failures": self.failures, "lockouts": self.lockouts,
                                              "locked_until": self.locked_until})
        except OSError:
            pass  # the lockout still holds in memory
