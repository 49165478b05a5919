"""Request signing: only the terminal with the key can make a request the backend accepts, once."""
from __future__ import annotations

import base64

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.backend.signing import (HEADER_CONTENT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
                                   MAX_SKEW_SECONDS, AuthFailure, TerminalAuth, TerminalKeyError, generate_key,
                                   parse_key, read_key_file, signed_headers, verify_request, write_key_file)

KEY = parse_key(generate_key())
NOW = 1_760_000_000.0


class Nonces:
    def __init__(self):
        self.seen = set()

    def remember(self, terminal_id, nonce, timestamp, now):
        if (terminal_id, nonce) in self.seen:
            return False
        self.seen.add((terminal_id, nonce))
        return True


def keys(terminal_id):
    return KEY if terminal_id == "HK-1" else None


def signed(method="POST", path="/api/v1/ratings", body=b'{"level":5}', now=NOW, key=KEY, terminal="HK-1"):
    return signed_headers(key, terminal, method, path, body, now=now)


def verify(headers, method="POST", path="/api/v1/ratings", body=b'{"level":5}', now=NOW, nonces=None):
    return verify_request(headers, method, path, body, keys, nonces or Nonces(), now=now)


def test_a_signed_request_is_accepted_and_names_its_terminal():
    assert verify(signed()).terminal_id == "HK-1"


@pytest.mark.parametrize("missing", [HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_CONTENT,
                                     HEADER_SIGNATURE])
def test_any_missing_header_is_refused(missing):
    headers = signed()
    del headers[missing]
    with pytest.raises(AuthFailure) as caught:
        verify(headers)
    assert caught.value.code == "missing_signature"


@pytest.mark.parametrize("change, code", [
    (dict(body=b'{"level":1}'), "bad_content_hash"),
    (dict(path="/api/v1/ratings?x=1"), "bad_signature"),
    (dict(method="PUT"), "bad_signature"),
])
def test_a_request_altered_in_transit_is_refused(change, code):
    with pytest.raises(AuthFailure) as caught:
        verify(signed(), **change)
    assert caught.value.code == code


def test_another_key_is_refused():
    with pytest.raises(AuthFailure) as caught:
        verify(signed(key=parse_key(generate_key())))
    assert caught.value.code == "bad_signature"


def test_an_unknown_terminal_is_refused():
    with pytest.raises(AuthFailure) as caught:
        verify(signed(terminal="HK-2"))
    assert caught.value.code == "unknown_terminal"


@pytest.mark.parametrize("offset", [MAX_SKEW_SECONDS + 1, -(MAX_SKEW_SECONDS + 1), 86400])
def test_clock_skew_over_five_minutes_is_refused_and_says_how_far_off(offset):
    with pytest.raises(AuthFailure) as caught:
        verify(signed(now=NOW + offset))
    assert caught.value.code == "clock_skew"
    assert f"{int(offset):+d} s" in caught.value.message


def test_skew_within_five_minutes_is_accepted():
    assert verify(signed(now=NOW - MAX_SKEW_SECONDS + 1)).terminal_id == "HK-1"


def test_a_replayed_request_is_refused():
    nonces = Nonces()
    headers = signed()
    verify(headers, nonces=nonces)
    with pytest.raises(AuthFailure) as caught:
        verify(headers, nonces=nonces)
    assert caught.value.code == "replayed"


def test_a_bad_signature_does_not_use_up_the_nonce():
    nonces = Nonces()
    good = signed()
    forged = dict(good, **{HEADER_SIGNATURE: "0" * 64})
    with pytest.raises(AuthFailure):
        verify(forged, nonces=nonces)
    assert verify(good, nonces=nonces).terminal_id == "HK-1"


def test_requests_auth_signs_every_attempt_afresh():
    auth = TerminalAuth("HK-1", KEY, clock=lambda: NOW)
    first = auth(requests.Request("POST", "http://x/api/v1/ratings?a=1", data=b"{}").prepare())
    second = auth(requests.Request("POST", "http://x/api/v1/ratings?a=1", data=b"{}").prepare())
    assert first.headers[HEADER_NONCE] != second.headers[HEADER_NONCE]
    for prepared in (first, second):
        assert verify(prepared.headers, path="/api/v1/ratings?a=1", body=b"{}").terminal_id == "HK-1"


def test_a_short_key_is_refused_without_showing_it(tmp_path):
    short = base64.b64encode(b"k" * 16).decode()
    with pytest.raises(TerminalKeyError) as caught:
        parse_key(short, "key file x")
    assert short not in str(caught.value)
    assert "too short" in str(caught.value)


def test_key_file_is_private_and_round_trips(tmp_path):
    path = tmp_path / "terminal.key"
    write_key_file(path)
    assert path.stat().st_mode & 0o077 == 0
    assert len(read_key_file(path)) == 32
    with pytest.raises(TerminalKeyError, match="does not exist"):
        read_key_file(tmp_path / "missing.key")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_CONTENT,
                                        HEADER_SIGNATURE]), st.text(max_size=80)),
       st.binary(max_size=64))
def test_random_headers_never_pass_and_never_crash(headers, body):
    with pytest.raises(AuthFailure):
        verify(headers, body=body)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=63), st.sampled_from("0123456789abcdef"))
def test_any_single_character_change_in_the_signature_is_refused(position, char):
    headers = signed()
    original = headers[HEADER_SIGNATURE]
    changed = original[:position] + char + original[position + 1:]
    headers[HEADER_SIGNATURE] = changed
    if changed == original:
        assert verify(headers).terminal_id == "HK-1"
    else:
        with pytest.raises(AuthFailure):
            verify(headers)
