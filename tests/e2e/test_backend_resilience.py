"""What probing found (issue 15): one bad item, a dying sender, a proxy's HTML refusal.

- an item the backend always answers with 500 does not hold up the residents after it, and is
  quarantined (kept, counted) once it has failed often enough for long enough;
- an HTML 403/404/413 from a proxy in front of the backend keeps the application queued;
- a reply cut off half-way, or an error that is not the backend's, leaves the item queued and
  the background sender alive;
- a Retry-After of "²" is not a number.
"""
from __future__ import annotations

import time

import pytest

from backend_support import FaultProxy, jpeg_page, person, pick_item, required_pages, settings_for
from kiosk.backend import models as m
from kiosk.backend.client import ascii_seconds
from kiosk.backend.outbox import RETRY_PAUSE_FIRST, RETRY_PAUSE_MAX, SERVER_ERROR_LIMIT, SERVER_ERROR_MIN_AGE
from kiosk.backend.service import Delivered, Queued, Refused, build_backend


@pytest.fixture
def proxy(backend):
    proxy = FaultProxy(backend.url)
    yield proxy
    proxy.close()


@pytest.fixture
def services(backend, proxy, tmp_path):
    services = build_backend(settings_for(backend, tmp_path, url=proxy.url, read_timeout=2, retries=0))
    services.client._sleep = lambda s: None
    yield services
    services.stop()


def application(name="吴敏"):
    item = pick_item("承诺件")
    return m.ApplicationCreate(item_code=item.code, applicant=person(name)), required_pages(item, jpeg_page(20 * 1024))


def rating_stuck_in_front(services, proxy):
    """A staff call the backend answers with 500 while it is first in the queue."""
    proxy.mode, proxy.status, proxy.count = "error", 500, 1
    outcome = services.call_staff("home")
    assert isinstance(outcome, Queued)
    return outcome


def test_an_item_the_backend_fails_does_not_hold_up_the_next_resident(backend, proxy, services):
    clock = {"now": time.time()}
    services.outbox._clock = lambda: clock["now"]
    stuck = rating_stuck_in_front(services, proxy)
    clock["now"] += RETRY_PAUSE_FIRST  # its pause is over: it is tried first again
    proxy.mode, proxy.status, proxy.count = "error", 500, 1  # the stuck item fails again…
    create, pages = application()
    outcome = services.submit_application(create, pages)  # …and the next resident's goes through
    assert isinstance(outcome, Delivered)
    assert backend.store.count("cases") == 1
    assert [item.key for item in services.outbox.items("pending")] == [stuck.key]


def test_a_rating_waits_for_its_application_that_met_a_server_error(backend, proxy, services):
    """Found by benchmarks/soak.py: a server error lets later items overtake, and a rating of an
    application still in the outbox went ahead of it, was refused (404/409) and discarded."""
    clock = {"now": time.time()}
    services.outbox._clock = lambda: clock["now"]
    create, pages = application("郑强")
    proxy.mode, proxy.status, proxy.count = "error", 500, 1  # the application's first request fails
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Queued)
    rated = services.rate(m.RatingCreate(application_key=outcome.application_key, level=5))
    assert isinstance(rated, Queued)  # waits for its application, not refused
    assert backend.store.count("ratings") == 0
    clock["now"] += RETRY_PAUSE_FIRST  # the application's pause is over
    services.outbox.drain(services.deliverer)
    assert backend.store.count("cases") == 1 and backend.store.count("ratings") == 1
    assert services.outbox.counts() == {"pending": 0, "rejected": 0, "quarantined": 0}


def test_a_failing_item_is_quarantined_after_its_limits_and_counted(backend, proxy, services):
    clock = {"now": time.time()}
    services.outbox._clock = lambda: clock["now"]
    stuck = rating_stuck_in_front(services, proxy)
    for _ in range(SERVER_ERROR_LIMIT - 1):
        assert services.outbox.counts()["quarantined"] == 0
        clock["now"] += RETRY_PAUSE_MAX  # each time its pause is over
        proxy.mode, proxy.status, proxy.count = "error", 503, 1
        services.outbox.drain(services.deliverer)
    proxy.mode = "pass"
    assert clock["now"] - time.time() >= SERVER_ERROR_MIN_AGE
    assert services.outbox.counts()["quarantined"] == 1
    assert "failed it" in services.outbox.items("quarantined")[0].last_error
    assert services.outbox.pending_count() == 0
    assert services.outbox.retry_set_aside(stuck.key)  # a technician sends it again
    services.outbox.drain(services.deliverer)
    assert services.outbox.pending_count() == 0 and services.outbox.counts()["quarantined"] == 0


@pytest.mark.parametrize("status", [403, 404, 413])
def test_a_proxy_html_refusal_keeps_the_application(backend, proxy, services, status):
    proxy.mode, proxy.status, proxy.count = "html", status, 1
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Queued), outcome
    assert services.outbox.pending_count() == 1
    proxy.mode = "pass"
    services.outbox.drain(services.deliverer)
    assert services.outbox.pending_count() == 0 and backend.store.count("cases") == 1


def test_the_contracts_own_refusal_is_still_final(backend, proxy, services):
    create, _pages = application()
    outcome = services.submit_application(create, [])  # required materials missing
    assert isinstance(outcome, Refused) and outcome.code == "missing_materials"


def test_a_reply_cut_off_half_way_keeps_the_item_and_the_sender_alive(backend, proxy, services):
    proxy.mode, proxy.count = "cut", 1
    outcome = services.call_staff("home")
    assert isinstance(outcome, Queued)
    proxy.count = 2  # the sender meets cut-off replies too (its first catalogue sync, the call)
    services.start()
    deadline = time.monotonic() + 20
    while services.outbox.pending_count() and time.monotonic() < deadline:
        services.wake()
        time.sleep(0.05)
    assert services.outbox.pending_count() == 0  # the sender carried on and delivered it
    assert services._thread.is_alive()


def test_an_error_that_is_not_the_backends_leaves_it_queued_and_the_sender_alive(backend, services, monkeypatch):
    services.start()
    broken = {"on": True}
    original = services.deliverer.__call__

    def deliver(envelope, progress):
        if broken["on"]:
            raise ValueError("a bug in a handler")
        return original(envelope, progress)

    monkeypatch.setattr(services, "deliverer", deliver)
    outcome = services.call_staff("home")
    assert isinstance(outcome, Queued)
    services.wake()
    time.sleep(0.3)
    assert services._thread.is_alive()
    broken["on"] = False
    deadline = time.monotonic() + 20
    while services.outbox.pending_count() and time.monotonic() < deadline:
        services.wake()
        time.sleep(0.05)
    assert services.outbox.pending_count() == 0


def test_a_full_disk_at_submit_is_a_plain_refusal_not_a_crash(backend, services, monkeypatch):
    import sqlite3

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(services.outbox, "enqueue", full)
    create, pages = application()
    outcome = services.submit_application(create, pages)
    assert isinstance(outcome, Refused) and outcome.code == "not_stored"


@pytest.mark.parametrize("text,seconds", [("120", 120), ("²", None), ("٣", None), ("", None), (None, None),
                                          ("99999999999", None), ("1.5", None)])
def test_retry_after_is_ascii_digits_only(text, seconds):
    assert ascii_seconds(text) == seconds
