"""The kiosk process of ``benchmarks/soak.py``: resident sessions through the real screens, until killed.

Usage: python benchmarks/soak_kiosk.py CONFIG.json   (written by soak.py)

One process is one "life" of the kiosk between two kill -9s. It starts the real app with its
screens the way ``kiosk scenario run`` does (``screens.launcher.virtual_display``,
``kiosk.scenario.workdir.isolated``, ``screens.scenario_player.start_app``: the composition root
with every device simulated behind its real driver, on a headless window) and plays generated
scenario sessions one after another in that same app (``ScenarioPlayer.play``), so that memory,
open files and threads are measured across hundreds of sessions in one process.

The backend is the soak's reference backend (another process, a SQLite file). The kiosk reaches
it through a ``FaultProxy`` of its own, which the sessions' ``sim: backend down|slow|error``
steps switch, and the sessions' ``sim: backend case …`` steps make cases in the same database
(``refbackend.casework.BackendControl`` on a store opened on that file): this is the embedded
backend's testers' handle, pointed at a backend that survives the kiosk's kill -9.

Sessions (``session_steps``; every choice drawn from the seed and the session number): apply for
高龄津贴发放 with a photographed page, apply for 异地就医备案 signing the commitment on the pad,
代办 by a grid worker, follow a case by its receipt's QR code and rate it, collect a result with
its pickup code (door opened, taken, closed, slip printed; a door that holds no result, as the
backend's database says) and rate it. A page goes onto an empty glass (``FRESH_PAGE``). About 60 % of the sessions
get one fault at a random step, lifted 1–4 steps later: any fault any simulator lists
(``list`` on the control socket: ID card reader, scanner, locker, camera, printer), an unplugged
device, or the backend down, slow or answering 500.

After each session the kiosk is brought back to the home screen as a resident walking away
would leave it (faults cleared, card removed, 退出). A session whose step failed is journaled
``done N failed …`` with its scenario written to ``failed/N.yaml`` (replay it with ``kiosk
scenario run``); the process goes on with the next session.

The journal (each line flushed and fsynced, also printed on stdout): ``begin N``, ``stored N KIND
KEY`` the moment the outbox has an item on disk (``Outbox.enqueue`` returned), ``unlocked N`` the
moment a locker door opened for a pickup, ``done N passed|failed
…``, and on stdout ``mem N RSS FDS THREADS ANON FILES JIT`` every ``sample_every`` sessions. A restarted process
resumes after the last session begun. After the last session it drains the outbox and prints
``drained``.
"""
from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PICTURES = ROOT / "tests" / "scenarios" / "pictures"
ADULTS = ("senior", "resident-long-term", "resident", "resident-rare-name", "resident-minority")
ELDERLY = ("senior",)  # 高龄津贴: 80 and over; the others on the deck are younger


def object_census() -> dict[str, int]:
    """How many objects of each type the garbage collector tracks (``SOAK_CENSUS=1``: what grows)."""
    import gc
    from collections import Counter

    gc.collect()
    def name(kind: type) -> str:
        module = kind.__dict__.get("__module__")  # a class may shadow it (a getset descriptor)
        return f"{module if isinstance(module, str) else kind.__module__!s}.{kind.__qualname__}"
    census = Counter()
    for thing in gc.get_objects():
        census[name(type(thing))] += 1
        if type(thing).__name__ == "method":  # which callbacks pile up (a binding never undone)
            census[f"method {type(thing.__self__).__qualname__}.{thing.__func__.__qualname__}"] += 1
    return dict(census)


def report_census(session: int, first: dict[str, int], now: dict[str, int]) -> None:
    """The types that grew most since the first census, overall and among widgets and the project's own."""
    growth = sorted(((now.get(name, 0) - first.get(name, 0), name) for name in set(now) | set(first)),
                    reverse=True)
    ours = [(delta, name) for delta, name in growth
            if name.startswith(("screens.", "kiosk.", "drivers.", "kivy.uix.", "refbackend.", "method "))]
    print(f"census {session} " + " ".join(f"{name}:{delta:+d}" for delta, name in growth[:12] if delta)
          + " | " + " ".join(f"{name}:{delta:+d}" for delta, name in ours[:12] if delta), flush=True)


