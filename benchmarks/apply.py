"""Applying at the kiosk: time from ``review.submit`` to ``apply.done`` with 3 pages, over loopback.

    python benchmarks/apply.py [--runs 9] [--seed 11]

The reference backend runs as its own process (``kiosk backend serve`` on 127.0.0.1, SQLite with
synchronous=FULL), as the district's system would. The kiosk side is the real apply journey
(``kiosk.flows.apply.ApplyFlow``), with three pages captured through the real capture pipeline
(page detection, perspective correction, scan look, JPEG ≤ 1 MB at 200 dpi) from frames of the
simulated document camera, for two items:

- ``cards``: 残疾人两项补贴申请 — the ID card provides one material; the disability card front
  and back and the bank card are photographed (card-sized pages);
- ``a4``: 临时救助 — the application letter and two pages of proof of hardship (A4 pages).

The camera's scenes vary from run to run (what lies there, desk, shadow, noise, rotation, seed),
so the pages' sizes vary as real ones do.

The timed part is what the resident waits for after touching 提交: the flow puts the request
together, reads the pages, stores everything encrypted in the outbox (fsync), creates the
application, uploads the three pages, submits, gets the acceptance number, acknowledges and
deletes the outbox item, and the flow is ``done``. Printed: the median, p90, min and max over
``--runs``, the pages' upload size (JPEG bytes of the 3 pages), and, in the same run and with
the same pages, the simplest alternative — the same calls straight through the HTTP client
(create + 3 PUT + submit, no outbox, no flow).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import requests  # noqa: E402

from drivers.camera.scene import document_scene  # noqa: E402
from kiosk.backend import models as m  # noqa: E402
from kiosk.backend.catalog_cache import CatalogCache  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.crypto import RecordCipher, load_or_create_data_key  # noqa: E402
from kiosk.backend.outbox import Outbox  # noqa: E402
from kiosk.backend.service import BackendServices  # noqa: E402
from kiosk.backend.signing import parse_key, write_key_file  # noqa: E402
from kiosk.catalog.items import load_catalog_file  # noqa: E402
from kiosk.catalog.service import DEMO_CATALOG_PATH  # noqa: E402
from kiosk.flows import apply as a  # noqa: E402
from kiosk.session import Identity, Session  # noqa: E402
from kiosk.vision.capture import CaptureOptions  # noqa: E402

TERMINAL = "HK-BENCH-APPLY"
#: item, its typed fields, and per photographed material the scene kinds laid under the camera
PLANS = {
    "cards": ("370503-MZ-0005", {"phone": "13805461234", "subsidy": "两项都申请", "disability_kind": "肢体"},
              (("id_card", "id_card"), ("id_card",))),
    "a4": ("370503-XZ-0003", {"phone": "13805461234", "hardship": "家里失火，房屋受损", "household": "3"},
           (("text",), ("form", "text"))),
}
HOLDER = Identity("idcard", id_number="370503194003050029", name="欧阳娜娜",
                  address="山东省东营市河口区仙河镇仙河村12号", birth_date="1940-03-05")


def start_server(workdir: Path) -> tuple[subprocess.Popen, str, bytes]:
    key_file = workdir / "terminal.key"
    key = parse_key(write_key_file(key_file))
    server = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "backend", "serve", "--port", "0", "--db",
                               str(workdir / "backend.sqlite3"), "--terminal", f"{TERMINAL}={key_file}",
                               "--no-access-log"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = re.search(r"(http://127\.0\.0\.1:\d+)", server.stdout.readline()).group(1)
    for _ in range(400):
        try:
            requests.get(url + "/healthz", timeout=1)
            return server, url, key
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("backend did not start")


class Frame:
    def __init__(self, image: np.ndarray):
        self.image, self.seq = image, 1


class SceneCamera:
    """A ``CameraAccess`` whose frame is whatever scene the benchmark lays down next."""

    def __init__(self):
        self.frame: Frame | None = None

    def lay(self, rng: np.random.Generator, kind: str) -> None:
        made = document_scene(rng, 1920, 1080, kind=kind, desk=str(rng.choice(["wood", "dark", "pale", "cloth"])),
                              effects=[e for e in ("noise", "vignette", "shadow") if rng.random() < 0.5],
                              max_rotation=8.0, perspective=0.02)
        self.frame = Frame(made.image)

    def device(self):
        return self

    def latest(self):
        return self.frame

    def start(self):
        pass

    def stop(self):
        pass

    def available(self):
        return True

    def subscribe(self, listener):
        from drivers.events import Subscription
        return Subscription(lambda: None)


class NoDetector:
    def __init__(self, *_args, **_kwargs):
        self.latest = None

    def start(self):
        pass

    def stop(self):
        pass


def prepared_flow(item, plan, backend: BackendServices, rng: np.random.Generator, workdir: Path) -> a.ApplyFlow:
    """A flow at the review, with three pages captured from the simulated camera."""
    _code, values, captures = plan
    session = Session(workdir / "scratch")
    session.set_identity(Identity(HOLDER.source, id_number=HOLDER.id_number, name=HOLDER.name,
                                  address=HOLDER.address, birth_date=HOLDER.birth_date))
    camera = SceneCamera()
    flow = a.ApplyFlow(item, session, lambda: backend, lambda work: work(),
                       terminal=a.Terminal(TERMINAL, "基准测试终端"), camera=camera,
                       capture_options=lambda aspect: CaptureOptions(aspect=aspect), live_detector=NoDetector,
                       patience=600).start()
    for key, value in values.items():
        flow.set_field(key, value)
    flow.next()
    for kinds in captures:
        for kind in kinds:
            camera.lay(rng, kind)
            flow.capture_now()
        flow.next()
    for box in flow.consent_boxes:
        flow.tick(box)
    flow.agree()
    flow.choose_delivery("window")
    assert flow.state == a.REVIEW, flow.state
    return flow


def through_flow(flow: a.ApplyFlow) -> tuple[float, int]:
    """Seconds from ``submit`` to ``done``, and the pages' bytes."""
    done = threading.Event()
    flow.subscribe(lambda f: done.set() if f.state in (a.DONE, a.REFUSED) else None)
    size = sum(page.size for material in flow.materials for page in material.pages)
    started = time.perf_counter()
    flow.submit()
    done.wait(120)
    elapsed = time.perf_counter() - started
    if flow.state != a.DONE or flow.result is None:
        raise RuntimeError(f"the application was not delivered: {flow.state} {flow.problem}")
    return elapsed, size


