"""The composition root: the one module that turns settings into a running kiosk's parts.

It alone decides, from the configuration,

- what each device is: a real driver, a simulator that speaks the device's wire protocol
  (on a pseudo-terminal, or in process for the printer) with the real driver pointed at it,
  or nothing (``device_plans``; the device manager only carries the plans out);
- what the backend is: a remote acceptance system, the reference backend embedded for the
  demo (started by the entry layer, which hands in ``embed_backend``: the kiosk's core never
  imports the server), or none.

``build_kiosk(settings)`` creates the session, the translator, the inactivity monitor, the
status board, the device manager, the backend services, the service catalogue, the pinyin
input method and the journeys' flows, and wires them together. The UI receives the finished
``Kiosk`` and never constructs any of these itself; journeys that start on a resident's touch
come from its factories (``new_agent_flow``, ``new_apply_flow``: the apply journey gets the
camera, the print queue, the backend and the locker question from here). With the reference
backend embedded, its fault switch answers ``kiosk sim backend …`` like a simulated device.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from drivers.events import Listeners, Subscription
from kiosk.catalog.service import CatalogPaths, CatalogService
from kiosk.config import ConfigError, Settings, check_secret_permissions
from kiosk.devices import BuildContext, Built, DeviceManager, DevicePlan
from kiosk.flows.agent import AgentFlow
from kiosk.flows.follow import FollowFlow
from kiosk.flows.pickup import PickupFlow
from kiosk.flows.rating import RatingFlow, RatingTarget
from kiosk.flows.identify import IdentifyFlow
from kiosk.flows.inputs import InputRouter
from kiosk.flows.staff_call import StaffCallFlow
from kiosk.i18n import Translator
from kiosk.ime.service import ImeService
from kiosk.inactivity import IdleMonitor
from kiosk.session import Session
from kiosk.status import Availability, StatusBoard
from kiosk.tasks import TaskRunner
from kiosk.voice import Prompter, voice_from_settings

if TYPE_CHECKING:
    from kiosk.flows.apply import ApplyFlow
    from kiosk.receipts.jobs import PrintQueue

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
    embed_backend: Callable[[Settings], Any] | None = None
    #: where placed cards and scanned codes go: the journey that claimed them last
    inputs: InputRouter | None = None
    #: the kiosk-wide sign-in, listening from start to shutdown
    identify: IdentifyFlow | None = None
    staff_call: StaffCallFlow | None = None
    #: receipts wait here until the printer confirms them (None without a printer)
    print_queue: PrintQueue | None = None
    #: runs the flows' slow work (backend calls) off the device and UI threads
    tasks: TaskRunner | None = None
    today: Callable[[], dt.date] = dt.date.today
    #: the application being made (issue 11), from ``guide.apply`` until the next one or the session's end
    apply: Any | None = None
    #: spoken prompts (espeak-ng), on or off per session
    voice: Prompter | None = None
    #: the slips of following and collecting (acceptance receipt again, pickup slip)
    slips: Any = None
    #: the doors this terminal unlocked, per pickup (opened next to the outbox on first use)
    _ledger: Any = None
    _waiting_listeners: Listeners = field(default_factory=lambda: Listeners("pickups waiting"))

    # -- technicians (issue 13): the hidden entry's PIN gate and the audit trail --
    technician_gate: Any | None = None
    auditor: Any | None = None
    flight: Any | None = None  # kiosk.flight.FlightRecorder: every session's PII-free event log

    def start_services(self, start_devices: bool = True, start_backend: bool = True) -> None:
        try:
            if start_devices and self.devices is not None:
                self.devices.start()
                self._attach_print_queue()
            if start_backend:
                self.backend = _build_backend(self.settings, self.status, self.devices, self.embed_backend)
                self._attach_catalog_source()
                self._attach_backend_control()
                self._report_interrupted_pickups()
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

    def _attach_print_queue(self) -> None:
        printer = self.devices.printer if self.devices is not None else None
        if printer is not None:
            from kiosk.receipts.jobs import PrintQueue

            self.print_queue = PrintQueue(printer)
            printer.subscribe(self.print_queue.on_printer_status)

    # -- journeys ------------------------------------------------------------------------------
    def background(self, work: Callable[[], None]) -> None:
        """Run a flow's slow step on a worker thread."""
        self.tasks.submit(work)

    def backend_services(self) -> Any | None:
        """The backend services once started (flows ask at the moment they need them)."""
        return self.backend

    def new_agent_flow(self) -> AgentFlow:
        """A 代办 journey, started: it holds the card reader and the codes until it ends."""
        return AgentFlow(self.session, self.inputs, self.backend_services, self.background, self.today).start()

    # -- issue 11: applying at the kiosk --------------------------------------------------------
    def new_apply_flow(self, code: str) -> "ApplyFlow":
        """An application for item ``code``, started (it waits for a sign-in when nobody is signed in).

        Raises ``ValueError`` for an item that cannot be applied for here. The flow is kept as
        ``apply`` until the next one starts; it ends with the session."""
        from kiosk.apply.camera import CameraAccess
        from kiosk.flows.apply import ApplyFlow, Terminal
        from kiosk.vision.capture import CaptureOptions

        item = self.catalog.item(code) if self.catalog is not None else None
        if item is None or not item.can_apply_here:
            raise ValueError(f"{code} cannot be applied for at this kiosk")
        if self.apply is not None:
            self.apply.end()
        settings = self.settings
        camera_section = settings.devices.camera

        def printing():
            queue = self.print_queue
            if queue is None:
                return None
            from kiosk.receipts.layout import Target

            return queue, Target.for_printer(queue.printer)

        def has_locker() -> bool:
            return self.devices is not None and self.devices.locker is not None

        terminal = Terminal(settings.terminal.id, settings.terminal.name, settings.terminal.service_phone,
                            settings.devices.printer.logo)
        self.apply = ApplyFlow(item, self.session, self.backend_services, self.background, terminal=terminal,
                               camera=CameraAccess(self.devices, self.status) if camera_section.driver != "none"
                               else None,
                               capture_options=lambda aspect: CaptureOptions.from_settings(camera_section, aspect),
                               printing=printing, has_locker=has_locker, today=self.today).start()
        return self.apply

    # -- following, collecting, rating (issue 12) ----------------------------------------------
    def new_follow_flow(self) -> FollowFlow:
        """办件查询, started: it holds the card reader and the codes until it ends."""
        return FollowFlow(self.session, self.inputs, self.backend_services, self.background, self.settings.terminal.id,
                          self.slips, self.print_receipt, self.speak, self.today).start()

    def new_pickup_flow(self) -> PickupFlow:
        """自助取件, started: verifies a signed-in resident at once, listens to the locker's doors."""
        devices = self.devices
        return PickupFlow(self.session, self.inputs, self.backend_services, self.background,
                          locker=lambda: devices.locker if devices is not None else None,
                          subscribe_doors=devices.subscribe_doors if devices is not None else None,
                          ledger=self.pickup_ledger, slips=self.slips, print_receipt=self.print_receipt,
                          speak=self.speak, close_reminder_seconds=self.settings.pickup.close_reminder_seconds,
                          today=self.today).start()

    def new_rating_flow(self, target: RatingTarget | None = None) -> RatingFlow:
        """好差评 of ``target`` (a journey's offer), or, without one, of a case the resident chooses."""
        return RatingFlow(self.session, self.inputs, self.backend_services, self.background, target, self.speak,
                          self.today).start()

    def speak(self, key: str, **values: Any) -> None:
        if self.voice is not None:
            self.voice.say(key, **values)

    def print_receipt(self, kind: str, receipt: Any) -> Any:
        """Print a slip layout on the receipt printer (blocking: call it on a worker thread).
        Returns the ``PrintJob``, or None when the terminal has no printer."""
        queue = self.print_queue
        if queue is None:
            return None
        from kiosk.receipts.layout import Target, compile_receipt

        return queue.submit(kind, compile_receipt(receipt, Target.for_printer(queue.printer)).data)

    def pickup_ledger(self) -> Any:
        """The ledger of unlocked doors, next to the outbox (in memory without a backend)."""
        if self._ledger is None:
            from kiosk.pickup_ledger import PickupLedger

            folder = getattr(self.backend, "state_dir", None)
            self._ledger = PickupLedger(folder / "pickup-ledger.sqlite3" if folder is not None else None)
        return self._ledger

    def _report_interrupted_pickups(self) -> None:
        """Doors that a previous run of the kiosk unlocked and never saw through (it stopped before
        the pickup was confirmed): each becomes a staff call with the door, through the outbox, so
        that a person checks the compartment and the case (the result may be gone or still there)."""
        if self.backend is None:
            return
        try:
            ledger = self.pickup_ledger()
            unfinished = ledger.unfinished()
        except Exception as exc:  # an unreadable ledger must not stop the start; the next start tries again
            log.error("pickup ledger not readable", extra={"fields": {"error": type(exc).__name__}})
            return
        for pickup_id, door in unfinished:
            try:
                self.backend.call_staff("pickup.open", alert="pickup_interrupted", door=door)
            except Exception as exc:  # not stored: the next start tries again
                log.warning("interrupted pickup not reported", extra={"fields": {"door": door,
                                                                                 "error": type(exc).__name__}})
                continue
            ledger.note(pickup_id, "reported")
            log.warning("a pickup interrupted by a stop was reported to staff", extra={"fields": {"door": door}})

    def subscribe_pickups_waiting(self, listener: Callable[[int], None]) -> Subscription:
        """``listener(n)`` hears each heartbeat answer: how many results wait in this locker."""
        return self._waiting_listeners.add(listener)

    def pickups_waiting(self) -> int | None:
        """Results waiting in this terminal's locker, as the last heartbeat said (None: not known yet)."""
        ack = getattr(self.backend, "last_ack", None)
        return ack.pickups_waiting if ack is not None else None

    def _attach_backend_control(self) -> None:
        """The embedded backend's testers' handle joins the simulators (``kiosk sim backend …``), and
        each heartbeat's answer (results waiting here) reaches ``subscribe_pickups_waiting``."""
        control = getattr(getattr(self.backend, "embedded", None), "control", None)
        if control is not None and self.devices is not None:
            self.devices.register_control("backend", control)
        if self.backend is not None and hasattr(self.backend, "subscribe_heartbeat"):
            self.backend.subscribe_heartbeat(lambda ack: self._waiting_listeners.publish(ack.pickups_waiting))

    def new_technician_flow(self):
        """The hidden entry was opened: a ``TechnicianFlow`` at its PIN pad (audited)."""
        from kiosk.technician.flow import TechnicianFlow

        return TechnicianFlow(self.technician_gate, self.auditor).start()

    def _attach_catalog_source(self) -> None:
        """Once the backend runs, its catalogue cache is where search reads items from."""
        if self.backend is not None and self.catalog is not None:
            cache = self.backend.catalog
            self.catalog.attach_source(lambda: cache.version,
                                       lambda: [item.model_dump(mode="json") for item in cache.items()])

    def warm_up(self) -> None:
        """Slow preparation for a worker thread at start-up: index the catalogue and its guide
        texts, open (or first build) the word dictionary and the pinyin lexicon. Failures are
        logged; what works, works."""
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
        if self.voice is not None:
            self.voice.stop()
        for flow in (self.identify, self.staff_call, self.apply):
            if flow is not None:
                flow.end()
        if self.inputs is not None:
            self.inputs.close()
        if self.tasks is not None:
            self.tasks.shutdown()
        self.services_ready.wait(30)
        if self.devices is not None:
            self.devices.stop()
        if self.backend is not None:
            self.backend.stop()
        if self._ledger is not None:
            self._ledger.close()
        if self.catalog is not None:
            self.catalog.close()
        if self.flight is not None:
            self.flight.close()