def memory_sample() -> tuple[int, int, int, int, int, int]:
    """RSS, open files, threads; then RSS's parts: anonymous (the process's own data) and mapped
    files (libraries and fonts paged in as they are used); and of these, the software renderer's
    under Xvfb (Mesa's llvmpipe): its driver and LLVM code, paged in as it compiles a shader
    variant the first time a screen needs one, and the compiled code (anonymous executable
    mappings, which only a JIT makes). A kiosk with a GPU driver has none of it. Bytes."""
    status = {line.split(":")[0]: line.split()[1:] for line in Path("/proc/self/status").read_text().splitlines()
              if ":" in line}
    kib = lambda key: int(status.get(key, ["0"])[0]) * 1024  # noqa: E731
    jit = 0
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
        renderer = False
        for line in smaps:
            words = line.split()
            if "-" in words[0] and len(words) >= 5 and not words[0].endswith(":"):
                path = words[5] if len(words) > 5 else ""
                renderer = (("x" in words[1] and words[4] == "0" and not path)
                            or "libLLVM" in path or "/dri/" in path)
            elif renderer and words[0] == "Rss:":
                jit += int(words[1]) * 1024
    return (kib("VmRSS"), len(os.listdir("/proc/self/fd")), int(status["Threads"][0]),
            kib("RssAnon"), kib("RssFile") + kib("RssShmem"), jit)


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


# -- the sessions ------------------------------------------------------------------------------

def acceptance_number(session: int) -> str:
    return f"370503-20261207-{700000 + session:06d}"


#: the page goes onto an empty glass: the camera takes a page by itself when one is laid down,
#: not when the last resident's page (the same picture) still seems to lie there; the glass has
#: to be seen empty for a moment (``MaterialCapture.GONE_SECONDS``, 0.4 s, of frames, which come
#: slower on a busy machine)
FRESH_PAGE = ({"sim": "camera scene empty"}, {"wait": 2.0})


def _apply_allowance(rng: random.Random, session: int) -> list[dict]:
    holder = rng.choice(ELDERLY)
    picture = rng.choice(("bank-card.jpg", "letter.jpg", "bank-card-back.jpg"))
    return [
        {"screen": "home"}, {"sim": f"card place {holder}"}, {"see": "您已登录"}, {"tap": "home.apply"},
        {"tap_text": "高龄津贴发放"}, {"screen": "guide"}, {"tap": "guide.apply"}, {"screen": "apply.form"},
        {"tap": "form.phone"}, {"type": f"138{rng.randrange(10**8):08d}{{enter}}"}, {"tap": "apply.next"},
        {"screen": "apply.materials"}, *FRESH_PAGE, {"sim": f"camera show {PICTURES / picture}"},
        {"see": "已拍好第1页", "timeout": 40}, {"tap": "apply.next"}, {"screen": "apply.consent"},
        {"tap": "consent.terms"}, {"tap": "consent.sensitive"}, {"tap": "consent.agree"},
        {"screen": "apply.delivery"}, {"tap": "delivery.window"},
        {"screen": "apply.review"}, {"tap": "review.submit"}, {"screen": "apply.done", "timeout": 60},
    ]


