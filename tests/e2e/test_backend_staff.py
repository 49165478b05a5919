"""代办 and staff calls end to end: a terminal's backend services and the clerk's page over loopback HTTP.

A grid worker signs in with the staff card, a resident is identified by the identity code on
her phone, the worker applies on her behalf and the clerk sees who did; a resident calls the
staff, the call reaches the clerk's page without a reload (also when it had to wait for the
network) and the clerk marks it handled.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
import requests

from backend_support import (DEMO_IDENTITY, DEMO_PIN, DEMO_STAFF_CARD, DEMO_WORKER, FaultProxy, jpeg_page,
                             pick_item, required_pages, settings_for)
from kiosk.backend import models as m
from kiosk.backend.errors import BackendRejected, BackendUnavailable
from kiosk.backend.service import Delivered, Queued, build_backend


@pytest.fixture
def services(backend, tmp_path):
    services = build_backend(settings_for(backend, tmp_path))
    yield services
    services.stop()


def open_calls(backend) -> list[dict]:
    answer = requests.get(f"{backend.url}/api/v1/clerk/staff-calls", auth=backend.clerk_auth(), timeout=10)
    answer.raise_for_status()
    return answer.json()["calls"]


def test_a_grid_worker_applies_for_a_resident_identified_by_her_phone(backend, services):
    worker = services.staff_sign_in("id_card", DEMO_STAFF_CARD, DEMO_PIN)
    assert worker == DEMO_WORKER
    resident = services.resolve_identity(DEMO_IDENTITY).person
    assert resident.name == "欧阳娜娜"
    item = pick_item("承诺件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=resident, agent=worker),
                                          required_pages(item, jpeg_page(40 * 1024)))
    assert isinstance(outcome, Delivered) and outcome.result.agent_handled
    number = outcome.result.acceptance_number

    listed = requests.get(f"{backend.url}/api/v1/clerk/cases", auth=backend.clerk_auth(), timeout=10).json()
    assert listed["cases"][0]["agent"] == {"worker_id": "WG-0001", "name": "王晓梅", "phone": "13905460001"}
    listing = requests.get(f"{backend.url}/clerk", auth=backend.clerk_auth(), timeout=10).text
    row = re.search(rf"<tr><td><a href='/clerk/cases/{number}'>.*?</tr>", listing).group(0)
    assert "代办：王晓梅（网格员 WG-0001）" in row and "欧**娜" in row
    page = requests.get(f"{backend.url}/clerk/cases/{number}", auth=backend.clerk_auth(), timeout=10).text
    assert "代办：王晓梅（网格员 WG-0001）" in page and "欧阳娜娜" in page


def test_a_case_without_an_agent_says_so(backend, services):
    item = pick_item("承诺件")
    resident = services.resolve_identity(DEMO_IDENTITY).person
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=resident),
                                          required_pages(item, jpeg_page(40 * 1024)))
    number = outcome.result.acceptance_number
    page = requests.get(f"{backend.url}/clerk/cases/{number}", auth=backend.clerk_auth(), timeout=10).text
    assert "本人申请" in page and "代办：" not in page


def test_a_wrong_pin_through_the_services_says_how_many_tries_are_left(services):
    with pytest.raises(BackendRejected) as wrong:
        services.staff_sign_in("id_card", DEMO_STAFF_CARD, "000000")
    assert wrong.value.code == "wrong_pin" and wrong.value.attempts_left == 4
    assert services.online is True  # a refusal is an answer: the network light stays green


def test_a_staff_call_reaches_the_clerks_page_live_and_is_marked_handled(backend, services):
    auth = backend.clerk_auth()
    page = requests.get(f"{backend.url}/clerk", auth=auth, timeout=10).text
    assert "暂无呼叫" in page
    # The page keeps its calls live by asking the clerk API every few seconds:
    assert "/api/v1/clerk/staff-calls?state=open" in page and "setInterval(poll" in page
    assert "自动更新" in page

    before = datetime.now(timezone.utc)
    outcome = services.call_staff("apply.form")
    assert isinstance(outcome, Delivered)
    receipt = outcome.result
    assert receipt.screen == "apply.form" and receipt.called_at >= before.replace(microsecond=0)

    (call,) = open_calls(backend)  # what the page's script fetches, without reloading the page
    assert (call["call_id"], call["terminal_id"], call["terminal_name"], call["screen"]) == \
        (receipt.call_id, backend.terminal_id, "河口街道便民服务中心 测试终端", "apply.form")
    page = requests.get(f"{backend.url}/clerk", auth=auth, timeout=10).text
    assert "【1 个呼叫】" in page and "apply.form" in page and "已处理" in page

    token = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    handled_url = f"{backend.url}/clerk/staff-calls/{receipt.call_id}/handled"
    forged = requests.post(handled_url, auth=auth, data={"csrf": "forged"}, timeout=10)
    assert forged.status_code == 403 and len(open_calls(backend)) == 1
    done = requests.post(handled_url, auth=auth, data={"csrf": token}, timeout=10, allow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/clerk"
    assert open_calls(backend) == []
    everything = requests.get(f"{backend.url}/api/v1/clerk/staff-calls?state=all", auth=auth, timeout=10).json()
    assert everything["calls"][0]["handled_at"] is not None
    assert "暂无呼叫" in requests.get(f"{backend.url}/clerk", auth=auth, timeout=10).text


def test_a_staff_call_made_while_the_network_is_down_arrives_once_when_it_is_back(backend, tmp_path):
    proxy = FaultProxy(backend.url)
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, retries=0))
    try:
        proxy.mode = "drop"
        queued = services.call_staff("pickup.verify")
        assert isinstance(queued, Queued) and services.online is False
        assert open_calls(backend) == []
        with pytest.raises(BackendUnavailable):
            services.resolve_identity(DEMO_IDENTITY)
        proxy.mode = "pass"
        services.start()
        deadline = time.monotonic() + 20
        while services.outbox.pending_count() and time.monotonic() < deadline:
            services.wake()
            time.sleep(0.05)
        calls = open_calls(backend)
        assert [c["screen"] for c in calls] == ["pickup.verify"]
        services.outbox.drain(services.deliverer)  # nothing left to send twice
        assert len(open_calls(backend)) == 1 and backend.store.count("staff_calls") == 1
    finally:
        services.stop()
        proxy.close()


def test_a_staff_call_carries_no_personal_data_and_a_bad_screen_name_is_refused_before_storing(services):
    # a locker alert names the problem and the door: still nothing about a person
    assert set(m.StaffCallCreate.model_fields) == {"screen", "called_at", "alert", "door"}
    for screen in ("Apply.Form", "apply form", "", "x" * 41, "申请"):
        with pytest.raises(ValueError):
            services.call_staff(screen)
    assert services.outbox.items() == []