def build_kiosk(settings: Settings, start_devices: bool = True, start_backend: bool = True,
                background: bool = False, embed_backend: Any | None = None) -> Kiosk:
    """Assemble the kiosk; start its devices and backend now, or on a thread with ``background``."""
    check_backend_settings(settings)  # a bad [backend] stops the start here, not later on a thread
    session = Session(settings.session.scratch_dir or None)
    session.remove_leftovers()
    translator = Translator(settings.display.language)
    idle = IdleMonitor(session, settings.session.idle_seconds, settings.session.countdown_seconds)
    status = StatusBoard()
    devices = DeviceManager(settings.devices, status, device_plans(settings), terminal_id=settings.terminal.id,
                            history=_health_history())
    catalog = CatalogService.from_settings(settings)
    ime = ImeService(CatalogPaths.from_settings(settings.catalog).cache_dir)
    kiosk = Kiosk(settings=settings, session=session, translator=translator, idle=idle, status=status,
                  devices=devices, catalog=catalog, ime=ime, inputs=InputRouter(devices),
                  tasks=TaskRunner(lambda callback: callback(), max_workers=2, name="kiosk-flow"),
                  embed_backend=embed_backend)
    # listening before the devices start: a card already on the reader signs its holder in
    kiosk.identify = IdentifyFlow(session, kiosk.inputs, kiosk.backend_services, kiosk.background,
                                  kiosk.today).start()
    kiosk.staff_call = StaffCallFlow(kiosk.backend_services, kiosk.background)
    # following, collecting, rating (issue 12): spoken prompts and the slips
    from kiosk.receipts.case_slips import CaseSlips

    kiosk.voice = Prompter(voice_from_settings(settings), translator, session, settings.voice.enabled)
    kiosk.slips = CaseSlips.from_settings(settings)
    _attach_technician(kiosk)
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


