"""The composition root: the one place that turns settings into a running kiosk's parts.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor and
the status board, the service catalogue and the pinyin input method (and, as they arrive,
the device manager and backend client). The UI
receives the finished ``Kiosk`` and never constructs any of these itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiosk.catalog.service import CatalogPaths, CatalogService
from kiosk.config import Settings
from kiosk.i18n import Translator
from kiosk.ime.service import ImeService
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
    catalog: CatalogService | None = field(default=None)
    ime: ImeService | None = field(default=None)

    def warm_up(self) -> None:
        """Slow preparation for a worker thread at start-up: index the catalogue, load jieba,
        open (or first build) the pinyin lexicon. Failures are logged; what works, works."""
        if self.catalog is not None:
            try:
                self.catalog.load()
                if self.ime is not None:
                    self.ime.add_vocabulary(self.catalog.vocabulary())
            except Exception as exc:  # a bad catalogue must not stop the kiosk
                log.error("service catalogue unavailable", extra={"fields": {"error": str(exc)}})
        if self.ime is not None:
            self.ime.ensure_ready()

    def shutdown(self) -> None:
        self.session.end("shutdown")
        if self.catalog is not None:
            self.catalog.close()


def build_kiosk(settings: Settings) -> Kiosk:
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    catalog = CatalogService.from_settings(settings)
    ime = ImeService(CatalogPaths.from_settings(settings.catalog).cache_dir)
    log.info("kiosk assembled", extra={"fields": {"terminal": settings.terminal.id, "config": settings.source}})
    return Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status,
                 catalog=catalog, ime=ime)
