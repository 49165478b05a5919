"""The composition root: the one place that turns settings into a running kiosk's parts.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor, the
status board, the device manager (which opens the configured devices, or starts their
simulators, in the background), the backend services (client, outbox, catalogue cache;
the embedded reference backend for the demo), the service catalogue and the pinyin input
method. The UI receives the finished ``Kiosk`` and never constructs any of these itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kiosk.catalog.service import CatalogPaths, CatalogService
from kiosk.config import ConfigError, Settings
from kiosk.devices import DeviceManager
from kiosk.i18n import Translator
from kiosk.ime.service import ImeService
from kiosk.inactivity import IdleMonitor
from kiosk.session import Session
from kiosk.status import Availability, StatusBoard

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    settings: Settings
    session: Session
    translator: Translator
    idle: IdleMonitor
    status: StatusBoard
    devices: DeviceManager | None = None
    backend: Any | None = None  # kiosk.backend.service.BackendServices when [backend] is configured
    catalog: CatalogService | None = None
    ime: ImeService | None = None

    def warm_up(self) -> None:
        """Slow preparation for a worker thread at start-up: index the catalogue, load jieba,
        open (or first build) the pinyin lexicon. Failures are logged; what works, works."""
        if self.catalog is not None:
            try:
                self.catalog.load()
                self.catalog.refresh()  # the backend's catalogue cache, when it has items
                if self.ime is not None:
                    self.ime.add_vocabulary(self.catalog.vocabulary())
            except Exception as exc:  # a bad catalogue must not stop the kiosk
                log.error("service catalogue unavailable", extra={"fields": {"error": str(exc)}})
        if self.ime is not None:
            self.ime.ensure_ready()

    def shutdown(self) -> None:
        self.session.end("shutdown")
        if self.devices is not None:
            self.devices.stop()
        if self.backend is not None:
            self.backend.stop()
        if self.catalog is not None:
            self.catalog.close()


def build_kiosk(settings: Settings, start_devices: bool = True, start_backend: bool = True) -> Kiosk:
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    devices = DeviceManager(settings.devices, status, terminal_id=settings.terminal.id)
    if start_devices:
        devices.start()
    backend = _build_backend(settings, status, devices) if start_backend else None
    catalog = CatalogService.from_settings(settings)
    if backend is not None:
        cache = backend.catalog
        catalog.attach_source(lambda: cache.version,
                              lambda: [item.model_dump(mode="json") for item in cache.items()])
    ime = ImeService(CatalogPaths.from_settings(settings.catalog).cache_dir)
    log.info("kiosk assembled", extra={"fields": {"terminal": settings.terminal.id, "config": settings.source,
                                                  "backend": "embedded" if settings.backend.embedded
                                                  else ("configured" if backend else "none")}})
    return Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status,
                 devices=devices, backend=backend, catalog=catalog, ime=ime)


def _build_backend(settings: Settings, status: StatusBoard, devices: DeviceManager):
    if not (settings.backend.embedded or settings.backend.url):
        status.publish(Availability("network", None, "status.network_not_configured"))
        return None
    from kiosk.backend.service import BackendConfigError, attach_status, build_backend, health_from_devices

    try:
        backend = build_backend(settings, health_source=health_from_devices(devices))
    except BackendConfigError as exc:
        devices.stop()
        raise ConfigError(settings.source, str(exc), key="backend") from None
    status.publish(Availability("network", None, "status.network_checking"))
    attach_status(backend, status)
    backend.start()
    return backend
