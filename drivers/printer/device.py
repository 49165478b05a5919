"""``ReceiptPrinter``: the thermal receipt printer as a device (drivers/base.py model).

A job is a finished ESC/POS byte string (kiosk/receipts builds them). ``print_job``:

1. asks the real-time status (``DLE EOT 1–4``) and refuses to start on paper out, cover
   open, offline or a cutter fault — the job has not been touched, nothing is lost;
2. sends the bytes, then ``GS r 1``, which the printer answers only after everything
   before it has been processed: that answer is the proof the receipt came out;
3. while waiting for it, polls ``DLE EOT`` so that paper running out half-way through is
   noticed at once (``PaperOutError`` with ``during_job=True``), not after a timeout.

On a link that cannot read back (a file, a write-only device node) nothing can be
confirmed: the status says "unknown", never "ok", and a job's result says so too.

The class part of the status (``status.detail``): ``paper`` ok / near_end / out / unknown,
``cover`` closed / open / unknown, ``online`` true / false / None, ``cutter`` ok / error /
unknown, ``status_readable``, ``transport`` and the last ``raw`` status bytes in hex.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from drivers.base import (Device, DeviceError, DeviceTimeout, HardwareError, HealthLevel, HealthReport,
                          ProtocolError, State, UnsupportedError, UserActionRequired)
from drivers.printer import commands
from drivers.printer.commands import CutMode, EscPosWriter, QrErrorLevel, StatusRequest
from drivers.printer.profiles import PrinterProfile, load_profile
from drivers.printer.raster import qr_raster_bytes, raster_bytes
from drivers.printer.status import Paper, PrinterStatus, parse_paper_sensor, parse_status
from drivers.printer.transports import Link

log = logging.getLogger(__name__)

PAPER_DOTS = {58: 384, 80: 576}
PAPER_COLUMNS = {58: 32, 80: 48}


class PrinterFault(UserActionRequired):
    """The printer needs a person. ``status`` is what it reported; ``during_job`` is True when
    the fault interrupted a job that had started printing."""

    reason = "fault"

    def __init__(self, message: str, status: PrinterStatus | None, during_job: bool = False):
        super().__init__(message, raw=status.raw if status else b"")
        self.status = status
        self.during_job = during_job


class PaperOutError(PrinterFault):
    reason = "paper_out"


class CoverOpenError(PrinterFault):
    reason = "cover_open"


class PrinterOfflineError(PrinterFault):
    reason = "offline"


@dataclass(frozen=True)
class PrintResult:
    confirmed: bool  # the printer said the whole job was processed; False when it cannot say
    bytes_sent: int
    status_before: PrinterStatus | None
    status_after: PrinterStatus | None
    seconds: float

    @property
    def paper(self) -> Paper:
        return self.status_after.paper if self.status_after else Paper.UNKNOWN


class ReceiptPrinter(Device):
    device_class = "printer"

    def __init__(self, link: Link, *, profile: PrinterProfile | str = "default", paper_width: int = 80,
                 encoding: str = "gb18030", qr: str = "auto", name: str | None = None,
                 status_timeout: float = 1.0, job_timeout: float = 30.0, poll_interval: float = 0.25,
                 test_page: Callable[["ReceiptPrinter"], bytes] | None = None):
        super().__init__(name)
        if paper_width not in PAPER_DOTS:
            raise UnsupportedError(f"paper width must be 58 or 80 mm, got {paper_width}")
        if encoding.lower() not in commands.ENCODINGS:
            raise UnsupportedError(f"unsupported printer encoding {encoding!r}")
        if qr not in ("auto", "native", "raster"):
            raise UnsupportedError(f"qr must be auto, native or raster, got {qr!r}")
        self.link = link
        self.profile = profile if isinstance(profile, PrinterProfile) else load_profile(profile)
        self.paper_width = paper_width
        self.encoding = encoding.lower()
        self.qr_mode = qr
        self.status_timeout = status_timeout
        self.job_timeout = job_timeout
        self.poll_interval = poll_interval
        self._test_page = test_page
        self.last_status: PrinterStatus | None = None

    # -- what jobs are made of -----------------------------------------------------------
    @property
    def dots(self) -> int:
        return PAPER_DOTS[self.paper_width]

    @property
    def columns(self) -> int:
        return PAPER_COLUMNS[self.paper_width]

    @property
    def native_qr(self) -> bool:
        if self.qr_mode == "auto":
            return self.profile.native_qr
        return self.qr_mode == "native"

    def writer(self) -> EscPosWriter:
        return EscPosWriter(self.encoding)

    def qr_bytes(self, data: bytes, module_size: int = 6, level: QrErrorLevel = QrErrorLevel.M) -> bytes:
        if self.native_qr:
            return commands.qr_native(data, module_size, level)
        return qr_raster_bytes(data, module_size, level, self.dots)

    def image_bytes(self, image, dither: bool = False) -> bytes:
        return raster_bytes(image, self.dots, dither)

    def cut_bytes(self, mode: CutMode = CutMode.PARTIAL) -> bytes:
        if mode is CutMode.FULL and not self.profile.full_cut and self.profile.partial_cut:
            mode = CutMode.PARTIAL
        if mode is CutMode.PARTIAL and not self.profile.partial_cut and self.profile.full_cut:
            mode = CutMode.FULL
        if not self.profile.can_cut:  # tear-off bar: feed the receipt past it
            return commands.feed_lines(5)
        return commands.cut(mode, 0)

    # -- lifecycle ---------------------------------------------------------------------------
    def _open(self) -> None:
        self.link.open()
        try:
            self._refresh()
        except DeviceError:
            self.link.close()
            raise

    def _close(self) -> None:
        self.link.close()

    # -- status ------------------------------------------------------------------------------
    def refresh_status(self) -> PrinterStatus | None:
        """Ask the printer now; ``None`` when this link cannot read back."""
        with self._lock:
            self._require_open()
            return self._refresh()

    def _refresh(self) -> PrinterStatus | None:
        if not self.link.can_read:
            self._publish(None)
            return None
        try:
            self.link.discard_input()
            status = self._query()
        except DeviceTimeout as exc:
            self.count("status_timeouts")
            self.set_status(State.OFFLINE, self._detail(None, readable=True), error_code=exc.code)
            raise
        except ProtocolError as exc:
            self.count("bad_status")
            self.set_status(State.HARDWARE_ERROR, self._detail(None, readable=True), error_code=exc.code)
            raise
        self._publish(status)
        return status

    def _query(self, barrier: list[int] | None = None) -> PrinterStatus:
        self.count("status_queries")
        self.link.write(b"".join(commands.status_request(n) for n in StatusRequest))
        answers = self._read_status_bytes(4, barrier)
        status = parse_status(answers)
        self.last_status = status
        return status

    def _read_status_bytes(self, count: int, barrier: list[int] | None) -> bytes:
        """Read ``count`` DLE EOT answers; a ``GS r`` answer met on the way goes to ``barrier``.

        The two never mix up: DLE EOT answers always have bit 4 set, GS r answers never.
        """
        answers = bytearray()
        deadline = time.monotonic() + self.status_timeout
        while len(answers) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeviceTimeout(f"{self.name}: no status answer within {self.status_timeout:g} s",
                                    raw=bytes(answers))
            for byte in self.link.read(count - len(answers), remaining):
                if byte & 0x10:
                    answers.append(byte)
                elif barrier is not None:
                    barrier.append(byte)
                else:
                    raise ProtocolError(f"{self.name}: unexpected byte 0x{byte:02x} instead of a status",
                                        raw=bytes(answers) + bytes([byte]))
        return bytes(answers)

    def _detail(self, status: PrinterStatus | None, readable: bool) -> dict:
        if status is None:
            return {"paper": Paper.UNKNOWN.value, "cover": "unknown", "online": None, "cutter": "unknown",
                    "status_readable": readable, "transport": self.link.description, "raw": ""}
        return {"paper": status.paper.value, "cover": status.cover.value, "online": status.online,
                "cutter": "error" if status.autocutter_error else "ok", "status_readable": True,
                "transport": self.link.description, "raw": status.raw.hex(" ")}

    def _publish(self, status: PrinterStatus | None) -> None:
        if status is None:
            self.set_status(State.ONLINE, self._detail(None, readable=False))
            return
        detail = self._detail(status, readable=True)
        if status.needs_person:
            self.set_status(State.USER_ERROR, detail, error_code=UserActionRequired.code)
        elif status.hardware_fault:
            self.set_status(State.HARDWARE_ERROR, detail, error_code=HardwareError.code)
        elif not status.online:
            self.set_status(State.OFFLINE, detail, error_code=UserActionRequired.code)
        else:
            self.set_status(State.ONLINE, detail)

    def _fault(self, status: PrinterStatus, during_job: bool) -> DeviceError:
        when = "while printing" if during_job else "before printing"
        if status.paper is Paper.OUT:
            return PaperOutError(f"{self.name}: paper out {when}", status, during_job)
        if status.cover_open:
            return CoverOpenError(f"{self.name}: cover open {when}", status, during_job)
        if status.hardware_fault:
            return HardwareError(f"{self.name}: {status.describe()} {when}", raw=status.raw)
        return PrinterOfflineError(f"{self.name}: printer offline {when}", status, during_job)

    # -- printing ----------------------------------------------------------------------------
    def print_job(self, data: bytes) -> PrintResult:
        """Print one job. Raises ``PrinterFault`` (paper, cover, offline), ``HardwareError``,
        ``ConnectionLost`` or ``DeviceTimeout``; the caller keeps the job on any of them."""
        with self._lock:
            self._require_open()
            started = time.monotonic()
            before = self._refresh()
            if before is not None and not before.can_print:
                self.count("jobs_refused")
                raise self._fault(before, during_job=False)
            previous = self.status
            self.set_status(State.BUSY, previous.detail)
            try:
                self.link.write(data)
                if not self.link.can_read:
                    self.count("jobs_unconfirmed")
                    self._publish(None)
                    return PrintResult(False, len(data), None, None, time.monotonic() - started)
                after = self._await_completion(len(data))
            except DeviceError as exc:
                self.count("jobs_failed")
                if self.status.state is State.BUSY:
                    self.set_status(State.OFFLINE if isinstance(exc, DeviceTimeout) else State.HARDWARE_ERROR,
                                    previous.detail, error_code=exc.code)
                raise
            self.count("jobs_printed")
            self.count("bytes_printed", len(data))
            return PrintResult(True, len(data), before, after, time.monotonic() - started)

    def _await_completion(self, size: int) -> PrinterStatus:
        barrier: list[int] = []
        self.link.write(commands.paper_sensor_request())
        deadline = time.monotonic() + self.job_timeout
        while True:
            for byte in self.link.read(1, min(self.poll_interval, max(0.0, deadline - time.monotonic()))):
                if byte & 0x10:
                    raise ProtocolError(f"{self.name}: stray status byte 0x{byte:02x}", raw=bytes([byte]))
                barrier.append(byte)
            if barrier:
                parse_paper_sensor(barrier[0])
                after = self._query()
                self._publish(after)
                return after
            status = self._query(barrier)
            if barrier:  # the job finished while we were asking
                self._publish(status)
                return status
            if not status.can_print:
                self._publish(status)
                raise self._fault(status, during_job=True)
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.name}: a {size}-byte job was not confirmed within "
                                    f"{self.job_timeout:g} s", raw=status.raw)

    # -- health ------------------------------------------------------------------------------
    def _health(self, level: HealthLevel) -> HealthReport:
        self._require_open()
        checks: list[tuple[str, bool, str]] = [("connection", True, self.link.description)]
        status = self.refresh_status()
        if status is None:
            checks.append(("status readable", False,
                           f"{self.link.kind} transport cannot read back: paper, cover and errors unknown"))
            report = HealthReport(self.name, level, False, "status unknown (this transport cannot report)", checks)
        else:
            checks += [
                ("online", status.online, "online" if status.online else "offline"),
                ("paper", status.paper is not Paper.OUT, status.paper.value.replace("_", " ")),
                ("cover", not status.cover_open, status.cover.value),
                ("cutter", not status.autocutter_error, "error" if status.autocutter_error else "ok"),
                ("mechanism", not (status.unrecoverable_error or status.recoverable_error),
                 "error" if status.unrecoverable_error or status.recoverable_error else "ok"),
            ]
            summary = status.describe()
            if status.paper is Paper.NEAR_END:
                summary += " — change the paper roll soon"
            report = HealthReport(self.name, level, status.can_print, summary, checks)
        if level is not HealthLevel.INTERNAL and report.ok:
            result = self.print_job(self._test_page(self) if self._test_page else self.self_test_bytes())
            report.checks.append(("test slip", True,
                                  "printed and confirmed" if result.confirmed else "sent (cannot be confirmed)"))
        return report

    def self_test_bytes(self) -> bytes:
        """A short slip for a health check when no test-page layout was given."""
        writer = self.writer().initialize().set_align(commands.Align.CENTER)
        writer.set_style(commands.TextStyle(bold=True)).line("打印机自检 PRINTER SELF-TEST")
        writer.set_style(commands.TextStyle()).line(f"{self.profile.vendor} {self.profile.model}")
        writer.line(f"{self.paper_width} mm, {self.encoding}").line("中文：，。、（）①②")
        writer.raw(self.qr_bytes(b"PRINTER-SELF-TEST", 4, QrErrorLevel.M)).line()
        writer.feed(2).raw(self.cut_bytes())
        return writer.getvalue()
