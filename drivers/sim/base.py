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
limited to the next ``times`` replies. The control verbs (``state``, ``control``: status,
fault, clear, unplug, replug) come from ``drivers.sim.interface.SimulatorControl``, the
interface every simulator answers; subclasses add their own verbs and faults.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from drivers.serialio import PortGone, PtyPort, wire_seconds
from drivers.sim.interface import (COMMON_VERBS, Fault, SimulatorControl, SimulatorError,  # noqa: F401
                                   parse_fault_list)

log = logging.getLogger(__name__)

#: the faults every wire-level simulator takes (``vanish`` too, see ``SimulatorControl``)
COMMON_FAULTS = ("no_answer", "bad_checksum", "garbage", "slow")


class SerialSimulator(SimulatorControl):
    """Base class of the wire-level simulators."""

    kind = "device"
    #: fault names this simulator accepts besides the common ones
    extra_faults: tuple[str, ...] = ()

    @property
    def fault_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return COMMON_FAULTS + self.extra_faults

    def __init__(self, name: str | None = None, *, link: str | Path | None = None, baud: int = 9600,
                 wire_time: bool = True, seed: int | None = None):
        super().__init__(name)
        self.baud = int(baud)
        self.wire_time = wire_time
        self.port = PtyPort(link)
        self.received = bytearray()  # what the application sent, for tests (bounded)
        self.requests = 0
        self.ignored_wrong_baud = 0
        self._random = random.Random(seed)
        self._send_lock = threading.Lock()  # replies from the thread and scans from control calls
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        self._cancel_replug()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=3.0)
        self.port.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    @property
    def plugged_in(self) -> bool:
        return self.port.present

    def _unplug(self) -> None:
        self.port.vanish()

    def _replug(self) -> None:
        self.port.restore()
        self.on_replug()

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
    def reply(self, data: bytes) -> None:
        """Send ``data`` to the application, with whatever faults are set."""
        self.requests += 1
        if self.take_fault("no_answer"):
            return
        slow = self.take_fault("slow")
        if slow:
            time.sleep(float(slow.params.get("value", slow.params.get("seconds", 2.0))))
        if self.take_fault("garbage"):
            data = self.garbage(max(4, len(data) // 4))
        elif self.take_fault("bad_checksum") and data:
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

    # -- control verbs -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        state = super().state()
        state.update(port=self.path, tty=self.port.name, baud=self.baud, requests=self.requests, pid=os.getpid())
        return state
