"""The composition root: the one place that turns settings into a running kiosk's parts.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor, the
status board and the device manager (which opens the configured devices, or starts their
simulators, in the background) — and, as it arrives, the backend client. The UI receives the
finished ``Kiosk`` and never constructs any of these itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.config import Settings
from kiosk.devices import DeviceManager
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
    devices: DeviceManager | None = None

    def shutdown(self) -> None:
        self.session.end("shutdown")
        if self.devices is not None:
            self.devices.stop()


def build_kiosk(settings: Settings, start_devices: bool = True) -> Kiosk:
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    devices = DeviceManager(settings.devices, status, terminal_id=settings.terminal.id)
    if start_devices:
        devices.start()
    log.info("kiosk assembled", extra={"fields": {"terminal": settings.terminal.id, "config": settings.source}})
    return Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status,
                 devices=devices)
