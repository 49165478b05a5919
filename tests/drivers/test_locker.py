"""The locker: both board protocols byte for byte, and the driver against the cabinet simulator."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.base import ChecksumError, DeviceTimeout, ProtocolError, State
from drivers.locker import protocols as lp
from drivers.locker.locker import LockJammed, SerialLocker
from drivers.locker.simulator import LockerSimulator


def test_8a_board_frames():
    board = lp.Board8A()
    assert board.request(lp.UNLOCK, 1, 1) == bytes.fromhex("8A 01 01 11 9B")
    assert board.request(lp.QUERY, 1, 1) == bytes.fromhex("80 01 01 33 B3")
    assert board.request(lp.QUERY_ALL, 1) == bytes.fromhex("80 01 00 33 B2")
    reply = board.reply_decoder(lp.UNLOCK).feed(bytes.fromhex("8A 01 01 00 8A"))[0]
    assert reply.unlock_ok is True and reply.closed == {1: False}
    everything = board.reply_decoder(lp.QUERY_ALL).feed(bytes.fromhex("80 01 01 01 01 33 B3"))[0]
    assert [lock for lock, closed in everything.closed.items() if closed] == [1, 9, 17]


def test_kerong_frames_and_sum():
    board = lp.KerongCU()
    assert board.request(lp.UNLOCK, 0, 0) == bytes.fromhex("02 00 31 03 36")
    assert board.request(lp.QUERY, 1, 5) == bytes([0x02, 0x15, 0x30, 0x03, (0x02 + 0x15 + 0x30 + 0x03) & 0xFF])
    reply = board.reply(lp.QUERY_ALL, 0, None, {0: True, 9: True}, {9: True})
    assert reply[-2] == 0x03 and reply[-1] == sum(reply[:-1]) & 0xFF
    state = board.reply_decoder(lp.QUERY_ALL).feed(reply)[0]
    assert state.closed[0] and state.closed[9] and not state.closed[1] and state.items[9] and not state.items[0]


def test_doors_continue_on_the_next_board():
    assert lp.KerongCU().locate(17, 0) == (1, 0)
    assert lp.Board8A().locate(25, 1) == (2, 1)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.sampled_from(["kerong", "8a"]), st.sampled_from([lp.UNLOCK, lp.QUERY, lp.QUERY_ALL, "request"]),
       st.lists(st.binary(max_size=64), max_size=6))
def test_decoders_never_raise_on_random_bytes(board, kind, chunks):
    protocol = lp.protocol_for(board)
    decoder = protocol.request_decoder() if kind == "request" else protocol.reply_decoder(kind)
    for chunk in chunks:
        for item in decoder.feed(chunk):
            assert isinstance(item, (lp.BoardState, lp.BoardRequest, lp.Fault))


@pytest.fixture(params=["kerong", "8a"])
def cabinet(request, sim_link):
    board = request.param
    simulator = LockerSimulator(link=sim_link("locker"), board=board, doors=30, items=[3, 20],
                                auto_pickup_seconds=0.3, wire_time=False, seed=5).start()
    locker = SerialLocker(simulator.path, board, doors=30, timeout=0.2, poll_interval=0.05,
                          door_open_alert_seconds=0.5)
    events = []
    locker.subscribe_doors(events.append)
    locker.open()
    yield simulator, locker, events
    locker.close()
    simulator.stop()


def kinds(events, door=None):
    return [e.kind for e in events if door is None or e.door == door]


def test_open_a_door_on_the_second_board_and_see_it_shut_again(cabinet, wait_for):
    simulator, locker, events = cabinet
    locker.enable()
    state = locker.open_door(20)
    assert not state.closed
    wait_for(lambda: "closed" in kinds(events, 20))
    assert kinds(events, 20)[0] == "opened"
    if locker.protocol.has_item_sensor:
        wait_for(lambda: "item_removed" in kinds(events, 20))
    else:
        assert state.item_present is None
    assert locker.query_door(20).closed and not simulator.doors[20].item


def test_query_all_reports_latches_and_items(cabinet):
    simulator, locker, _events = cabinet
    simulator.force_open(7)
    states = locker.query_all()
    assert len(states) == 30 and not states[7].closed and states[8].closed
    if locker.protocol.has_item_sensor:
        assert states[3].item_present and not states[4].item_present


def test_a_jammed_lock_is_its_own_error_event_and_status(cabinet):
    simulator, locker, events = cabinet
    simulator.set_fault("jammed", value=5)
    with pytest.raises(LockJammed) as caught:
        locker.open_door(5)
    assert caught.value.code == "DEV-006" and caught.value.raw
    assert "jammed" in kinds(events, 5)
    assert locker.status.state is State.HARDWARE_ERROR and locker.status.detail["jammed"] == [5]
    locker.open_door(6)  # other doors still open
    simulator.clear_faults()
    locker.open_door(5)
    assert locker.status.state is State.ONLINE


def test_a_door_left_open_raises_an_alert_until_it_is_shut(cabinet, wait_for):
    simulator, locker, events = cabinet
    simulator.set_fault("door_left_open")
    locker.enable()
    locker.open_door(2)
    wait_for(lambda: "left_open" in kinds(events, 2))
    assert locker.status.state is State.USER_ERROR and locker.status.detail["left_open"] == [2]
    simulator.close(2)
    wait_for(lambda: locker.status.state is State.ONLINE)
    assert kinds(events, 2)[-1] == "closed"


@pytest.mark.parametrize("fault", ["no_answer", "bad_checksum", "garbage"])
def test_a_silent_or_garbling_board_is_its_own_event_and_status_and_comes_back(cabinet, wait_for, fault):
    # A board whose every answer fails its checks shows its doors no more than a silent one: a
    # resident who shut a door must not be left waiting to be told so.
    simulator, locker, events = cabinet
    locker.enable()
    simulator.set_fault(fault)
    wait_for(lambda: locker.status.state is State.OFFLINE)
    assert "board_silent" in kinds(events)
    simulator.clear_faults()
    locker.close()
    locker.open()
    assert "board_back" in kinds(events) and locker.status.state is State.ONLINE


def test_one_garbled_answer_among_good_ones_does_not_take_the_board_offline(cabinet):
    simulator, locker, events = cabinet
    locker.enable()
    for _ in range(5):
        simulator.set_fault("bad_checksum", times=1)
        time.sleep(locker.poll_interval * 4)
    assert "board_silent" not in kinds(events) and locker.status.state is State.ONLINE


@pytest.mark.parametrize("fault", ["no_answer", "bad_checksum"])
def test_a_lost_answer_to_an_unlock_still_opens_the_door_with_one_pulse(cabinet, fault):
    # The board pulsed the latch but its answer never arrived whole: the resident's door is open,
    # and the kiosk must say so instead of calling staff (and must not pulse it again).
    simulator, locker, events = cabinet
    simulator.set_fault(fault, times=1)
    assert not locker.open_door(4).closed
    assert simulator.unlocks == 1 and "opened" in kinds(events, 4)


def test_an_unlock_the_latch_did_not_take_is_sent_once_more(cabinet):
    # The answer is lost and the latch is still shut (the request never reached the board):
    # one more unlock opens it.
    simulator, locker, _events = cabinet
    simulator.set_fault("jammed", value=7, times=1)
    simulator.set_fault("no_answer", times=1)
    assert not locker.open_door(7).closed
    assert simulator.unlocks == 2


def test_an_unlock_to_a_silent_board_is_still_a_timeout(cabinet):
    simulator, locker, _events = cabinet
    simulator.set_fault("no_answer")
    with pytest.raises(DeviceTimeout):
        locker.open_door(4)


def test_bad_checksum_and_garbage_are_protocol_errors(cabinet):
    simulator, locker, _events = cabinet
    simulator.set_fault("bad_checksum", times=1)
    with pytest.raises(ChecksumError):
        locker.query_door(1)
    simulator.set_fault("garbage", times=1)
    with pytest.raises(ProtocolError):
        locker.query_door(1)
    assert locker.query_door(1).closed


def test_no_board_at_the_address_is_a_timeout(sim_link):
    with LockerSimulator(link=sim_link("locker"), board="8a", address=1, doors=10, wire_time=False) as simulator:
        with pytest.raises(DeviceTimeout):
            SerialLocker(simulator.path, "8a", address=3, doors=10, timeout=0.1).open()


def test_inverted_latch_wiring(sim_link):
    with LockerSimulator(link=sim_link("locker"), board="8a", doors=4, wire_time=False) as simulator:
        locker = SerialLocker(simulator.path, "8a", doors=4, timeout=0.2, latch_inverted=True)
        with locker:
            assert all(not state.closed for state in locker.query_all().values())


def test_addresses_outside_the_board_range_are_refused():
    with pytest.raises(ValueError):
        SerialLocker("/dev/null", "kerong", address=15, doors=32)
    with pytest.raises(ValueError):
        SerialLocker("/dev/null", "8a", address=0, doors=4)


def test_external_health_check_pulses_an_empty_door_only(cabinet):
    simulator, locker, _events = cabinet
    report = locker.check_health("external")
    assert report.ok
    if locker.protocol.has_item_sensor:
        assert not simulator.doors[1].closed and simulator.doors[3].closed  # door 3 holds an item
        assert "door 1 unlocked" in report.text()
    else:
        assert all(door.closed for door in simulator.doors.values()) and "skipped" in report.text()
