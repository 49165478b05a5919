"""Personal identity codes and grid workers signing in, as a terminal meets them over HTTP."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from backend_support import (DEMO_IDENTITY, DEMO_IDENTITY_2, DEMO_IDENTITY_EXPIRED, DEMO_PIN, DEMO_STAFF_CARD,
                             DEMO_STAFF_CODE, DEMO_WORKER, FaultProxy, start_reference_backend, stored_bytes)
from kiosk.backend.errors import BackendNotFound, BackendRejected, BackendUnavailable
from kiosk.backend.outcomes import message_key, message_values
from kiosk.i18n import Translator

WRONG_PIN = "135799"


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timed(tmp_path):
    """A backend and a client sharing a clock the test can move forward."""
    clock = Clock()
    backend = start_reference_backend(tmp_path / "b.sqlite3", clock=clock)
    client = backend.client(clock=clock)
    yield backend, client, clock
    client.close()
    backend.stop(wait=False)


# -- identity codes ----------------------------------------------------------------------


def test_a_known_identity_code_gives_the_person_and_its_expiry(client):
    resolved = client.resolve_identity(DEMO_IDENTITY)
    person = resolved.person
    assert (person.name, person.id_number, person.id_type) == ("欧阳娜娜", "370503194003050029", "resident_id")
    assert (person.phone, person.address) == ("13805461234", "山东省东营市河口区仙河镇仙河村12号")
    in_ten_years = datetime.now(timezone.utc) + timedelta(days=3650)
    assert abs((resolved.expires_at - in_ten_years).total_seconds()) < 3600
    other = client.resolve_identity(DEMO_IDENTITY_2).person
    assert (other.name, other.id_number, other.phone, other.address) == ("李建军", "370503198503121231", "", "")


def test_an_unknown_or_expired_identity_code_is_refused_with_its_own_code(client):
    with pytest.raises(BackendNotFound) as unknown:
        client.resolve_identity("HYBID:NOBODY-HAS-THIS-CODE")
    assert unknown.value.status == 404 and unknown.value.code == "identity_code_unknown"
    with pytest.raises(BackendRejected) as expired:
        client.resolve_identity(DEMO_IDENTITY_EXPIRED)
    assert expired.value.status == 410 and expired.value.code == "identity_code_expired"
    texts = Translator("zh")
    assert texts.tr(message_key(expired.value)) == "身份码已过期，请在手机上刷新后再扫"
    assert "身份证" in texts.tr(message_key(unknown.value))


def test_text_that_is_not_an_identity_code_is_not_sent(backend, client):
    for text in ("HYBID:short", "HYBID:has spaces in it here", "370503-20260612-000123", "HYBSTAFF:WG0001DEMO2026"):
        with pytest.raises(ValidationError):
            client.resolve_identity(text)


def test_guessing_identity_codes_is_stopped_after_ten_tries(client):
    for n in range(10):
        with pytest.raises(BackendNotFound):
            client.resolve_identity(f"HYBID:GUESS-{n:04d}-XXXXXXXX")
    with pytest.raises(BackendUnavailable) as stopped:
        client.resolve_identity(DEMO_IDENTITY)
    assert stopped.value.status == 429 and stopped.value.code == "too_many_attempts"


def test_identity_codes_are_kept_only_as_hashes(backend, tmp_path):
    backend.store.close()  # flush: read the file as someone who took it would
    data = stored_bytes(tmp_path / "backend.sqlite3")
    assert b"DEMO-OUYANG-NANA-0001" not in data


# -- grid workers ------------------------------------------------------------------------


def test_a_grid_worker_signs_in_with_the_staff_code_or_the_staff_card(client):
    assert client.staff_sign_in("staff_code", DEMO_STAFF_CODE, DEMO_PIN) == DEMO_WORKER
    assert client.staff_sign_in("id_card", DEMO_STAFF_CARD, DEMO_PIN) == DEMO_WORKER
    with pytest.raises(BackendNotFound) as unknown:
        client.staff_sign_in("staff_code", "HYBSTAFF:NOBODY0001", DEMO_PIN)
    assert unknown.value.code == "unknown_staff"
    with pytest.raises(BackendNotFound):
        client.staff_sign_in("id_card", "370503194003050029", DEMO_PIN)  # a resident's card is no staff card


def test_wrong_pins_count_down_then_lock_the_worker_for_fifteen_minutes(timed):
    backend, client, clock = timed
    left = []
    for _ in range(4):
        with pytest.raises(BackendRejected) as wrong:
            client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
        assert wrong.value.code == "wrong_pin" and wrong.value.status == 403
        left.append(wrong.value.attempts_left)
    assert left == [4, 3, 2, 1]
    texts = Translator("zh")
    assert texts.tr(message_key(wrong.value), **message_values(wrong.value)) == "PIN 错误，还可尝试 1 次"

    with pytest.raises(BackendRejected) as locked:  # the fifth wrong PIN in a row
        client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
    assert locked.value.code == "pin_locked" and locked.value.retry_after_seconds == 15 * 60
    assert texts.tr(message_key(locked.value), **message_values(locked.value)) == \
        "PIN 错误次数过多，已锁定，请 15 分钟后再试"

    clock.now += 10 * 60
    with pytest.raises(BackendRejected) as still:  # even the right PIN, and with the other credential
        client.staff_sign_in("id_card", DEMO_STAFF_CARD, DEMO_PIN)
    assert still.value.code == "pin_locked" and still.value.retry_after_seconds == 5 * 60

    clock.now += 5 * 60 + 1
    assert client.staff_sign_in("id_card", DEMO_STAFF_CARD, DEMO_PIN) == DEMO_WORKER


def test_a_right_pin_starts_the_count_again(client):
    for _ in range(3):
        with pytest.raises(BackendRejected):
            client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
    assert client.staff_sign_in("staff_code", DEMO_STAFF_CODE, DEMO_PIN) == DEMO_WORKER
    with pytest.raises(BackendRejected) as wrong:
        client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
    assert wrong.value.attempts_left == 4


def test_a_sign_in_is_never_repeated_by_the_client(backend):
    proxy = FaultProxy(backend.url)
    client = backend.client(proxy.url, retries=3)
    try:
        proxy.mode, proxy.status, proxy.count = "error", 503, 1
        with pytest.raises(BackendUnavailable):
            client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
        assert [path for _, path in proxy.seen] == ["/api/v1/staff/sign-in"]
        with pytest.raises(BackendRejected) as wrong:  # the proxy's 503 burnt no attempt
            client.staff_sign_in("staff_code", DEMO_STAFF_CODE, WRONG_PIN)
        assert wrong.value.attempts_left == 4
    finally:
        client.close()
        proxy.close()


def test_malformed_credentials_and_pins_are_not_sent(client):
    for kind, value, pin in (("staff_code", DEMO_STAFF_CARD, DEMO_PIN), ("id_card", DEMO_STAFF_CODE, DEMO_PIN),
                             ("staff_code", DEMO_STAFF_CODE, "12345"), ("staff_code", DEMO_STAFF_CODE, "12345a"),
                             ("staff_code", DEMO_STAFF_CODE, "١٢٣٤٥٦"),  # digits, but not 0–9
                             ("id_card", "３７０５０３１９８８１１２３００２６", DEMO_PIN),  # full-width digits
                             ("badge", DEMO_STAFF_CODE, DEMO_PIN)):
        with pytest.raises(ValidationError) as caught:
            client.staff_sign_in(kind, value, pin)
        assert pin not in str(caught.value) and value not in str(caught.value)


def test_the_pin_is_never_logged_nor_kept_in_the_clear(backend, client, caplog, tmp_path):
    with caplog.at_level(logging.DEBUG):
        client.staff_sign_in("id_card", DEMO_STAFF_CARD, DEMO_PIN)
        with pytest.raises(BackendRejected):
            client.staff_sign_in("id_card", DEMO_STAFF_CARD, WRONG_PIN)
    logged = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    for secret in (DEMO_PIN, WRONG_PIN, DEMO_STAFF_CARD, DEMO_STAFF_CODE, DEMO_WORKER.name):
        assert secret not in logged
    assert "WG-0001" in logged  # the staff number is what the log names
    backend.store.close()
    data = stored_bytes(tmp_path / "backend.sqlite3")
    assert DEMO_PIN.encode() not in data and b"scrypt$" in data