# -- technicians (issue 13): health history ------------------------------------------------


def _health_history():
    """Every device's status changes, kept in ``<state dir>/health-history.json`` for the
    diagnostics screen, heartbeats and ``kiosk logs bundle``."""
    from kiosk.backend.service import default_state_dir
    from kiosk.health_history import HealthHistory

    return HealthHistory(path=default_state_dir() / "health-history.json")


def _attach_technician(kiosk: Kiosk) -> None:
    """The hidden entry's PIN gate (lockouts kept in ``<state dir>/technician-lockout.json``), the
    auditor that sends technicians' events to the backend, and the flight recorder (session,
    availability and simulator events; the UI adds screens and taps)."""
    from kiosk.backend.service import default_state_dir
    from kiosk.technician.audit import Auditor
    from kiosk.technician.gate import PinGate

    cfg = kiosk.settings.technician
    from kiosk.flight import FlightRecorder

    flight = kiosk.flight = FlightRecorder()
    session = kiosk.session
    session.subscribe(lambda event, reason: flight.on_session(event, reason, session.session_id or ""))
    kiosk.status.subscribe(lambda item: flight.availability(item.component, item.available, item.reason))
    if kiosk.devices is not None:
        kiosk.devices.sim_requests.add(flight.sim)
    kiosk.technician_gate = PinGate(cfg.pin_hash, default_state_dir() / "technician-lockout.json",
                                    cfg.free_attempts, cfg.lockout_seconds)
    kiosk.auditor = Auditor(kiosk.backend_services, kiosk.background)


