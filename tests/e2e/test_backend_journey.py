"""A terminal and the reference backend over real HTTP on loopback, from catalogue to rating.

Sync the catalogue; apply with three pages and submit; follow the case; a clerk approves
it and issues the result into a locker door; the resident verifies and collects it; the
case closes; the resident rates it; the terminal sends a heartbeat.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import pytest
import requests

from backend_support import (clerk_decide, clerk_issue, jpeg_page, person, pick_item, required_pages,
                             resident_id, settings_for)
from kiosk.backend import models as m
from kiosk.backend.service import Delivered, Refused, build_backend


@pytest.fixture
def services(backend, tmp_path):
    services = build_backend(settings_for(backend, tmp_path))
    yield services
    services.stop()


def three_pages(item):
    pages = required_pages(item, jpeg_page())
    index = pages[0][0]
    while len(pages) < 3:  # more pages of the first material (a two-sided card, a long document)
        pages.append((index, len(pages) + 1, "image/jpeg", jpeg_page(seed=len(pages))))
    return pages[:max(3, len(pages))]


def test_the_whole_journey(backend, services):
    # catalogue
    sync = services.sync_catalog()
    assert sync.ok and len(services.catalog) == len(backend.store.all_items())
    item = pick_item("承诺件")
    assert services.catalog.get(item.code) == item

    # apply: create + three pages + submit, with progress
    applicant = person("刘德华", id_number=resident_id("19650927", sequence=781), phone="13912345678")
    progress = []
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=applicant,
                                                              form={"reason": "到期换领"}),
                                          three_pages(item), progress=lambda s, t: progress.append((s, t)))
    assert isinstance(outcome, Delivered), outcome
    result = outcome.result
    assert re.fullmatch(r"370503-\d{8}-\d{6}", result.acceptance_number)
    assert result.outcome == "promised" and result.promised_date > result.accepted_at.date()
    assert progress[-1][0] == progress[-1][1] and progress[-1][1] >= 3 * 300 * 1024 * 0.97
    assert services.outbox.pending_count() == 0

    # status, by receipt and by ID card
    status = services.case_status(result.acceptance_number, result.verification_code)
    assert status.state == "accepted" and status.timeline[0].title == "已受理"
    assert [c.acceptance_number for c in services.cases_by_holder(applicant.id_number)] == [result.acceptance_number]

    # the clerk approves and issues into door 3
    assert clerk_decide(backend, result.acceptance_number).state == "approved"
    issued = clerk_issue(backend, result.acceptance_number, door=3)
    waiting = services.pickups_waiting()
    assert [(s.door, s.acceptance_number) for s in waiting] == [(3, result.acceptance_number)]
    assert services.case_status(result.acceptance_number, result.verification_code).state == "ready_for_pickup"

    # pickup: verify by ID card and by code, then confirm with the door closed again
    by_card = services.verify_pickup(m.PickupVerify(method="id_card", id_number=applicant.id_number))
    by_code = services.verify_pickup(m.PickupVerify(method="pickup_code", pickup_code=issued.pickup_code))
    assert by_card == by_code and by_card[0].door == 3
    wrong = "000000" if issued.pickup_code != "000000" else "111111"
    assert services.verify_pickup(m.PickupVerify(method="pickup_code", pickup_code=wrong)) == []
    now = datetime.now(timezone.utc)
    confirmed = services.confirm_pickup(by_card[0].pickup_id, m.PickupConfirm(
        door=3, picked_up_at=now, door_closed=True, door_closed_at=now, verified_by="id_card"))
    assert isinstance(confirmed, Delivered) and confirmed.result.case_state == "closed"
    closed = services.case_status(result.acceptance_number, result.verification_code)
    assert closed.state == "closed" and closed.pickup.picked_up_at is not None
    assert "柜门已关闭" in closed.timeline[-1].detail
    assert services.pickups_waiting() == []

    # rating (不满意 with a reason)
    rated = services.rate(m.RatingCreate(acceptance_number=result.acceptance_number, level=2,
                                         reasons=["slow"], comment="等得有点久"))
    assert isinstance(rated, Delivered)
    stored = backend.store.ratings(result.acceptance_number)
    assert [(r["level"], r["comment"]) for r in stored] == [(2, "等得有点久")]

    # heartbeat
    ack = services.heartbeat()
    assert ack.catalog_version == services.catalog.version and ack.pickups_waiting == 0
    terminals = requests.get(f"{backend.url}/api/v1/clerk/terminals", auth=backend.clerk_auth(), timeout=10).json()
    assert terminals[0]["last_heartbeat"]["catalog_version"] == ack.catalog_version


def test_an_immediate_item_is_decided_on_the_spot(backend, services):
    item = pick_item("即办件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                          required_pages(item, jpeg_page(60 * 1024)))
    assert isinstance(outcome, Delivered)
    assert outcome.result.outcome == "completed" and outcome.result.promised_date is None
    status = services.case_status(outcome.result.acceptance_number, outcome.result.verification_code)
    assert status.state == "approved" and status.decision.approved


def test_a_grid_worker_applying_for_a_resident_is_recorded(backend, services):
    item = pick_item("承诺件")
    worker = m.GridWorker(worker_id="WG-0712", name="赵网格")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person("钱大爷"),
                                                              agent=worker),
                                          required_pages(item, jpeg_page(60 * 1024)))
    assert outcome.result.agent_handled
    status = services.case_status(outcome.result.acceptance_number, outcome.result.verification_code)
    assert status.agent_handled and "WG-0712" in status.timeline[0].detail
    listed = requests.get(f"{backend.url}/api/v1/clerk/cases", auth=backend.clerk_auth(), timeout=10).json()
    assert "WG-0712" in listed["cases"][0]["agent_masked"]


def test_a_rejection_tells_the_reasons_and_the_remedies(backend, services):
    item = pick_item("承诺件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                          required_pages(item, jpeg_page(60 * 1024)))
    number = outcome.result.acceptance_number
    clerk_decide(backend, number, approve=False, reasons=["申请人不符合本区户籍条件"])
    status = services.case_status(number, outcome.result.verification_code)
    assert status.state == "rejected"
    assert status.decision.reasons == ["申请人不符合本区户籍条件"]
    assert {r.kind for r in status.decision.remedies} == {"行政复议", "行政诉讼"}
    assert "行政复议" in status.timeline[-1].detail


def test_missing_materials_are_refused_and_nothing_is_kept(backend, services):
    item = pick_item("承诺件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person()), [])
    assert isinstance(outcome, Refused) and outcome.code == "missing_materials"
    assert outcome.fields
    assert services.outbox.items() == []


def test_the_clerk_page_shows_cases_and_takes_decisions(backend, services):
    item = pick_item("承诺件")
    outcome = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=person("孙小美")),
                                          required_pages(item, jpeg_page(60 * 1024)))
    number = outcome.result.acceptance_number
    assert requests.get(f"{backend.url}/clerk", timeout=10).status_code == 401
    auth = backend.clerk_auth()
    listing = requests.get(f"{backend.url}/clerk", auth=auth, timeout=10)
    assert listing.status_code == 200 and number in listing.text and "孙*美" in listing.text
    page = requests.get(f"{backend.url}/clerk/cases/{number}", auth=auth, timeout=10)
    assert "孙小美" in page.text and "准予办理" in page.text
    token = re.search(r"name='csrf' value='([^']+)'", page.text).group(1)
    forged = requests.post(f"{backend.url}/clerk/cases/{number}/decide", auth=auth, timeout=10,
                           data={"action": "approve", "csrf": "x"})
    assert forged.status_code == 403
    empty_reason = requests.post(f"{backend.url}/clerk/cases/{number}/decide", auth=auth, timeout=10,
                                 data={"action": "reject", "reasons": "", "remedy": ["0", "1"], "csrf": token})
    assert empty_reason.status_code == 422 and "理由" in empty_reason.text
    decided = requests.post(f"{backend.url}/clerk/cases/{number}/decide", auth=auth, timeout=10,
                            data={"action": "approve", "result_name": "证明", "csrf": token})
    assert decided.status_code == 200 and "出件到自助终端柜门" in decided.text
    issued = requests.post(f"{backend.url}/clerk/cases/{number}/issue", auth=auth, timeout=10,
                           data={"terminal_id": backend.terminal_id, "door": "5", "csrf": token})
    assert issued.status_code == 200 and "取件码" in issued.text
    again = requests.post(f"{backend.url}/clerk/cases/{number}/issue", auth=auth, timeout=10,
                          data={"terminal_id": backend.terminal_id, "door": "5", "csrf": token})
    assert again.status_code == 409
    image = requests.get(f"{backend.url}/clerk/cases/{number}/pages/0/1", auth=auth, timeout=10)
    assert image.headers["content-type"] == "image/jpeg" and image.content.startswith(b"\xff\xd8")


def test_no_personal_data_reaches_any_log_line(backend, services, caplog):
    """Every logger at DEBUG, through a journey with a network fault: no name, ID or phone appears."""
    from kiosk.logs import MaskingFormatter

    applicant = person("诸葛孔明", id_number=resident_id("19810704", sequence=365), phone="13611112222",
                       address="东营市河口区河口街道海宁路99号")
    worker = m.GridWorker(worker_id="WG-0099", name="上官婉儿", phone="13733334444")
    item = pick_item("承诺件")
    with caplog.at_level(logging.DEBUG):
        outcome = services.submit_application(
            m.ApplicationCreate(item_code=item.code, applicant=applicant, agent=worker,
                                form={"note": "住址 东营市河口区河口街道海宁路99号"}),
            required_pages(item, jpeg_page(30 * 1024)))
        services.cases_by_holder(applicant.id_number)
        services.verify_pickup(m.PickupVerify(method="id_card", id_number=applicant.id_number))
        services.case_status(outcome.result.acceptance_number, outcome.result.verification_code)
        bad = services.submit_application(m.ApplicationCreate(item_code=item.code, applicant=applicant), [])
        assert isinstance(bad, Refused)
        requests.get(f"{backend.url}/clerk/cases/{outcome.result.acceptance_number}", auth=backend.clerk_auth(),
                     timeout=10)
    formatter = MaskingFormatter("json")
    raw = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    shipped = "\n".join(formatter.format(r) for r in caplog.records)
    for secret in (applicant.name, applicant.id_number, applicant.phone, applicant.address, worker.name,
                   worker.phone):
        assert secret not in raw, f"{secret} in a log record"
        assert secret not in shipped
