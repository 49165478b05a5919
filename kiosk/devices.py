"""The device manager: builds each configured device, keeps it alive, and says what is usable.

For every ``[devices.<class>]`` section whose ``driver`` is not ``"none"`` the manager looks
up a factory registered for (class, driver) — ``register_driver("idcard", "ga467", factory)``
— builds the device (and, for ``driver = "simulator"``, starts the simulator on a
pseudo-terminal in this process and points the real driver at it), then hands it to a
supervisor thread that:

- opens and enables it; if that fails, tries again after 0.5 s, 1 s, 2 s … up to
  ``reopen_max_seconds`` (exponential backoff), so an unplugged reader comes back by itself;
- runs ``check_health("internal")`` every ``health_seconds`` and reopens a device whose
  status went offline / no device (port vanished, board silent) or whose health check failed
  twice in a row;
- publishes the device's availability to the ``StatusBoard`` on every status change, with a
  translation key the UI can show a resident (``device.<class>.unavailable``, or a more
  specific one such as ``device.locker.door_left_open``).

Only explicit configuration chooses a simulator: a real device that cannot be opened stays
unavailable; it never falls back to a simulation. Other device classes (printer, camera)
plug in by registering their factories and adding a ``[devices.<class>]`` section with a
``driver`` key; the manager picks up every such section.

Scanned codes from any scanner go through ``kiosk.payloads.classify`` and reach listeners
registered with ``subscribe_payloads``; ``feed_payload`` lets a camera scanner feed the same
path. ID cards and door events are forwarded from the devices to ``subscribe_cards`` and
``subscribe_doors`` listeners. Listeners run on device threads: UI code hops to its own
thread (``screens.ui_thread``).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers.base import Device, DeviceError, HealthLevel, HealthReport, State, StatusEvent
from drivers.events import Listeners, Subscription
from kiosk.payloads import Payload, classify
from kiosk.status import Availability, StatusBoard

log = logging.getLogger(__name__)

INITIAL_BACKOFF = 0.5
HEALTH_FAILURES_BEFORE_REOPEN = 2


@dataclass
class Built:
    """What a factory returns: the device, and the simulator behind it if simulated."""

    device: Device
    simulator: Any | None = None  # start()/stop()/control()/state()
    #: further devices built on this one (e.g. the camera's code scanner), supervised alike
    companions: list[tuple[str, "Built"]] = field(default_factory=list)
    #: False for devices that cost CPU while enabled (a streaming camera): they are opened and
    #: health-checked, but run only between ``DeviceManager.enable`` and ``disable``
    enable_on_open: bool = True


@dataclass
class BuildContext:
    sim_dir: Path  # where simulators put their pseudo-terminal links
    terminal_id: str = ""  # printed on test pages and diagnostics slips

    def sim_port(self, section: Any, name: str) -> str:
        port = getattr(section, "port", "")
        return port or str(self.sim_dir / name)


Factory = Callable[[str, Any, BuildContext], Built]
_DRIVERS: dict[str, dict[str, Factory]] = {}


def register_driver(device_class: str, driver: str, factory: Factory) -> None:
    """Make ``driver = "<driver>"`` in ``[devices.<device_class>]`` build devices with ``factory``.

    ``factory(name, section, context)`` gets the device's name, its settings section and a
    ``BuildContext``, and returns a ``Built``. Raise ``ValueError`` for a configuration the
    driver cannot use; the message reaches the log and the technician's device summary.
    """
    _DRIVERS.setdefault(device_class, {})[driver] = factory


def registered_drivers(device_class: str) -> list[str]:
    return sorted(_DRIVERS.get(device_class, {}))


def default_sim_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "kiosk-sim"
    return Path(tempfile.gettempdir()) / f"kiosk-sim-{os.getuid()}"


def _known_reasons() -> set[str]:
    try:
        from kiosk.i18n import load_strings

        return set(load_strings())
    except Exception:  # strings missing or broken: the generic key still works as text
        return set()


@dataclass
class DeviceInfo:
    """A technician's one-line view of a device."""

    name: str
    device_class: str
    driver: str
    port: str
    state: str
    available: bool | None
    error: str = ""
    simulated: bool = False
    counters: dict[str, int] = field(default_factory=dict)


