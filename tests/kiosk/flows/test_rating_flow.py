"""好差评 without Kivy: five levels, reasons for the two lowest, sent once through the outbox."""
from __future__ import annotations

import pytest

from kiosk.flows.rating import RatingFlow, RatingTarget, clean_comment, offer_rating, take_offered_rating
from tests.kiosk.flows.conftest import card, run_now
from tests.kiosk.flows.followup_fakes import StoreBackend, today


@pytest.fixture
def store_backend():
    return StoreBackend()


def rate(session, router, backend, target=None):
    return RatingFlow(session, router, lambda: backend, run_now, target, today=today).start()


def test_an_upper_level_is_sent_at_once_and_only_once(session, router, store_backend):
    made = store_backend.case(state="closed", door=3)
    flow = rate(session, router, store_backend, RatingTarget(acceptance_number=made.acceptance_number))
    assert flow.state == "levels" and flow.level is None  # nothing pre-selected
    flow.choose_level(5)
    flow.choose_level(4)
    assert flow.state == "done" and flow.outcome == "delivered"
    ratings = store_backend.store.ratings(made.acceptance_number)
    assert [r["level"] for r in ratings] == [5]


def test_a_low_level_asks_reasons_first_and_sends_the_comment(session, router, store_backend):
    made = store_backend.case(state="rejected")
    flow = rate(session, router, store_backend, RatingTarget(acceptance_number=made.acceptance_number))
    flow.choose_level(1)
    assert flow.state == "reasons" and store_backend.ratings == []
    flow.submit("")
    assert flow.problem == "rate.need_reason"
    flow.toggle_reason("many_trips")
    flow.toggle_reason("slow")
    flow.toggle_reason("many_trips")
    flow.submit("窗口\x07人太多\n\n  排队久")
    assert flow.state == "done"
    (rating,) = store_backend.store.ratings(made.acceptance_number)
    assert rating["level"] == 1 and rating["reasons"] == '["slow"]' and rating["comment"] == "窗口人太多 排队久"


def test_choosing_again_from_the_reasons_and_skipping(session, router, store_backend):
    made = store_backend.case(state="closed", door=3)
    flow = rate(session, router, store_backend, RatingTarget(acceptance_number=made.acceptance_number))
    flow.choose_level(2)
    flow.back_to_levels()
    assert flow.state == "levels" and flow.level is None
    flow.skip()
    assert flow.ended and flow.skipped and store_backend.ratings == []


def test_network_down_the_rating_is_kept_and_sent_later(session, router, store_backend):
    made = store_backend.case(state="closed", door=3)
    store_backend.down = True
    flow = rate(session, router, store_backend, RatingTarget(acceptance_number=made.acceptance_number))
    flow.choose_level(3)
    assert flow.state == "done" and flow.problem == "rate.thanks_queued"


def test_from_home_the_resident_identifies_and_chooses_a_case(session, router, store_backend):
    first = store_backend.case(state="closed", door=3)
    flow = rate(session, router, store_backend)
    assert flow.state == "choose"
    router.card(card("senior"))
    assert flow.state == "choose" and [c.acceptance_number for c in flow.cases] == [first.acceptance_number]
    flow.choose_case(first.acceptance_number, first.item_name)
    flow.choose_level(4)
    assert [r["level"] for r in store_backend.store.ratings(first.acceptance_number)] == [4]


def test_an_offer_is_taken_once():
    from kiosk.session import Session

    session = Session()
    offer_rating(session, RatingTarget(acceptance_number="370503-20260105-000042", journey="pickup"))
    assert take_offered_rating(session).journey == "pickup"
    assert take_offered_rating(session) is None


def test_clean_comment():
    assert clean_comment("  a\u200bb\tc  ") == "ab c"
    assert len(clean_comment("好" * 900)) == 500
