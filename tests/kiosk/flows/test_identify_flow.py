"""Identify: a card or an identity code signs the resident in; every failure says what to do."""
from __future__ import annotations

import pytest

from kiosk.flows.identify import IdentifyFlow
from tests.kiosk.flows.conftest import TODAY, card, read_error, run_now, scan


@pytest.fixture
def flow(session, router, backend):
    return IdentifyFlow(session, router, lambda: backend, run_now, today=lambda: TODAY).start()


@pytest.mark.parametrize("key,id_type", [("resident", "resident_id"), ("hk-permit", "hk_macao_permit"),
                                         ("foreign-2017", "foreign_permanent"),
                                         ("foreign-2023", "foreign_permanent")])
def test_every_card_type_signs_in(flow, router, session, key, id_type):
    router.card(card(key))
    assert flow.state == "signed_in" and flow.problem == ""
    assert session.identity.id_type == id_type and session.identity.source == "idcard"
    assert session.signed_in_banner()[0] == "signin.banner"


def test_the_banner_shows_only_the_masked_name(flow, router, session):
    router.card(card("senior"))
    key, values = session.signed_in_banner()
    assert values == {"name": "欧**娜"}


def test_an_expired_card_is_refused_with_its_date_and_the_next_card_works(flow, router, session):
    router.card(card("resident-expired"))
    assert flow.state == "waiting" and flow.problem == "identify.card_expired"
    assert flow.problem_values == {"valid_to": "2024-09-01"}
    assert not session.signed_in
    router.card(card("resident-long-term"))  # 长期 never expires
    assert flow.state == "signed_in" and flow.problem == ""


def test_a_read_failure_asks_to_place_the_card_again(flow, router, session):
    router.card(read_error())
    assert flow.state == "waiting" and flow.problem == "idcard.read_failed"
    router.card(card("resident"))
    assert session.signed_in


def test_sign_out_needs_a_new_card_and_does_not_resign_in(flow, router, session):
    router.card(card("resident"))
    session.end("sign_out")
    assert flow.state == "waiting" and not session.signed_in


def test_another_card_while_signed_in_keeps_the_first_resident(flow, router, session):
    router.card(card("resident"))
    router.card(card("senior"))
    assert session.identity.name == "李建军"
    assert flow.problem == "identify.already_signed_in"
    router.card(card("resident"))  # the same card again is nothing to tell


def test_an_identity_code_is_resolved_by_the_backend(flow, router, session, backend):
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.state == "signed_in"
    assert session.identity.source == "code" and session.identity.birth_date == "1940-03-05"
    assert backend.calls == [("resolve", "HYBID:DEMO-OUYANG-NANA-0001")]


@pytest.mark.parametrize("code,problem", [("HYBID:DEMO-EXPIRED-000001", "identify.identity_code_expired"),
                                          ("HYBID:NOBODY-KNOWS-THIS-ONE", "identify.identity_code_unknown")])
def test_a_bad_identity_code_says_why(flow, router, session, code, problem):
    router.payload(scan(code))
    assert flow.state == "waiting" and flow.problem == problem and not session.signed_in


def test_network_down_while_resolving_says_so(flow, router, backend):
    backend.down = True
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.state == "waiting" and flow.problem == "identify.network_down"


def test_garbage_and_other_codes_get_a_clear_message(flow, router, session):
    router.payload(scan("\x00\x01garbage"))
    assert flow.problem == "payload.garbage"
    router.payload(scan("https://example.org/x"))
    assert flow.problem == "identify.not_an_identity_code"
    assert not session.signed_in


def test_no_backend_means_no_codes_but_cards_still_work(session, router):
    flow = IdentifyFlow(session, router, lambda: None, run_now, today=lambda: TODAY).start()
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.problem == "identify.network_down"
    router.card(card("resident"))
    assert flow.state == "signed_in"


def test_an_answer_after_sign_out_signs_nobody_in(session, router, backend):
    pending = []
    flow = IdentifyFlow(session, router, lambda: backend, pending.append, today=lambda: TODAY).start()
    router.payload(scan("HYBID:DEMO-OUYANG-NANA-0001"))
    assert flow.state == "resolving"
    session.start()
    session.end("home")
    pending.pop()()
    assert not session.signed_in and flow.state == "waiting"


def test_ending_the_flow_releases_the_reader(flow, router, session):
    flow.end()
    router.card(card("resident"))
    assert not session.signed_in
    assert router.owner() == ""