class _Supervisor:
    """Keeps one device open: opens with backoff, watches status and health, reopens."""

    def __init__(self, manager: "DeviceManager", name: str, driver: str, built: Built):
        self.manager = manager
        self.name = name
        self.driver = driver
        self.built = built
        self.device = built.device
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"devices-{name}", daemon=True)
        self.backoff = INITIAL_BACKOFF
        self.last_error = ""
        self.opened_once = False
        self.health_failures = 0
        self.wanted_enabled = built.enable_on_open
        self.device.subscribe(self._on_status)

    def _on_status(self, event: StatusEvent) -> None:
        self.manager._publish(self)
        # a device that was running and dropped out: reopen now rather than at the next health check
        if self.device.is_open and event.current.state in (State.OFFLINE, State.NO_DEVICE):
            self.wake.set()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5.0)
        try:
            self.device.close()
        except Exception:
            log.exception("closing a device failed", extra={"fields": {"device": self.name}})

    def _wait(self, seconds: float) -> None:
        self.wake.wait(seconds)
        self.wake.clear()

    def run(self) -> None:
        settings = self.manager.settings
        while not self.stop_event.is_set():
            if not self.device.is_open or self.device.status.state in (State.OFFLINE, State.NO_DEVICE):
                if not self._try_open():
                    self._wait(self.backoff)
                    self.backoff = min(self.backoff * 2, settings.reopen_max_seconds)
                continue
            self._wait(settings.health_seconds)
            if self.stop_event.is_set() or self.device.status.state in (State.OFFLINE, State.NO_DEVICE):
                continue
            report = self.device.check_health(HealthLevel.INTERNAL)
            self.manager._last_reports[self.name] = report
            if report.ok or self.device.status.state not in (State.ONLINE, State.BUSY):
                # a device that reports its own fault (SAM failure, jammed lock, door left open)
                # is talking: reopening the port would not help
                self.health_failures = 0
            else:
                self.health_failures += 1
                self.last_error = report.summary
                if self.health_failures >= HEALTH_FAILURES_BEFORE_REOPEN:
                    log.warning("device failed its health check; reopening",
                                extra={"fields": {"device": self.name, "summary": report.summary}})
                    self._close_quietly()

    def _close_quietly(self) -> None:
        try:
            self.device.close()
        except Exception:
            log.exception("closing a device failed", extra={"fields": {"device": self.name}})

    def _try_open(self) -> bool:
        if self.device.is_open:
            self._close_quietly()
        try:
            self.device.open()
            if self.wanted_enabled:
                self.device.enable()
        except DeviceError as exc:
            self.last_error = str(exc)
            if self.device.is_open:
                self._close_quietly()
            self.device.set_status(State.NO_DEVICE if exc.code == "DEV-002" else State.OFFLINE,
                                   error_code=exc.code)
            self.manager._publish(self)
            self.wake.clear()  # the failure's own status event must not cut the backoff short
            log.info("device not available", extra={"fields": {"device": self.name, "error": str(exc),
                                                               "retry_in": round(self.backoff, 1)}})
            return False
        except Exception as exc:  # a driver bug: keep trying, loudly
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("opening a device failed unexpectedly", extra={"fields": {"device": self.name}})
            self._close_quietly()
            self.wake.clear()
            return False
        if self.opened_once:
            self.device.count("reconnects")
            log.info("device reconnected", extra={"fields": {"device": self.name}})
        self.opened_once = True
        self.backoff = INITIAL_BACKOFF
        self.health_failures = 0
        self.last_error = ""
        self.manager._publish(self)
        return True


