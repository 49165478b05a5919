"""The composition root: the one place that turns settings into a running kiosk's parts.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor and
the status board (and, as they arrive, the device manager and backend client). The UI
receives the finished ``Kiosk`` and never constructs any of these itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.config import Settings
from kiosk.i18n import Translator
from kiosk.inactivity import IdleMonitor
from kiosk.session import Session
from kiosk.status import StatusBoard

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    settings: Settings
    session: Session
    translator: Translator
    idle: IdleMonitor
    status: StatusBoard

    def shutdown(self) -> None:
        self.session.end("shutdown")


def build_kiosk(settings: Settings) -> Kiosk:
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    log.info("kiosk assembled", extra={"fields": {"terminal": settings.terminal.id, "config": settings.source}})
    return Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status)