def straight(client: BackendClient, code: str, flow_pages: list[tuple[int, int, str, bytes]], run: str) -> float:
    create = m.ApplicationCreate(item_code=code, applicant=m.Person(id_number=HOLDER.id_number, name=HOLDER.name),
                                 materials=[m.MaterialProvision(index=0, how="id_card")])
    started = time.perf_counter()
    application = client.create_application(create, f"bench-straight-{run}:create")
    for index, number, content_type, data in flow_pages:
        client.upload_page(application.application_id, index, number, data, content_type)
    client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                              f"bench-straight-{run}:submit")
    return time.perf_counter() - started


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (f"median {statistics.median(values) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
            f"min {ordered[0] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    catalog = {i.code: i for i in load_catalog_file(DEMO_CATALOG_PATH).items}
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-apply-") as tmp:
        workdir = Path(tmp)
        server, url, key = start_server(workdir)
        try:
            client = BackendClient(url, TERMINAL, key)
            outbox = Outbox(workdir / "outbox.sqlite3", RecordCipher(load_or_create_data_key(workdir / "outbox.key")))
            backend = BackendServices(client, outbox, CatalogCache(workdir / "catalog.sqlite3"))
            direct = BackendClient(url, TERMINAL, key)
            print(f"apply: {args.runs} runs per item, 3 pages each, backend `kiosk backend serve` on loopback, "
                  f"{dt.datetime.now():%Y-%m-%d %H:%M}")
            for name, plan in PLANS.items():
                item = catalog[plan[0]]
                flow_times, straight_times, sizes, per_page = [], [], [], []
                for run in range(args.runs + 1):  # the first run warms up (connections, imports): not counted
                    flow = prepared_flow(item, plan, backend, rng, workdir / f"{name}{run}")
                    pages = [(mat.index, n, "image/jpeg", p.path.read_bytes())
                             for mat in flow.materials for n, p in enumerate(mat.pages, start=1)]
                    assert len(pages) == 3, len(pages)
                    elapsed, size = through_flow(flow)
                    alternative = straight(direct, plan[0], pages, f"{name}-{run}")
                    flow.session.end("benchmark")
                    if run == 0:
                        continue
                    flow_times.append(elapsed)
                    straight_times.append(alternative)
                    sizes.append(size)
                    per_page.extend(len(page[3]) for page in pages)
                print(f"{name} ({item.name}):")
                print(f"  review.submit → apply.done (flow, outbox, create + 3 pages + submit): {summary(flow_times)}")
                print(f"  the same calls straight through the client (no outbox, no flow):     "
                      f"{summary(straight_times)}")
                print(f"  upload size of the 3 pages: median {statistics.median(sizes) / 1024:.0f} KB "
                      f"(min {min(sizes) / 1024:.0f}, max {max(sizes) / 1024:.0f}); one page: median "
                      f"{statistics.median(per_page) / 1024:.0f} KB (min {min(per_page) / 1024:.0f}, "
                      f"max {max(per_page) / 1024:.0f})")
            client.close()
            direct.close()
            outbox.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
