"""Serial and USB-CDC code scanners: one code per CR / LF / CRLF-terminated line.

Most scanners send every code they see. Some are set to scan only on command; for those,
``trigger`` names the command set: Honeywell (``16 54 0D`` starts, ``16 55 0D`` stops) or
Newland (``7E 00 08 01 00 02 01 AB CD`` starts; the scanner acknowledges with
``02 00 00 01 00 33 31``, which is dropped from the stream). In trigger mode the driver
re-arms the scanner after each code and every ``retrigger_seconds``.
"""
from __future__ import annotations

import logging
import time

from drivers.base import BackgroundLoop, ConnectionLost, DeviceError, HealthLevel, HealthReport, State
from drivers.scanner.base import MAX_SCAN_BYTES, CodeScanner, ScanEvent
from drivers.scanner.framing import LineFramer
from drivers.serialio import SerialLink

log = logging.getLogger(__name__)

HONEYWELL_START = b"\x16\x54\x0d"
HONEYWELL_STOP = b"\x16\x55\x0d"
NEWLAND_START = bytes.fromhex("7E000801000201ABCD")
NEWLAND_ACK = bytes.fromhex("02000001003331")

TRIGGERS: dict[str, tuple[bytes, bytes, bytes]] = {  # start, stop, acknowledgement
    "honeywell": (HONEYWELL_START, HONEYWELL_STOP, b""),
    "newland": (NEWLAND_START, b"", NEWLAND_ACK),
}


class SerialScanner(CodeScanner):
    def __init__(self, port: str, baud: int = 9600, *, name: str | None = None, prefix: str = "",
                 suffix: str = "", trigger: str = "none", retrigger_seconds: float = 5.0,
                 max_length: int = MAX_SCAN_BYTES):
        super().__init__(name)
        if trigger not in ("none", *TRIGGERS):
            raise ValueError(f"unknown trigger {trigger!r}: none, honeywell or newland")
        self.link = SerialLink(port, baud)
        self.trigger = trigger
        self.retrigger_seconds = float(retrigger_seconds)
        start, stop, ack = TRIGGERS.get(trigger, (b"", b"", b""))
        self._start, self._stop_cmd = start, stop
        self.framer = LineFramer(max_length, prefix.encode("utf-8"), suffix.encode("utf-8"),
                                 strip_leading=(ack,) if ack else ())
        self._loop = BackgroundLoop(f"{self.name}-read", self._read_loop)
        self._stop = self._loop.stop_event
        self.last_error: DeviceError | None = None

    @property
    def port(self) -> str:
        return self.link.port

    def _open(self) -> None:
        self.link.open()
        self.framer.reset()
        self.update_detail(trigger=self.trigger)

    def _close(self) -> None:
        self._loop.stop()
        self.link.close()

    def _enable(self) -> None:
        self._loop.start()

    def _disable(self) -> None:
        self._loop.stop()
        if self._stop_cmd and self.link.is_open:
            try:
                self.link.write(self._stop_cmd)
            except DeviceError:
                pass

    @property
    def reading(self) -> bool:
        return self._loop.running

    def arm(self) -> None:
        """Send the trigger command (no-op for scanners that scan on their own)."""
        if self._start:
            self.link.write(self._start)
            self.count("triggers")

    def _read_loop(self) -> None:
        next_trigger = 0.0
        while not self._stop.is_set():
            try:
                if self._start and time.monotonic() >= next_trigger:
                    self.arm()
                    next_trigger = time.monotonic() + self.retrigger_seconds
                data = self.link.read_some(0.1)
                if not data:
                    continue
                for line in self.framer.feed(data):
                    self._publish_scan(ScanEvent.from_bytes(line.raw, self.name, oversized=line.oversized))
                    next_trigger = 0.0  # re-arm right after a code
            except ConnectionLost as exc:
                self.last_error = exc
                self.count("dropouts")
                log.warning("scanner went offline", extra={"fields": {"device": self.name, "error": str(exc)}})
                self.set_status(State.OFFLINE, None, exc.code)
                return
            except Exception:  # the reader thread outlives any bug in a listener or the framer
                self.count("internal_errors")
                log.exception("unexpected error in the scanner thread", extra={"fields": {"device": self.name}})

    def _health(self, level: HealthLevel) -> HealthReport:
        self._require_open()
        checks = [("port", self.link.is_open, f"{self.port} at {self.link.baud} baud"),
                  ("reader thread", self.reading or not self.enabled, "running" if self.reading else "stopped")]
        if level is not HealthLevel.INTERNAL and self._start:
            try:
                self.arm()
                checks.append(("trigger", True, "trigger command sent (the scanner should light up)"))
            except DeviceError as exc:
                checks.append(("trigger", False, str(exc)))
        ok = all(passed for _, passed, _ in checks)
        return HealthReport(self.name, level, ok, "scanner port open" if ok else "scanner not reading", checks)
