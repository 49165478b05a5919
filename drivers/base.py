"""The common device model every driver and simulator follows (after UnifiedPOS / XFS4IoT).

- Lifecycle: ``open() → enable() … disable() → close()``; ``close()`` is safe to call twice.
- Status: a common state (online, offline, busy, hardware error, user error, no device)
  plus a class-specific part (a dict: paper, card, doors…). Every change is published to
  subscribers as a ``StatusEvent``; listeners run on the thread that changed the status.
- ``check_health(level)`` with levels internal (no physical action), external (prints a
  test slip, pulses a lock…) and interactive (a technician at the screen), returning a
  ``HealthReport`` a person can read.
- Counters per device (reads, failures, reconnects…).
- One error hierarchy with stable codes (``DeviceError.code``) that a technician can look
  up in ``ERROR_CODES``; the raw device bytes travel with the error, never personal data
  in the message.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from drivers.events import Listeners, Subscription  # noqa: F401  (re-exported for drivers)

log = logging.getLogger(__name__)


class State(str, enum.Enum):
    """The common part of every device's status."""

    CLOSED = "closed"  # not opened yet, or closed
    ONLINE = "online"
    OFFLINE = "offline"  # opened once, now not answering / port gone
    BUSY = "busy"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"  # something a person fixes: paper out, door left open
    NO_DEVICE = "no_device"  # nothing at the configured port


class HealthLevel(str, enum.Enum):
    INTERNAL = "internal"  # no physical action
    EXTERNAL = "external"  # a visible/physical action: test slip, lock pulse
    INTERACTIVE = "interactive"  # with a technician at the screen


@dataclass(frozen=True)
class DeviceStatus:
    state: State
    detail: dict[str, Any] = field(default_factory=dict)  # the class part
    error_code: str = ""  # the last error's code, when state is an error
    since: float = field(default_factory=time.time)

    @property
    def usable(self) -> bool:
        return self.state in (State.ONLINE, State.BUSY)


@dataclass(frozen=True)
class StatusEvent:
    device: str  # the device's name, e.g. "idcard"
    previous: DeviceStatus | None
    current: DeviceStatus


@dataclass
class HealthReport:
    device: str
    level: HealthLevel
    ok: bool
    summary: str  # one line a technician reads first
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (check, passed, detail)
    counters: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"{self.device} [{self.level.value}]: {'OK' if self.ok else 'FAULT'} — {self.summary}"]
        lines += [f"  {'✓' if passed else '✗'} {name}: {detail}" for name, passed, detail in self.checks]
        if self.counters:
            lines.append("  counters: " + ", ".join(f"{k}={v}" for k, v in sorted(self.counters.items())))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Errors

#: Stable codes. A technician looks a code up here (and in the README's table).
ERROR_CODES: dict[str, str] = {
    "DEV-001": "device not opened (call open() first)",
    "DEV-002": "port or device not found",
    "DEV-003": "no answer within the timeout",
    "DEV-004": "malformed reply from the device",
    "DEV-005": "checksum error in a reply",
    "DEV-006": "device reported a hardware fault",
    "DEV-007": "device needs a person (paper, door, card…)",
    "DEV-008": "operation not supported by this device or driver",
    "DEV-009": "device busy with another operation",
    "DEV-010": "connection to the device lost",
}


class DeviceError(Exception):
    """Base of every device error. ``code`` is stable; ``raw`` is the device's bytes."""

    code = "DEV-000"

    def __init__(self, message: str, *, raw: bytes = b"", code: str | None = None):
        if code:
            self.code = code
        self.raw = bytes(raw)
        super().__init__(f"{self.code}: {message}")

    @property
    def explanation(self) -> str:
        return ERROR_CODES.get(self.code, "")


class NotOpenError(DeviceError):
    code = "DEV-001"


class NoDeviceError(DeviceError):
    code = "DEV-002"


class DeviceTimeout(DeviceError):
    code = "DEV-003"


class ProtocolError(DeviceError):
    code = "DEV-004"


class ChecksumError(ProtocolError):
    code = "DEV-005"


class HardwareError(DeviceError):
    code = "DEV-006"


class UserActionRequired(DeviceError):
    code = "DEV-007"


class UnsupportedError(DeviceError):
    code = "DEV-008"


class BusyError(DeviceError):
    code = "DEV-009"


class ConnectionLost(DeviceError):
    code = "DEV-010"


class BackgroundLoop:
    """A device's worker thread (polling, reading, capturing): started by ``_enable``,
    stopped by ``_disable``/``_close``. The loop body watches ``stop_event``.

    ``stop()`` may be called from the loop itself (a device that drops out closes itself):
    it then only signals, never joins its own thread.
    """

    def __init__(self, name: str, run: Callable[[], None], join_timeout: float = 2.0):
        self.name = name
        self.run = run
        self.join_timeout = join_timeout
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.running:
            return
        self.stop_event.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.join_timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


