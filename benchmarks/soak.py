"""Soak: resident sessions through the real screens, with faults and kill -9, reconciled with the backend.

    .venv/bin/python benchmarks/soak.py [--sessions 1000] [--seed 1] [--kills K] [--faults 0.6] [--keep DIR]
    .venv/bin/python benchmarks/soak.py --resume DIR     (go on with a kept soak whose harness was stopped)

A reference backend runs in this process (a SQLite file). The kiosk runs as a child process
(``benchmarks/soak_kiosk.py``): the real app with its screens on a headless window, every device
simulated behind its real driver, playing generated scenario sessions one after another through
the scenario runner (``ScenarioPlayer``: real touches, the on-screen keyboard, ``sim:`` steps), in
one long-lived process per "life". The sessions: apply (高龄津贴发放 with a photographed page;
异地就医备案 signed on the pad), 代办 by a grid worker, follow a case by its receipt's QR code and
rate it, collect a result with its pickup code and rate it. ``--faults`` of them (default 60 %)
get one fault at a random step, lifted 1–4 steps later: any fault that any simulator lists (ID
card reader, scanner, locker, camera, printer: 34 in all today), an unplugged device, the
backend down, slow or answering 500. Every choice comes from ``--seed`` and the session number.

The kiosk is killed with SIGKILL ``--kills`` times (default one per 40 sessions, only in the
first 70 %, so that the last stretch measures memory in one process): half 0–50 ms after a
session's first item reached the outbox (mid-submission), half 0–12 s into a session (a screen,
a device step, a door open: wherever it is then). A new kiosk starts at once and resumes with
the next session; the interrupted one counts as interrupted, not as a crash. After the last
session the kiosk drains its outbox; items that met a server error wait their own pause (up to
an hour), so the soak lets the outbox's clock run past it and drains once more.

Then the kiosk's journal (every item the outbox stored, the moment it was on disk) is
reconciled with the backend's database: each stored application must have its submit
acknowledged, each rating and pickup confirmation its request, under the item's idempotency
key (lost otherwise); the backend must hold no more cases, ratings or recorded pickups than
the outbox stored, and no session may have stored the same thing twice (duplicated otherwise).
It prints sessions completed, failed at a step (with or without a fault injected; each failed
session's scenario is kept in ``failed/N.yaml`` with ``--keep``, to replay with ``kiosk scenario
run``), interrupted, crashes (exits that were not our kills); submissions, ratings and pickups
stored, lost and duplicated; the outbox left over; and the kiosk's RSS, open files and threads
in its last process, from the first sample 30 sessions in (its screens built, its bounded
buffers filled) to the end.
A long run may outlive the session that started it: with ``--keep DIR`` the harness keeps its
counts in ``DIR/harness.json``, and ``--resume DIR`` goes on where it stopped (the kiosk it had
running is ended first; the session it was in counts as interrupted, the new kiosk as a new life).
Exit status 0 only with 0 crashes, 0 hangs, 0 lost, 0 duplicated, RSS growth under 5 % and an empty outbox.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

MAX_SESSIONS = 20_000
MAX_CRASHES = 5
#: a kiosk that prints nothing for this long is hung (a session takes seconds; the slowest step,
#: a backend that stays down, about a minute): its threads' stacks go to kiosk-stderr.log, then kill -9
HANG_SECONDS = 300.0
SETTLE = 30
TERMINAL = "HK-SOAK-001"


class Child:
    """One kiosk process; its stdout lines arrive on ``lines``."""

    def __init__(self, config: Path, env: dict[str, str], log):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "soak_kiosk.py"), str(config)],
                                        stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


class HarnessState:
    """What the harness counted so far, on disk beside the journal, so that ``--resume`` can go
    on with a soak whose harness was stopped (a long run outlives a working session)."""

    def __init__(self, path: Path):
        self.path = path
        self.kills = self.crashes = self.restarts = self.resumes = self.hangs = 0
        self.seconds = 0.0
        self.lives: list[list[tuple[int, int, int, int]]] = []
        self.life_starts: list[int] = []
        self.kill_at: dict[int, tuple[str, float]] = {}
        self.fault_names = ""
        self.child_pid = 0

    def load(self) -> None:
        data = json.loads(self.path.read_text("utf-8"))
        self.kills, self.crashes, self.restarts = data["kills"], data["crashes"], data["restarts"]
        self.resumes, self.seconds, self.fault_names = data["resumes"], data["seconds"], data["fault_names"]
        self.lives = [[tuple(sample) for sample in life] for life in data["lives"]]
        self.life_starts = data["life_starts"]
        self.kill_at = {int(n): (kind, float(delay)) for n, (kind, delay) in data["kill_at"].items()}
        self.child_pid = data["child_pid"]
        self.hangs = data.get("hangs", 0)

    def save(self) -> None:
        data = {"kills": self.kills, "crashes": self.crashes, "restarts": self.restarts, "resumes": self.resumes,
                "seconds": self.seconds, "fault_names": self.fault_names, "lives": self.lives,
                "life_starts": self.life_starts, "kill_at": {str(n): list(m) for n, m in self.kill_at.items()},
                "child_pid": self.child_pid, "hangs": self.hangs}
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(data), "utf-8")
        os.replace(partial, self.path)

    def stop_orphan(self) -> None:
        """The stopped harness's kiosk may still run (its parent died, not it): end it first."""
        try:
            command = Path(f"/proc/{self.child_pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"soak_kiosk.py" in command:
            os.kill(self.child_pid, signal.SIGKILL)
            time.sleep(0.5)


def kill_moments(rng: random.Random, sessions: int, wanted: int) -> dict[int, tuple[str, float]]:
    """Which sessions are cut by kill -9, and when: ``("stored", s)`` s seconds after the session's
    first outbox item reached the disk (mid-submission: uploading or submitting), ``("begin", s)``
    s seconds into the session (a screen, a device step, a door open: wherever it is then),
    ``("unlocked", s)`` s seconds after a locker door opened for a pickup (before the pickup is
    confirmed: the next kiosk must report it to staff). A session without the moment passes
    the kill on to the next one."""
    zone = max(1, int(sessions * 0.7))
    moments = {}
    for n in rng.sample(range(1, zone + 1), min(wanted, zone)):
        draw = rng.random()
        moments[n] = (("stored", rng.uniform(0, 0.05)) if draw < 0.4 else ("begin", rng.uniform(0, 12))
                      if draw < 0.8 else ("unlocked", rng.uniform(0, 0.3)))
    return moments


def idempotency(store, terminal: str) -> dict[str, str]:
    """key → endpoint of everything the backend acknowledged for ``terminal``."""
    with store.db.read() as conn:
        return {key: endpoint for key, endpoint in conn.execute(
            "SELECT key, endpoint FROM idempotency WHERE terminal_id=?", (terminal,)).fetchall()}


def reconcile(store, terminal: str, journal: list[str]) -> dict[str, int]:
    """What the kiosk's outbox accepted (the journal's ``stored`` lines) against the backend's database."""
    acknowledged = idempotency(store, terminal)
    stored: dict[str, list[tuple[int, str]]] = {}
    for line in journal:
        if line.startswith("stored "):
            _w, session, kind, key = line.split()[:4]
            stored.setdefault(kind, []).append((int(session), key))
    figures: dict[str, int] = {}
    journaled_keys = {key for items in stored.values() for _s, key in items}
    for kind, label in (("application", "applications"), ("rating", "ratings"), ("pickup.confirm", "pickups")):
        items = stored.get(kind, [])
        figures[f"{label} stored"] = len(items)
        # an application is sent as create, pages, submit: it has arrived once its submit is acknowledged
        last_step = (lambda key: f"{key}:submit") if kind == "application" else (lambda key: key)
        figures[f"{label} lost"] = sum(1 for _s, key in items if last_step(key) not in acknowledged)
        per_session: dict[int, int] = {}
        for session, _key in items:
            per_session[session] = per_session.get(session, 0) + 1
        figures[f"{label} stored twice by one session"] = sum(1 for n in per_session.values() if n > 1)
    with store.db.read() as conn:
        # the kiosk's own applications (the harness's cases carry numbers 370503-20261207-7…)
        cases = conn.execute("SELECT COUNT(*) FROM cases WHERE terminal_id=? AND acceptance_number NOT LIKE "
                             "'370503-20261207-7%'", (terminal,)).fetchone()[0]
        ratings = conn.execute("SELECT COUNT(*) FROM ratings WHERE terminal_id=?", (terminal,)).fetchone()[0]
        pickups = conn.execute("SELECT COUNT(*) FROM pickups WHERE terminal_id=? AND picked_up_at IS NOT NULL",
                               (terminal,)).fetchone()[0]
        waiting = conn.execute("SELECT COUNT(*) FROM pickups WHERE terminal_id=? AND picked_up_at IS NULL",
                               (terminal,)).fetchone()[0]
    # every record in the backend must come from exactly one outbox item: more records than items
    # delivered is a duplicate (the same resident's submission sent under two keys, or without one)
    delivered: dict[str, int] = {}
    for endpoint in acknowledged.values():
        endpoint = "POST /api/v1/pickups/…/confirm" if endpoint.endswith("/confirm") else endpoint
        endpoint = "POST /api/v1/applications/…/submit" if endpoint.endswith("/submit") else endpoint
        endpoint = "PUT /api/v1/applications/…/pages" if "/pages" in endpoint else endpoint
        delivered[endpoint] = delivered.get(endpoint, 0) + 1
    figures["endpoints"] = delivered  # type: ignore[assignment]
    unjournaled = {key.rsplit(":", 1)[0] for key in acknowledged} - journaled_keys
    figures["acknowledged without a journal line"] = len(unjournaled)
    figures["cases"], figures["ratings"], figures["pickups recorded"] = cases, ratings, pickups
    figures["results still waiting in the locker"] = waiting
    with store.db.read() as conn:
        figures["interrupted pickups reported"] = conn.execute(
            "SELECT COUNT(*) FROM staff_calls WHERE terminal_id=? AND alert='pickup_interrupted'",
            (terminal,)).fetchone()[0]
    return figures


def ledger_outcomes(path: Path) -> dict[str, int]:
    """What came of every door the kiosk unlocked (its pickup ledger): outcome → count."""
    import sqlite3
    from contextlib import closing

    if not path.exists():
        return {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        return dict(conn.execute("SELECT outcome, COUNT(*) FROM unlocks GROUP BY outcome").fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help=f"resident sessions (1–{MAX_SESSIONS})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=None, help="kill -9 of the kiosk (default sessions/40, at "
                                                                "least 1 from 3 sessions)")
    parser.add_argument("--hang-seconds", type=float, default=HANG_SECONDS,
                        help="a kiosk silent this long is hung: stacks dumped, killed, counted (default %(default)g)")
    parser.add_argument("--faults", type=float, default=0.6, help="share of sessions that get a fault (0–1)")
    parser.add_argument("--keep", help="keep the backend database, journal, logs and failed sessions in this folder")
    parser.add_argument("--resume", metavar="DIR", help="go on with the soak kept in DIR (--keep) that was stopped "
                                                        "(its own options are used; the others are ignored)")
    args = parser.parse_args()
    if args.resume:
        saved = json.loads((Path(args.resume) / "soak.json").read_text("utf-8"))
        args.sessions, args.seed, args.faults = saved["last"], saved["seed"], saved["fault_share"]
        args.keep = args.resume
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be 1–{MAX_SESSIONS}")
    if not 0 <= args.faults <= 1:
        parser.error("--faults must be 0–1")
    kills_wanted = (max(args.sessions // 40, 1 if args.sessions >= 3 else 0) if args.kills is None
                    else max(0, args.kills))

    import logging

    logging.disable(logging.WARNING)  # the backend's refusals would flood the figures
    from kiosk.backend.signing import write_key_file
    from refbackend.seed import DEMO_PEOPLE_PATH
    from refbackend.server import prepare_store, start_embedded

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "run", "tmp", "flight"):
        (folder / sub).mkdir(mode=0o700, exist_ok=True)
    key_file = folder / "terminal.key"
    harness = HarnessState(folder / "harness.json")
    if args.resume:
        key_text = key_file.read_text("utf-8")
        harness.load()
        harness.stop_orphan()
        harness.resumes += 1
    else:
        key_text = write_key_file(key_file)
    store = prepare_store(folder / "backend.sqlite3", terminals={TERMINAL: key_text}, terminal_doors={TERMINAL: 16},
                          people=DEMO_PEOPLE_PATH)
    running = start_embedded(store, clerk_password=saved["clerk_password"] if args.resume else None)
    config = folder / "soak.json"
    config.write_text(json.dumps({
        "folder": str(folder), "terminal": TERMINAL, "first": 1, "last": args.sessions, "seed": args.seed,
        "fault_share": args.faults, "sample_every": 10, "drain_seconds": 180,
        "backend_db": str(folder / "backend.sqlite3"), "backend_port": running.port, "backend_url": running.url,
        "clerk_password": running.clerk_password, "key_file": str(key_file)}), "utf-8")
    env = dict(os.environ, XDG_RUNTIME_DIR=str(folder / "run"), KIOSK_FLIGHT_DIR=str(folder / "flight"),
               TMPDIR=str(folder / "tmp"), ESCPOS_CAPABILITIES_PICKLE_DIR=str(folder / "tmp"), MALLOC_ARENA_MAX="2")
    env.pop("KIOSK_STATE_DIR", None)
    rng = random.Random(args.seed)
    if not args.resume:
        harness.kill_at = kill_moments(rng, args.sessions, kills_wanted)
    kill_at = harness.kill_at
    started = time.monotonic() - harness.seconds
    kills, crashes, restarts = harness.kills, harness.crashes, harness.restarts
    lives = harness.lives
    lives.append([])
    life_starts = harness.life_starts
    drained = ""
    fault_names = harness.fault_names
    timer: threading.Timer | None = None

    def save() -> None:
        harness.kills, harness.crashes, harness.restarts = kills, crashes, restarts
        harness.seconds, harness.fault_names = time.monotonic() - started, fault_names
        harness.child_pid = child.process.pid
        harness.save()
    from screens.launcher import virtual_display

    # one virtual screen for every life of the kiosk (a kiosk killed with -9 could not stop its own)
    with virtual_display(1080, 1920), open(folder / "kiosk-stderr.log", "a", encoding="utf-8") as child_log:
        if os.environ.get("DISPLAY"):
            env["DISPLAY"] = os.environ["DISPLAY"]
        child = Child(config, env, child_log)
        save()

        aimed_at: list[int] = []  # the session the pending kill timer is aimed at

        def kill(target: Child) -> None:
            nonlocal kills
            if target.process.poll() is None:
                target.kill()
                kills += 1
            aimed_at.clear()
        while True:
            try:
                line = child.lines.get(timeout=args.hang_seconds)
            except queue.Empty:  # hung: a defect like a crash; the stacks say where, then a new kiosk
                harness.hangs += 1
                print(f"kiosk hung: nothing for {args.hang_seconds:g} s; its threads' stacks are in "
                      f"{folder / 'kiosk-stderr.log'}; killed and restarted", flush=True)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.process.pid, signal.SIGUSR1)  # faulthandler in soak_kiosk.py
                    time.sleep(2)
                    child.kill()
                continue
            if line is None:  # the process ended
                if timer is not None:
                    timer.cancel()
                    timer = None
                code = child.process.wait()
                if drained:
                    break
                if code != -signal.SIGKILL:
                    crashes += 1
                    print(f"kiosk exited by itself with {code}; restarting", flush=True)
                    if crashes > MAX_CRASHES:
                        print(f"more than {MAX_CRASHES} crashes: giving up", flush=True)
                        break
                child = Child(config, env, child_log)
                restarts += 1
                lives.append([])
                save()
                continue
            words = line.split()
            if not words:
                continue
            if words[0] in ("begin", "stored", "unlocked") and len(words) >= 2:
                session = int(words[1])
                moment = kill_at.get(session)
                if moment is not None and moment[0] == words[0]:
                    del kill_at[session]
                    aimed_at[:] = [session]
                    timer = threading.Timer(moment[1], kill, args=(child,))
                    timer.start()
            elif words[0] == "done" and len(words) >= 2:
                # A session that ended before its kill landed (it stored nothing, or it was quicker
                # than the delay) passes the kill on to the next one: a kill during the final drain
                # would cut nothing, and one never fired would leave the restart untested.
                session = int(words[1])
                missed = kill_at.pop(session, None)
                if aimed_at == [session] and timer is not None:
                    timer.cancel()
                    timer = None
                    aimed_at.clear()
                    missed = ("begin", rng.uniform(0, 1))  # early: every session lasts longer than that
                if missed is not None and session < args.sessions:
                    kill_at.setdefault(session + 1, missed)
                save()
            elif words[0] == "start":
                life_starts.append(int(words[1]))
                save()
            elif words[0] == "mem":
                lives[-1].append(tuple(int(w) for w in words[1:8]))
                save()
            elif words[0] == "census":  # SOAK_CENSUS=1: which objects grow in the kiosk
                print(line, flush=True)
            elif words[0] == "faults":
                fault_names = " ".join(words[2:])
            elif words[0] == "drained":
                drained = line
    seconds = time.monotonic() - started

    journal = (folder / "journal.txt").read_text("utf-8").splitlines()
    begun = {int(line.split()[1]) for line in journal if line.startswith("begin ")}
    done = [line.split() for line in journal if line.startswith("done ")]
    passed = sum(1 for words in done if words[2] == "passed")
    failed = [words for words in done if words[2] == "failed"]
    failed_without_fault = [words for words in failed if words[4] == "-"]
    interrupted = len(begun) - len(done)
    faults_drawn: dict[str, int] = {}
    for line in journal:
        if line.startswith("begin ") and len(line.split()) > 3 and line.split()[3] != "-":
            faults_drawn[line.split()[3]] = faults_drawn.get(line.split()[3], 0) + 1
    figures = reconcile(store, TERMINAL, journal)
    running.stop()

    lost = sum(v for k, v in figures.items() if k.endswith(" lost"))
    twice = sum(v for k, v in figures.items() if k.endswith("stored twice by one session"))
    endpoints = figures["endpoints"]
    duplicated = {
        "applications": max(0, figures["cases"] - figures["applications stored"]),
        "ratings": max(0, figures["ratings"] - figures["ratings stored"]),
        "pickups": max(0, figures["pickups recorded"] - figures["pickups stored"]),
    }
    # records in the backend that no outbox item explains, or one item explained twice
    print(f"soak through the screens: {args.sessions} sessions, seed {args.seed}, {seconds:.0f} s "
          f"({seconds / max(1, len(begun)):.1f} s a session)")
    print(f"sessions: begun {len(begun)}, completed {passed}, ended by a failed step {len(failed)} (with a fault "
          f"injected {len(failed) - len(failed_without_fault)}, without {len(failed_without_fault)}), "
          f"interrupted by kill -9{' or the harness stop' if harness.resumes else ''} {interrupted}")
    print(f"kiosk kill -9: {kills}, restarts {restarts}, crashes (exits not ours): {crashes}, hangs (nothing for "
          f"{args.hang_seconds:g} s, killed): {harness.hangs}"
          + (f"; the harness was stopped and resumed {harness.resumes} time(s)" if harness.resumes else ""))
    print(f"faults the simulators list ({len(fault_names.split())}): {fault_names}")
    print("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults_drawn.items())))
    for label in ("applications", "ratings", "pickups"):
        print(f"{label}: stored {figures[f'{label} stored']}, lost {figures[f'{label} lost']}, duplicated "
              f"{duplicated[label] + figures[f'{label} stored twice by one session']}")
    print(f"backend: cases from the kiosk {figures['cases']}, ratings {figures['ratings']}, pickups recorded "
          f"{figures['pickups recorded']}, results still in the locker {figures['results still waiting in the locker']}; "
          f"acknowledged items by endpoint {json.dumps(endpoints, sort_keys=True)}; acknowledged without a journal "
          f"line (stored by a kiosk killed before it could write one) {figures['acknowledged without a journal line']}")
    print(f"outbox at the end: {drained}")
    unlocks = ledger_outcomes(folder / "state" / "pickup-ledger.sqlite3")
    unaccounted = unlocks.get("sent", 0) + unlocks.get("opened", 0)
    reported = unlocks.get("reported", 0)
    print(f"locker doors unlocked {sum(unlocks.values())}: " + ", ".join(f"{k} {v}" for k, v in sorted(unlocks.items()))
          + f"; pickups cut short after the door opened, reported to staff by the next kiosk {reported} (staff "
            f"calls in the backend: {figures['interrupted pickups reported']}); unlocks never accounted for "
            f"{unaccounted}")
    for words in failed_without_fault[:10]:
        print(f"failed without a fault: session {words[1]} {words[3]} at {words[5] if len(words) > 5 else '?'} "
              f"(failed/{words[1]}.yaml)")
    growth = None
    last = lives[-1]
    # the baseline is taken once the kiosk has shown every screen and filled its bounded buffers
    # and caches (the printer keeps its last 50 receipts, the outbox its last 200 answers, the
    # screens are built once): the first sample SETTLE sessions or more into the last process
    start = life_starts[-1] if life_starts else 1
    settled = [sample for sample in last if sample[0] - start >= SETTLE]
    if last:
        print(f"kiosk RSS at the start of its last process: {last[0][1] / 2**20:.1f} MB after session {last[0][0]}; "
              f"open files {last[0][2]}, threads {last[0][3]}")
    if len(settled) >= 2:
        first_sample, last_sample = settled[0], settled[-1]
        growth = (last_sample[1] - first_sample[1]) / first_sample[1] * 100
        print(f"kiosk RSS in its last process: {first_sample[1] / 2**20:.1f} MB after session {first_sample[0]}, "
              f"{last_sample[1] / 2**20:.1f} MB after session {last_sample[0]} ({growth:+.1f} %); open files "
              f"{first_sample[2]} → {last_sample[2]}; threads {first_sample[3]} → {last_sample[3]}")
        if len(first_sample) >= 7 and len(last_sample) >= 7:
            part = lambda index, name: (f"{name} {first_sample[index] / 2**20:.1f} → "  # noqa: E731
                                        f"{last_sample[index] / 2**20:.1f} MB")
            print("kiosk RSS in parts, same samples: " + "; ".join((
                part(4, "anonymous (its own data)"), part(5, "mapped files (libraries, fonts paged in)"),
                part(6, "of these, the software renderer's (Mesa llvmpipe: driver and LLVM code, compiled shaders)"))))
        print("kiosk RSS by session (MB): " + ", ".join(f"{sample[0]}:{sample[1] / 2**20:.1f}" for sample in last))
    else:
        print(f"kiosk RSS growth: too few samples {SETTLE} sessions into the last process (run more sessions)")
    if args.keep:
        print(f"database, journal, logs and failed sessions kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    ok = (crashes == 0 and harness.hangs == 0 and lost == 0 and sum(duplicated.values()) == 0 and twice == 0
          and (growth is None or growth < 5.0) and drained.startswith("drained pending=0")
          and unaccounted == 0 and reported == figures["interrupted pickups reported"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
