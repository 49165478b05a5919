"""The testers' back office: cases made through the store's own steps, ``kiosk sim backend`` words,
the door flags and the demo cases."""
from __future__ import annotations

import pytest

from drivers.sim.base import SimulatorError
from kiosk.backend import models as m
from kiosk.backend.signing import generate_key
from kiosk.commands.sim import SimWordsError, parse_sim_words
from refbackend.faults import FaultProxy
from refbackend.casework import BackendControl, CaseworkError, holder_from_deck, make_case, \
    seed_demo_cases
from refbackend.followup import FollowupStore, delivery_for
from refbackend.server import prepare_store

TERMINAL = "HK-TEST-001"


@pytest.fixture
def store():
    store = prepare_store(terminals={TERMINAL: generate_key()}, terminal_doors={TERMINAL: 16})
    yield store
    store.close()


@pytest.mark.parametrize("state, shown", [("accepted", "accepted"), ("reviewing", "reviewing"),
                                          ("supplement", "supplement"), ("approved", "approved"),
                                          ("rejected", "rejected"), ("ready", "ready_for_pickup"),
                                          ("closed", "closed")])
def test_a_case_can_be_made_in_every_state(store, state, shown):
    made = make_case(store, TERMINAL, holder_from_deck("senior"), state=state, door=3)
    case = store.clerk_case(made.acceptance_number)
    assert case.state == shown and case.timeline[0].state == "accepted"
    assert bool(made.pickup_code) == (state in ("ready", "closed"))


def test_a_chosen_number_code_and_pickup_code_can_be_typed_later(store):
    made = make_case(store, TERMINAL, holder_from_deck("senior"), state="ready", door=4,
                     number="370503-20260105-000042", code="123456", pickup_code="246801")
    case = store.case_by_number(TERMINAL, m.CaseQuery(acceptance_number="370503-20260105-000042",
                                                      verification_code="123456"))
    assert case.pickup.door == 4 and made.pickup_code == "246801"
    slots = store.verify_pickup(TERMINAL, m.PickupVerify(method="pickup_code", pickup_code="246801")).matches
    assert [s.acceptance_number for s in slots] == ["370503-20260105-000042"]
    with pytest.raises(CaseworkError, match="exists already"):
        make_case(store, TERMINAL, holder_from_deck("senior"), number="370503-20260105-000042")


def test_bad_requests_say_what_is_wrong(store):
    holder = holder_from_deck("senior")
    for kwargs, words in (({"state": "lost"}, "state must be"), ({"state": "ready"}, "needs a door"),
                          ({"number": "42"}, "looks like"), ({"code": "12"}, "6 digits"),
                          ({"item_code": "370503-GA-0010"}, "即办件")):
        with pytest.raises(CaseworkError, match=words):
            make_case(store, TERMINAL, holder, **kwargs)
    with pytest.raises(CaseworkError, match="no card 'nobody'"):
        holder_from_deck("nobody")


def test_the_sim_words_act_as_a_clerk_check_and_take_the_network_down(store):
    switch = FaultProxy(1)  # never started: only its mode is looked at
    control = BackendControl(store, TERMINAL, switch)
    made = control.control("case", {"holder": "senior", "state": "accepted"})["made"]
    assert control.control("review", {"number": "latest"})["case"] == "reviewing"
    assert control.control("approve", {"number": made["acceptance_number"]})["case"] == "approved"
    issued = control.control("issue", {"number": "latest", "door": 6})["issued"]
    assert issued["door"] == 6 and control.state()["waiting_doors"] == [6]
    control.control("check", {"number": "latest", "state": "ready"})
    with pytest.raises(SimulatorError, match="state is 'ready_for_pickup', not 'closed'; ratings is 0, not 1"):
        control.control("check", {"number": "latest", "state": "closed", "ratings": 1})
    with pytest.raises(SimulatorError, match="door_occupied"):
        control.control("case", {"state": "ready", "door": 6})
    control.control("down", {})
    assert switch.mode == "down" and control.state()["network"] == "down"
    control.control("slow", {"seconds": 3})
    assert switch.mode == "slow" and switch.slow_seconds == 3
    control.control("up", {})
    assert control.state()["network"] == "up"
    switch.stop()


