"""A serial code scanner on a pseudo-terminal: a tester makes it "see" a code.

``scan("370503-20260612-000123")`` sends the payload as a real scanner does: encoded (UTF-8
by default, or GB18030), with the configured prefix/suffix and line terminator, at the line's
speed. A scanner in trigger mode (``trigger="honeywell"`` / ``"newland"``) holds the code until
the application sends the trigger command, and a Newland scanner acknowledges the trigger
first. Faults: ``garbage`` (random bytes instead of the next code), ``slow`` (the code trickles
out), ``no_answer`` (the code and trigger are ignored), ``bad_checksum`` (one byte of the next
code is corrupted) and unplugging.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from drivers.scanner.serial_scanner import NEWLAND_ACK, TRIGGERS
from drivers.sim.base import SerialSimulator, SimulatorError

TERMINATORS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "\r": b"\r", "\n": b"\n", "\r\n": b"\r\n"}


class ScannerSimulator(SerialSimulator):
    kind = "scanner"
    actions = ("scan",)

    def __init__(self, name: str | None = None, *, link: str | Path | None = None, baud: int = 9600,
                 trigger: str = "none", terminator: str = "cr", prefix: str = "", suffix: str = "",
                 wire_time: bool = True, seed: int | None = None):
        super().__init__(name, link=link, baud=baud, wire_time=wire_time, seed=seed)
        if trigger not in ("none", *TRIGGERS):
            raise SimulatorError(f"unknown trigger {trigger!r}")
        if terminator not in TERMINATORS:
            raise SimulatorError(f"unknown terminator {terminator!r}: cr, lf or crlf")
        self.trigger = trigger
        self.terminator = TERMINATORS[terminator]
        self.prefix = prefix.encode("utf-8")
        self.suffix = suffix.encode("utf-8")
        self.waiting: deque[bytes] = deque()
        self.triggers = 0
        self.scans = 0
        self._inbox = bytearray()

    def frame(self, payload: str | bytes, encoding: str = "utf-8", terminator: str | None = None) -> bytes:
        body = payload if isinstance(payload, bytes) else payload.encode(encoding)
        end = TERMINATORS[terminator] if terminator else self.terminator
        return self.prefix + body + self.suffix + end

    def scan(self, payload: str | bytes, encoding: str = "utf-8", terminator: str | None = None) -> None:
        """The scanner sees a code (sent now, or at the next trigger in trigger mode)."""
        try:
            data = self.frame(payload, encoding, terminator)
        except (LookupError, UnicodeEncodeError) as exc:
            raise SimulatorError(f"cannot encode the payload as {encoding}: {exc}") from None
        if self.trigger == "none":
            self._emit(data)
        else:
            with self._lock:
                self.waiting.append(data)

    def _emit(self, data: bytes) -> None:
        self.scans += 1
        slow = self.take_fault("slow")
        if slow:  # the code trickles out a byte at a time
            pause = float(slow.params.get("value", slow.params.get("seconds", 0.5)))
            step = pause / max(1, len(data))
            for index in range(len(data)):
                self.port.write(data[index:index + 1])
                self._stop.wait(step)
            return
        self.reply(data)

    def garbage(self, size: int) -> bytes:
        """A misread: noise sent as if it were a code, line end included."""
        noise = super().garbage(size).replace(b"\r", b"").replace(b"\n", b"")
        return noise + self.terminator

    def on_bytes(self, data: bytes) -> None:
        if self.trigger == "none":
            return
        start = TRIGGERS[self.trigger][0]
        self._inbox += data
        while True:
            at = self._inbox.find(start)
            if at < 0:
                del self._inbox[:-len(start)]
                return
            del self._inbox[:at + len(start)]
            self.triggers += 1
            if self.has_fault("no_answer"):
                continue
            with self._lock:
                data_out = self.waiting.popleft() if self.waiting else None
            if self.trigger == "newland":
                self.send(NEWLAND_ACK)
            if data_out is not None:
                self._emit(data_out)

    def state(self) -> dict[str, Any]:
        state = super().state()
        state.update(trigger=self.trigger, waiting=len(self.waiting), triggers=self.triggers, scans=self.scans)
        return state

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action == "scan":
            payload = params.get("payload")
            if payload is None and "hex" in params:
                try:
                    payload = bytes.fromhex(str(params["hex"]))
                except ValueError:
                    raise SimulatorError("hex must be pairs of hex digits") from None
            if payload is None:
                raise SimulatorError("scan needs a payload")
            self.scan(payload, str(params.get("encoding") or "utf-8"), params.get("terminator"))
            return self.state()
        return super().control(action, params)
