"""Soak: many resident sessions with faults and kill -9, then count what reached the backend.

    .venv/bin/python benchmarks/soak.py [--sessions 1000] [--seed 1] [--kills K] [--keep DIR] [--trace]

A reference backend runs in this process (SQLite file); the kiosk (``benchmarks/soak_kiosk.py``,
the real composition root without the screens) runs as a child process and talks to the backend
through a fault proxy (``refbackend.faults.FaultProxy``). While the sessions run:

- the backend is switched at random every 0.5–3 s between up (55 %), down (15 %), slow (1.5 s
  an answer, 15 %) and answering 500 (15 %), until 90 % of the sessions have begun;
- the kiosk draws printer faults per session through its simulator control socket: paper out
  (10 %), the printer unplugged and plugged back (5 %);
- the kiosk is killed with SIGKILL ``--kills`` times (default one per 40 sessions, only in the
  first 70 % so that the last stretch measures memory in one process): half of the kills
  0–50 ms after an application was stored in the outbox (mid-submission: uploading or
  submitting), half right after a session began; a new kiosk process starts at once and
  resumes with the next session.

Afterwards the backend's database is reconciled with the kiosk's journal: every application
the outbox accepted (``stored``) must be exactly one case, every rating the outbox accepted
exactly one rating. It prints sessions completed, crashes (exits that were not our kills),
applications and ratings lost or duplicated, the outbox left over, and the kiosk's RSS, open
files and threads from the first sample 100 sessions into its last process (once its bounded
buffers have filled) to the end.
Items that met a server error wait their own pause (up to an hour) before the next try; at the
end the soak lets the outbox's clock run past it and drains once more (``waiting_their_pause``).
``--trace`` also compares the kiosk's Python allocations over its last 60 % (tracemalloc).
Exit status 0 only with 0 crashes, 0 lost, 0 duplicated and RSS growth under 5 %.
"""
from __future__ import annotations

import argparse
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
TERMINAL = "HK-SOAK-001"


def kiosk_toml(folder: Path, url: str, key_file: Path) -> str:
    state = folder / "state"
    return f"""
[terminal]
id = "{TERMINAL}"
name = "河口街道便民服务中心 · 浸泡测试"

[logging]
level = "WARNING"
format = "text"

[catalog]
state_dir = "{state / 'catalog'}"

[session]
scratch_dir = "{folder / 'scratch'}"

[devices]
sim_control = "{folder / 'run' / 'sim.sock'}"

[devices.printer]
driver = "simulator"
paper_width = 80

[backend]
url = "{url}"
terminal_key_file = "{key_file}"
outbox_path = "{state / 'outbox.sqlite3'}"
outbox_key_file = "{state / 'outbox.key'}"
catalog_cache_path = "{state / 'catalog.sqlite3'}"
connect_timeout = 1
read_timeout = 5
retries = 1
heartbeat_seconds = 60
"""


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


