"""Several workers on one PostgreSQL database: `kiosk backend serve --workers 2` as a real process.

The schema is created by the server on its first start; 1,000 applications submitted at once
from many threads get 1,000 distinct acceptance numbers, a submission sent twice at the same
moment (another Idempotency-Key, another worker) makes one case, and a replayed request is
refused by whichever worker sees it second.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from backend_support import jpeg_page, person, pick_item, resident_id
from kiosk.backend import models as m
from kiosk.backend.client import BackendClient
from kiosk.backend.signing import generate_key, parse_key

TERMINAL = "HK-WORKERS-001"
SUBMISSIONS = 1000
TWICE = 100  # of which sent twice at once, with different keys


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.fixture
def district(postgres, tmp_path):
    """`kiosk backend serve --workers 2` on a new, empty PostgreSQL database."""
    url = postgres.new_database(migrated=False)
    key_text = generate_key()
    key_file = tmp_path / "terminal.key"
    key_file.write_text(key_text, "ascii")
    key_file.chmod(0o600)
    server = subprocess.Popen([sys.executable, "-m", "kiosk", "backend", "serve", "--db", url, "--files",
                               str(tmp_path / "files"), "--workers", "2", "--port", "0", "--no-access-log",
                               "--terminal", f"{TERMINAL}={key_file}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = _wait_for(server)
    except BaseException:
        os.killpg(server.pid, signal.SIGKILL)  # never leave a server (and its workers) behind
        server.wait(10)
        raise
    yield base, url, parse_key(key_text), server
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


def _wait_for(server: subprocess.Popen) -> str:
    """The server's URL once its workers answer."""
    seen, found = [], None
    for line in server.stdout:  # log lines (the schema created, the catalogue seeded), then the banner
        seen.append(line)
        found = re.search(r"reference backend on (http://127\.0\.0\.1:\d+) ", line)
        if found or len(seen) > 50:
            break
    assert found, "".join(seen)
    assert any("database schema upgraded" in line for line in seen)  # created on the first start
    base = found.group(1)
    drain = threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True)
    drain.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "the workers did not start"
        time.sleep(0.2)
    return base


def test_two_workers_give_a_thousand_concurrent_submissions_distinct_numbers(district):
    base, url, key, server = district
    assert len(_children(server.pid)) >= 2, "uvicorn did not start two worker processes"
    item = pick_item("承诺件", min_required=1)
    required = [i for i, x in enumerate(item.materials) if x.required and x.kiosk_capture]
    page = jpeg_page(4 * 1024)
    local = threading.local()

    def client() -> BackendClient:
        if not hasattr(local, "client"):
            local.client = BackendClient(base, TERMINAL, key, retries=0, read_timeout=60)
        return local.client

    def prepare(n: int) -> str:
        applicant = person(f"测试{n}", id_number=resident_id(sequence=n % 1000))
        application = client().create_application(m.ApplicationCreate(item_code=item.code, applicant=applicant),
                                                  str(uuid.uuid4()))
        for index in required:
            client().upload_page(application.application_id, index, 1, page, "image/jpeg")
        return application.application_id

    def submit(application_id: str) -> m.SubmitResult:
        return client().submit_application(application_id, m.SubmitRequest(declaration_accepted=True),
                                           str(uuid.uuid4()))

    with ThreadPoolExecutor(16) as pool:
        applications = list(pool.map(prepare, range(SUBMISSIONS)))
    start = threading.Barrier(32, timeout=60)

    def at_once(application_id: str) -> m.SubmitResult:
        if not hasattr(local, "started"):
            local.started = True
            start.wait()  # every thread fires together
        return submit(application_id)

    work = applications + applications[:TWICE]
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(at_once, work))

    numbers = [r.acceptance_number for r in results[:SUBMISSIONS]]
    assert len(set(numbers)) == SUBMISSIONS  # no two workers handed out the same number
    twice = results[SUBMISSIONS:]
    assert [r.acceptance_number for r in twice] == numbers[:TWICE]  # the second submission found the first case
    import psycopg

    with psycopg.connect(url) as conn:
        cases, distinct = conn.execute("SELECT COUNT(*), COUNT(DISTINCT application_id) FROM cases").fetchone()
    assert cases == distinct == SUBMISSIONS


def test_a_replayed_request_is_refused_by_the_other_worker_too(district):
    base, _url, key, _server = district
    prepared = {}

    def capture(request) -> None:
        prepared["headers"] = dict(request.headers)
        prepared["body"] = request.body

    client = BackendClient(base, TERMINAL, key, retries=0)
    client.session.hooks["response"].append(lambda response, **_: capture(response.request))
    client.heartbeat(m.Heartbeat(sent_at=datetime.now(timezone.utc), software_version="test", uptime_seconds=1))
    replays = [requests.post(f"{base}/api/v1/terminals/{TERMINAL}/heartbeat", data=prepared["body"],
                            headers=prepared["headers"], timeout=10) for _ in range(6)]
    assert {r.status_code for r in replays} == {401}  # each of the workers has seen the nonce through the database
    assert all(r.json()["error"]["code"] for r in replays)
