"""办件查询 without Kivy: by ID card, receipt QR and typed number; the timeline a resident reads;
waiting applications; reprint; on to collecting."""
from __future__ import annotations

import pytest

from kiosk.flows.follow import FollowFlow, case_steps, format_number, next_step
from kiosk.receipts.case_slips import CaseSlips, follow_link
from kiosk.backend.service import QueuedApplication
from tests.kiosk.flows.conftest import card, read_error, run_now, scan
from tests.kiosk.flows.followup_fakes import TERMINAL, Printed, StoreBackend, today


@pytest.fixture
def store_backend():
    return StoreBackend()


def follow(session, router, backend, printed=None):
    slips = CaseSlips(TERMINAL, "测试终端", "0546-12345")
    return FollowFlow(session, router, lambda: backend, run_now, TERMINAL, slips, printed, today=today).start()


def test_a_card_signs_in_and_lists_the_holders_cases_newest_first(session, router, store_backend):
    first = store_backend.case(state="accepted")
    second = store_backend.case(state="supplement")
    store_backend.case(holder="resident", state="accepted")  # someone else's
    flow = follow(session, router, store_backend)
    assert flow.state == "identify"
    router.card(card("senior"))
    assert session.identity.name == "欧阳娜娜"
    assert flow.state == "list"
    assert [c.acceptance_number for c in flow.cases] == [second.acceptance_number, first.acceptance_number]


def test_a_signed_in_resident_goes_straight_to_the_list(session, router, store_backend):
    store_backend.case(state="reviewing")
    router.card(card("senior"))  # nobody claims it yet: signs nobody in
    from kiosk.flows.identify import identity_from_card

    session.set_identity(identity_from_card(card("senior").card))
    flow = follow(session, router, store_backend)
    assert flow.state == "list" and len(flow.cases) == 1


def test_a_receipt_qr_code_with_its_code_opens_the_case(session, router, store_backend):
    made = store_backend.case(state="reviewing", number="370503-20260105-000042", code="123456")
    flow = follow(session, router, store_backend)
    router.payload(scan(follow_link(made.acceptance_number, made.verification_code)))
    assert flow.state == "case" and flow.case.acceptance_number == "370503-20260105-000042"
    assert not session.signed_in  # a receipt is not a sign-in


def test_a_receipt_without_its_code_asks_for_the_code_and_keeps_the_number(session, router, store_backend):
    store_backend.case(state="accepted", number="370503-20260105-000042", code="123456")
    flow = follow(session, router, store_backend)
    router.payload(scan("370503-20260105-000042"))
    assert flow.state == "typing" and flow.problem == "follow.need_code"
    assert flow.typed_number == "370503-20260105-000042"
    assert flow.submit_number(flow.typed_number, "123456")
    assert flow.state == "case"


def test_typed_number_and_code_are_checked_before_asking(session, router, store_backend):
    store_backend.case(state="accepted", number="370503-20260105-000042", code="123456")
    flow = follow(session, router, store_backend)
    flow.type_number()
    assert not flow.submit_number("12345", "12")
    assert flow.field_problems == {"number": "follow.bad_number", "code": "follow.bad_code"}
    assert flow.state == "typing"
    flow.submit_number("37050320260105000042", "654321")  # right number, wrong code
    assert flow.state == "typing" and flow.problem == "follow.not_found"
    flow.submit_number("370503 20260105 000042", "123456")
    assert flow.state == "case" and flow.problem == ""


def test_too_many_wrong_codes_say_how_long_to_wait(session, router, store_backend):
    store_backend.case(state="accepted", number="370503-20260105-000042", code="123456")
    flow = follow(session, router, store_backend)
    flow.type_number()
    for _ in range(10):
        flow.submit_number("370503-20260105-000042", "000000")
    flow.submit_number("370503-20260105-000042", "123456")
    assert flow.problem == "follow.too_many" and flow.problem_values["minutes"] >= 1