def switch_faults(proxy, rng: random.Random, stop: threading.Event, counts: dict[str, int]) -> None:
    while not stop.wait(rng.uniform(0.5, 3.0)):
        mode = rng.choices(["up", "down", "slow", "error"], weights=[55, 15, 15, 15])[0]
        proxy.set_mode(mode, 1.5 if mode == "slow" else None)
        counts[mode] = counts.get(mode, 0) + 1
    proxy.set_mode("up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help=f"resident sessions (1–{MAX_SESSIONS})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=None, help="kill -9 of the kiosk (default sessions/40)")
    parser.add_argument("--keep", help="keep the backend database, journal and logs in this folder")
    parser.add_argument("--trace", action="store_true",
                        help="also trace the kiosk's Python allocations over its last 60 %% and print the biggest "
                             "growth (slower)")
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be 1–{MAX_SESSIONS}")
    kills_wanted = args.sessions // 40 if args.kills is None else max(0, args.kills)

    import logging

    logging.disable(logging.WARNING)  # the backend's refusals and switches would flood the figures
    from backend_support import pick_item, required_pages
    from kiosk.backend.signing import generate_key, write_key_file
    from refbackend.faults import FaultProxy
    from refbackend.server import prepare_store, start_embedded
    from soak_kiosk import id_number

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "run", "scratch", "tmp"):
        (folder / sub).mkdir(mode=0o700, exist_ok=True)
    key_file = folder / "terminal.key"
    key_text = write_key_file(key_file)
    store = prepare_store(folder / "backend.sqlite3", terminals={TERMINAL: key_text}, terminal_doors={TERMINAL: 16})
    running = start_embedded(store)
    proxy = FaultProxy(running.port).start()
    item = pick_item("承诺件")
    materials = sorted({index for index, *_ in required_pages(item, b"x")})
    (folder / "kiosk.toml").write_text(kiosk_toml(folder, proxy.url, key_file), "utf-8")
    config = folder / "soak.json"
    config.write_text(json.dumps({
        "kiosk_toml": str(folder / "kiosk.toml"), "journal": str(folder / "journal.txt"),
        "log": str(folder / "kiosk.log"), "first": 1, "last": args.sessions, "seed": args.seed,
        "paper_out": 0.10, "unplug": 0.05, "item_code": item.code, "materials": materials, "sample_every": 25,
        "drain_seconds": 180, "trace_from": int(args.sessions * 0.4) if args.trace else None}), "utf-8")
    env = dict(os.environ, KIOSK_STATE_DIR=str(folder / "state"), XDG_RUNTIME_DIR=str(folder / "run"),
               KIOSK_FLIGHT_DIR=str(folder / "flight"), TMPDIR=str(folder / "tmp"),
               ESCPOS_CAPABILITIES_PICKLE_DIR=str(folder / "tmp"), MALLOC_ARENA_MAX="2")
    rng = random.Random(args.seed)
    kill_zone = max(1, int(args.sessions * 0.7))
    kill_at = {n: rng.choice(("stored", "begin")) for n in rng.sample(range(1, kill_zone + 1),
                                                                        min(kills_wanted, kill_zone))}
    stop_faults = threading.Event()
    fault_counts: dict[str, int] = {}
    faults = threading.Thread(target=switch_faults, args=(proxy, random.Random(args.seed + 7), stop_faults,
                                                          fault_counts), daemon=True)
    started = time.monotonic()
    faults.start()
    kills = crashes = restarts = 0
    last_memory: list[tuple[int, int, int, int]] = []
    drained = ""
    traces: list[str] = []
    last_start = 0
    with open(folder / "kiosk-stderr.log", "a", encoding="utf-8") as child_log:
        child = Child(config, env, child_log)
        while True:
            line = child.lines.get()
            if line is None:  # the process ended
                code = child.process.wait()
                if drained:
                    break
                crashes += 1
                print(f"kiosk exited by itself with {code}; restarting", flush=True)
                child = Child(config, env, child_log)
                restarts += 1
                last_memory = []
                continue
            words = line.split()
            if words[0] in ("begin", "stored") and len(words) >= 2:
                session = int(words[1])
                if words[0] == "begin" and session >= int(args.sessions * 0.9):
                    stop_faults.set()
                if kill_at.get(session) == words[0]:
                    del kill_at[session]
                    time.sleep(rng.uniform(0, 0.05) if words[0] == "stored" else 0)
                    child.kill()
                    kills += 1
                    while child.lines.get() is not None:
                        pass
                    child = Child(config, env, child_log)
                    restarts += 1
                    last_memory = []
            elif words[0] == "start":
                last_start = int(words[1]) - 1
            elif words[0] == "mem":
                last_memory.append(tuple(int(w) for w in words[1:5]))
            elif words[0] == "drained":
                drained = line
            elif words[0] == "trace":
                traces.append(line)
    stop_faults.set()
    faults.join(timeout=10)
    seconds = time.monotonic() - started

    journal = (folder / "journal.txt").read_text("utf-8").splitlines()
    stored = {int(line.split()[1]) for line in journal if line.startswith("stored ")}
    rated = {int(line.split()[1]) for line in journal if line.startswith("rated ")}
    done = {int(line.split()[1]) for line in journal if line.startswith("done ")}
    refused = [line for line in journal if line.startswith("refused ")]
    begun = {int(line.split()[1]) for line in journal if line.startswith("begin ")}
    lost = duplicated = ratings_lost = ratings_duplicated = unjournaled = 0
    for session in sorted(begun):
        number = id_number(session)
        cases = store.count("cases", "holder_id=?", (number,))
        ratings = store.count("ratings", "acceptance_number IN (SELECT acceptance_number FROM cases WHERE "
                                         "holder_id=?)", (number,))
        duplicated += cases > 1
        if session in stored:
            lost += cases == 0
        elif cases:
            # killed after the outbox committed the application but before the journal said so:
            # it was stored, and reached the backend once, as it should
            unjournaled += 1
        if session in rated:
            ratings_lost += ratings == 0
            ratings_duplicated += ratings > 1
    proxy.stop()
    running.stop()

    print(f"soak: {args.sessions} sessions, seed {args.seed}, {seconds:.0f} s")
    print(f"sessions completed: {len(done)} (begun {len(begun)}; a session killed before its application was "
          f"stored never told the resident it was)")
    print(f"kiosk kill -9: {kills}, restarts {restarts}, crashes (exits not ours): {crashes}")
    print(f"backend switches: " + ", ".join(f"{k} {v}" for k, v in sorted(fault_counts.items())))
    print(f"applications stored: {len(stored)}, reached the backend exactly once: {len(stored) - lost - duplicated},"
          f" lost: {lost}, duplicated: {duplicated}, refused: {len(refused)}; stored by a kiosk killed before its "
          f"journal line (each one case): {unjournaled}")
    print(f"ratings stored: {len(rated)}, lost: {ratings_lost}, duplicated: {ratings_duplicated}")
    print(f"outbox at the end: {drained}")
    growth = None
    # The baseline is taken once the kiosk's bounded buffers have filled (the printer keeps its
    # last 50 receipts, the outbox its last 200 answers, the health history its rings): the first
    # sample 100 sessions or more into the last process.
    settled = [sample for sample in last_memory if sample[0] - last_start >= 100]
    if len(settled) >= 3:
        first, last = settled[0], settled[-1]
        growth = (last[1] - first[1]) / first[1] * 100
        print(f"kiosk RSS in its last process: {first[1] / 2**20:.1f} MB after session {first[0]}, "
              f"{last[1] / 2**20:.1f} MB after session {last[0]} ({growth:+.1f} %); open files {first[2]} → "
              f"{last[2]}; threads {first[3]} → {last[3]}")
        print("kiosk RSS by session (MB): " + ", ".join(f"{n}:{rss / 2**20:.1f}" for n, rss, _, _ in last_memory))
    else:
        print("kiosk RSS: too few samples 100 sessions into the last process (run more sessions)")
    for line in traces:
        print(line)
    if args.keep:
        print(f"database, journal and logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    ok = (crashes == 0 and lost == 0 and duplicated == 0 and ratings_lost == 0 and ratings_duplicated == 0
          and (growth is None or growth < 5.0) and drained.startswith("drained pending=0"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
