"""Following, collecting and rating end to end: a terminal's backend services and the clerk over
loopback HTTP.

A case goes 已受理 → 审查中 → 补正 (everything missing at once) → 审查中 → approved, is issued into a
free door of the terminal, which learns of it at its next heartbeat; the locker's report flags
doors loaded without a registered result and registered results reported missing; a door that
was opened and found empty is re-issued by the clerk; the case is collected and closed; ratings
are listed per case, item and terminal on ``GET /api/v1/clerk/ratings`` and the clerk's page, a
rating made while the network is down arrives once; applications still in the outbox are
listed for their holder until they have gone.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from backend_support import FaultProxy, jpeg_page, person, pick_item, required_pages, resident_id, settings_for
from kiosk.backend import models as m
from kiosk.backend.service import Delivered, Queued, build_backend

HOLDER = person("刘桂英", id_number=resident_id("19480615", sequence=204))


@pytest.fixture
def services(backend, tmp_path):
    services = build_backend(settings_for(backend, tmp_path))
    yield services
    services.stop()


def submitted(services, key: str = "follow-case-0001") -> m.SubmitResult:
    item = pick_item("承诺件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=HOLDER),
                                          required_pages(item, jpeg_page(20 * 1024)))
    assert isinstance(outcome, Delivered)
    return outcome.result


def clerk(backend, method: str, path: str, **kwargs) -> requests.Response:
    response = requests.request(method, f"{backend.url}/api/v1/clerk{path}", auth=backend.clerk_auth(), timeout=10,
                                **kwargs)
    return response


def test_review_supplement_decision_and_issue_as_the_resident_follows_them(backend, services):
    result = submitted(services)
    number = result.acceptance_number
    case = services.case_for_holder(number, HOLDER.id_number)
    assert case.state == "accepted" and case.verification_code == result.verification_code
    assert case.applicant_masked == "刘*英" and case.materials and case.department
    assert clerk(backend, "POST", f"/cases/{number}/review").json()["state"] == "reviewing"
    asked = clerk(backend, "POST", f"/cases/{number}/supplement",
                  json={"items": ["户口簿本人页复印件", "近期一寸照片 2 张"], "note": "请到综合受理窗口补正",
                        "deadline_days": 5})
    assert asked.status_code == 200, asked.text
    case = services.case_status(number, result.verification_code)
    assert case.state == "supplement" and case.supplement.items == ["户口簿本人页复印件", "近期一寸照片 2 张"]
    assert case.supplement.deadline is not None
    refused = clerk(backend, "POST", f"/cases/{number}/decision", json={"approve": True})
    assert refused.status_code == 409  # 补正 first
    assert clerk(backend, "POST", f"/cases/{number}/review").json()["state"] == "reviewing"
    assert clerk(backend, "POST", f"/cases/{number}/decision", json={"approve": True}).status_code == 200
    case = services.case_for_holder(number, HOLDER.id_number)
    assert case.state == "approved" and case.supplement is None
    assert [e.state for e in case.timeline] == ["accepted", "reviewing", "supplement", "reviewing", "approved"]
    with pytest.raises(Exception) as caught:
        services.case_for_holder(number, person("别人", id_number=resident_id(sequence=456)).id_number)
    assert getattr(caught.value, "code", "") == "case_not_found"


def test_issued_results_are_learned_at_the_next_heartbeat_and_doors_are_flagged(backend, services):
    heard = []
    services.subscribe_heartbeat(lambda ack: heard.append(ack.pickups_waiting))
    services.locker_source = lambda: m.LockerReport(doors=12, sensors=True, loaded=[2, 5], open=[])
    number = submitted(services).acceptance_number
    clerk(backend, "POST", f"/cases/{number}/decision", json={"approve": True})
    assert services.heartbeat().pickups_waiting == 0
    terminal = clerk(backend, "GET", "/terminals").json()[0]
    assert terminal["loaded_unregistered"] == [2, 5] and 2 not in terminal["free_doors"]
    issued = clerk(backend, "POST", f"/cases/{number}/issue", json={"terminal_id": backend.terminal_id, "door": 7})
    assert issued.status_code == 200
    services.heartbeat()
    assert heard == [0, 1] and services.last_ack.pickups_waiting == 1
    terminal = clerk(backend, "GET", "/terminals").json()[0]
    assert terminal["registered_empty"] == [7] and 7 not in terminal["free_doors"]
    page = requests.get(f"{backend.url}/clerk", auth=backend.clerk_auth(), timeout=10).text
    assert "有物品但未登记：2, 5" in page and "已登记但柜内为空：7" in page
    case_page = requests.get(f"{backend.url}/clerk/cases/{number}", auth=backend.clerk_auth(), timeout=10).text
    assert "重新出件" in case_page and "1 号柜门（空闲）" in case_page


def test_an_empty_door_alert_reaches_the_clerk_and_a_reissue_gives_a_new_pickup(backend, services):
    number = submitted(services).acceptance_number
    clerk(backend, "POST", f"/cases/{number}/decision", json={"approve": True})
    first = clerk(backend, "POST", f"/cases/{number}/issue", json={"terminal_id": backend.terminal_id, "door": 4})
    first = m.IssuedPickup.model_validate(first.json())
    outcome = services.call_staff("pickup.open", alert="door_empty", door=4)
    assert isinstance(outcome, Delivered) and outcome.result.alert == "door_empty"
    page = requests.get(f"{backend.url}/clerk", auth=backend.clerk_auth(), timeout=10).text
    assert "柜门已开但柜内没有物品（4号柜门）" in page
    again = m.IssuedPickup.model_validate(
        clerk(backend, "POST", f"/cases/{number}/reissue", json={"terminal_id": backend.terminal_id, "door": 4}).json())
    assert again.pickup_id != first.pickup_id
    slots = services.verify_pickup(m.PickupVerify(method="id_card", id_number=HOLDER.id_number))
    assert [s.pickup_id for s in slots] == [again.pickup_id]
    now = datetime.now(timezone.utc)
    stale = services.confirm_pickup(first.pickup_id, m.PickupConfirm(door=4, picked_up_at=now, door_closed=True,
                                                                    verified_by="id_card"))
    assert stale.code == "pickup_cancelled"
    done = services.confirm_pickup(again.pickup_id, m.PickupConfirm(door=4, picked_up_at=now, door_closed=True,
                                                                   door_closed_at=now, verified_by="pickup_code"))
    assert isinstance(done, Delivered) and done.result.case_state == "closed"
    state = clerk(backend, "GET", f"/cases/{number}").json()
    assert state["state"] == "closed"


def test_ratings_are_listed_per_case_item_and_terminal_and_one_made_offline_arrives_once(backend, services,
                                                                                         tmp_path):
    first, second = submitted(services, "a"), submitted(services, "b")
    assert isinstance(services.rate(m.RatingCreate(acceptance_number=first.acceptance_number, level=5)), Delivered)
    proxy = FaultProxy(backend.url)
    offline = build_backend(settings_for(backend, tmp_path / "other", url=proxy.url, retries=0))
    try:
        proxy.mode = "drop"
        queued = offline.rate(m.RatingCreate(acceptance_number=second.acceptance_number, level=1,
                                             reasons=["many_trips", "slow"], comment="排队时间长"))
        assert isinstance(queued, Queued)
        proxy.mode = "pass"
        offline.outbox.drain(offline.deliverer)
        offline.outbox.drain(offline.deliverer)  # nothing left to send twice
    finally:
        offline.stop()
        proxy.close()
    listed = clerk(backend, "GET", "/ratings")
    assert listed.status_code == 200
    body = m.ClerkRatingList.model_validate(listed.json())
    assert sorted((r.acceptance_number, r.level, tuple(r.reasons)) for r in body.ratings) == sorted([
        (first.acceptance_number, 5, ()), (second.acceptance_number, 1, ("many_trips", "slow"))])
    (by_terminal,) = body.by_terminal
    assert by_terminal.key == backend.terminal_id and by_terminal.count == 2 and by_terminal.average == 3.0
    assert sum(summary.count for summary in body.by_item) == 2
    assert requests.get(f"{backend.url}/api/v1/clerk/ratings", timeout=10).status_code == 401
    page = requests.get(f"{backend.url}/clerk/ratings", auth=backend.clerk_auth(), timeout=10).text
    assert "按事项" in page and "按终端" in page and "排队时间长" in page and "多次跑腿" in page


def test_applications_waiting_in_the_outbox_are_listed_for_their_holder_until_they_go(backend, tmp_path):
    proxy = FaultProxy(backend.url)
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, retries=0))
    try:
        services.catalog.sync(backend.client())
        item = pick_item("承诺件")
        proxy.mode = "drop"
        outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=HOLDER),
                                              required_pages(item, jpeg_page(20 * 1024)))
        assert isinstance(outcome, Queued)
        (waiting,) = services.queued_applications(HOLDER.id_number)
        assert waiting.item_name == item.name and waiting.local_reference == outcome.local_reference
        assert services.queued_applications(person("别人", id_number=resident_id(sequence=456)).id_number) == []
        proxy.mode = "pass"
        services.outbox.drain(services.deliverer)
        assert services.queued_applications(HOLDER.id_number) == []
        assert [c.item_name for c in services.cases_by_holder(HOLDER.id_number)] == [item.name]
    finally:
        services.stop()
        proxy.close()
