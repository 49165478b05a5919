"""自助取件 without Kivy, against the reference backend's rules: the right door opens once, the
pickup is confirmed only when the door is closed again, and every failure calls staff."""
from __future__ import annotations

import pytest

from kiosk.flows.identify import identity_from_card
from kiosk.flows.pickup import PickupFlow
from kiosk.pickup_ledger import PickupLedger
from kiosk.receipts.case_slips import CaseSlips, follow_link
from tests.kiosk.flows.conftest import card, run_now, scan
from tests.kiosk.flows.followup_fakes import TERMINAL, Clock, FakeLocker, Printed, StoreBackend, today


@pytest.fixture
def store_backend():
    return StoreBackend()


@pytest.fixture
def locker():
    return FakeLocker()


@pytest.fixture
def ledger():
    return PickupLedger()


class Spoken(list):
    def __call__(self, key, **values):
        self.append((key, values))


def pickup(session, router, backend, locker, ledger, printed=None, clock=None, spoken=None):
    return PickupFlow(session, router, lambda: backend, run_now, locker=lambda: locker,
                      subscribe_doors=locker.subscribe_doors, ledger=lambda: ledger,
                      slips=CaseSlips(TERMINAL, "测试终端", "0546-12345"), print_receipt=printed,
                      speak=spoken, close_reminder_seconds=25, clock=clock or Clock(), today=today).start()


def test_card_then_door_opens_with_voice_and_closing_confirms_prints_and_closes_the_case(
        session, router, store_backend, locker, ledger):
    made = store_backend.case(state="ready", door=3)
    printed, spoken = Printed(), Spoken()
    flow = pickup(session, router, store_backend, locker, ledger, printed, spoken=spoken)
    assert flow.state == "identify" and spoken[-1][0] == "pickup.voice_identify"
    router.card(card("senior"))
    assert flow.state == "list" and [s.door for s in flow.matches] == [3]
    flow.confirm()
    assert flow.state == "open" and locker.unlocks == [3]
    assert spoken[-1] == ("pickup.voice_take", {"door": 3})
    locker.event("item_removed", 3)
    locker.event("closed", 3)
    assert flow.state == "done" and flow.outcome == "delivered"
    assert store_backend.store.clerk_case(made.acceptance_number).state == "closed"
    confirm = store_backend.confirmed[-1][1]
    assert confirm.door_closed and confirm.verified_by == "id_card" and confirm.door == 3
    assert [kind for kind, _ in printed.jobs] == ["pickup"] and flow.print_state == "receipt.printed"
    assert flow.rating_target().acceptance_number == made.acceptance_number


def test_a_signed_in_resident_is_verified_at_once(session, router, store_backend, locker, ledger):
    store_backend.case(state="ready", door=6)
    session.set_identity(identity_from_card(card("senior").card))
    flow = pickup(session, router, store_backend, locker, ledger)
    assert flow.state == "list" and flow.matches[0].door == 6


def test_a_typed_or_scanned_pickup_code_and_a_receipt_with_its_code_verify(session, router, store_backend, locker,
                                                                          ledger):
    made = store_backend.case(state="ready", door=4, pickup_code="246801", code="135790")
    flow = pickup(session, router, store_backend, locker, ledger)
    flow.type_code()
    assert not flow.submit_code("2468") and flow.problem == "pickup.code_format"
    flow.submit_code("246801")
    assert flow.state == "list"
    flow = pickup(session, router, store_backend, locker, ledger)
    router.payload(scan("246801"))
    assert flow.state == "list"
    flow = pickup(session, router, store_backend, locker, ledger)
    router.payload(scan(follow_link(made.acceptance_number, "135790")))
    assert flow.state == "list" and flow._verified_by == "receipt"


def test_wrong_codes_are_said_and_the_backend_limit_says_how_long_to_wait(session, router, store_backend, locker,
                                                                          ledger):
    store_backend.case(state="ready", door=4, pickup_code="246801")
    flow = pickup(session, router, store_backend, locker, ledger)
    flow.type_code()
    flow.submit_code("111111")
    assert flow.state == "typing" and flow.problem == "pickup.code_wrong"
    for _ in range(10):
        flow.submit_code("111111")
    assert flow.problem == "pickup.too_many" and 1 <= flow.problem_values["minutes"] <= 10
    flow.submit_code("246801")  # even the right code waits now
    assert flow.state == "typing" and flow.problem == "pickup.too_many"
    router.card(card("senior"))  # the card still works
    assert flow.state == "list"