def test_the_words_parse_as_testers_write_them():
    call = parse_sim_words("backend case --holder resident --state ready --door 3 --pickup-code 246801 "
                           "--missing 户口簿 --missing 照片")
    assert call.device == "backend" and call.params["missing"] == ["户口簿", "照片"]
    assert parse_sim_words("backend check latest --ratings 1 --level 5").params == {
        "number": "latest", "ratings": 1, "level": 5}
    for words in ("backend approve", "backend issue latest", "backend check latest --level 9", "backend fly"):
        with pytest.raises(SimWordsError):
            parse_sim_words(words)


def test_door_flags_compare_registered_results_with_the_lockers_report():
    report = m.LockerReport(doors=8, sensors=True, loaded=[2, 5], open=[7])
    flags = FollowupStore.door_flags(8, [5, 6], report)
    assert flags == {"loaded_unregistered": [2], "registered_empty": [6], "free_doors": [1, 3, 4, 8]}
    blind = FollowupStore.door_flags(4, [1], m.LockerReport(doors=4, sensors=False))
    assert blind["registered_empty"] == [] and blind["free_doors"] == [2, 3, 4]
    assert FollowupStore.door_flags(3, [], None)["free_doors"] == [1, 2, 3]


def test_delivery_follows_the_form_where_the_item_allows_it():
    assert delivery_for({}, True) == "terminal" and delivery_for({}, False) == "counter"
    assert delivery_for({"delivery": "post"}, True) == "post"
    assert delivery_for({"delivery": "terminal"}, False) == "counter"


def test_the_demo_cases(store):
    made = seed_demo_cases(store, TERMINAL)
    assert [case.state for case in made] == ["reviewing", "supplement", "rejected", "ready"]
    assert made[-1].door == 5


def test_the_clerk_words_go_through_the_clerk_api_with_its_checks_and_audit():
    """In the embedded backend a scenario's ``backend approve``/``issue`` are HTTP calls of the clerk
    API: the API's own refusals come back as the step's message, and a wrong password is refused."""
    import secrets

    import requests

    from refbackend.clerk_desk import ClerkApi
    from refbackend.server import start_embedded

    store = prepare_store(terminals={TERMINAL: generate_key()}, terminal_doors={TERMINAL: 16})
    password = secrets.token_urlsafe(12)
    running = start_embedded(store, clerk_password=password)
    desk = ClerkApi(running.url, password)
    try:
        control = BackendControl(store, TERMINAL, desk=desk)
        made = control.control("case", {"holder": "senior", "state": "accepted"})["made"]
        with pytest.raises(SimulatorError, match="not_approved|approved"):
            control.control("issue", {"number": "latest", "door": 3})  # not decided yet: the API says no
        assert control.control("approve", {"number": "latest"})["case"] == "approved"
        with pytest.raises(SimulatorError, match="already_decided"):
            control.control("approve", {"number": made["acceptance_number"]})
        issued = control.control("issue", {"number": "latest", "door": 3})["issued"]
        assert issued["door"] == 3 and control.state()["waiting_doors"] == [3]
        control.control("check", {"number": "latest", "state": "ready", "ratings": 0})
        timeline = requests.get(f"{running.url}/api/v1/clerk/cases/{made['acceptance_number']}",
                                auth=("clerk", password), timeout=10).json()["timeline"]
        assert [e["state"] for e in timeline][-2:] == ["approved", "ready_for_pickup"]
        with pytest.raises(SimulatorError, match="clerk_login_required"):
            broken = BackendControl(store, TERMINAL, desk=ClerkApi(running.url, "wrong-password"))
            broken.control("review", {"number": "latest"})
    finally:
        desk.close()
        running.stop()
        store.close()
