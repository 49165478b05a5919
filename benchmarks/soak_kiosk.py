"""The kiosk process of ``benchmarks/soak.py``: resident sessions one after another, until killed.

Usage: python benchmarks/soak_kiosk.py CONFIG.json   (written by soak.py)

It assembles the kiosk as ``kiosk run`` does (glibc's mmap threshold set, then
``kiosk.runtime.build_kiosk``: the device manager
with the simulated receipt printer behind the real ESC/POS driver, the backend services with
the outbox and its sender thread, the simulator control socket), without the screens. Each
session is what the apply journey asks of those parts: the resident's application with one
photographed page goes into the outbox and is sent (``submit_application``), the receipt is
printed through the print queue, the service is rated (``rate``, through the outbox too).
Printer faults come from the session's own random draw through the simulator control socket
(paper out, the printer unplugged and plugged back); the backend's faults (down, slow, 500)
come from the soak through the proxy the kiosk talks to.

It writes a journal (``begin N``, ``stored N KEY``, ``rated N KEY``, ``done N``; each line
flushed and fsynced) and prints the same lines on stdout, plus ``mem N RSS FDS THREADS`` every
``sample_every`` sessions. A restarted process resumes after the last session begun. After the
last session it waits until the outbox is empty and prints ``drained``.
"""
from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def id_number(session: int) -> str:
    """A valid 18-character ID number (GB 11643) unique to the session."""
    birth = date(1940, 1, 1) + timedelta(days=session)
    body = f"370503{birth:%Y%m%d}{session % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


def resident_name(session: int) -> str:
    rng = random.Random(session)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def rss_fds_threads() -> tuple[int, int, int]:
    status = Path("/proc/self/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
    threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    return rss, len(os.listdir("/proc/self/fd")), threads


class Journal:
    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text("utf-8").splitlines() if path.exists() else []
        self._file = open(path, "a", encoding="utf-8")

    def next_session(self, first: int) -> int:
        begun = [int(line.split()[1]) for line in self.lines if line.startswith("begin ")]
        return max(begun) + 1 if begun else first

    def write(self, line: str) -> None:
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        print(line, flush=True)


def page_bytes() -> bytes:
    """One photographed page: a real JPEG of about 30 KB."""
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(3).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    from kiosk.memory import return_big_buffers

    return_big_buffers()  # as `kiosk run` does, before anything allocates (kiosk/memory.py)
    from kiosk.backend import models as m
    from kiosk.config import load_settings
    from kiosk.logs import setup_logging
    from kiosk.receipts.layout import Target
    from kiosk.receipts.printing import sample_slip
    from kiosk.runtime import build_kiosk
    from drivers.sim.control import SimControlClient, SimControlError

    setup_logging("WARNING", "text", open(config["log"], "a", encoding="utf-8"))
    settings = load_settings(config["kiosk_toml"])
    kiosk = build_kiosk(settings)
    services = kiosk.backend
    control = SimControlClient(settings.devices.sim_control, timeout=5)
    journal = Journal(Path(config["journal"]))
    page = page_bytes()
    first = journal.next_session(config["first"])
    print(f"start {first} pid {os.getpid()}", flush=True)
    trace_from = config.get("trace_from")  # where Python's own allocations are compared from (--trace)
    if trace_from:
        import tracemalloc

        tracemalloc.start(5)
        baseline = None
    for session in range(first, config["last"] + 1):
        if trace_from and session == trace_from:
            baseline = tracemalloc.take_snapshot()
        rng = random.Random(config["seed"] * 1_000_003 + session)
        journal.write(f"begin {session}")
        fault = rng.random()
        try:
            if fault < config["paper_out"]:
                control.call("printer", "fault", fault="paper_out")
            elif fault < config["paper_out"] + config["unplug"]:
                control.call("printer", "unplug")
        except SimControlError as exc:
            print(f"control {session} {exc}", flush=True)
        applicant = m.Person(id_number=id_number(session), name=resident_name(session),
                             phone=f"138{session:08d}", address="山东省东营市河口区河口街道海宁路188号")
        create = m.ApplicationCreate(item_code=config["item_code"], applicant=applicant)
        pages = [(index, 1, "image/jpeg", page) for index in config["materials"]]
        outcome = services.submit_application(
            create, pages, on_stored=lambda queued: journal.write(f"stored {session} {queued.key}"))
        kind = type(outcome).__name__
        if kind == "Refused":
            journal.write(f"refused {session} {outcome.code}")
        if kiosk.print_queue is not None:
            kiosk.print_receipt("acceptance", sample_slip("acceptance", Target.for_printer(kiosk.print_queue.printer)))
        if kind != "Refused":
            rating = m.RatingCreate(application_key=outcome.application_key if kind == "Queued" else None,
                                    acceptance_number=outcome.result.acceptance_number if kind == "Delivered"
                                    else None, level=rng.choice((3, 4, 5)))
            rated = services.rate(rating)
            journal.write(f"rated {session} {rated.key}")
        try:
            if fault < config["paper_out"]:
                control.call("printer", "clear")
            elif fault < config["paper_out"] + config["unplug"]:
                control.call("printer", "replug")
        except SimControlError as exc:
            print(f"control {session} {exc}", flush=True)
        journal.write(f"done {session} {kind}")
        if session % config["sample_every"] == 0:
            rss, fds, threads = rss_fds_threads()
            print(f"mem {session} {rss} {fds} {threads}", flush=True)
    if trace_from and baseline is not None:
        for stat in tracemalloc.take_snapshot().compare_to(baseline, "traceback")[:12]:
            print(f"trace {stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} blocks "
                  + " <- ".join(f"{f.filename.split('/')[-1]}:{f.lineno}" for f in stat.traceback), flush=True)
    deadline = time.monotonic() + config["drain_seconds"]
    while services.outbox.pending_count() and time.monotonic() < deadline:
        services.wake()
        time.sleep(0.2)
    # Items that met a server error wait their own pause (30 s, doubling, up to an hour) before
    # the next try; the sender would send them that much later. The soak does not wait an hour:
    # it lets the outbox's clock run past the longest pause and drains once more.
    from kiosk.backend.outbox import RETRY_PAUSE_MAX

    later = services.outbox.pending_count()
    services.outbox._clock = lambda: time.time() + RETRY_PAUSE_MAX + 1
    services.outbox.drain(services.deliverer)
    counts = services.outbox.counts()
    print(f"drained pending={counts['pending']} rejected={counts['rejected']} "
          f"quarantined={counts['quarantined']} waiting_their_pause={later}", flush=True)
    kiosk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
