"""呼叫工作人员: a resident asks for help from any screen; staff see it live on the clerk page.

A call records the terminal (from the request's signature), the screen and the time — no
personal data. It goes through the outbox like a rating, so a call made while the network
is down is sent once it is back.

States: ``ready`` → ``calling`` → ``called`` (the backend has it), ``queued`` (stored, sent
when the network is back: the resident is asked to go to the counter meanwhile) or
``failed``. After a call the button rests for ``cooldown`` seconds (one call is enough; the
screen says staff are on their way), then the flow is ``ready`` again.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from kiosk.flows.base import Background, Flow

log = logging.getLogger(__name__)

READY, CALLING, CALLED, QUEUED, FAILED = "ready", "calling", "called", "queued", "failed"


class StaffCallFlow(Flow):
    name = "staff_call"
    initial = READY
    TRANSITIONS = {
        READY: (CALLING,),
        CALLING: (CALLED, QUEUED, FAILED),
        CALLED: (READY,),
        QUEUED: (READY,),
        FAILED: (READY, CALLING),
    }

    def __init__(self, backend: Callable[[], Any | None], background: Background, cooldown: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.backend = backend
        self.background = background
        self.cooldown = cooldown
        self.clock = clock
        self.called_at: float | None = None

    def call(self, screen: str) -> None:
        """Ask for staff from ``screen`` (a screen name: no personal data)."""
        self.refresh()
        if self.state not in (READY, FAILED):
            return
        backend = self.backend()
        if backend is None:
            self._go(CALLING)
            self._go(FAILED, "staff_call.no_backend")
            return
        self._go(CALLING)
        self.background(lambda: self._send(backend, screen))

    def _send(self, backend: Any, screen: str) -> None:
        from kiosk.backend.service import Delivered, Queued

        try:
            outcome = backend.call_staff(screen)
        except Exception as exc:
            log.warning("staff call not recorded", extra={"fields": {"error": type(exc).__name__}})
            self._go(FAILED, "staff_call.failed")
            return
        self.called_at = self.clock()
        if isinstance(outcome, Delivered):
            self._go(CALLED, "staff_call.called")
        elif isinstance(outcome, Queued):
            self._go(QUEUED, "staff_call.queued")
        else:
            log.warning("staff call refused", extra={"fields": {"code": getattr(outcome, "code", "")}})
            self._go(FAILED, "staff_call.failed")

    def refresh(self) -> None:
        """Back to ``ready`` once the cooldown after a call has passed (the screen calls this on a timer)."""
        if self.state in (CALLED, QUEUED) and self.called_at is not None \
                and self.clock() - self.called_at >= self.cooldown:
            self._go(READY)
