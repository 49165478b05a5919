"""What every serial device simulator shares: a pty, a thread, faults, and the control verbs.

A ``SerialSimulator`` owns a ``PtyPort``. Its thread reads what the application sends and
hands it to ``on_bytes``; a subclass decodes its protocol there and answers with ``reply``.
``reply`` is where the common faults act, so every protocol gets them the same way:

- ``no_answer``: the reply is not sent;
- ``bad_checksum``: the last byte of the reply (the checksum in every protocol here) is flipped;
- ``garbage``: random bytes are sent instead of the reply;
- ``slow``: the reply leaves ``seconds`` later (default 2 s);
- ``vanish`` / ``unplug()``: the port disappears (the pty is closed, the symlink removed)
  until ``replug()``.

Replies go out at the line's real speed (``wire_time=True``). A request arriving at a speed
other than the device's is ignored, as a real device would only see noise. Each fault may be
limited to the next ``times`` replies. ``control(action, params)`` is the verb interface used
by ``drivers.sim.control`` (and so by ``kiosk sim``); subclasses add their own verbs.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.serialio import PortGone, PtyPort, wire_seconds

log = logging.getLogger(__name__)

COMMON_FAULTS = ("no_answer", "bad_checksum", "garbage", "slow")


class SimulatorError(Exception):
    """A control request the simulator cannot carry out (unknown card, door out of range…)."""


@dataclass
class Fault:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    times: int | None = None  # None: until cleared

    def describe(self) -> dict[str, Any]:
        return {"fault": self.name, **self.params, **({"times": self.times} if self.times is not None else {})}


def parse_fault_list(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``"slow:0.5, garbage, jammed:3"`` → [("slow", {"value": 0.5}), ("garbage", {}), ("jammed", {"value": 3})]."""
    faults = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition(":")
        params: dict[str, Any] = {}
        if value:
            number = float(value)
            params["value"] = int(number) if number.is_integer() else number
        faults.append((name.strip(), params))
    return faults


class SerialSimulator:
    """Base class of the wire-level simulators."""

    kind = "device"
    #: fault names this simulator accepts besides the common ones
    extra_faults: tuple[str, ...] = ()

    def __init__(self, name: str | None = None, *, link: str | Path | None = None, baud: int = 9600,
                 wire_time: bool = True, seed: int | None = None):
        self.name = name or self.kind
        self.baud = int(baud)
        self.wire_time = wire_time
        self.port = PtyPort(link)
        self.faults: dict[str, Fault] = {}
        self.received = bytearray()  # what the application sent, for tests (bounded)
        self.requests = 0
        self.ignored_wrong_baud = 0
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()  # replies from the thread and scans from control calls
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._replugging: threading.Timer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The port name the application opens."""
        return self.port.path

    def start(self) -> "SerialSimulator":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"sim-{self.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._replugging is not None:
            self._replugging.cancel()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=3.0)
        self.port.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    def unplug(self, seconds: float | None = None) -> None:
        """The port vanishes (for ``seconds``, then comes back; None: until ``replug``)."""
        self.port.vanish()
        log.info("simulated port unplugged", extra={"fields": {"simulator": self.name}})
        if seconds:
            self._replugging = threading.Timer(seconds, self.replug)
            self._replugging.daemon = True
            self._replugging.start()

    def replug(self) -> None:
        self.port.restore()
        self.on_replug()
        log.info("simulated port plugged back in", extra={"fields": {"simulator": self.name}})

    def on_replug(self) -> None:
        """A subclass resets device state that a power cycle would reset."""

    # -- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(0.05)
            except PortGone:
                self._stop.wait(0.05)
                continue
            try:
                self.tick()
            except Exception:
                log.exception("simulator tick failed", extra={"fields": {"simulator": self.name}})
            if not data:
                continue
            with self._lock:
                self.received += data
                del self.received[:-65536]
            app_baud = self.port.app_baud()
            if app_baud is not None and app_baud != self.baud:
                self.ignored_wrong_baud += 1
                continue
            try:
                self.on_bytes(data)
            except PortGone:
                continue
            except Exception:  # a simulator bug must show, but not stop the device
                log.exception("simulator failed to handle bytes", extra={"fields": {"simulator": self.name}})

    def on_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Called every ~50 ms on the simulator thread (timers: auto-closing doors…)."""

    def wait_request_time(self, size: int) -> None:
        """The request took this long to arrive on a real wire; a pty delivered it at once."""
        if self.wire_time:
            time.sleep(wire_seconds(size, self.baud))

    # -- replies and faults -------------------------------------------------------------------------
    def _take_fault(self, name: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(name)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[name]
            return fault

    def has_fault(self, name: str) -> bool:
        return name in self.faults

    def take_fault(self, name: str) -> Fault | None:
        """Consume one use of a protocol-specific fault (SAM failure, jammed lock…)."""
        return self._take_fault(name)

    def reply(self, data: bytes) -> None:
        """Send ``data`` to the application, with whatever faults are set."""
        self.requests += 1
        if self._take_fault("no_answer"):
            return
        slow = self._take_fault("slow")
        if slow:
            time.sleep(float(slow.params.get("value", slow.params.get("seconds", 2.0))))
        if self._take_fault("garbage"):
            data = self.garbage(max(4, len(data) // 4))
        elif self._take_fault("bad_checksum") and data:
            data = data[:-1] + bytes([data[-1] ^ 0x5A])
        self.send(data)

    def garbage(self, size: int) -> bytes:
        return bytes(self._random.randrange(256) for _ in range(min(size, 256)))

    def send(self, data: bytes) -> None:
        with self._send_lock:
            if self.wire_time:
                self.port.write_paced(data, self.baud, cancelled=self._stop)
            else:
                self.port.write(data)

    def set_fault(self, name: str, on: bool = True, times: int | None = None, **params: Any) -> None:
        if name in ("vanish", "unplug"):
            if on:
                self.unplug(params.get("value") or params.get("seconds"))
            else:
                self.replug()
            return
        if name not in COMMON_FAULTS + self.extra_faults:
            known = ", ".join(COMMON_FAULTS + self.extra_faults + ("vanish",))
            raise SimulatorError(f"unknown fault {name!r} for the {self.kind} simulator; known: {known}")
        with self._lock:
            if on:
                self.faults[name] = Fault(name, dict(params), times)
            else:
                self.faults.pop(name, None)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
        if not self.port.present:
            self.replug()

    def apply_fault_list(self, text: str) -> None:
        for name, params in parse_fault_list(text):
            self.set_fault(name, **params)

    # -- control verbs -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "port": self.path,
            "tty": self.port.name,
            "plugged_in": self.port.present,
            "baud": self.baud,
            "faults": [fault.describe() for fault in self.faults.values()],
            "requests": self.requests,
            "pid": os.getpid(),
        }

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Carry out one control verb; returns the simulator's state (or raises SimulatorError)."""
        if action == "status":
            return self.state()
        if action == "fault":
            name = str(params.get("fault", ""))
            extra = {k: v for k, v in params.items() if k not in ("fault", "on", "times")}
            times = params.get("times")
            self.set_fault(name, bool(params.get("on", True)), int(times) if times else None, **extra)
            return self.state()
        if action == "clear":
            self.clear_faults()
            return self.state()
        if action == "unplug":
            self.unplug(params.get("seconds"))
            return self.state()
        if action == "replug":
            self.replug()
            return self.state()
        raise SimulatorError(f"the {self.kind} simulator has no action {action!r}")
