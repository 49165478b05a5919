"""``TechnicianFlow``: from the hidden gesture through the PIN pad to the diagnostics screen.

States: ``pin`` (the PIN pad shows) → ``open`` (right PIN: the diagnostics screen) or
``locked`` (too many wrong PINs: the pad shows how long to wait, then ``pin`` again);
``ended`` when the technician leaves or the pad is closed. ``problem`` is the translation key
the pad shows (``tech.pin_wrong`` with ``attempts_left``, ``tech.locked`` with ``seconds``,
``tech.not_set_up`` when no PIN was configured with ``kiosk config set-pin``).

Every step is audited (``entry_opened``, ``pin_wrong``, ``pin_locked``, ``signed_in``,
``signed_out``) and so is each action the diagnostics screen reports through ``act``.
"""
from __future__ import annotations

from kiosk.flows.base import Flow
from kiosk.technician.audit import Auditor
from kiosk.technician.gate import PinGate

PIN, LOCKED, OPEN = "pin", "locked", "open"


class TechnicianFlow(Flow):
    name = "technician"
    initial = PIN
    TRANSITIONS = {PIN: (OPEN, LOCKED), LOCKED: (PIN,), OPEN: ()}

    def __init__(self, gate: PinGate, auditor: Auditor):
        super().__init__()
        self.gate = gate
        self.auditor = auditor

    def start(self) -> "TechnicianFlow":
        self.auditor.record("entry_opened", outcome="" if self.gate.set_up else "refused")
        if not self.gate.set_up:
            self._say("tech.not_set_up")
        elif self.gate.locked_for():
            self._go(LOCKED, "tech.locked", seconds=self.gate.locked_for())
        return self

    def enter_pin(self, pin: str) -> None:
        self.refresh()
        if self.state != PIN:
            return
        attempt = self.gate.attempt(pin)
        if attempt.result == "ok":
            self.auditor.record("signed_in", outcome="ok")
            self._go(OPEN)
        elif attempt.result == "wrong":
            self.auditor.record("pin_wrong", detail=f"{attempt.attempts_left} left", outcome="refused")
            self._say("tech.pin_wrong", attempts_left=attempt.attempts_left)
        elif attempt.result == "locked":
            self.auditor.record("pin_locked", detail=f"lockout {attempt.retry_after} s", outcome="refused")
            self._go(LOCKED, "tech.locked", seconds=attempt.retry_after)
        else:
            self._say("tech.not_set_up")

    def refresh(self) -> None:
        """The lockout's countdown (the pad calls this every second)."""
        if self.state == LOCKED:
            wait = self.gate.locked_for()
            if wait:
                self._say("tech.locked", seconds=wait)
            else:
                self._go(PIN, "")

    def act(self, action: str, device: str = "", detail: str = "", outcome: str = "ok") -> None:
        """Audit one action on the diagnostics screen (only while signed in)."""
        if self.state == OPEN:
            self.auditor.record("action", action=action, device=device, detail=detail, outcome=outcome)

    def end(self) -> None:
        if self.state == OPEN and not self.ended:
            self.auditor.record("signed_out", outcome="ok")
        super().end()
