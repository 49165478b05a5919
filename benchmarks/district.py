"""A district's terminals against one reference backend: requests/s and latency per route.

    python benchmarks/district.py [--terminals 300] [--seconds 40] [--compress 20] [--runs 3]
                                  [--config sqlite:1 --config postgresql:1 --config postgresql:4]

Each configuration starts ``kiosk backend serve`` as its own process on 127.0.0.1 (SQLite with
synchronous=FULL, or a durable PostgreSQL server started here with Debian's binaries, fsync
on), with N worker processes, and registers N terminals (bounded: at most 2,000 terminals
and 600 s per run; loopback only). Every terminal then lives one "day" in compressed time:
``--compress 20`` makes a minute last 3 s. Per compressed minute a terminal sends

- a heartbeat (every minute, as the kiosk does);
- a catalogue sync with probability 0.1 (incremental; 5 % of terminals start with a full sync);
- an application with probability 0.08: create, 1–3 pages (JPEG, 80–350 KB), submit;
- a case query with probability 0.12 (its own earlier receipts, else by the holder's ID);
- a pickup with probability 0.05 when the clerk has put one of its results into its locker
  (verify by pickup code, confirm the door closed);
- a rating with probability 0.08 of one of its cases.

A clerk thread approves accepted cases and issues results into the terminals' lockers over
the clerk API, as the back office would. Each terminal does one thing at a time; a pool of
client threads serves them in due order; when the pool falls behind, the lag is reported (so
a saturated backend shows as lag, not as a slower offered load).

Prints, per configuration, the median over runs of: requests/s achieved, errors, the lag p95,
and p50/p95/p99 latency per route; ``--json FILE`` writes every run. The load generator runs on
the same machine as the backend and takes CPU from it: these are lower bounds of the backend.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from backend_support import catalog_items, jpeg_page, person, resident_id  # noqa: E402
from kiosk.backend import models as m  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.errors import BackendError  # noqa: E402
from kiosk.backend.signing import generate_key, parse_key  # noqa: E402

MAX_TERMINALS = 2000
MAX_SECONDS = 600
RATES = {"sync": 0.10, "apply": 0.08, "query": 0.12, "pickup": 0.05, "rate": 0.08}  # per compressed minute
DOORS = 24


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Terminal:
    terminal_id: str
    key: bytes
    key_text: str = ""
    client: BackendClient | None = None
    catalog_version: int = 0
    etag: str | None = None
    receipts: list[tuple[str, str, str]] = field(default_factory=list)  # number, code, holder
    pickups: list[tuple[str, int, str]] = field(default_factory=list)  # pickup code, door, number
    next_beat: float = 0.0
    next_other: float = 0.0
    full_sync: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lag: list[float] = []

    def timed(self, route: str, call, *args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        except (BackendError, requests.RequestException, ValueError) as exc:
            with self.lock:
                self.errors[f"{route}: {type(exc).__name__}"] += 1
            return None
        finally:
            with self.lock:
                self.latency[route].append(time.perf_counter() - start)


class District:
    """The terminals, the clerk, and the schedule of one run."""

    def __init__(self, url: str, terminals: list[Terminal], clerk: tuple[str, str], minute: float, seconds: float,
                 threads: int, seed: int):
        self.url = url
        self.terminals = terminals
        self.clerk = clerk
        self.minute = minute
        self.seconds = seconds
        self.threads = threads
        self.rng = random.Random(seed)
        self.rec = Recorder()
        self.items = [i for i in catalog_items() if i.kiosk.can_apply and "自然人" in i.service_objects
                      and i.application is None
                      and 1 <= len([x for x in i.materials if x.required and x.kiosk_capture]) <= 3]
        self.pages = [jpeg_page(size, seed=size) for size in (80 * 1024, 160 * 1024, 250 * 1024, 350 * 1024)]
        self.heap: list[tuple[float, int]] = []
        self.cond = threading.Condition()
        self.stop_at = 0.0
        self.issued: dict[str, set[int]] = defaultdict(set)

    # -- what a terminal does ----------------------------------------------------------------
    def heartbeat(self, t: Terminal) -> None:
        beat = m.Heartbeat(sent_at=datetime.now(timezone.utc), software_version="bench", uptime_seconds=3600,
                           catalog_version=t.catalog_version)
        self.rec.timed("POST heartbeat", t.client.heartbeat, beat)

    def sync(self, t: Terminal) -> None:
        since = 0 if t.full_sync else t.catalog_version
        t.full_sync = False
        while True:
            got = self.rec.timed("GET catalog/items", t.client.catalog_changes, since, None if since == 0 else t.etag)
            if not got or got[0] is None:
                return
            page, t.etag = got
            t.catalog_version = page.version
            if not page.has_more:
                return
            since = page.version

    def apply(self, t: Terminal, rng: random.Random) -> None:
        item = rng.choice(self.items)
        holder = resident_id(birth=f"19{rng.randint(50, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}",
                             sequence=rng.randint(1, 999))
        created = self.rec.timed("POST applications", t.client.create_application,
                                 m.ApplicationCreate(item_code=item.code, applicant=person("张三", id_number=holder)),
                                 str(uuid.uuid4()))
        if created is None:
            return
        required = [i for i, x in enumerate(item.materials) if x.required and x.kiosk_capture]
        pages = [(index, 1) for index in required]
        while len(pages) < rng.randint(1, 3):  # more pages of the first material
            pages.append((required[0], len([p for p in pages if p[0] == required[0]]) + 1))
        for index, page_no in pages:
            self.rec.timed("PUT page", t.client.upload_page, created.application_id, index, page_no,
                           rng.choice(self.pages), "image/jpeg")
        result = self.rec.timed("POST submit", t.client.submit_application, created.application_id,
                                m.SubmitRequest(declaration_accepted=True), str(uuid.uuid4()))
        if result is not None:
            t.receipts.append((result.acceptance_number, result.verification_code, holder))

    def query(self, t: Terminal, rng: random.Random) -> None:
        if t.receipts:
            number, code, _holder = rng.choice(t.receipts)
            self.rec.timed("POST cases/query", t.client.case_status, number, code)
        else:
            self.rec.timed("POST cases/by-holder", t.client.cases_by_holder, resident_id(sequence=rng.randint(1, 999)))

    def pickup(self, t: Terminal) -> None:
        if not t.pickups:
            return
        code, door, _number = t.pickups.pop(0)
        slots = self.rec.timed("POST pickups/verify", t.client.verify_pickup,
                               m.PickupVerify(method="pickup_code", pickup_code=code))
        if not slots:
            return
        now = datetime.now(timezone.utc)
        self.rec.timed("POST pickups/confirm", t.client.confirm_pickup, slots[0].pickup_id,
                       m.PickupConfirm(door=slots[0].door, picked_up_at=now, door_closed=True, door_closed_at=now,
                                       verified_by="pickup_code"), str(uuid.uuid4()))
        self.issued[t.terminal_id].discard(door)

    def rate(self, t: Terminal, rng: random.Random) -> None:
        if t.receipts:
            number = rng.choice(t.receipts)[0]
            self.rec.timed("POST ratings", t.client.rate, m.RatingCreate(acceptance_number=number,
                                                                         level=rng.choice((3, 4, 5, 5, 5))),
                           str(uuid.uuid4()))

    def step(self, t: Terminal, now: float) -> None:
        """Whatever is due for ``t``: its heartbeat, or its next other action (drawn at random)."""
        rng = random.Random(f"{t.terminal_id}/{now:.6f}")
        if t.next_beat <= t.next_other:
            self.heartbeat(t)
            t.next_beat += self.minute
            return
        draw, total = rng.random() * sum(RATES.values()), 0.0
        for kind, rate in RATES.items():
            total += rate
            if draw <= total:
                break
        if kind == "sync":
            self.sync(t)
        elif kind == "apply":
            self.apply(t, rng)
        elif kind == "query":
            self.query(t, rng)
        elif kind == "pickup":
            self.pickup(t)
        else:
            self.rate(t, rng)
        t.next_other += rng.expovariate(sum(RATES.values()) / self.minute)

    # -- the clerk ----------------------------------------------------------------------------
    def clerk_loop(self) -> None:
        session = requests.Session()
        session.auth = self.clerk
        by_id = {t.terminal_id: t for t in self.terminals}
        while time.monotonic() < self.stop_at:
            try:
                cases = session.get(f"{self.url}/api/v1/clerk/cases", params={"state": "accepted"}, timeout=30)
                for case in (cases.json().get("cases", []) if cases.ok else [])[:20]:
                    number = case["acceptance_number"]
                    start = time.perf_counter()
                    decided = session.post(f"{self.url}/api/v1/clerk/cases/{number}/decision",
                                           json={"approve": True}, timeout=30)
                    self.rec.latency["clerk decision"].append(time.perf_counter() - start)
                    if not decided.ok:
                        self.rec.errors[f"clerk decision: {decided.status_code}"] += 1
                        continue
                    owner = next((t for t in self.terminals if any(r[0] == number for r in t.receipts)), None)
                    if owner is None:
                        continue
                    free = [d for d in range(1, DOORS + 1) if d not in self.issued[owner.terminal_id]]
                    if not free:
                        continue
                    start = time.perf_counter()
                    issued = session.post(f"{self.url}/api/v1/clerk/cases/{number}/issue",
                                          json={"terminal_id": owner.terminal_id, "door": free[0]}, timeout=30)
                    self.rec.latency["clerk issue"].append(time.perf_counter() - start)
                    if issued.ok:
                        self.issued[owner.terminal_id].add(free[0])
                        by_id[owner.terminal_id].pickups.append((issued.json()["pickup_code"], free[0], number))
                    else:
                        self.rec.errors[f"clerk issue: {issued.status_code}"] += 1
            except requests.RequestException:
                self.rec.errors["clerk: connection"] += 1
            time.sleep(self.minute / 2)
        session.close()

    # -- the schedule -------------------------------------------------------------------------
    def worker(self) -> None:
        while True:
            with self.cond:
                while True:
                    now = time.monotonic()
                    if now >= self.stop_at:
                        return
                    if self.heap and self.heap[0][0] <= now:
                        due, index = heapq.heappop(self.heap)
                        break
                    self.cond.wait(timeout=min(0.05, (self.heap[0][0] - now) if self.heap else 0.05))
            t = self.terminals[index]
            with self.rec.lock:
                self.rec.lag.append(now - due)
            self.step(t, due)
            with self.cond:
                heapq.heappush(self.heap, (min(t.next_beat, t.next_other), index))
                self.cond.notify()

    def run(self) -> dict:
        start = time.monotonic() + 1.0
        for index, t in enumerate(self.terminals):
            t.next_beat = start + self.rng.random() * self.minute  # phases spread over the first minute
            t.next_other = start + self.rng.expovariate(sum(RATES.values()) / self.minute)
            t.full_sync = self.rng.random() < 0.05
            self.heap.append((min(t.next_beat, t.next_other), index))
        heapq.heapify(self.heap)
        self.stop_at = start + self.seconds
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.threads)]
        clerk = threading.Thread(target=self.clerk_loop, daemon=True)
        for thread in threads + [clerk]:
            thread.start()
        for thread in threads + [clerk]:
            thread.join(timeout=self.seconds + 120)
        total = sum(len(v) for v in self.rec.latency.values())
        return {"requests": total, "requests_per_s": total / self.seconds,
                "errors": sum(self.rec.errors.values()), "error_kinds": dict(self.rec.errors),
                "lag_p95_s": percentile(self.rec.lag, 95),
                "routes": {route: {"n": len(v), "p50_ms": 1000 * percentile(v, 50), "p95_ms": 1000 * percentile(v, 95),
                                   "p99_ms": 1000 * percentile(v, 99)}
                           for route, v in sorted(self.rec.latency.items())}}


def start_backend(kind: str, workers: int, folder: Path, terminals: list[Terminal], pg) -> tuple[subprocess.Popen,
                                                                                              str, tuple[str, str]]:
    from refbackend.store import ReferenceStore

    if kind == "postgresql":
        db = pg.new_database(migrated=False)
    else:
        db = str(folder / "district.sqlite3")
    files = folder / "files"
    store = ReferenceStore(db, files=files)  # creates the schema; registers the terminals in one go
    try:
        with store.tx() as conn:
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for t in terminals:
                conn.execute("INSERT INTO terminals(terminal_id, name, key, doors, created_at) VALUES (?,?,?,?,?)",
                             (t.terminal_id, t.terminal_id, t.key_text, DOORS, stamp))
    finally:
        store.close()
    password = secrets.token_urlsafe(16)
    password_file = folder / "clerk-password"
    password_file.write_text(password, "utf-8")
    password_file.chmod(0o600)
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "backend", "serve", "--db", db, "--files", str(files),
                                "--workers", str(workers), "--port", "0", "--no-access-log",
                                "--clerk-password-file", str(password_file)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        return process, _wait_for(process), ("clerk", password)
    except BaseException:
        stop_backend(process)
        raise


def _wait_for(process: subprocess.Popen) -> str:
    url = None
    for line in process.stdout:
        found = re.search(r"reference backend on (http://127\.0\.0\.1:\d+) ", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        raise SystemExit("the backend did not start")
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).ok:
                return url
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit("the backend's workers did not answer")


def stop_backend(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terminals", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=40.0, help="real seconds per run (default 40)")
    parser.add_argument("--compress", type=float, default=20.0,
                        help="time compression: a terminal's minute lasts 60/COMPRESS s (default 20: 3 s)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--config", action="append", default=None, metavar="DB:WORKERS",
                        help="sqlite:1, postgresql:1, postgresql:4 … (default those three)")
    parser.add_argument("--json", help="write every run to this file")
    args = parser.parse_args()
    if not 1 <= args.terminals <= MAX_TERMINALS:
        parser.error(f"--terminals is 1 to {MAX_TERMINALS}")
    if not 5 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds is 5 to {MAX_SECONDS}")
    if not 1 <= args.compress <= 600:
        parser.error("--compress is 1 to 600")
    configs = []
    for spec in args.config or ["sqlite:1", "postgresql:1", "postgresql:4"]:
        kind, _, workers = spec.partition(":")
        if kind not in ("sqlite", "postgresql") or not workers.isdigit() or not 1 <= int(workers) <= 16:
            parser.error(f"--config {spec!r}: sqlite|postgresql:1..16")
        configs.append((kind, int(workers)))

    import logging

    logging.disable(logging.WARNING)  # the client logs refusals; the figures count them
    pg = None
    if any(kind == "postgresql" for kind, _ in configs):
        from pg_support import PostgresServer, available

        reason = available()
        if reason:
            raise SystemExit(reason)
        pg = PostgresServer(durable=True).start()
    minute = 60.0 / args.compress
    offered = args.terminals * (1 + sum(RATES.values())) / minute
    print(f"{args.terminals} terminals, a minute every {minute:.1f} s, {args.seconds:.0f} s per run, {args.runs} "
          f"run(s); about {offered:.0f} terminal actions/s offered; {os.cpu_count()} CPUs (load generator on the "
          f"same machine)")
    results: dict[str, list[dict]] = {}
    try:
        for kind, workers in configs:
            name = f"{kind} ×{workers} worker{'s' if workers > 1 else ''}"
            for run in range(args.runs):
                folder = Path(tempfile.mkdtemp(prefix="district-bench-"))
                terminals = []
                for n in range(args.terminals):
                    key_text = generate_key()
                    terminals.append(Terminal(f"HK-BENCH-{n:04d}", parse_key(key_text), key_text))
                process, url, clerk = start_backend(kind, workers, folder, terminals, pg)
                try:
                    for t in terminals:
                        t.client = BackendClient(url, t.terminal_id, t.key, retries=0, read_timeout=60)
                    outcome = District(url, terminals, clerk, minute, args.seconds, args.threads, seed=run).run()
                finally:
                    for t in terminals:
                        if t.client is not None:
                            t.client.close()
                    stop_backend(process)
                    shutil.rmtree(folder, ignore_errors=True)
                results.setdefault(name, []).append(outcome)
                print(f"  {name} run {run + 1}: {outcome['requests_per_s']:.0f} req/s, {outcome['errors']} errors, "
                      f"lag p95 {outcome['lag_p95_s']:.2f} s", flush=True)
    finally:
        if pg is not None:
            pg.stop()
    for name, runs in results.items():
        print(f"\n{name} (median of {len(runs)}): {statistics.median(r['requests_per_s'] for r in runs):.0f} req/s, "
              f"errors {statistics.median(r['errors'] for r in runs):.0f}, "
              f"lag p95 {statistics.median(r['lag_p95_s'] for r in runs):.2f} s")
        kinds = defaultdict(int)
        for r in runs:
            for kind, count in r["error_kinds"].items():
                kinds[kind] += count
        if kinds:
            print("  errors (all runs): " + ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items())))
        print(f"  {'route':<22}{'n/run':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        for route in runs[0]["routes"]:
            rows = [r["routes"][route] for r in runs if route in r["routes"]]
            print(f"  {route:<22}{statistics.median(x['n'] for x in rows):>7.0f}"
                  f"{statistics.median(x['p50_ms'] for x in rows):>9.1f}"
                  f"{statistics.median(x['p95_ms'] for x in rows):>9.1f}"
                  f"{statistics.median(x['p99_ms'] for x in rows):>9.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
