"""What the printer's status bytes mean: ``DLE EOT 1–4`` and ``GS r 1`` answers.

Every ``DLE EOT`` answer byte has bit 0 = 0, bit 1 = 1, bit 4 = 1 and bit 7 = 0; a byte that
does not is not a status (an echo, line noise) and raises ``ProtocolError``. The bit
meanings follow the ESC/POS reference:

- n = 1 printer: bit 3 offline, bit 5 waiting for online recovery, bit 6 feed button pressed;
- n = 2 offline cause: bit 2 cover open, bit 3 paper fed by the button, bit 5 printing
  stopped at paper end, bit 6 an error occurred;
- n = 3 error cause: bit 2 recoverable error, bit 3 autocutter error, bit 5 unrecoverable
  error, bit 6 automatically recoverable error (head too hot…);
- n = 4 paper sensor: bits 2+3 paper near end, bits 5+6 paper end.

``GS r 1`` (paper sensor, processed in order with the job) answers bits 0+1 near end,
bits 2+3 paper end, with bit 4 = 0.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.base import ProtocolError
from drivers.printer.commands import StatusRequest

FIXED_MASK = 0x93
FIXED_VALUE = 0x12


class Paper(str, enum.Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


class Cover(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    UNKNOWN = "unknown"


def check_status_byte(value: int, which: StatusRequest) -> int:
    if not 0 <= value <= 255 or value & FIXED_MASK != FIXED_VALUE:
        raise ProtocolError(f"not a DLE EOT {int(which)} status byte: 0x{value & 0xFF:02x}", raw=bytes([value & 0xFF]))
    return value


@dataclass(frozen=True)
class PrinterStatus:
    """The four real-time status bytes, decoded. ``raw`` keeps them for error reports."""

    online: bool
    cover_open: bool
    paper: Paper
    paper_stopped_printing: bool  # printing stopped because the paper ran out
    error: bool
    recoverable_error: bool
    autocutter_error: bool
    unrecoverable_error: bool
    auto_recoverable_error: bool
    feed_button: bool
    raw: bytes

    @property
    def cover(self) -> Cover:
        return Cover.OPEN if self.cover_open else Cover.CLOSED

    @property
    def can_print(self) -> bool:
        return (self.online and not self.cover_open and self.paper is not Paper.OUT
                and not self.unrecoverable_error and not self.autocutter_error)

    @property
    def needs_person(self) -> bool:
        """A fault a person fixes: paper, cover (as opposed to a broken mechanism)."""
        return self.paper is Paper.OUT or self.cover_open

    @property
    def hardware_fault(self) -> bool:
        return self.unrecoverable_error or self.autocutter_error or self.recoverable_error

    def describe(self) -> str:
        parts = ["online" if self.online else "offline", f"paper {self.paper.value}", f"cover {self.cover.value}"]
        for flag, words in ((self.autocutter_error, "cutter error"), (self.unrecoverable_error, "unrecoverable error"),
                            (self.recoverable_error, "recoverable error"),
                            (self.auto_recoverable_error, "auto-recoverable error (head temperature)")):
            if flag:
                parts.append(words)
        return ", ".join(parts)


def parse_status(answers: bytes) -> PrinterStatus:
    """Decode the answers to ``DLE EOT 1``, ``2``, ``3`` and ``4``, in that order (4 bytes)."""
    if len(answers) != 4:
        raise ProtocolError(f"expected 4 status bytes, got {len(answers)}", raw=answers)
    printer, offline, error, paper = (check_status_byte(b, StatusRequest(i + 1)) for i, b in enumerate(answers))
    if paper & 0x60 == 0x60:
        paper_state = Paper.OUT
    elif paper & 0x0C == 0x0C:
        paper_state = Paper.NEAR_END
    elif paper & 0x6C == 0:
        paper_state = Paper.OK
    else:  # only one of a sensor's two bits: not a state the reference defines
        raise ProtocolError(f"paper sensor byte 0x{paper:02x} has half a sensor bit pair", raw=answers)
    return PrinterStatus(
        online=not printer & 0x08,
        cover_open=bool(offline & 0x04),
        paper=paper_state,
        paper_stopped_printing=bool(offline & 0x20),
        error=bool(offline & 0x40),
        recoverable_error=bool(error & 0x04),
        autocutter_error=bool(error & 0x08),
        unrecoverable_error=bool(error & 0x20),
        auto_recoverable_error=bool(error & 0x40),
        feed_button=bool(printer & 0x40),
        raw=bytes(answers),
    )


def parse_paper_sensor(value: int) -> Paper:
    """Decode the answer to ``GS r 1``."""
    if not 0 <= value <= 255 or value & 0x90:
        raise ProtocolError(f"not a GS r 1 answer: 0x{value & 0xFF:02x}", raw=bytes([value & 0xFF]))
    if value & 0x0C:
        return Paper.OUT
    if value & 0x03:
        return Paper.NEAR_END
    return Paper.OK


def encode_status(*, online: bool = True, cover_open: bool = False, paper: Paper = Paper.OK,
                  paper_stopped_printing: bool = False, autocutter_error: bool = False,
                  unrecoverable_error: bool = False, recoverable_error: bool = False,
                  auto_recoverable_error: bool = False, feed_button: bool = False) -> bytes:
    """The 4 bytes a printer in this state answers to ``DLE EOT 1–4`` (the simulator's side)."""
    errors = autocutter_error or unrecoverable_error or recoverable_error or auto_recoverable_error
    printer = FIXED_VALUE | (0 if online else 0x08) | (0x40 if feed_button else 0)
    offline = FIXED_VALUE | (0x04 if cover_open else 0) | (0x20 if paper_stopped_printing else 0) | (0x40 if errors else 0)
    error = (FIXED_VALUE | (0x04 if recoverable_error else 0) | (0x08 if autocutter_error else 0)
             | (0x20 if unrecoverable_error else 0) | (0x40 if auto_recoverable_error else 0))
    sensor = FIXED_VALUE | {Paper.OK: 0, Paper.NEAR_END: 0x0C, Paper.OUT: 0x6C, Paper.UNKNOWN: 0}[paper]
    return bytes([printer, offline, error, sensor])


def encode_paper_sensor(paper: Paper) -> int:
    return {Paper.OK: 0x00, Paper.NEAR_END: 0x03, Paper.OUT: 0x0F, Paper.UNKNOWN: 0x00}[paper]
