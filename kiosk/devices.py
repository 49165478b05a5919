"""The device manager: builds the devices the composition root planned, keeps them alive, and
says what is usable.

It gets one ``DevicePlan`` per configured device from the composition root
(``kiosk.runtime.device_plans``: the only place that decides real driver, simulator or none),
builds each one, then hands it to a supervisor thread that:

- opens and enables it; if that fails, tries again after 0.5 s, 1 s, 2 s … up to
  ``reopen_max_seconds`` (exponential backoff), so an unplugged reader comes back by itself;
- runs ``check_health("internal")`` every ``health_seconds`` and reopens a device whose
  status went offline / no device (port vanished, board silent) or whose health check failed
  twice in a row;
- publishes the device's availability to the ``StatusBoard`` on every status change, with a
  translation key the UI can show a resident (``device.<class>.unavailable``, or a more
  specific one such as ``device.locker.door_left_open``).

Scanned codes from any scanner go through ``kiosk.payloads.classify`` and reach listeners
registered with ``subscribe_payloads``; ``feed_payload`` lets other code feed the same path.
ID cards and door events are forwarded from the devices to ``subscribe_cards`` and
``subscribe_doors`` listeners. Every ``subscribe_*`` returns a ``Subscription``. Listeners run
on device threads: UI code hops to its own thread (``screens.ui_thread``).
"""
from __future__ import annotations

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
from kiosk.health_history import HealthHistory
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


@dataclass(frozen=True)
class DevicePlan:
    """What the composition root decided for one device: its driver and how to build it.

    ``build(context)`` returns a ``Built``; it raises ``ValueError`` (or ``OSError``,
    ``DeviceError``) for a configuration that cannot work: the message reaches the log and
    the technician's device summary, and the device is shown unavailable.
    """

    name: str
    driver: str
    port: str
    build: Callable[[BuildContext], Built]


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
        self.manager.history.record_event(event)
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
            self.device.last_error = exc
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
    def __init__(self, settings: Any, status: StatusBoard, plans: list[DevicePlan] | None = None, *,
                 sim_dir: str | Path | None = None, control_socket: str | Path | None = None,
                 terminal_id: str = "", history: HealthHistory | None = None):
        """``settings`` is the ``[devices]`` section (``kiosk.config.DevicesSettings``: health and
        reopen timing, the simulator control socket); ``plans`` come from the composition root;
        ``history`` keeps every status change (a fresh in-memory one when not given)."""
        self.settings = settings
        self.plans = list(plans or [])
        self.status = status
        self.context = BuildContext(Path(sim_dir) if sim_dir else default_sim_dir(), terminal_id)
        self.control_path = control_socket or getattr(settings, "sim_control", "") or None
        self.control = None
        self._supervisors: dict[str, _Supervisor] = {}
        self._failed: dict[str, DeviceInfo] = {}
        self._last_reports: dict[str, HealthReport] = {}
        self.history = history or HealthHistory()
        #: every request the simulators carried out (``kiosk sim``, a scenario's ``sim:``, the panel)
        self.sim_requests: Listeners[dict] = Listeners("simulator request", "devices")
        self._payload_listeners: Listeners[Payload] = Listeners("payload", "devices")
        self._card_listeners: Listeners[Any] = Listeners("card", "devices")
        self._door_listeners: Listeners[Any] = Listeners("door", "devices")
        self._reasons = _known_reasons()
        self._lock = threading.Lock()
        self.started = False

    # -- building ----------------------------------------------------------------------------------
    def start(self) -> "DeviceManager":
        if self.started:
            return self
        self.started = True
        for plan in self.plans:
            try:
                built = plan.build(self.context)
            except (ValueError, OSError, DeviceError) as exc:
                self._build_failed(plan.name, plan.driver, plan.port, str(exc))
                continue
            except Exception as exc:  # one device's surprise must not keep the others and the backend down
                log.exception("building a device failed")
                self._build_failed(plan.name, plan.driver, plan.port, f"{type(exc).__name__}: {exc}")
                continue
            for part_name, part in [(plan.name, built)] + built.companions:
                self._supervise(part_name, plan.driver, part)
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
        self.history.record(name, "not built", "", message)
        self.status.publish(Availability(name, False, self._reason(name, "unavailable")))

    def register_control(self, name: str, controllable: Any) -> None:
        """Let ``kiosk sim`` drive one more simulated part by ``name`` (the embedded backend's
        ``backend`` handle): anything with ``control(action, params)`` and ``state()``. It goes
        away with the control socket when the manager stops."""
        self._control_server().register(name, controllable)

    def _control_server(self):
        if self.control is None:
            from drivers.sim.control import SimControlServer

            self.control = SimControlServer(self.control_path)
            self.control.on_request = self.sim_requests.publish
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

    def last_report(self, name: str) -> HealthReport | None:
        """The supervisor's newest internal health check of ``name`` (None before the first)."""
        return self._last_reports.get(name)

    def driver_of(self, name: str) -> str:
        supervisor = self._supervisors.get(name)
        if supervisor is not None:
            return supervisor.driver
        failed = self._failed.get(name)
        return failed.driver if failed else ""

    def names(self) -> list[str]:
        """Every device the plans named, built or not (camera scanners included)."""
        return sorted(set(self._supervisors) | set(self._failed))

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