def test_nothing_waiting_for_this_card(session, router, store_backend, locker, ledger):
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    assert flow.state == "identify" and flow.problem == "pickup.nothing_here"


def test_a_door_never_opens_twice_for_the_same_result_without_a_clerk(session, router, store_backend, locker,
                                                                      ledger):
    made = store_backend.case(state="ready", door=3)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    flow.report_empty()  # 柜内没有: nothing confirmed
    assert flow.state == "failed" and flow.problem == "pickup.empty_reported"
    assert store_backend.staff_calls[-1] == ("pickup.open", "door_empty", 3)
    session.end("home")
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    assert flow.state == "list" and flow.already_opened(flow.matches[0]) and flow.selected == ""
    flow.selected = flow.matches[0].pickup_id
    flow.confirm()
    assert locker.unlocks == [3] and flow.problem == "pickup.already_opened"
    # the clerk checks the locker and re-issues the result: a new pickup id, one more opening
    from kiosk.backend import models as m

    store_backend.store.reissue(made.acceptance_number, m.ClerkIssue(terminal_id=TERMINAL, door=3))
    session.end("home")
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    assert flow.state == "open" and locker.unlocks == [3, 3]


def test_a_jammed_lock_or_a_silent_board_fails_without_confirming_and_calls_staff(session, router, store_backend,
                                                                                  locker, ledger):
    made = store_backend.case(state="ready", door=2)
    store_backend.case(state="ready", door=5)
    locker.jam.add(2)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    assert flow.state == "failed" and flow.problem == "pickup.jammed" and flow.problem_values == {"door": 2}
    assert store_backend.staff_calls[-1] == ("pickup.open", "lock_jammed", 2)
    assert store_backend.store.clerk_case(made.acceptance_number).state == "ready_for_pickup"
    assert flow.more_waiting == 1
    flow.next_result()
    locker.silent = True
    flow.confirm()
    assert flow.state == "failed" and flow.problem == "pickup.locker_silent"
    assert store_backend.staff_calls[-1] == ("pickup.open", "locker_silent", 5)
    assert store_backend.confirmed == []


def test_the_board_going_silent_while_the_door_is_open_fails(session, router, store_backend, locker, ledger):
    store_backend.case(state="ready", door=2)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    locker.event("board_silent")
    assert flow.state == "failed" and store_backend.staff_calls[-1][1] == "locker_silent"
    locker.event("closed", 2)  # heard no more: nothing is confirmed
    assert store_backend.confirmed == []


def test_a_door_left_open_is_reminded_then_alerted_and_closing_still_completes(session, router, store_backend,
                                                                               locker, ledger):
    store_backend.case(state="ready", door=8)
    clock, spoken = Clock(), Spoken()
    flow = pickup(session, router, store_backend, locker, ledger, clock=clock, spoken=spoken)
    router.card(card("senior"))
    flow.confirm()
    clock.now += 10
    flow.tick()
    assert flow.problem == ""
    clock.now += 20
    flow.tick()
    assert flow.problem == "pickup.close_reminder" and spoken[-1] == ("pickup.voice_close", {"door": 8})
    locker.event("left_open", 8)
    assert flow.problem == "pickup.left_open_alerted"
    assert store_backend.staff_calls[-1] == ("pickup.open", "door_left_open", 8)
    locker.event("closed", 8)
    assert flow.state == "done" and store_backend.confirmed[-1][1].door_closed


def test_a_door_left_open_after_the_item_was_taken_closes_the_case_and_tells_staff(session, router, store_backend,
                                                                                   locker, ledger):
    made = store_backend.case(state="ready", door=8)
    locker.items.add(8)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    locker.event("item_removed", 8)
    locker.event("left_open", 8)
    assert flow.state == "done" and not store_backend.confirmed[-1][1].door_closed
    assert store_backend.store.clerk_case(made.acceptance_number).state == "closed"


def test_network_down_the_confirmation_waits_in_the_outbox(session, router, store_backend, locker, ledger):
    store_backend.case(state="ready", door=1)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    store_backend.down = True
    locker.event("closed", 1)
    assert flow.state == "done" and flow.outcome == "queued" and flow.problem == "pickup.done_queued"


def test_leaving_with_the_door_open_tells_staff(session, router, store_backend, locker, ledger):
    store_backend.case(state="ready", door=9)
    flow = pickup(session, router, store_backend, locker, ledger)
    router.card(card("senior"))
    flow.confirm()
    session.end("idle")
    assert flow.ended and store_backend.staff_calls[-1] == ("pickup.open", "door_left_open", 9)
    assert ledger.outcome(flow.current.pickup_id) == "left_open"