class DeviceManager:
    def __init__(self, settings: Any, status: StatusBoard, *, sim_dir: str | Path | None = None,
                 control_socket: str | Path | None = None, terminal_id: str = ""):
        """``settings`` is the ``[devices]`` section (``kiosk.config.DevicesSettings``)."""
        self.settings = settings
        self.status = status
        self.context = BuildContext(Path(sim_dir) if sim_dir else default_sim_dir(), terminal_id)
        self.control_path = control_socket or getattr(settings, "sim_control", "") or None
        self.control = None
        self._supervisors: dict[str, _Supervisor] = {}
        self._failed: dict[str, DeviceInfo] = {}
        self._last_reports: dict[str, HealthReport] = {}
        self._payload_listeners: Listeners[Payload] = Listeners("payload", "devices")
        self._card_listeners: Listeners[Any] = Listeners("card", "devices")
        self._door_listeners: Listeners[Any] = Listeners("door", "devices")
        self._reasons = _known_reasons()
        self._lock = threading.Lock()
        self.started = False

    # -- building ----------------------------------------------------------------------------------
    def sections(self) -> list[tuple[str, Any]]:
        """(name, section) of every device section that names a driver."""
        found = []
        for f in dataclasses.fields(self.settings):
            section = getattr(self.settings, f.name)
            if dataclasses.is_dataclass(section) and hasattr(section, "driver"):
                found.append((f.name, section))
        return found

    def start(self) -> "DeviceManager":
        if self.started:
            return self
        self.started = True
        for name, section in self.sections():
            if section.driver == "none":
                continue
            factory = _DRIVERS.get(name, {}).get(section.driver)
            if factory is None:
                self._build_failed(name, section.driver, getattr(section, "port", ""),
                                   f"no driver {section.driver!r} for {name} "
                                   f"(registered: {', '.join(registered_drivers(name)) or 'none'})")
                continue
            try:
                built = factory(name, section, self.context)
            except (ValueError, OSError, DeviceError) as exc:
                self._build_failed(name, section.driver, getattr(section, "port", ""), str(exc))
                continue
            for part_name, part in [(name, built)] + built.companions:
                self._supervise(part_name, section.driver, part)
        return self

    def _supervise(self, name: str, driver: str, built: Built) -> None:
        supervisor = _Supervisor(self, name, driver, built)
        self._wire(name, built.device)
        if built.simulator is not None:
            self._control_server().register(name, built.simulator)
        self._supervisors[name] = supervisor
        self.status.publish(Availability(name, None, "device.starting"))
        supervisor.start()

    def _build_failed(self, name: str, driver: str, port: str, message: str) -> None:
        log.error("device cannot be built", extra={"fields": {"device": name, "driver": driver, "error": message}})
        self._failed[name] = DeviceInfo(name, name, driver, port, "not built", False, message)
        self.status.publish(Availability(name, False, self._reason(name, "unavailable")))

    def _control_server(self):
        if self.control is None:
            from drivers.sim.control import SimControlServer

            self.control = SimControlServer(self.control_path)
            try:
                self.control.start()
            except Exception as exc:
                log.error("simulator control socket not started",
                          extra={"fields": {"socket": str(self.control.path), "error": str(exc)}})
        return self.control

    def _wire(self, name: str, device: Device) -> None:
        if hasattr(device, "subscribe_scans"):  # every code scanner: serial, HID, camera
            device.subscribe_scans(self.feed_payload)
        if hasattr(device, "subscribe_cards"):
            device.subscribe_cards(self._card_listeners.publish)
        if hasattr(device, "subscribe_doors"):
            device.subscribe_doors(self._door_listeners.publish)

    def stop(self) -> None:
        for supervisor in list(self._supervisors.values()):
            supervisor.stop()
            simulator = supervisor.built.simulator
            if simulator is not None:
                try:
                    simulator.stop()
                except Exception:
                    log.exception("stopping a simulator failed", extra={"fields": {"device": supervisor.name}})
        if self.control is not None:
            self.control.stop()
        self.started = False

    # -- what the rest of the kiosk uses --------------------------------------------------------------
    def device(self, name: str) -> Device | None:
        supervisor = self._supervisors.get(name)
        return supervisor.device if supervisor else None

    def enable(self, name: str) -> None:
        """Start a device that runs on demand (the camera while a capture screen shows)."""
        supervisor = self._supervisors.get(name)
        if supervisor is None:
            return
        supervisor.wanted_enabled = True
        if supervisor.device.is_open:
            supervisor.device.enable()

    def disable(self, name: str) -> None:
        supervisor = self._supervisors.get(name)
        if supervisor is None:
            return
        supervisor.wanted_enabled = False
        supervisor.device.disable()

    def simulator(self, name: str) -> Any | None:
        supervisor = self._supervisors.get(name)
        return supervisor.built.simulator if supervisor else None

    @property
    def idcard(self):
        return self.device("idcard")

    @property
    def scanner(self):
        return self.device("scanner")

    @property
    def locker(self):
        return self.device("locker")

    @property
    def printer(self):
        return self.device("printer")

    @property
    def camera(self):
        return self.device("camera")

    def subscribe_payloads(self, listener: Callable[[Payload], None]) -> Subscription:
        return self._payload_listeners.add(listener)

    def subscribe_cards(self, listener: Callable[[Any], None]) -> Subscription:
        return self._card_listeners.add(listener)

    def subscribe_doors(self, listener: Callable[[Any], None]) -> Subscription:
        return self._door_listeners.add(listener)

    def feed_payload(self, data: Any, source: str = "") -> Payload:
        """Classify a scanned payload (from any scanner) and hand it to the payload listeners."""
        payload = classify(data, source)
        if not payload.accepted:
            log.info("scanned code rejected", extra={"fields": {"source": payload.source, "problem": payload.problem,
                                                                "detail": payload.detail}})
        self._payload_listeners.publish(payload)
        return payload

    # -- availability ------------------------------------------------------------------------------------
    def _reason(self, device_class: str, what: str) -> str:
        key = f"device.{device_class}.{what}"
        if key in self._reasons:
            return key
        generic = f"device.{device_class}.unavailable"
        return generic if generic in self._reasons else "device.unavailable"

    def availability_of(self, name: str, device: Device) -> Availability:
        state = device.status.state
        device_class = device.device_class
        if state in (State.ONLINE, State.BUSY):
            return Availability(name, True, "")
        if state is State.USER_ERROR and device_class == "locker" and device.status.detail.get("left_open"):
            return Availability(name, False, self._reason("locker", "door_left_open"))
        if state is State.HARDWARE_ERROR and device_class == "locker" and device.status.detail.get("jammed"):
            return Availability(name, False, self._reason("locker", "jammed"))
        if state is State.CLOSED:
            return Availability(name, None, "device.starting")
        return Availability(name, False, self._reason(device_class, "unavailable"))

    def _publish(self, supervisor: _Supervisor) -> None:
        self.status.publish(self.availability_of(supervisor.name, supervisor.device))

    # -- diagnostics ---------------------------------------------------------------------------------------
    def describe(self) -> list[DeviceInfo]:
        infos = list(self._failed.values())
        for name, supervisor in self._supervisors.items():
            device = supervisor.device
            error = supervisor.last_error or str(getattr(device, "last_error", "") or "")
            infos.append(DeviceInfo(name, device.device_class, supervisor.driver, str(getattr(device, "port", "")),
                                    device.status.state.value, self.status.get(name).available,
                                    error if not self.status.is_available(name) else "",
                                    supervisor.built.simulator is not None, dict(device.counters)))
        return sorted(infos, key=lambda info: info.name)

    def check_health(self, level: HealthLevel | str = HealthLevel.INTERNAL) -> list[HealthReport]:
        return [supervisor.device.check_health(level) for supervisor in self._supervisors.values()]

    def wait_until_settled(self, timeout: float = 5.0) -> bool:
        """Wait until every device has been tried once (tests, start-up figures)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.status.get(name).available is not None for name in self._supervisors):
                return True
            time.sleep(0.02)
        return False


def card_problem_key(error: Exception | None) -> str:
    """The translation key telling a resident what to do after a failed card read."""
    from drivers.idcard.reader import CardReadError, NoCardError

    if isinstance(error, NoCardError):
        return "idcard.place_card"
    if isinstance(error, CardReadError) or getattr(error, "code", "") in ("DEV-004", "DEV-005"):
        return "idcard.read_failed"
    return "device.idcard.unavailable"


# ---------------------------------------------------------------------------------------
# Factories for the device classes built in this package


def _faults(simulator: Any, text: str) -> None:
    try:
        simulator.apply_fault_list(text)
    except Exception as exc:
        simulator.stop()
        raise ValueError(f"simulator_faults: {exc}") from None


def _idcard_ga467(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.idcard.reader import Ga467Reader

    return Built(Ga467Reader(section.port, section.baud, name=name, timeout=section.timeout_seconds,
                             poll_interval=section.poll_seconds, read_fingerprint=section.read_fingerprint))


def _idcard_simulator(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.idcard.reader import Ga467Reader
    from drivers.idcard.simulator import Ga467Simulator
    from drivers.sim.base import SimulatorError

    try:
        simulator = Ga467Simulator(name, link=context.sim_port(section, name), baud=section.baud,
                                   deck=section.simulator_deck or None, card=section.simulator_card or None)
    except SimulatorError as exc:
        raise ValueError(str(exc)) from None
    _faults(simulator, section.simulator_faults)
    simulator.start()
    reader = Ga467Reader(simulator.path, section.baud, name=name, timeout=section.timeout_seconds,
                         poll_interval=section.poll_seconds, read_fingerprint=section.read_fingerprint)
    return Built(reader, simulator)


def _scanner_serial(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.scanner.serial_scanner import SerialScanner

    return Built(SerialScanner(section.port, section.baud, name=name, prefix=section.prefix, suffix=section.suffix,
                               trigger=section.trigger))


def _scanner_hid(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.scanner.hid import HidWedgeScanner

    return Built(HidWedgeScanner(section.port, name=name, grab=section.grab))


def _scanner_simulator(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.scanner.serial_scanner import SerialScanner
    from drivers.scanner.simulator import ScannerSimulator

    simulator = ScannerSimulator(name, link=context.sim_port(section, name), baud=section.baud,
                                 trigger=section.trigger, prefix=section.prefix, suffix=section.suffix)
    _faults(simulator, section.simulator_faults)
    simulator.start()
    return Built(SerialScanner(simulator.path, section.baud, name=name, prefix=section.prefix,
                               suffix=section.suffix, trigger=section.trigger), simulator)


def _locker_kwargs(section: Any) -> dict[str, Any]:
    from drivers.locker.protocols import protocol_for

    protocol = protocol_for(section.board)
    address = None if section.address < 0 else section.address
    low, high = protocol.board_range
    if address is not None and not low <= address <= high:
        raise ValueError(f"address {address} is not a {section.board} board address ({low}–{high})")
    return {"address": address, "doors": section.doors, "baud": section.baud or None}


def _locker_serial(name: str, section: Any, context: BuildContext) -> Built:
    from drivers.locker.locker import SerialLocker

    return Built(SerialLocker(section.port, section.board, name=name, timeout=section.timeout_seconds,
                              poll_interval=section.poll_seconds,
                              door_open_alert_seconds=section.door_open_alert_seconds,
                              latch_inverted=section.latch_inverted, **_locker_kwargs(section)))


def _locker_simulator(name: str, section: Any, context: BuildContext) -> Built:
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


register_driver("idcard", "ga467", _idcard_ga467)
register_driver("idcard", "simulator", _idcard_simulator)
register_driver("scanner", "serial", _scanner_serial)
register_driver("scanner", "hid", _scanner_hid)
register_driver("scanner", "simulator", _scanner_simulator)
register_driver("locker", "serial", _locker_serial)
register_driver("locker", "simulator", _locker_simulator)


def _printer(name: str, section: Any, context: BuildContext) -> Built:
    """escpos or simulator: the printer driver builds its own link; the simulator runs in-process."""
    from drivers.base import DeviceError as _DeviceError
    from drivers.printer import create_printer
    from drivers.printer.simulator.controllable import ControllablePrinterSimulator
    from kiosk.receipts.printing import test_page_for

    try:
        printer = create_printer(**dataclasses.asdict(section), name=name,
                                 test_page=lambda p: test_page_for(p, context.terminal_id, section.logo).data)
    except _DeviceError as exc:
        raise ValueError(str(exc)) from None
    simulator = getattr(printer.link, "simulator", None)
    return Built(printer, ControllablePrinterSimulator(simulator, name) if simulator is not None else None)


register_driver("printer", "escpos", _printer)
register_driver("printer", "simulator", _printer)


def _camera(name: str, section: Any, context: BuildContext) -> Built:
    """opencv or simulator; with ``scan_codes`` a code scanner on the same camera comes along."""
    from drivers.camera.factory import build_camera

    camera = build_camera(**dataclasses.asdict(section), name=name)
    # streaming costs a core's worth of decoding: only a code scanner keeps it running all the time
    built = Built(camera, enable_on_open=section.scan_codes)
    if section.scan_codes:
        from drivers.camera.scanner import CameraCodeScanner
        from kiosk.vision.codes import read_codes

        scanner = CameraCodeScanner(camera, lambda image: read_codes(image, mode="frame"), name=f"{name}_scanner")
        built.companions.append((f"{name}_scanner", Built(scanner)))
    return built


register_driver("camera", "opencv", _camera)
register_driver("camera", "simulator", _camera)
