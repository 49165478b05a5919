"""Backend figures: submit latency (create + 3 pages of 300 KB + submit) and outbox drain throughput.

    python benchmarks/backend.py [--runs 15] [--queued 1000]

The reference backend runs as its own process (``kiosk backend serve`` on 127.0.0.1, SQLite
with synchronous=FULL), like the real acceptance system would; the kiosk side runs here.

Prints:
- submit latency through the outbox, as the kiosk does it (stored encrypted first, then
  create + 3 × 300 KB JPEG pages + submit, then acknowledged and deleted): median, p90, min;
- the same calls straight through the client, without the outbox, for comparison;
- outbox drain throughput: 1,000 ratings queued while the backend was unreachable, then
  drained in order: items/s (median of 3 rounds), and how fast they were queued.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from backend_support import catalog_items, jpeg_page, person, pick_item, resident_id  # noqa: E402
from kiosk.backend import models as m  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.crypto import RecordCipher, load_or_create_data_key  # noqa: E402
from kiosk.backend.outbox import Outbox  # noqa: E402
from kiosk.backend.service import BackendServices, Delivered  # noqa: E402
from kiosk.backend.catalog_cache import CatalogCache  # noqa: E402
from kiosk.backend.signing import parse_key, write_key_file  # noqa: E402

TERMINAL = "HK-BENCH-001"
PAGE_BYTES = 300 * 1024


def start_server(workdir: Path) -> tuple[subprocess.Popen, str, bytes]:
    key_file = workdir / "terminal.key"
    key = parse_key(write_key_file(key_file))
    catalog = workdir / "items.json"
    catalog.write_text(json.dumps([i.model_dump(mode="json") for i in catalog_items()], ensure_ascii=False), "utf-8")
    server = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "backend", "serve", "--port", "0", "--db",
                               str(workdir / "backend.sqlite3"), "--catalog", str(catalog), "--terminal",
                               f"{TERMINAL}={key_file}", "--no-access-log"], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    url = re.search(r"(http://127\.0\.0\.1:\d+)", server.stdout.readline()).group(1)
    for _ in range(200):
        try:
            requests.get(url + "/healthz", timeout=1)
            return server, url, key
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("backend did not start")


def one_material_item() -> m.ServiceItem:
    """A 承诺件 for persons, kiosk-capable, with exactly one required material to capture."""
    for item in catalog_items():
        required = [x for x in item.materials if x.required and x.kiosk_capture]
        if item.time_limit.kind == "承诺件" and item.kiosk.can_apply and "自然人" in item.service_objects \
                and len(required) == 1:
            return item
    return pick_item("承诺件")


def three_pages(item: m.ServiceItem) -> list[tuple[int, int, str, bytes]]:
    index = next(i for i, x in enumerate(item.materials) if x.required and x.kiosk_capture)
    return [(index, n, "image/jpeg", jpeg_page(PAGE_BYTES, seed=n)) for n in (1, 2, 3)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--queued", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the new data key's notice is not a figure
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-bench-backend-"))
    server, url, key = start_server(workdir)
    try:
        item = one_material_item()
        pages = three_pages(item)
        sizes = [len(p[3]) for p in pages]
        client = BackendClient(url, TERMINAL, key)
        outbox = Outbox(workdir / "outbox.sqlite3", RecordCipher(load_or_create_data_key(workdir / "outbox.key")))
        services = BackendServices(client, outbox, CatalogCache(workdir / "catalog.sqlite3"))

        def via_outbox(n: int) -> None:
            create = m.ApplicationCreate(item_code=item.code, applicant=person(id_number=resident_id(sequence=n % 999)))
            outcome = services.submit_application(create, pages)
            assert isinstance(outcome, Delivered), outcome

        def direct(n: int) -> None:
            create = m.ApplicationCreate(item_code=item.code, applicant=person(id_number=resident_id(sequence=n % 999)))
            base = uuid.uuid4().hex
            application = client.create_application(create, base + ":create")
            for index, page_no, content_type, data in pages:
                client.upload_page(application.application_id, index, page_no, data, content_type)
            client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                                      base + ":submit")

        print(f"reference backend in its own process on loopback; {os.cpu_count()} cores; "
              f"pages {', '.join(f'{s // 1024} KB' for s in sizes)} (JPEG)")
        for label, fn in (("submit through the outbox", via_outbox), ("submit, client only", direct)):
            fn(0)  # warm-up
            times = []
            for n in range(1, args.runs + 1):
                started = time.perf_counter()
                fn(n)
                times.append((time.perf_counter() - started) * 1000)
            print(f"{label:<28} median {statistics.median(times):7.1f} ms   p90 {pct(times, 0.9):7.1f} ms   "
                  f"min {min(times):7.1f} ms   ({args.runs} runs, create + 3 pages + submit)")

        # Drain throughput: ratings of one case, queued (as while the backend was unreachable), then drained.
        number = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                             pages).result.acceptance_number
        rates, enqueue_rates = [], []
        for round_no in range(3):
            started = time.perf_counter()
            for n in range(args.queued):
                outbox.enqueue("rating", {"rating": m.RatingCreate(acceptance_number=number, level=5 - n % 3)
                                          .model_dump(mode="json")})
            enqueue_rates.append(args.queued / (time.perf_counter() - started))
            started = time.perf_counter()
            report = outbox.drain(services.deliverer)
            elapsed = time.perf_counter() - started
            assert len(report.delivered) == args.queued and outbox.pending_count() == 0, report
            rates.append(args.queued / elapsed)
        print(f"outbox drain, {args.queued} ratings queued: median {statistics.median(rates):6.0f} items/s "
              f"(rounds: {', '.join(f'{r:.0f}' for r in rates)}); queued at {statistics.median(enqueue_rates):.0f} "
              f"items/s (each write fsynced)")
        services.stop()
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(15)
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