def _apply_commitment(rng: random.Random, session: int) -> list[dict]:
    holder = rng.choice(ADULTS)
    place = rng.choice(("hainan{1}sanya{1}", "beijing{1}", "shanghai{1}", "guangzhou{1}"))
    return [
        {"screen": "home"}, {"sim": f"card place {holder}"}, {"see": "您已登录"}, {"tap": "home.apply"}, {"tap_text": "异地就医备案"},
        {"tap": "guide.apply"}, {"screen": "apply.form"}, {"tap": "form.phone"},
        {"type": f"139{rng.randrange(10**8):08d}{{enter}}"}, {"tap": f"form.kind.{rng.choice((1, 2))}"},
        {"tap": "form.place"}, {"type": place + "{enter}"}, {"tap": "apply.next"}, {"screen": "apply.materials"},
        {"tap": "materials.commit"}, {"see": "请用手指在下面框内签名"}, {"draw": "signature.pad"},
        {"tap": "signature.done"}, {"see": "已签署告知承诺"}, {"tap": "apply.next"}, {"screen": "apply.consent"},
        {"tap": "consent.terms"}, {"tap": "consent.agree"}, {"screen": "apply.delivery"},
        {"tap": "delivery.window"}, {"screen": "apply.review"}, {"tap": "review.submit"},
        {"screen": "apply.done", "timeout": 60},
    ]


def _daiban(rng: random.Random, session: int) -> list[dict]:
    return [
        {"screen": "home"}, {"tap": "home.agent"}, {"screen": "agent"}, {"sim": "card place grid-worker"},
        {"see": "请输入 6 位工作密码"}, {"sim": "card remove"}, {"type": "246810{enter}"},
        {"see": "网格员 王晓梅 已登录"}, {"sim": f"card place {rng.choice(ELDERLY)}"},
        {"see": "请群众本人确认以下信息"}, {"tap": "agent.confirm"}, {"screen": "home"}, {"sim": "card remove"}, {"see": "您已登录"},
        {"tap": "home.apply"}, {"tap_text": "高龄津贴发放"}, {"tap": "guide.apply"}, {"screen": "apply.form"},
        {"tap": "form.phone"}, {"type": f"137{rng.randrange(10**8):08d}{{enter}}"}, {"tap": "apply.next"},
        {"screen": "apply.materials"}, *FRESH_PAGE, {"sim": f"camera show {PICTURES / 'bank-card.jpg'}"},
        {"see": "已拍好第1页", "timeout": 40}, {"tap": "apply.next"}, {"see": "代办人居民身份证"},
        {"sim": "camera scene id_card"}, {"see": "已拍 1 页", "timeout": 40}, {"tap": "apply.next"},
        {"screen": "apply.consent"}, {"tap": "consent.terms"}, {"tap": "consent.sensitive"},
        {"tap": "consent.agree"}, {"tap": "delivery.window"}, {"screen": "apply.review"},
        {"tap": "review.submit"}, {"screen": "apply.done", "timeout": 60},
    ]


def _follow_and_rate(rng: random.Random, session: int) -> list[dict]:
    number, code = acceptance_number(session), f"{rng.randrange(100000, 1000000)}"
    state = rng.choice(("accepted", "reviewing", "supplement", "approved", "rejected"))
    return [
        {"screen": "home"},
        {"sim": f"backend case --holder {rng.choice(ADULTS)} --state {state} --number {number} --code {code}"},
        {"tap": "home.follow"}, {"screen": "follow.list"},
        {"sim": f"scan https://zwfw.hekou.example.gov.cn/q/{number}?c={code}"}, {"screen": "follow.case"},
        {"see": f"受理编号 {number}"}, {"tap": "follow.rate"}, {"screen": "rate"}, {"see": "您对本次服务满意吗？"},
        *_rating(rng.choice((1, 3, 4, 5)), rng), {"tap": "rate.continue"},
        {"screen": "follow.list"},
    ]


def _rating(level: int, rng: random.Random) -> list[dict]:
    """好差评 at ``level``; a bad one (1–2) asks for a reason, and may get a comment typed in pinyin."""
    steps = [{"tap": f"rate.{level}"}]
    if level <= 2:
        steps += [{"see": "请告诉我们哪里不满意"},
                  {"tap": f"rate.reason.{rng.choice(('slow', 'many_trips'))}"}]
        if rng.random() < 0.5:
            steps += [{"tap": "rate.comment"}, {"type": "paidui{1}"}]
        steps.append({"tap": "rate.submit"})
    return steps + [{"see": "感谢您的评价"}]