# -- end of technicians' block ---------------------------------------------------------------


def check_backend_settings(settings: Settings) -> None:
    """Raise ``ConfigError`` now for a [backend] section that cannot work (no key, bad key, a key
    other users can read)."""
    cfg = settings.backend
    if cfg.embedded or not cfg.url:
        return
    check_secret_permissions(settings)
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
    from kiosk.backend.service import (BackendConfigError, attach_status, build_backend, health_from_devices,
                                       locker_report_from_devices)

    try:
        embedded = embed_backend(settings) if settings.backend.embedded and embed_backend else None
        backend = build_backend(settings, health_source=health_from_devices(devices), embedded=embedded,
                                locker_source=locker_report_from_devices(devices))
    except BackendConfigError as exc:
        devices.stop()
        raise ConfigError(settings.source, str(exc), key="backend") from None
    status.publish(Availability("network", None, "status.network_checking"))
    attach_status(backend, status)
    backend.start()
    return backend


# ---------------------------------------------------------------------------------------
# Devices: real driver, simulator or none — decided here and nowhere else


def device_plans(settings: Settings) -> list[DevicePlan]:
    """One plan per ``[devices.<class>]`` section whose driver is not ``"none"``."""
    plans = []
    for name, builders in _BUILDERS.items():
        section = getattr(settings.devices, name)
        if section.driver == "none":
            continue
        port = getattr(section, "port", "") or getattr(section, "serial_port", "") or getattr(section, "device", "")
        builder = builders.get(section.driver)
        if builder is None:
            known = ", ".join(sorted(builders))
            plans.append(DevicePlan(name, section.driver, str(port), _unknown_driver(name, section.driver, known)))
            continue
        plans.append(DevicePlan(name, section.driver, str(port),
                                lambda context, b=builder, n=name, sec=section: b(n, sec, context, settings)))
    return plans


