"""The reference backend's rules, as a terminal or a clerk meets them over HTTP."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import requests
from PIL import Image

from backend_support import (catalog_items, clerk_decide, clerk_issue, jpeg_page, person, pick_item,
                             required_pages)
from kiosk.backend import models as m
from kiosk.backend.errors import BackendRejected, BackendUnavailable


def draft(client, key="rules-draft-0001", item=None):
    item = item or pick_item("承诺件")
    return item, client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person()), key)


def submitted_case(client, backend, key="rules-case-0001"):
    item, application = draft(client, key)
    for index, page_no, content_type, data in required_pages(item, jpeg_page(20 * 1024)):
        client.upload_page(application.application_id, index, page_no, data, content_type)
    return application, client.submit_application(application.application_id,
                                                  m.SubmitRequest(declaration_accepted=True), key + ":s")


def test_the_same_key_gets_the_same_answer_and_another_request_with_it_a_conflict(client):
    item, first = draft(client)
    again = client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                      "rules-draft-0001")
    assert again == first
    with pytest.raises(BackendRejected) as caught:
        client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person("别人")),
                                  "rules-draft-0001")
    assert caught.value.status == 409 and caught.value.code == "idempotency_key_reused"


def test_items_not_for_the_kiosk_or_not_for_persons_are_refused(client):
    for item in catalog_items():
        if not item.kiosk.can_apply or "自然人" not in item.service_objects:
            with pytest.raises(BackendRejected) as caught:
                client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                          f"rules-{item.code}")
            assert caught.value.code in ("not_at_kiosk", "not_for_persons")
            return
    pytest.skip("every item in the catalogue can be applied for at the kiosk")


def small_jpeg(size=(120, 120)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("data, content_type, code", [
    (b"hello", "image/jpeg", "not_a_jpeg"),
    (b"\xff\xd8\xff\xe0broken", "image/jpeg", "not_a_jpeg"),
    (None, "image/jpeg", "image_too_small"),
    (b"%PDF-1.4 no end", "application/pdf", "not_a_pdf"),
    (b"GIF89a....", "image/gif", "unsupported_media_type"),
])
def test_bad_pages_are_refused_with_a_reason(client, data, content_type, code):
    _, application = draft(client)
    with pytest.raises(BackendRejected) as caught:
        client.upload_page(application.application_id, 0, 1, data if data is not None else small_jpeg(),
                           content_type)
    assert caught.value.code == code


def test_pdf_pages_are_taken_and_a_repeat_upload_is_harmless(client):
    _, application = draft(client)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    first = client.upload_page(application.application_id, 0, 1, pdf, "application/pdf")
    second = client.upload_page(application.application_id, 0, 1, pdf, "application/pdf")
    assert first == second
    held = client.get_application(application.application_id)
    assert [p.sha256 for p in held.materials[0].pages] == [first.page.sha256]


def test_a_retake_replaces_a_page_and_a_deleted_page_is_gone(client):
    _, application = draft(client)
    client.upload_page(application.application_id, 0, 1, jpeg_page(20 * 1024, seed=1), "image/jpeg")
    retake = client.upload_page(application.application_id, 0, 1, jpeg_page(20 * 1024, seed=2), "image/jpeg")
    assert client.get_application(application.application_id).materials[0].pages[0].sha256 == retake.page.sha256
    client.delete_page(application.application_id, 0, 1)
    assert client.get_application(application.application_id).materials[0].pages == []


def test_pages_of_a_submitted_application_are_final(client, backend):
    application, _ = submitted_case(client, backend)
    with pytest.raises(BackendRejected) as caught:
        client.upload_page(application.application_id, 0, 1, jpeg_page(20 * 1024, seed=9), "image/jpeg")
    assert caught.value.code == "already_submitted"


def test_submitting_needs_the_declaration(client):
    _, application = draft(client)
    with pytest.raises(BackendRejected) as caught:
        client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=False),
                                  "rules-submit-0001")
    assert caught.value.code == "declaration_required"


def test_a_clerk_decides_once_and_issues_only_approved_results_into_free_doors(client, backend):
    _, case = submitted_case(client, backend)
    number = case.acceptance_number
    with pytest.raises(requests.HTTPError):
        clerk_issue(backend, number, door=2)  # not approved yet
    clerk_decide(backend, number)
    with pytest.raises(requests.HTTPError):
        clerk_decide(backend, number, approve=False, reasons=["x"])  # already decided
    too_high = requests.post(f"{backend.url}/api/v1/clerk/cases/{number}/issue", auth=backend.clerk_auth(),
                             json={"terminal_id": backend.terminal_id, "door": 13}, timeout=10)
    assert too_high.status_code == 422 and too_high.json()["error"]["code"] == "no_such_door"
    clerk_issue(backend, number, door=2)
    _, other = submitted_case(client, backend, key="rules-case-0002")
    clerk_decide(backend, other.acceptance_number)
    occupied = requests.post(f"{backend.url}/api/v1/clerk/cases/{other.acceptance_number}/issue",
                             auth=backend.clerk_auth(), json={"terminal_id": backend.terminal_id, "door": 2},
                             timeout=10)
    assert occupied.status_code == 409 and occupied.json()["error"]["code"] == "door_occupied"


def test_clerk_endpoints_need_the_clerk_login(backend):
    for auth in (None, ("clerk", "wrong"), ("admin", backend.running.clerk_password)):
        response = requests.get(f"{backend.url}/api/v1/clerk/cases", auth=auth, timeout=10)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_pickup_is_confirmed_at_its_own_door_once(client, backend):
    _, case = submitted_case(client, backend)
    clerk_decide(backend, case.acceptance_number)
    issued = clerk_issue(backend, case.acceptance_number, door=4)
    now = datetime.now(timezone.utc)
    with pytest.raises(BackendRejected) as caught:
        client.confirm_pickup(issued.pickup_id, m.PickupConfirm(door=5, picked_up_at=now, door_closed=True,
                                                                verified_by="id_card"), "rules-pickup-0001")
    assert caught.value.code == "door_mismatch"
    record = client.confirm_pickup(issued.pickup_id, m.PickupConfirm(door=4, picked_up_at=now, door_closed=False,
                                                                     verified_by="id_card"), "rules-pickup-0002")
    assert record.case_state == "closed"
    timeline = client.case_status(case.acceptance_number, case.verification_code).timeline
    assert "柜门未关闭" in timeline[-1].detail
    with pytest.raises(BackendRejected) as caught:
        client.confirm_pickup(issued.pickup_id, m.PickupConfirm(door=4, picked_up_at=now, door_closed=True,
                                                                verified_by="id_card"), "rules-pickup-0003")
    assert caught.value.code == "already_picked_up"


def test_guessing_pickup_codes_is_stopped(client):
    for guess in range(10):
        assert client.verify_pickup(m.PickupVerify(method="pickup_code", pickup_code=f"{guess:06d}")) == []
    with pytest.raises(BackendUnavailable) as caught:
        client.verify_pickup(m.PickupVerify(method="pickup_code", pickup_code="999999"))
    assert caught.value.status == 429 and caught.value.code == "too_many_attempts"


def test_a_wrong_verification_code_reveals_nothing(client, backend):
    _, case = submitted_case(client, backend)
    wrong = "000000" if case.verification_code != "000000" else "111111"
    with pytest.raises(BackendRejected) as unknown:
        client.case_status("370503-20000101-000001", wrong)
    with pytest.raises(BackendRejected) as mismatch:
        client.case_status(case.acceptance_number, wrong)
    assert str(unknown.value).replace("370503-20000101-000001", "") == str(mismatch.value).replace(
        case.acceptance_number, "")


def test_a_rating_for_an_application_not_yet_submitted_is_refused(client):
    _, application = draft(client, key="rules-rating-0001")
    with pytest.raises(BackendRejected) as caught:
        client.rate(m.RatingCreate(application_key="rules-rating-0001", level=5), "rules-rating-0002")
    assert caught.value.code == "not_submitted"
