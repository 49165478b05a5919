"""代办: the worker signs in with a staff code or card and a PIN; the resident confirms."""
from __future__ import annotations

import pytest

from kiosk.flows.agent import AgentFlow, typed_resident_problems
from kiosk.flows.identify import IdentifyFlow
from tests.kiosk.flows.conftest import TODAY, card, run_now, scan


@pytest.fixture
def ambient(session, router, backend):
    return IdentifyFlow(session, router, lambda: backend, run_now, today=lambda: TODAY).start()


@pytest.fixture
def flow(session, router, backend, ambient):
    return AgentFlow(session, router, lambda: backend, run_now, today=lambda: TODAY).start()


def test_staff_card_pin_resident_card_confirm(flow, router, session, ambient):
    router.card(card("grid-worker"))
    assert flow.state == "pin"
    assert not session.signed_in  # the worker's own card never signs the worker in
    flow.enter_pin("246810")
    assert flow.state == "resident" and flow.worker.name == "王晓梅"
    router.card(card("senior"))
    assert flow.state == "confirm" and flow.resident.name == "欧阳娜娜"
    assert not session.signed_in  # not before the resident confirms
    flow.confirm()
    assert session.identity.name == "欧阳娜娜" and session.agent.worker_id == "WG-0001"
    assert session.signed_in_banner() == ("signin.banner_agent", {"agent": "王*梅", "name": "欧**娜"})
    assert ambient.state == "signed_in"
    assert router.owner() == "identify"  # the reader goes back to the kiosk-wide sign-in
    flow.end()  # the screen ends it again as it closes: the confirmed resident stays signed in, in full
    assert session.identity.name == "欧阳娜娜" and session.identity.id_number == "370503194003050029"


def test_staff_code_then_typed_resident(flow, router, session):
    router.payload(scan("HYBSTAFF:WG0001DEMO2026"))
    flow.enter_pin("246810")
    flow.type_resident()
    assert not flow.submit_typed("370503194003050028", "", "12345")
    assert flow.field_problems == {"id_number": "agent.bad_id_number", "name": "agent.bad_name",
                                   "phone": "agent.bad_phone"}
    assert flow.state == "typing"
    assert flow.submit_typed("370503194003050029", "欧阳娜娜", "13805461234")
    flow.confirm()
    assert session.identity.source == "manual" and session.identity.birth_date == "1940-03-05"


def test_wrong_pins_count_down_then_lock(flow, router, session):
    router.card(card("grid-worker"))
    flow.enter_pin("123")
    assert flow.problem == "agent.pin_format" and flow.state == "pin"
    for left in (4, 3, 2, 1):
        flow.enter_pin("000000")
        assert flow.state == "pin" and flow.problem == "agent.wrong_pin" and flow.problem_values == {"left": left}
    flow.enter_pin("000000")
    assert flow.state == "locked" and flow.problem_values == {"minutes": 15}
    flow.enter_pin("246810")  # nothing more is tried while locked
    assert flow.state == "locked"
    flow.back_to_staff()
    assert flow.state == "staff"


def test_unknown_staff_and_a_resident_code_in_the_wrong_place(flow, router):
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.state == "staff" and flow.problem == "agent.not_a_staff_code"
    router.card(card("resident"))  # a card that belongs to no grid worker
    flow.enter_pin("246810")
    assert flow.state == "staff" and flow.problem == "agent.unknown_staff"


def test_network_down_keeps_the_worker_at_the_pin(flow, router, backend):
    router.card(card("grid-worker"))
    backend.down = True
    flow.enter_pin("246810")
    assert flow.state == "pin" and flow.problem == "identify.network_down"


def test_resident_identity_code_and_rejecting_the_details(flow, router, session):
    router.card(card("grid-worker"))
    flow.enter_pin("246810")
    router.card(card("resident-expired"))
    assert flow.state == "resident" and flow.problem == "identify.card_expired"
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.state == "confirm"
    resident = flow.resident
    flow.reject()
    assert flow.state == "resident" and resident.name == "" and not session.signed_in


def test_session_end_ends_the_flow_and_wipes_the_resident(flow, router, session):
    router.card(card("grid-worker"))
    flow.enter_pin("246810")
    router.card(card("senior"))
    resident = flow.resident
    session.start()
    session.end("home")
    assert flow.ended and resident.id_number == ""
    assert router.owner() == "identify"


@pytest.mark.parametrize("id_number,name,phone,expected", [
    ("370503194003050029", "欧阳娜娜", "13805461234", {}),
    ("370503194003050029", "买买提·吐尔逊", "0546-8231234", {}),
    ("37050319400305002X", "欧阳娜娜", "13805461234", {"id_number": "agent.bad_id_number"}),
    ("370503194003050029", "欧阳娜娜<script>", "13805461234", {"name": "agent.bad_name"}),
])
def test_typed_resident_rules(id_number, name, phone, expected):
    assert typed_resident_problems(id_number, name, phone) == expected
