"""Every technician event goes to the backend's audit trail (and the local log).

``Auditor.record("action", action="open_door", device="locker", detail="door 3")`` builds the
contract's ``AuditEventCreate`` and hands it to the backend services on a worker thread: the
outbox stores it first and sends it exactly once, also when the network is down now. Without a
backend the event is only logged. Events carry names of actions and devices, never personal
data (a read card's fields stay on the screen).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from kiosk.privacy import mask_text

log = logging.getLogger(__name__)


class Auditor:
    def __init__(self, backend: Callable[[], Any | None], background: Callable[[Callable[[], None]], Any]):
        self.backend = backend
        self.background = background
        self.sent: list[dict[str, str]] = []  # this process's events, newest last (tests, the diag screen)

    def record(self, event: str, *, action: str = "", device: str = "", detail: str = "", outcome: str = "") -> None:
        from kiosk.backend import models as m

        detail = mask_text(detail)[:200]
        entry = {"event": event, "action": action, "device": device, "detail": detail, "outcome": outcome}
        self.sent.append(entry)
        del self.sent[:-200]
        log.info("technician event", extra={"fields": entry})
        try:
            request = m.AuditEventCreate(event=event, at=datetime.now(timezone.utc), action=action, device=device,
                                         detail=detail, outcome=outcome)
        except ValueError:
            log.error("technician event not recordable", extra={"fields": {"event": event, "action": action}})
            return
        backend = self.backend()
        if backend is None:
            return

        def send() -> None:
            try:
                outcome_ = backend.audit(request)
            except Exception as exc:  # the audit must not break the technician's work; it is logged
                log.warning("technician event not stored for the backend",
                            extra={"fields": {"error": type(exc).__name__}})
                return
            if type(outcome_).__name__ == "Refused":
                log.warning("technician event refused by the backend", extra={"fields": {"code": outcome_.code}})
        self.background(send)