@pytest.mark.parametrize("state, steps", [
    ("accepted", [("follow.step.accepted", "done"), ("follow.step.reviewing", "todo"),
                  ("follow.step.approved", "todo"), ("follow.step.ready", "todo")]),
    ("supplement", [("follow.step.accepted", "done"), ("follow.step.reviewing", "done"),
                    ("follow.step.supplement", "current"), ("follow.step.approved", "todo"),
                    ("follow.step.ready", "todo")]),
    ("rejected", [("follow.step.accepted", "done"), ("follow.step.reviewing", "done"),
                  ("follow.step.rejected", "refused")]),
    ("ready", [("follow.step.accepted", "done"), ("follow.step.reviewing", "done"),
               ("follow.step.approved", "done"), ("follow.step.ready", "current"), ("follow.step.closed", "todo")]),
])
def test_the_timeline_shows_where_the_case_is(store_backend, state, steps):
    made = store_backend.case(state=state, door=4 if state == "ready" else None)
    case = store_backend.case_status(made.acceptance_number, made.verification_code)
    assert [(s.key, s.status) for s in case_steps(case)] == steps


def test_supplement_lists_everything_missing_and_a_refusal_its_remedies(store_backend):
    made = store_backend.case(state="supplement", missing=["房屋租赁合同复印件", "一寸照片 2 张", "户口簿"])
    case = store_backend.case_status(made.acceptance_number, made.verification_code)
    assert case.supplement.items == ["房屋租赁合同复印件", "一寸照片 2 张", "户口簿"]
    assert next_step(case, TERMINAL)[0] == "follow.next.supplement_by"
    made = store_backend.case(state="rejected")
    case = store_backend.case_status(made.acceptance_number, made.verification_code)
    assert case.decision.reasons and {r.kind for r in case.decision.remedies} == {"行政复议", "行政诉讼"}
    assert next_step(case, TERMINAL) == ("follow.next.rejected", {})


def test_next_step_tells_the_promised_date_and_where_to_collect(store_backend):
    made = store_backend.case(state="reviewing")
    case = store_backend.case_status(made.acceptance_number, made.verification_code)
    key, values = next_step(case, TERMINAL)
    assert key == "follow.next.wait" and values["date"].endswith("日")
    made = store_backend.case(state="ready", door=7)
    case = store_backend.case_status(made.acceptance_number, made.verification_code)
    assert next_step(case, TERMINAL) == ("follow.next.collect_here", {"door": 7})
    assert next_step(case, "HK-OTHER-002")[0] == "follow.next.collect_elsewhere"


def test_applications_waiting_for_the_network_are_listed_and_the_network_problem_said(session, router,
                                                                                       store_backend):
    store_backend.queued = [QueuedApplication("3f9a0c1d" + "0" * 24, "370503-GA-0009", "居住证申领", 1.0e9)]
    store_backend.down = True
    flow = follow(session, router, store_backend)
    router.card(card("senior"))
    assert flow.state == "list" and flow.problem == "follow.network_down"
    assert [q.local_reference for q in flow.queued] == ["3F9A0C1D"] and flow.cases == []


def test_reprint_prints_the_receipt_once_and_collect_leaves_the_receipt_as_proof(session, router, store_backend):
    made = store_backend.case(state="ready", door=3, number="370503-20260105-000042", code="123456")
    printed = Printed()
    flow = follow(session, router, store_backend, printed)
    router.payload(scan(follow_link(made.acceptance_number, made.verification_code)))
    assert flow.can_reprint and flow.can_collect
    flow.reprint()
    flow.reprint()
    assert [kind for kind, _ in printed.jobs] == ["acceptance"]
    assert flow.problem == "follow.reprinted_already" and flow.print_state == "receipt.printed"
    texts = [getattr(e, "text", "") for e in printed.jobs[0][1].elements]
    assert "受理回执（补打）" in texts
    assert flow.collect()
    proof = session.get("pickup.proof")
    assert proof.method == "receipt" and proof.verification_code == "123456"


def test_a_card_problem_is_said_and_an_expired_card_refused(session, router, store_backend):
    flow = follow(session, router, store_backend)
    router.card(read_error())
    assert flow.problem == "idcard.read_failed"
    router.card(card("resident-expired"))
    assert flow.problem == "identify.card_expired" and not session.signed_in


def test_a_pickup_code_or_other_text_is_explained(session, router, store_backend):
    flow = follow(session, router, store_backend)
    router.payload(scan("246801"))
    assert flow.problem == "follow.pickup_code_here"
    router.payload(scan("hello"))
    assert flow.problem == "follow.not_a_receipt"


def test_the_flow_ends_with_the_session_and_gives_the_inputs_back(session, router, store_backend):
    flow = follow(session, router, store_backend)
    router.card(card("senior"))
    session.end("home")
    assert flow.ended and router.owner() == ""


def test_format_number():
    assert format_number("37050320260105000042") == "370503-20260105-000042"
    assert format_number("HK37050320260105000042") == "HK370503-20260105-000042"