def _pickup_and_rate(rng: random.Random, session: int, busy: frozenset[int] = frozenset()) -> list[dict]:
    # the next door in turn that holds no result (one a failed pickup session left behind)
    door = next((d % 16 + 1 for d in range(session, session + 16) if d % 16 + 1 not in busy), session % 16 + 1)
    code = f"{(session * 7919) % 900000 + 100000}"
    return [
        {"screen": "home"},
        {"sim": f"backend case --holder {rng.choice(ADULTS)} --state ready --door {door} --pickup-code {code} "
                f"--number {acceptance_number(session)}"},
        {"sim": f"door put {door}"}, {"tap": "home.pickup"}, {"screen": "pickup.list"}, {"tap": "pickup.type_code"},
        {"type": code + "{enter}"}, {"see": "您有 1 件材料待取"}, {"tap": "pickup.confirm"},
        {"screen": "pickup.open"}, {"see": f"请从 {door} 号柜门取件"}, {"sim": f"door take {door}"},
        {"sim": f"door close {door}"}, {"screen": "pickup.done", "timeout": 20}, {"tap": "pickup.rate"},
        {"screen": "rate"}, *_rating(rng.choice((1, 2, 3, 4, 5)), rng), {"tap": "rate.continue"},
    ]


JOURNEYS = {"apply": (_apply_allowance, 30), "commit": (_apply_commitment, 15), "daiban": (_daiban, 10),
            "follow": (_follow_and_rate, 20), "pickup": (_pickup_and_rate, 25)}


def fault_menu(listing: dict) -> list[tuple[str, str, str]]:
    """Every fault the running simulators list, as ``(what, sim words, words that lift it)``."""
    menu = []
    for device, state in sorted(listing.items()):
        if device == "backend":
            continue
        for name in state.get("known_faults", ()) if isinstance(state, dict) else ():
            words = f"fault {device} {name}"
            if device == "locker" and name in ("jammed", "door_left_open", "no_sensor"):
                words += " --door 1"
            menu.append((f"{device}.{name}", words, f"clear {device}"))
        menu.append((f"{device}.unplugged", f"unplug {device}", f"replug {device}"))
    menu += [("backend.down", "backend down", "backend up"), ("backend.slow", "backend slow --seconds 3", "backend up"),
             ("backend.error", "backend error", "backend up")]
    return menu


def session_steps(seed: int, session: int, menu: list[tuple[str, str, str]], fault_share: float,
                  busy_doors: frozenset[int] = frozenset()) -> tuple[str, str, list[dict]]:
    """The session's journey, its fault (``""``: none) and its scenario steps. ``busy_doors``:
    locker doors that still hold a result (a pickup chooses another)."""
    rng = random.Random(seed * 1_000_003 + session)
    journey = rng.choices(list(JOURNEYS), weights=[w for _f, w in JOURNEYS.values()])[0]
    steps = (_pickup_and_rate(rng, session, busy_doors) if journey == "pickup"
             else JOURNEYS[journey][0](rng, session))
    fault = ""
    if menu and rng.random() < fault_share:
        fault, words, lift = rng.choice(menu)
        at = rng.randrange(1, len(steps) - 1)
        until = min(len(steps), at + rng.randint(1, 4))
        steps = steps[:at] + [{"sim": words}] + steps[at:until] + [{"sim": lift}] + steps[until:]
    return journey, fault, steps


# -- the kiosk -----------------------------------------------------------------------------------

