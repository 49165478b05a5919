"""DLE EOT / GS r status bytes: meaning of each bit, and no crash on any byte."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.base import ProtocolError
from drivers.printer.status import (Paper, encode_paper_sensor, encode_status, parse_paper_sensor,
                                    parse_status)


def test_healthy_printer_is_all_0x12():
    status = parse_status(b"\x12\x12\x12\x12")
    assert status.online and not status.cover_open and status.paper is Paper.OK and status.can_print


def test_reference_bit_meanings():
    assert parse_status(b"\x1a\x12\x12\x12").online is False  # n=1 bit 3
    assert parse_status(b"\x12\x16\x12\x12").cover_open  # n=2 bit 2
    assert parse_status(b"\x12\x32\x12\x12").paper_stopped_printing  # n=2 bit 5
    assert parse_status(b"\x12\x12\x1a\x12").autocutter_error  # n=3 bit 3
    assert parse_status(b"\x12\x12\x32\x12").unrecoverable_error  # n=3 bit 5
    assert parse_status(b"\x12\x12\x12\x1e").paper is Paper.NEAR_END  # n=4 bits 2,3
    assert parse_status(b"\x12\x12\x12\x72").paper is Paper.OUT  # n=4 bits 5,6
    assert parse_status(b"\x12\x12\x12\x7e").paper is Paper.OUT


def test_faults_that_stop_printing():
    assert not parse_status(b"\x1a\x32\x12\x72").can_print  # paper out
    assert parse_status(b"\x1a\x32\x12\x72").needs_person
    assert not parse_status(b"\x1a\x16\x12\x12").can_print  # cover open
    assert not parse_status(b"\x1a\x52\x1a\x12").can_print  # cutter error
    assert parse_status(b"\x12\x12\x12\x1e").can_print  # near end still prints


def test_an_echo_is_not_a_status():
    # python-escpos' Dummy answers the last byte written (0x04 here): that must not read as "paper ok"
    with pytest.raises(ProtocolError) as caught:
        parse_status(b"\x04\x04\x04\x04")
    assert caught.value.raw == b"\x04"
    with pytest.raises(ProtocolError):
        parse_status(b"\x12\x12\x12")


def test_gs_r_answers():
    assert parse_paper_sensor(0x00) is Paper.OK
    assert parse_paper_sensor(0x03) is Paper.NEAR_END
    assert parse_paper_sensor(0x0C) is Paper.OUT
    with pytest.raises(ProtocolError):
        parse_paper_sensor(0x12)  # a DLE EOT answer, not a GS r one


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.binary(min_size=0, max_size=6))
def test_any_bytes_parse_or_raise_protocol_error(data):
    try:
        status = parse_status(data)
    except ProtocolError as error:
        assert error.code == "DEV-004"
        return
    assert len(data) == 4 and all(b & 0x93 == 0x12 for b in data)
    assert status.raw == data


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(online=st.booleans(), cover_open=st.booleans(), paper=st.sampled_from([Paper.OK, Paper.NEAR_END, Paper.OUT]),
       stopped=st.booleans(), cutter=st.booleans(), unrecoverable=st.booleans())
def test_encode_then_parse_gives_the_same_state(online, cover_open, paper, stopped, cutter, unrecoverable):
    status = parse_status(encode_status(online=online, cover_open=cover_open, paper=paper,
                                        paper_stopped_printing=stopped, autocutter_error=cutter,
                                        unrecoverable_error=unrecoverable))
    assert (status.online, status.cover_open, status.paper, status.paper_stopped_printing,
            status.autocutter_error, status.unrecoverable_error) == (online, cover_open, paper, stopped,
                                                                     cutter, unrecoverable)
    assert status.error == (cutter or unrecoverable)
    assert parse_paper_sensor(encode_paper_sensor(paper)) is paper


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.integers(0, 255))
def test_any_gs_r_byte_parses_or_raises(value):
    try:
        parse_paper_sensor(value)
    except ProtocolError:
        assert value & 0x90
