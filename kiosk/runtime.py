"""The composition root: the one place that turns settings into a running kiosk's parts.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor, the
status board, the device manager (which opens the configured devices, or starts their
simulators, in the background), the backend services (client, outbox, catalogue cache;
the embedded reference backend for the demo), the service catalogue and the pinyin input
method. The UI receives the finished ``Kiosk`` and never constructs any of these itself.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
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
    #: set once the devices and the backend have been started (see ``start_in_background``)
    services_ready: threading.Event = field(default_factory=threading.Event)
    startup_error: Exception | None = None
    catalog: CatalogService | None = None
    ime: ImeService | None = None
    #: the entry layer's settings → EmbeddedBackend, called when [backend] embedded = true
    embed_backend: Any | None = None

    def start_services(self, start_devices: bool = True, start_backend: bool = True) -> None:
        try:
            if start_devices and self.devices is not None:
                self.devices.start()
            if start_backend:
                self.backend = _build_backend(self.settings, self.status, self.devices, self.embed_backend)
                self._attach_catalog_source()
        finally:
            self.services_ready.set()

    def start_in_background(self) -> threading.Thread:
        """Start devices and backend on a thread, so the first frame does not wait for them.

        Until they are up the top bar says "连接中"; a backend that cannot be configured is
        kept in ``startup_error`` (and logged) instead of stopping the UI.
        """
        def run() -> None:
            try:
                self.start_services()
            except Exception as exc:  # shown to the technician through the log and the status lights
                self.startup_error = exc
                log.error("starting devices and backend failed", extra={"fields": {"error": str(exc)}})

        thread = threading.Thread(target=run, name="kiosk-start", daemon=True)
        thread.start()
        return thread

    def _attach_catalog_source(self) -> None:
        """Once the backend runs, its catalogue cache is where search reads items from."""
        if self.backend is not None and self.catalog is not None:
            cache = self.backend.catalog
            self.catalog.attach_source(lambda: cache.version,
                                       lambda: [item.model_dump(mode="json") for item in cache.items()])

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

    def wait_idle(self, timeout: float = 30.0, poll: float = 0.05) -> bool:
        """Wait until what the residents started has finished (testers' scenarios end here).

        Finished means: no print job is queued or printing (a job waiting for paper counts as
        finished: it waits for a person), and the outbox is empty or its sender has given up
        for now (the backend is unreachable). Returns False when ``timeout`` ran out first.
        """
        deadline = time.monotonic() + timeout
        self.services_ready.wait(timeout)
        while time.monotonic() < deadline:
            if self._idle():
                return True
            time.sleep(poll)
        return self._idle()

    def _idle(self) -> bool:
        queue = getattr(self, "print_queue", None)
        if queue is not None and any(job.state.value in ("queued", "printing") for job in queue.pending()):
            return False
        backend = self.backend
        if backend is not None and backend.outbox.pending_count() and backend.online is not False:
            return False
        return True

    def shutdown(self) -> None:
        self.session.end("shutdown")
        self.services_ready.wait(30)
        if self.devices is not None:
            self.devices.stop()
        if self.backend is not None:
            self.backend.stop()
        if self.catalog is not None:
            self.catalog.close()


def build_kiosk(settings: Settings, start_devices: bool = True, start_backend: bool = True,
                background: bool = False, embed_backend: Any | None = None) -> Kiosk:
    """Assemble the kiosk; start its devices and backend now, or on a thread with ``background``."""
    check_backend_settings(settings)  # a bad [backend] stops the start here, not later on a thread
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    devices = DeviceManager(settings.devices, status, terminal_id=settings.terminal.id)
    catalog = CatalogService.from_settings(settings)
    ime = ImeService(CatalogPaths.from_settings(settings.catalog).cache_dir)
    kiosk = Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status,
                  devices=devices, catalog=catalog, ime=ime, embed_backend=embed_backend)
    log.info("kiosk assembled", extra={"fields": {"terminal": settings.terminal.id, "config": settings.source,
                                                  "backend": "embedded" if settings.backend.embedded
                                                  else ("configured" if settings.backend.url else "none")}})
    if background:
        if settings.backend.embedded or settings.backend.url:
            status.publish(Availability("network", None, "status.network_checking"))
        kiosk.start_in_background()
    else:
        kiosk.start_services(start_devices, start_backend)
    return kiosk


def check_backend_settings(settings: Settings) -> None:
    """Raise ``ConfigError`` now for a [backend] section that cannot work (no key, bad key)."""
    cfg = settings.backend
    if cfg.embedded or not cfg.url:
        return
    from kiosk.backend.signing import TerminalKeyError, parse_key, read_key_file

    try:
        if cfg.terminal_key_file:
            read_key_file(cfg.terminal_key_file)
        elif cfg.terminal_key:
            parse_key(cfg.terminal_key, "[backend] terminal_key")
        else:
            raise ConfigError(settings.source, "needs terminal_key_file (the terminal's signing key)",
                              key="backend.terminal_key_file")
    except TerminalKeyError as exc:
        raise ConfigError(settings.source, str(exc), key="backend.terminal_key_file") from None


def _build_backend(settings: Settings, status: StatusBoard, devices: DeviceManager, embed_backend: Any = None):
    if not (settings.backend.embedded or settings.backend.url):
        status.publish(Availability("network", None, "status.network_not_configured"))
        return None
    from kiosk.backend.service import BackendConfigError, attach_status, build_backend, health_from_devices

    try:
        embedded = embed_backend(settings) if settings.backend.embedded and embed_backend else None
        backend = build_backend(settings, health_source=health_from_devices(devices), embedded=embedded)
    except BackendConfigError as exc:
        devices.stop()
        raise ConfigError(settings.source, str(exc), key="backend") from None
    status.publish(Availability("network", None, "status.network_checking"))
    attach_status(backend, status)
    backend.start()
    return backend