# ---------------------------------------------------------------------------------------
# The device base class



class _StatusLock:
    """A device's re-entrant lock that tells status changes made under it only once it is let go.

    A status listener may wait for another lock (a flow's) whose holder is itself waiting for this
    device (to stop the camera, say): told while the device's lock is held, that is a deadlock,
    which a full test run and the soak each met once. Events keep their order; they reach the
    listeners before the device call that caused them returns."""

    def __init__(self, publish: Callable[[StatusEvent], None]):
        self._lock = threading.RLock()
        self._depth = 0  # changed only by the holder
        self._untold: list[StatusEvent] = []
        self._publish = publish

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._depth += 1
        return got

    def release(self) -> None:
        self._depth -= 1
        untold: list[StatusEvent] = []
        if self._depth == 0 and self._untold:
            untold, self._untold = self._untold, []
        self._lock.release()
        for event in untold:
            self._publish(event)

    def __enter__(self) -> "_StatusLock":
        self.acquire()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()

    def held_here(self) -> bool:
        return self._lock._is_owned()

    def tell_when_released(self, event: StatusEvent) -> None:
        self._untold.append(event)


class Device:
    """Base class: lifecycle bookkeeping, status events and counters.

    Subclasses implement ``_open``, ``_close`` and ``_health``; optionally ``_enable`` and
    ``_disable``. They call ``set_status`` whenever what they know about the device changes
    and ``count`` for their counters.
    """

    device_class = "device"

    def __init__(self, name: str | None = None):
        self.name = name or self.device_class
        self._status = DeviceStatus(State.CLOSED)
        self._status_listeners: Listeners[StatusEvent] = Listeners("status", self.name)
        self._lock = _StatusLock(self._status_listeners.publish)
        self.counters: Counter[str] = Counter()
        #: the newest error seen (open failure, failed health check, a driver's own I/O error):
        #: its code, message and raw bytes are what the diagnostics screen shows
        self.last_error: DeviceError | None = None
        self.is_open = False
        self.enabled = False

    # -- lifecycle -----------------------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            if self.is_open:
                return
            try:
                self._open()
            except DeviceError as exc:
                self.last_error = exc
                self.count("open_failures")
                state = State.NO_DEVICE if isinstance(exc, NoDeviceError) else State.OFFLINE
                self.set_status(state, error_code=exc.code)
                raise
            self.is_open = True
            self.count("opens")
            if self._status.state in (State.CLOSED, State.OFFLINE, State.NO_DEVICE):
                self.set_status(State.ONLINE)

    def enable(self) -> None:
        with self._lock:
            self._require_open()
            if not self.enabled:
                self._enable()
                self.enabled = True

    def disable(self) -> None:
        with self._lock:
            if self.enabled:
                try:
                    self._disable()
                finally:
                    self.enabled = False

    def close(self) -> None:
        with self._lock:
            if not self.is_open:
                return
            try:
                self.disable()
                self._close()
            finally:
                self.is_open = False
                self.set_status(State.CLOSED)

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *_exc):
        self.close()

    # -- status ----------------------------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._status

    def set_status(self, state: State, detail: dict[str, Any] | None = None, error_code: str = "") -> None:
        previous = self._status
        new_detail = dict(previous.detail if detail is None else detail)
        if previous.state == state and previous.detail == new_detail and previous.error_code == error_code:
            return
        current = DeviceStatus(state, new_detail, error_code)
        self._status = current
        event = StatusEvent(self.name, previous, current)
        if self._lock.held_here():
            self._lock.tell_when_released(event)
        else:
            self._status_listeners.publish(event)

    def update_detail(self, **detail: Any) -> None:
        merged = dict(self._status.detail)
        merged.update(detail)
        self.set_status(self._status.state, merged, self._status.error_code)

    def subscribe(self, listener: Callable[[StatusEvent], None]) -> Subscription:
        return self._status_listeners.add(listener)

    def unsubscribe(self, listener: Callable[[StatusEvent], None]) -> None:
        self._status_listeners.remove(listener)

    def count(self, counter: str, amount: int = 1) -> None:
        self.counters[counter] += amount

    # -- health ----------------------------------------------------------------------------
    def check_health(self, level: HealthLevel | str = HealthLevel.INTERNAL) -> HealthReport:
        level = HealthLevel(level)
        try:
            report = self._health(level)
        except DeviceError as exc:
            self.last_error = exc
            report = HealthReport(self.name, level, False, f"{exc.code} {exc.explanation}".strip(),
                                  [("device answered", False, str(exc))])
        report.counters = dict(self.counters)
        return report

    # -- for subclasses --------------------------------------------------------------------
    def _require_open(self) -> None:
        if not self.is_open:
            raise NotOpenError(f"{self.name} is not open")

    def _open(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _enable(self) -> None:
        pass

    def _disable(self) -> None:
        pass

    def _health(self, level: HealthLevel) -> HealthReport:
        raise NotImplementedError
