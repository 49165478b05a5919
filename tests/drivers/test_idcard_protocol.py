"""GA/T 467 frames: the bytes on the wire are exactly what a real reader expects and sends."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.base import ChecksumError, ProtocolError
from drivers.idcard import protocol as p


def test_find_card_frame_is_the_documented_bytes():
    assert p.encode_request(*p.FIND_CARD) == bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")


def test_other_request_frames_match_reader_documentation():
    assert p.encode_request(*p.SAM_STATUS) == bytes.fromhex("AAAAAA9669 0003 11FF ED")
    assert p.encode_request(*p.SELECT_CARD) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert p.encode_request(*p.READ_TEXT_PHOTO) == bytes.fromhex("AAAAAA9669 0003 3001 32")


def test_length_counts_everything_after_itself_and_checksum_is_xor_after_preamble():
    frame = p.encode_response(p.SW_OK, bytes(range(40)))
    length = int.from_bytes(frame[5:7], "big")
    assert length == len(frame) - 7  # SW1 SW2 SW3, data, CHK
    checksum = 0
    for byte in frame[5:-1]:
        checksum ^= byte
    assert frame[-1] == checksum


def test_full_read_reply_is_1295_bytes():
    data = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + bytes(256) + bytes(1024)
    frame = p.encode_response(p.SW_OK, data)
    assert len(frame) == 1295 and frame[5:7] == bytes.fromhex("0508")


def test_decoder_assembles_a_frame_fed_byte_by_byte_after_garbage():
    frame = p.encode_response(p.SW_CARD_FOUND, b"\x00\x00\x00\x00")
    decoder = p.FrameDecoder("response")
    items = []
    for byte in b"\x01\xAA\x02" + frame:
        items += decoder.feed(bytes([byte]))
    assert len(items) == 1 and items[0].sw3 == p.SW_CARD_FOUND
    assert decoder.skipped == 3


def test_bad_checksum_is_reported_with_the_raw_frame_and_the_next_frame_still_decodes():
    good = p.encode_response(p.SW_OK)
    bad = good[:-1] + bytes([good[-1] ^ 0xFF])
    items = p.FrameDecoder("response").feed(bad + good)
    assert isinstance(items[0], p.FrameFault) and isinstance(items[0].error, ChecksumError)
    assert items[0].error.raw == bad and items[0].error.code == "DEV-005"
    assert isinstance(items[1], p.Response) and items[1].sw3 == p.SW_OK


def test_impossible_length_resynchronises_on_the_next_preamble():
    good = p.encode_request(*p.FIND_CARD)
    items = p.FrameDecoder("request").feed(p.PREAMBLE + b"\xff\xff" + good)
    assert isinstance(items[0], p.FrameFault) and items[0].error.code == "DEV-004"
    assert isinstance(items[1], p.Request) and (items[1].cmd, items[1].para) == p.FIND_CARD


def test_sam_id_is_formatted_like_vendor_tools():
    assert p.format_sam_id(p.encode_sam_id(5, 1, 20210518, 3705031, 1234567890)) == \
        "05.01-20210518-0003705031-1234567890"


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8), st.sampled_from(["request", "response"]))
def test_decoder_never_raises_on_random_bytes_and_keeps_its_buffer_bounded(chunks, kind):
    decoder = p.FrameDecoder(kind)
    for chunk in chunks:
        for item in decoder.feed(chunk):
            assert isinstance(item, (p.Request, p.Response, p.FrameFault))
            if isinstance(item, p.FrameFault):
                assert isinstance(item.error, ProtocolError)
        assert len(decoder.pending) <= p.HEADER_LEN + p.MAX_LEN


def _mutations():
    frames = [p.encode_response(p.SW_OK, bytes(range(20))), p.encode_response(p.SW_NO_CARD),
              p.encode_request(*p.FIND_CARD)]
    return st.tuples(st.sampled_from(frames), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)),
                                                       min_size=1, max_size=4))


@settings(max_examples=fuzz_examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations(), st.integers(1, 7))
def test_mutated_frames_give_a_frame_a_fault_or_nothing(case, split):
    frame, changes = case
    mutated = bytearray(frame)
    for position, value in changes:
        if position < len(mutated):
            mutated[position] = value
    decoder = p.FrameDecoder("response" if frame[7] != 0x20 else "request")
    items = decoder.feed(bytes(mutated[:split])) + decoder.feed(bytes(mutated[split:]))
    for item in items:
        if isinstance(item, (p.Request, p.Response)):
            assert item.raw[:5] == p.PREAMBLE
        else:
            assert isinstance(item, p.FrameFault) and item.error.raw
