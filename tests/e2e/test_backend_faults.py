"""Faults between the terminal and the backend: nothing lost, nothing done twice, no forgeries.

- backend down during submit: the outbox keeps the application and delivers it once later;
- 500s and timeouts (also after the backend did the work): delivered exactly once;
- kill -9 of the kiosk process between "written to the outbox" and "acknowledged": after a
  restart the application is delivered exactly once;
- a corrupted outbox row: quarantined with a clear log line, the rest still sent;
- bad signatures and replays: refused with 401 and without effect.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from backend_support import (FaultProxy, clerk_decide, clerk_issue, jpeg_page, person, pick_item, required_pages,
                             settings_for)
from kiosk.backend import models as m
from kiosk.backend.client import BackendClient
from kiosk.backend.crypto import RecordCipher, load_or_create_data_key
from kiosk.backend.delivery import Deliverer
from kiosk.backend.outbox import Outbox
from kiosk.backend.service import Delivered, Queued, build_backend
from kiosk.backend.signing import signed_headers

CHILD = Path(__file__).with_name("outbox_child.py")


@pytest.fixture
def proxy(backend):
    proxy = FaultProxy(backend.url)
    yield proxy
    proxy.close()


@pytest.fixture
def services(backend, proxy, tmp_path):
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, read_timeout=0.5, retries=2))
    services.client._sleep = lambda s: None
    yield services
    services.stop()


def application(item=None, name="吴敏"):
    item = item or pick_item("承诺件")
    return m.ApplicationCreate(item_code=item.code, applicant=person(name)), required_pages(item, jpeg_page(50 * 1024))


def test_backend_down_during_submit_keeps_it_and_delivers_it_once_later(backend, proxy, services):
    proxy.mode = "drop"
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Queued)
    assert services.online is False
    assert services.outbox.pending_count() == 1
    assert backend.store.count("cases") == 0

    proxy.mode = "pass"
    services.start()  # the background sender notices and delivers
    deadline = time.monotonic() + 20
    while services.outbox.pending_count() and time.monotonic() < deadline:
        services.wake()
        time.sleep(0.05)
    assert services.outbox.pending_count() == 0
    summary = services.outbox.delivered_summary(outcome.key)
    assert summary["acceptance_number"]
    assert backend.store.count("cases") == 1
    assert backend.store.count("applications") == 1
    services.outbox.drain(services.deliverer)  # nothing left to send twice
    assert backend.store.count("cases") == 1


def test_server_errors_are_ridden_out_and_the_application_counted_once(backend, proxy, services):
    proxy.mode, proxy.status, proxy.count = "error", 500, 2
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Delivered)
    assert backend.store.count("applications") == 1 and backend.store.count("cases") == 1


@pytest.mark.parametrize("slow_requests", [1, 2])
def test_a_timeout_after_the_backend_did_the_work_does_not_duplicate_it(backend, proxy, services, slow_requests):
    proxy.mode, proxy.delay, proxy.count = "slow", 1.2, slow_requests
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Delivered)
    assert backend.store.count("applications") == 1
    assert backend.store.count("cases") == 1
    assert len(proxy.forwarded) > len({(m_, p) for m_, p, _ in proxy.forwarded})  # something was sent twice


def test_all_retries_timing_out_leaves_it_queued_then_delivered_once(backend, proxy, services):
    proxy.mode, proxy.delay, proxy.count = "slow", 1.0, 3
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Queued) and "timeout" in outcome.reason
    assert backend.store.count("applications") == 1  # the backend made it; the terminal did not hear
    report = services.outbox.drain(services.deliverer)
    assert report.delivered == [outcome.key]
    assert backend.store.count("applications") == 1 and backend.store.count("cases") == 1


@pytest.mark.parametrize("hold", [
    ("POST", "/api/v1/applications", "request"),    # stored, not yet sent
    ("POST", "/api/v1/applications", "response"),   # created, answer lost
    ("PUT", "/pages/", "response"),                 # a page stored, answer lost
    ("POST", "/submit", "request"),                 # pages done, submit not sent
    ("POST", "/submit", "response"),                # submitted, acknowledgement lost
], ids=["before-create", "after-create", "after-page", "before-submit", "after-submit"])
def test_kill_9_between_stored_and_acknowledged_delivers_exactly_once(backend, proxy, tmp_path, hold):
    item = pick_item("承诺件")
    materials = [i for i, x in enumerate(item.materials) if x.required and x.kiosk_capture]
    config = {"outbox": str(tmp_path / "outbox.sqlite3"), "outbox_key": str(tmp_path / "outbox.key"),
              "url": proxy.url, "terminal_id": backend.terminal_id, "terminal_key": backend.key_text,
              "item_code": item.code, "materials": materials}
    (tmp_path / "child.json").write_text(json.dumps(config))
    proxy.hold(*hold)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path / "child.json")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proxy.held.wait(30), child.stderr.read() if child.poll() is not None else "child never got there"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    output = child.stdout.read()
    assert output.startswith("stored ") and "done" not in output
    key = output.split()[1]

    # The kiosk restarts: same outbox file and key, the network is fine now.
    outbox = Outbox(config["outbox"], RecordCipher(load_or_create_data_key(config["outbox_key"])))
    assert [i.key for i in outbox.items()] == [key]
    report = outbox.drain(Deliverer(backend.client()))
    assert report.delivered == [key]
    assert outbox.pending_count() == 0
    assert backend.store.count("applications") == 1
    assert backend.store.count("cases") == 1
    assert backend.store.count("pages") == len(materials)
    outbox.close()


def test_a_corrupted_outbox_row_is_quarantined_and_the_rest_delivered(backend, proxy, services, tmp_path, caplog):
    proxy.mode = "pass"
    create, pages = application()
    number = services.submit_application(create, pages).result.acceptance_number
    proxy.mode = "drop"
    keys = [services.rate(m.RatingCreate(acceptance_number=number, level=level)).key for level in (5, 4, 3)]
    assert services.outbox.pending_count() == 3
    conn = sqlite3.connect(tmp_path / "outbox.sqlite3")
    sealed = bytearray(conn.execute("SELECT payload FROM outbox_items WHERE key=?", (keys[1],)).fetchone()[0])
    sealed[len(sealed) // 2] ^= 0x5A
    conn.execute("UPDATE outbox_items SET payload=? WHERE key=?", (bytes(sealed), keys[1]))
    conn.commit()
    conn.close()
    proxy.mode = "pass"
    with caplog.at_level(logging.ERROR, logger="kiosk.backend.outbox"):
        report = services.outbox.drain(services.deliverer)
    assert report.delivered == [keys[0], keys[2]]
    assert report.quarantined == [keys[1]]
    assert sorted(r["level"] for r in backend.store.ratings(number)) == [3, 5]
    line = next(r for r in caplog.records if "quarantined" in r.getMessage())
    assert line.fields["key"] == keys[1] and "decrypt" in line.fields["reason"]


def test_a_pickup_confirmed_while_offline_closes_the_case_once(backend, proxy, services):
    create, pages = application()
    result = services.submit_application(create, pages).result
    clerk_decide(backend, result.acceptance_number)
    issued = clerk_issue(backend, result.acceptance_number, door=7)
    proxy.mode = "drop"
    now = datetime.now(timezone.utc)
    outcome = services.confirm_pickup(issued.pickup_id, m.PickupConfirm(door=7, picked_up_at=now, door_closed=True,
                                                                        verified_by="pickup_code"))
    assert isinstance(outcome, Queued)
    proxy.mode = "pass"
    assert services.outbox.drain(services.deliverer).delivered == [outcome.key]
    assert services.outbox.drain(services.deliverer).delivered == []
    events = [e for e in backend.store.clerk_case(result.acceptance_number).timeline if e.state == "closed"]
    assert len(events) == 1


def test_a_rating_queued_before_its_application_names_the_case_by_key(backend, proxy, services):
    proxy.mode = "drop"
    create, pages = application()
    queued = services.submit_application(create, pages)
    rating = services.rate(m.RatingCreate(application_key=queued.application_key, level=1, reasons=["system_problem"]))
    assert isinstance(queued, Queued) and isinstance(rating, Queued)
    proxy.mode = "pass"
    report = services.outbox.drain(services.deliverer)
    assert report.delivered == [queued.key, rating.key]
    number = services.outbox.delivered_summary(queued.key)["acceptance_number"]
    assert [r["level"] for r in backend.store.ratings(number)] == [1]


# -- signatures ----------------------------------------------------------------------------


def raw_heartbeat(backend, headers, body):
    return requests.post(f"{backend.url}/api/v1/terminals/{backend.terminal_id}/heartbeat", data=body,
                         headers={"Content-Type": "application/json", **headers}, timeout=10)


def heartbeat_body():
    return m.Heartbeat(sent_at=datetime.now(timezone.utc), software_version="t",
                       uptime_seconds=5).model_dump_json().encode()


def sign(backend, body, path=None, now=None, key=None):
    path = path or f"/api/v1/terminals/{backend.terminal_id}/heartbeat"
    return signed_headers(key or backend.key, backend.terminal_id, "POST", path, body, now=now)


def test_unsigned_requests_are_refused(backend):
    response = raw_heartbeat(backend, {}, heartbeat_body())
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_signature"
    assert response.headers["WWW-Authenticate"] == "HEYIBAN-HMAC-SHA256"


def test_a_forged_or_altered_request_is_refused(backend):
    body = heartbeat_body()
    forged = raw_heartbeat(backend, sign(backend, body, key=os.urandom(32)), body)
    assert forged.json()["error"]["code"] == "bad_signature"
    altered = raw_heartbeat(backend, sign(backend, body), body.replace(b'"uptime_seconds":5', b'"uptime_seconds":6'))
    assert altered.json()["error"]["code"] == "bad_content_hash"
    other_path = raw_heartbeat(backend, sign(backend, body, path="/api/v1/ratings"), body)
    assert other_path.status_code == 401 and other_path.json()["error"]["code"] == "bad_signature"


def test_a_replayed_request_is_refused_and_has_no_effect(backend, client):
    item = pick_item("承诺件")
    create = m.ApplicationCreate(item_code=item.code, applicant=person())
    body = create.model_dump_json().encode()
    headers = signed_headers(backend.key, backend.terminal_id, "POST", "/api/v1/applications", body)
    headers.update({"Content-Type": "application/json", "Idempotency-Key": "replay-test-0001"})
    first = requests.post(f"{backend.url}/api/v1/applications", data=body, headers=headers, timeout=10)
    assert first.status_code == 201
    again = requests.post(f"{backend.url}/api/v1/applications", data=body, headers=headers, timeout=10)
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"
    assert backend.store.count("applications") == 1


def test_an_old_request_is_refused_for_clock_skew(backend):
    body = heartbeat_body()
    response = raw_heartbeat(backend, sign(backend, body, now=time.time() - 301), body)
    assert response.status_code == 401 and response.json()["error"]["code"] == "clock_skew"


def test_refusals_are_logged_without_personal_data(backend, caplog):
    applicant = person("欧阳娜娜")
    body = m.HolderQuery(id_number=applicant.id_number).model_dump_json().encode()
    with caplog.at_level(logging.WARNING, logger="refbackend.app"):
        response = requests.post(f"{backend.url}/api/v1/cases/by-holder", data=body, timeout=10,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert "terminal request refused" in caplog.text
    assert applicant.id_number not in caplog.text and applicant.id_number not in response.text


def test_a_terminal_cannot_act_for_another(backend, client):
    response = client.session.get(f"{backend.url}/api/v1/terminals/HK-OTHER-9/pickups", timeout=10)
    assert response.status_code == 403


def test_a_resumed_delivery_sends_only_the_pages_the_backend_lacks(backend, tmp_path):
    from kiosk.backend.delivery import application_payload
    from kiosk.backend.errors import BackendUnavailable

    item = pick_item("承诺件")
    index = next(i for i, x in enumerate(item.materials) if x.required and x.kiosk_capture)
    pages = required_pages(item, jpeg_page(40 * 1024)) + [(index, n, "image/jpeg", jpeg_page(40 * 1024, seed=n))
                                                          for n in (2, 3)]
    outbox = Outbox(tmp_path / "o.sqlite3", RecordCipher(load_or_create_data_key(tmp_path / "o.key")))
    payload, parts = application_payload(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                         m.SubmitRequest(declaration_accepted=True), pages)
    outbox.enqueue("application", payload, parts)

    class CutAfterTwoPages(BackendClient):
        uploads = 0

        def upload_page(self, *args, **kwargs):
            if CutAfterTwoPages.uploads == 2:
                raise BackendUnavailable("PUT page: backend unreachable", code="unreachable")
            CutAfterTwoPages.uploads += 1
            return super().upload_page(*args, **kwargs)

    class Counting(BackendClient):
        uploads = 0

        def upload_page(self, *args, **kwargs):
            Counting.uploads += 1
            return super().upload_page(*args, **kwargs)

    first = outbox.drain(Deliverer(CutAfterTwoPages(backend.url, backend.terminal_id, backend.key)))
    assert first.blocked_by is not None and backend.store.count("pages") == 2
    second = outbox.drain(Deliverer(Counting(backend.url, backend.terminal_id, backend.key)))
    assert len(second.delivered) == 1
    assert Counting.uploads == len(pages) - 2
    assert backend.store.count("pages") == len(pages) and backend.store.count("cases") == 1
    outbox.close()