def _unknown_driver(name: str, driver: str, known: str) -> Callable[[BuildContext], Built]:
    def build(_context: BuildContext) -> Built:
        raise ValueError(f"no driver {driver!r} for {name} (known: {known})")
    return build


def _faults(simulator: Any, text: str) -> None:
    try:
        simulator.apply_fault_list(text)
    except Exception as exc:
        simulator.stop()
        raise ValueError(f"simulator_faults: {exc}") from None


def _idcard_reader(port: str, section: Any, name: str):
    from drivers.idcard.reader import Ga467Reader

    return Ga467Reader(port, section.baud, name=name, timeout=section.timeout_seconds,
                       poll_interval=section.poll_seconds, read_fingerprint=section.read_fingerprint)


def _idcard_ga467(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    return Built(_idcard_reader(section.port, section, name))


def _idcard_simulator(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    from drivers.idcard.simulator import Ga467Simulator
    from drivers.sim.base import SimulatorError

    try:
        simulator = Ga467Simulator(name, link=context.sim_port(section, name), baud=section.baud,
                                   deck=section.simulator_deck or None, card=section.simulator_card or None)
    except SimulatorError as exc:
        raise ValueError(str(exc)) from None
    _faults(simulator, section.simulator_faults)
    simulator.start()
    return Built(_idcard_reader(simulator.path, section, name), simulator)


def _serial_scanner(port: str, section: Any, name: str):
    from drivers.scanner.serial_scanner import SerialScanner

    return SerialScanner(port, section.baud, name=name, prefix=section.prefix, suffix=section.suffix,
                         trigger=section.trigger)


def _scanner_serial(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    return Built(_serial_scanner(section.port, section, name))


def _scanner_hid(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    from drivers.scanner.hid import HidWedgeScanner

    return Built(HidWedgeScanner(section.port, name=name, grab=section.grab))


def _scanner_simulator(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    from drivers.scanner.simulator import ScannerSimulator

    simulator = ScannerSimulator(name, link=context.sim_port(section, name), baud=section.baud,
                                 trigger=section.trigger, prefix=section.prefix, suffix=section.suffix)
    _faults(simulator, section.simulator_faults)
    simulator.start()
    return Built(_serial_scanner(simulator.path, section, name), simulator)


def _locker_kwargs(section: Any) -> dict[str, Any]:
    from drivers.locker.protocols import protocol_for

    protocol = protocol_for(section.board)
    address = None if section.address < 0 else section.address
    low, high = protocol.board_range
    if address is not None and not low <= address <= high:
        raise ValueError(f"address {address} is not a {section.board} board address ({low}–{high})")
    return {"address": address, "doors": section.doors, "baud": section.baud or None}


def _locker_serial(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    from drivers.locker.locker import SerialLocker

    return Built(SerialLocker(section.port, section.board, name=name, timeout=section.timeout_seconds,
                              poll_interval=section.poll_seconds,
                              door_open_alert_seconds=section.door_open_alert_seconds,
                              latch_inverted=section.latch_inverted, **_locker_kwargs(section)))


def _locker_simulator(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    from drivers.locker.locker import SerialLocker
    from drivers.locker.simulator import LockerSimulator

    kwargs = _locker_kwargs(section)
    items = [int(part) for part in section.simulator_items.replace(" ", "").split(",") if part]
    simulator = LockerSimulator(name, link=context.sim_port(section, name), board=section.board, items=items,
                                auto_pickup_seconds=section.simulator_pickup_seconds, **kwargs)
    _faults(simulator, section.simulator_faults)
    try:
        locker = SerialLocker(simulator.path, section.board, name=name, timeout=section.timeout_seconds,
                              poll_interval=section.poll_seconds,
                              door_open_alert_seconds=section.door_open_alert_seconds, **kwargs)
    except ValueError:
        simulator.stop()
        raise
    simulator.start()
    return Built(locker, simulator)


def build_printer(settings: Settings, name: str = "printer"):
    """The configured receipt printer (not opened): real ESC/POS or the in-process simulator.

    Its external health check prints the real test page. ``None`` when the driver is "none".
    """
    from drivers.base import DeviceError
    from drivers.printer import create_printer, simulated_printer
    from kiosk.receipts.printing import test_page_for

    section = settings.devices.printer
    if section.driver == "none":
        return None
    make = simulated_printer if section.driver == "simulator" else create_printer
    terminal_id = settings.terminal.id
    try:
        return make(**dataclasses.asdict(section), name=name,
                    test_page=lambda printer: test_page_for(printer, terminal_id, section.logo).data)
    except DeviceError as exc:
        raise ValueError(str(exc)) from None


def _printer(name: str, section: Any, context: BuildContext, settings: Settings) -> Built:
    from drivers.printer.simulator.controllable import ControllablePrinterSimulator

    printer = build_printer(settings, name)
    simulator = getattr(printer.link, "simulator", None)
    if simulator is None:
        return Built(printer)
    controllable = ControllablePrinterSimulator(simulator, name)
    _faults(controllable, section.simulator_faults)
    return Built(printer, controllable)


def _camera(name: str, section: Any, context: BuildContext, _settings: Settings) -> Built:
    """opencv or simulator; with ``scan_codes`` a code scanner on the same camera comes along."""
    from drivers.camera.device import DocumentCamera

    if section.driver == "simulator":
        from drivers.camera.simulator import SimulatedSource

        source = SimulatedSource(section.width, section.height, section.fps, scene=section.simulator_scene,
                                 fault=section.simulator_fault, control_path=section.simulator_control or None)
    else:
        from drivers.camera.sources import OpenCVSource

        source = OpenCVSource(section.device, section.width, section.height, section.fourcc, section.fps)
    # streaming costs a core's worth of decoding and ≈100 MiB (OpenCV, NumPy, the frames): only a
    # code scanner keeps it running all the time; a document camera alone waits in standby (probed
    # at start, opened while a material is captured, closed after)
    camera = DocumentCamera(source, name=name, standby=not section.scan_codes)
    # the simulated source answers the simulator control interface (kiosk sim camera show FILE …)
    built = Built(camera, simulator=source if section.driver == "simulator" else None,
                  enable_on_open=section.scan_codes)
    if section.scan_codes:
        from drivers.camera.scanner import CameraCodeScanner
        from kiosk.vision.codes import read_codes

        # refused codes too, so that a resident holding up an unreadable code is told so
        scanner = CameraCodeScanner(camera, lambda image: read_codes(image, mode="frame", refused=True),
                                    name=f"{name}_scanner")
        built.companions.append((f"{name}_scanner", Built(scanner)))
    return built


_BUILDERS: dict[str, dict[str, Callable[[str, Any, BuildContext, Settings], Built]]] = {
    "idcard": {"ga467": _idcard_ga467, "simulator": _idcard_simulator},
    "scanner": {"serial": _scanner_serial, "hid": _scanner_hid, "simulator": _scanner_simulator},
    "locker": {"serial": _locker_serial, "simulator": _locker_simulator},
    "printer": {"escpos": _printer, "simulator": _printer},
    "camera": {"opencv": _camera, "simulator": _camera},
}
