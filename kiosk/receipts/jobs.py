"""The print queue: a receipt stays queued until the printer confirms it printed in full.

``PrintQueue.submit(kind, data)`` tries to print at once. When the printer cannot — paper
out before or half-way through, cover open, offline, unplugged — the job stays in the queue
(state ``waiting``) with a translation key for the resident (``receipt.paper_out``…), and
``retry()`` (called by the device manager's poll or when the printer's status changes)
prints it again *in full* once the printer is back. Jobs print in the order they came.

A printer whose transport cannot read back cannot confirm anything: its jobs end as
``sent`` rather than ``printed``, and the resident is asked to take the receipt.

Technicians see the fault in the printer's own status and health report; ``summary()``
adds what is waiting, for the diagnostics screen and slip. Job data holds only what is
printed (names already masked), and lives in memory only.
"""
from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from drivers.base import DeviceError, StatusEvent
from drivers.events import Listeners, Subscription
from drivers.printer import CoverOpenError, PaperOutError, PrinterFault, PrinterOfflineError

log = logging.getLogger(__name__)


class JobState(str, enum.Enum):
    QUEUED = "queued"
    PRINTING = "printing"
    WAITING = "waiting"  # the printer needs a person or is unreachable; retried later
    PRINTED = "printed"  # confirmed by the printer
    SENT = "sent"  # handed to a printer that cannot confirm


#: what the resident is told, per job state / fault (keys in assets/i18n/strings.toml)
MESSAGE_KEYS = {
    "printing": "receipt.printing",
    "printed": "receipt.printed",
    "reprinted": "receipt.reprinted",
    "sent": "receipt.sent",
    "paper_out": "receipt.paper_out",
    "cover_open": "receipt.cover_open",
    "offline": "receipt.printer_offline",
    "unavailable": "receipt.printer_unavailable",
}


@dataclass
class PrintJob:
    id: int
    kind: str
    data: bytes
    state: JobState = JobState.QUEUED
    attempts: int = 0
    fault: str = ""  # "paper_out", "cover_open", "offline", "unavailable"
    error_code: str = ""
    interrupted: bool = False  # a fault stopped it half-way at least once
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def done(self) -> bool:
        return self.state in (JobState.PRINTED, JobState.SENT)

    @property
    def message_key(self) -> str:
        """The translation key of what to tell the resident about this job now."""
        if self.state is JobState.WAITING:
            return MESSAGE_KEYS[self.fault or "unavailable"]
        if self.state is JobState.PRINTED:
            return MESSAGE_KEYS["reprinted" if self.interrupted else "printed"]
        if self.state is JobState.SENT:
            return MESSAGE_KEYS["sent"]
        return MESSAGE_KEYS["printing"]


def _fault_of(error: DeviceError) -> str:
    if isinstance(error, PaperOutError):
        return "paper_out"
    if isinstance(error, CoverOpenError):
        return "cover_open"
    if isinstance(error, PrinterOfflineError):
        return "offline"
    return "unavailable"


class PrintQueue:
    def __init__(self, printer, on_change: Callable[[PrintJob], None] | None = None, keep_done: int = 20):
        self.printer = printer
        self._listeners: Listeners[PrintJob] = Listeners("print job")
        if on_change is not None:
            self._listeners.add(on_change)
        self.keep_done = keep_done
        self._jobs: list[PrintJob] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- jobs --------------------------------------------------------------------------------
    def submit(self, kind: str, data: bytes) -> PrintJob:
        """Queue a job and try to print everything queued, in order. Never raises a device error."""
        if not data:
            raise ValueError("a print job needs some bytes")
        with self._lock:
            job = PrintJob(next(self._ids), kind, bytes(data))
            self._jobs.append(job)
            log.info("print job queued", extra={"fields": {"job": job.id, "kind": kind, "bytes": len(data)}})
            self._changed(job)
            self._process()
            return job

    def retry(self) -> list[PrintJob]:
        """Print waiting jobs if the printer can now; returns the jobs finished by this call."""
        with self._lock:
            if not self.pending():
                return []
            return self._process()

    def on_printer_status(self, event: StatusEvent) -> None:
        """Subscribe this to the printer: a status that is usable again retries the queue."""
        if event.current.usable and (event.previous is None or not event.previous.usable) and self.pending():
            threading.Thread(target=self.retry, name="print-retry", daemon=True).start()

    def pending(self) -> list[PrintJob]:
        with self._lock:
            return [job for job in self._jobs if not job.done]

    def jobs(self) -> list[PrintJob]:
        with self._lock:
            return list(self._jobs)

    def get(self, job_id: int) -> PrintJob | None:
        with self._lock:
            return next((job for job in self._jobs if job.id == job_id), None)

    def summary(self) -> str:
        """One line for technicians: what waits and why."""
        pending = self.pending()
        if not pending:
            return "print queue empty"
        oldest = min(job.created_at for job in pending)
        faults = sorted({job.fault or job.state.value for job in pending})
        return (f"{len(pending)} receipt(s) waiting ({', '.join(faults)}), oldest since "
                f"{time.strftime('%H:%M:%S', time.localtime(oldest))}")

    # -- the work ----------------------------------------------------------------------------
    def _process(self) -> list[PrintJob]:
        finished: list[PrintJob] = []
        for job in [job for job in self._jobs if not job.done]:
            job.state = JobState.PRINTING
            job.attempts += 1
            self._changed(job)
            try:
                if not self.printer.is_open:
                    self.printer.open()
                result = self.printer.print_job(job.data)
            except DeviceError as error:
                job.state = JobState.WAITING
                job.fault = _fault_of(error)
                job.error_code = error.code
                if isinstance(error, PrinterFault) and error.during_job:
                    job.interrupted = True
                log.warning("print job waiting for the printer",
                            extra={"fields": {"job": job.id, "kind": job.kind, "fault": job.fault,
                                              "code": error.code, "during_job": job.interrupted}})
                self._changed(job)
                for behind in self._jobs:  # keep the order: nothing overtakes a waiting receipt
                    if behind.state is JobState.QUEUED:
                        behind.state, behind.fault, behind.error_code = JobState.WAITING, job.fault, job.error_code
                        self._changed(behind)
                break
            job.state = JobState.PRINTED if result.confirmed else JobState.SENT
            job.fault, job.error_code = "", ""
            job.finished_at = time.time()
            log.info("print job done", extra={"fields": {"job": job.id, "kind": job.kind, "state": job.state.value,
                                                         "attempts": job.attempts}})
            self._changed(job)
            finished.append(job)
        self._forget_old()
        return finished

    def _forget_old(self) -> None:
        done = [job for job in self._jobs if job.done]
        for job in done[:max(0, len(done) - self.keep_done)]:
            self._jobs.remove(job)

    def subscribe(self, listener: Callable[[PrintJob], None]) -> Subscription:
        """``listener(job)`` runs (on the printing thread) whenever a job changes state."""
        return self._listeners.add(listener)

    def _changed(self, job: PrintJob) -> None:
        self._listeners.publish(job)