def soak_settings(config: dict):
    from kiosk.config import DEMO_CONFIG_PATH, load_settings

    settings = load_settings(DEMO_CONFIG_PATH)
    locker = dataclasses.replace(settings.devices.locker, simulator_items="")
    devices = dataclasses.replace(settings.devices, locker=locker)
    terminal = dataclasses.replace(settings.terminal, id=config["terminal"])
    logging_ = dataclasses.replace(settings.logging, level="WARNING")
    backend = dataclasses.replace(settings.backend, embedded=True, connect_timeout=1.0, read_timeout=5.0)
    return dataclasses.replace(settings, devices=devices, terminal=terminal, logging=logging_, backend=backend)


def busy_doors(config: dict) -> frozenset[int]:
    """Doors of this terminal whose result waits, as the soak's backend database says."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{config['backend_db']}?mode=ro", uri=True, timeout=10)) as conn:
        return frozenset(door for (door,) in conn.execute(
            "SELECT door FROM pickups WHERE terminal_id=? AND picked_up_at IS NULL", (config["terminal"],)))


def soak_backend(config: dict):
    """``embed_backend`` for ``start_app``: the soak's own backend (another process) behind a fault
    switch of this kiosk's, with the testers' handle on its database."""
    def embed(settings):
        from kiosk.backend.models import EmbeddedBackend
        from kiosk.backend.signing import parse_key
        from refbackend.casework import BackendControl
        from refbackend.clerk_desk import ClerkApi
        from refbackend.faults import FaultProxy
        from refbackend.store import ReferenceStore

        store = ReferenceStore(config["backend_db"])
        proxy = FaultProxy(config["backend_port"]).start()
        desk = ClerkApi(config["backend_url"], config["clerk_password"])

        def stop() -> None:
            desk.close()
            proxy.stop()
            store.close()
        return EmbeddedBackend(url=proxy.url, terminal_key=parse_key(Path(config["key_file"]).read_text()),
                               clerk_password=config["clerk_password"], stop=stop,
                               control=BackendControl(store, settings.terminal.id, proxy, desk),
                               direct_url=config["backend_url"])
    return embed


def journal_outbox(journal: Journal, current: list[int]) -> None:
    """Journal every item the outbox stores, the moment it is on disk (harness instrumentation)."""
    from kiosk.backend.outbox import Outbox

    enqueue = Outbox.enqueue

    def journaled(self, kind, payload, parts=None, key=None, after=None):
        stored = enqueue(self, kind, payload, parts, key, after)
        journal.write(f"stored {current[0]} {kind} {stored}")
        return stored
    Outbox.enqueue = journaled

    from kiosk.pickup_ledger import PickupLedger

    note = PickupLedger.note

    def noted(self, pickup_id, outcome):
        note(self, pickup_id, outcome)
        if outcome == "opened":  # the door is open: a kill now cuts a pickup short
            journal.write(f"unlocked {current[0]}")
    PickupLedger.note = noted


class QuietReporter:
    """The scenario runner's reporter, writing to the soak's step log."""

    def __init__(self, out):
        from kiosk.scenario.report import Reporter

        self.inner = Reporter(out)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def back_home(app, simulate, menu) -> None:
    """What a resident walking away leaves: faults lifted, card off the reader, 退出, work finished."""
    from kiosk.commands.sim import parse_sim_words
    from screens.scenario_player import frame

    for words in sorted({lift for _f, _w, lift in menu}) + ["card remove"]:
        try:
            simulate(parse_sim_words(words))
        except Exception:  # a device that refuses "clear" while unplugged is plugged back by "replug"
            pass
    frame(2)
    if app.screens is not None and app.screens.current != "home" or app.kiosk.session.active:
        app.sign_out()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame(1)
        if app.screens.current == "home" and app.kiosk.wait_idle(timeout=0.02, poll=0.01):
            break
    quiet_until = time.monotonic() + 0.3  # the pause between residents, long enough for the memory release
    while time.monotonic() < quiet_until:
        frame(1)


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    # the harness sends SIGUSR1 to a kiosk that hangs: every thread's stack (code places only,
    # no values) goes to stderr, kiosk-stderr.log, before the kill
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    from kiosk.memory import return_big_buffers

    return_big_buffers()  # as `kiosk run` does, before anything allocates (kiosk/memory.py)
    from drivers.sim.control import SimControlClient
    from kiosk.commands.sim import call_simulator, parse_sim_words
    from kiosk.logs import setup_logging
    from kiosk.scenario.parse import parse_scenario
    from kiosk.scenario.workdir import isolated
    from screens.launcher import virtual_display
    from screens.registry import SCREENS

    folder = Path(config["folder"])
    setup_logging("WARNING", "text", open(folder / "kiosk.log", "a", encoding="utf-8"))
    journal = Journal(folder / "journal.txt")
    current = [0]
    journal_outbox(journal, current)
    settings = soak_settings(config)
    first = journal.next_session(config["first"])
    print(f"start {first} pid {os.getpid()}", flush=True)
    steps_log = open(folder / "steps.log", "a", encoding="utf-8")
    (folder / "failed").mkdir(exist_ok=True)
    import yaml

    with virtual_display(settings.display.width, settings.display.height), \
            isolated(settings, folder / "state") as work:
        from screens.scenario_player import ScenarioPlayer, start_app, stop_app

        # a named database (never read: the backend is the soak's) keeps the outbox in the state
        # folder, where it survives kill -9, instead of a demo's throwaway folder
        settings_here = dataclasses.replace(work.settings, backend=dataclasses.replace(
            work.settings.backend, embedded_db=config["backend_db"]))
        app = start_app(settings_here, soak_backend(config))
        # the kiosk gives memory back 2 s after a resident leaves; here the next one comes at once
        app.memory_release_delay = 0.2
        socket_path = work.sim_socket

        def simulate(request):
            return call_simulator(request, socket_path)
        player = ScenarioPlayer(app, QuietReporter(steps_log), folder / "shots", simulate)
        player.wait_ready()
        menu = fault_menu(SimControlClient(socket_path).call(None, "list"))
        print(f"faults {len(menu)} " + " ".join(name for name, _w, _l in menu), flush=True)
        first_census: dict[str, int] = {}
        for session in range(first, config["last"] + 1):
            journey, fault, steps = session_steps(config["seed"], session, menu, config["fault_share"],
                                                  busy_doors(config))
            text = yaml.safe_dump({"name": f"soak session {session}: {journey}" + (f", fault {fault}" if fault else ""),
                                   "steps": steps}, allow_unicode=True, sort_keys=False)
            scenario = parse_scenario(text, ROOT / "tests" / "scenarios" / f"soak-{session}.yaml",
                                      screens=sorted(SCREENS), check_sim=parse_sim_words)
            current[0] = session
            journal.write(f"begin {session} {journey} {fault or '-'}")
            if os.environ.get("SOAK_TEST_HANG_AT") == str(session):  # the harness's own test of a hang
                time.sleep(10**6)
            result = player.play(scenario)
            back_home(app, simulate, menu)
            if result.passed:
                journal.write(f"done {session} passed {journey} {fault or '-'}")
            else:
                (folder / "failed" / f"{session}.yaml").write_text(text, "utf-8")
                failure = result.failure
                where = f"step {failure.step} {failure.kind}" if failure else (result.error or "?")
                journal.write(f"done {session} failed {journey} {fault or '-'} {where.replace(' ', '_')}")
            if session % config["sample_every"] == 0:
                if os.environ.get("SOAK_CENSUS") == "1":
                    census = object_census()
                    first_census = first_census or census
                    report_census(session, first_census, census)
                print(f"mem {session} " + " ".join(str(figure) for figure in memory_sample()), flush=True)
        drain(app.kiosk, config)
        stop_app(app)
    return 0


def drain(kiosk, config: dict) -> None:
    services = kiosk.backend_services()
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


if __name__ == "__main__":
    sys.exit(main())
