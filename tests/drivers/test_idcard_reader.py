"""The real GA/T 467 driver against the reader simulator over a pty: reads, faults, recovery."""
from __future__ import annotations

import pytest

from drivers.base import ChecksumError, ConnectionLost, DeviceTimeout, NoDeviceError, ProtocolError, State
from drivers.idcard import protocol as p
from drivers.idcard.card import CardType
from drivers.idcard.reader import CardReadError, Ga467Reader, NoCardError, SamError
from drivers.idcard.simulator import Ga467Simulator


@pytest.fixture
def sim(sim_link):
    simulator = Ga467Simulator(link=sim_link("idcard"), wire_time=False, seed=1).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def reader(sim):
    device = Ga467Reader(sim.path, timeout=0.3, poll_interval=0.05)
    device.open()
    yield device
    device.close()


@pytest.mark.parametrize("key,card_type", [("resident", CardType.RESIDENT), ("hk-permit", CardType.HK_MO_TW_PERMIT),
                                           ("foreign-2017", CardType.FOREIGN_PERMANENT_2017),
                                           ("foreign-2023", CardType.FOREIGN_PERMANENT_2023)])
def test_each_card_type_reads_through_the_real_driver(sim, reader, key, card_type):
    sim.place(key)
    card = reader.read_card()
    assert card.card_type is card_type
    assert card == sim.deck[key].card
    assert reader.counters["reads"] == 1


def test_open_checks_the_sam_and_reads_its_id(reader):
    assert reader.status.state is State.ONLINE
    assert reader.sam_id == "05.01-20210518-0003705031-1234567890"
    assert reader.check_health("internal").ok


def test_a_read_card_must_leave_the_field_before_it_is_read_again(sim, reader):
    sim.place("resident")
    reader.read_card()
    with pytest.raises(NoCardError):
        reader.read_card()
    sim.remove()
    sim.place("resident")
    assert reader.read_card().name == "李建军"


def test_appended_address_and_fingerprint(sim, sim_link):
    sim.place("resident-minority")
    device = Ga467Reader(sim.path, timeout=0.3, read_fingerprint=True)
    with device:
        card = device.read_card()
    assert card.appended_address == "山东省东营市河口区新户镇太平村33号"
    assert card.fingerprint == b""  # this card has none
    sim.remove()
    sim.place("resident")
    with Ga467Reader(sim.path, timeout=0.3, read_fingerprint=True) as device:
        assert len(device.read_card().fingerprint) == 1024


def test_no_answer_is_a_timeout(sim, reader):
    sim.set_fault("no_answer")
    with pytest.raises(DeviceTimeout) as caught:
        reader.find_card()
    assert caught.value.code == "DEV-003"


def test_bad_checksum_carries_the_raw_reply(sim, reader):
    sim.place("resident")
    sim.set_fault("bad_checksum", times=1)
    with pytest.raises(ChecksumError) as caught:
        reader.read_card()
    assert caught.value.raw.startswith(p.PREAMBLE)
    assert reader.read_card().name == "李建军"  # the next exchange is fine


def test_garbage_is_a_protocol_error_not_a_hang(sim, reader):
    sim.set_fault("garbage", times=1)
    with pytest.raises(ProtocolError) as caught:
        reader.find_card()
    assert "garbage" in str(caught.value) and caught.value.raw


def test_sam_self_test_failure(sim, sim_link):
    sim.set_fault("sam_failure")
    device = Ga467Reader(sim.path, timeout=0.3)
    device.open()
    try:
        assert device.status.state is State.HARDWARE_ERROR
        with pytest.raises(SamError) as caught:
            device.find_card()
        assert caught.value.sw3 == p.SW_SAM_SELF_TEST
    finally:
        device.close()


def test_card_not_found_fault(sim, reader):
    sim.place("resident")
    sim.set_fault("card_not_found")
    with pytest.raises(NoCardError):
        reader.read_card()
    sim.set_fault("card_not_found", on=False)
    assert reader.read_card().card_type is CardType.RESIDENT


@pytest.mark.parametrize("fault,sw3", [("read_failure", p.SW_READ_FAILED), ("select_failure", p.SW_SELECT_FAILED)])
def test_read_and_select_failures(sim, reader, fault, sw3):
    sim.place("resident")
    sim.set_fault(fault, times=1)
    with pytest.raises(CardReadError) as caught:
        reader.read_card()
    assert caught.value.sw3 == sw3 and caught.value.code == "DEV-007"
    assert reader.read_card().name == "李建军"


def test_slow_replies_within_and_beyond_the_timeout(sim, reader):
    sim.set_fault("slow", value=0.1, times=1)
    assert reader.find_card() is False
    sim.set_fault("slow", value=0.6, times=1)
    with pytest.raises(DeviceTimeout):
        reader.find_card()


def test_port_vanishing_and_returning(sim, reader):
    sim.unplug()
    with pytest.raises(ConnectionLost):
        reader.find_card()
    reader.close()
    with pytest.raises(NoDeviceError):
        reader.open()
    assert reader.status.state is State.NO_DEVICE
    sim.replug()
    reader.open()
    sim.place("resident")
    assert reader.read_card().name == "李建军"


def test_wrong_baud_gets_no_answer_and_the_baud_command_switches_both_ends(sim):
    with pytest.raises(DeviceTimeout):
        Ga467Reader(sim.path, 9600, timeout=0.2).open()
    device = Ga467Reader(sim.path, 115200, timeout=0.3)
    with device:
        device.set_reader_baud(9600)
        assert sim.baud == 9600 and device.link.baud == 9600
        sim.place("resident")
        assert device.read_card().name == "李建军"


def test_a_bad_request_frame_is_answered_with_sw3_10(sim, reader, wait_for):
    frame = bytearray(p.encode_request(*p.FIND_CARD))
    frame[-1] ^= 0xFF
    with reader._io:
        reader.link.write(bytes(frame))
        data = wait_for(lambda: reader.link.read_some(0.1))
    assert p.FrameDecoder().feed(data)[0].sw3 == p.SW_CHECKSUM


# -- the polling thread ---------------------------------------------------------------------------


def test_polling_reads_each_placed_card_and_survives_faults(sim, reader, wait_for):
    events = []
    reader.subscribe_cards(events.append)
    reader.enable()
    sim.place("resident")
    wait_for(lambda: [e for e in events if e.kind == "card"])
    sim.remove()
    sim.set_fault("garbage", times=2)
    sim.place("hk-permit")
    wait_for(lambda: [e for e in events if e.kind == "card" and e.card.card_type is CardType.HK_MO_TW_PERMIT])
    errors = [e for e in events if e.kind == "error"]
    assert errors and all(e.error.code.startswith("DEV-") for e in errors)
    assert reader.polling and reader.status.state is State.ONLINE


def test_polling_reports_a_sam_fault_and_recovers(sim, reader, wait_for):
    events = []
    reader.subscribe_cards(events.append)
    reader.enable()
    sim.set_fault("sam_failure")
    wait_for(lambda: reader.status.state is State.HARDWARE_ERROR)
    assert any(isinstance(e.error, SamError) for e in events)
    sim.clear_faults()
    wait_for(lambda: reader.status.state is State.ONLINE)
    sim.place("resident")
    wait_for(lambda: [e for e in events if e.kind == "card"])


def test_polling_goes_offline_when_the_reader_stays_silent(sim, reader, wait_for):
    reader.enable()
    sim.set_fault("no_answer")
    wait_for(lambda: reader.status.state is State.OFFLINE)
    wait_for(lambda: not reader.polling)
    assert reader.last_error.code == "DEV-003"


def test_polling_goes_offline_when_the_port_vanishes(sim, reader, wait_for):
    reader.enable()
    sim.unplug()
    wait_for(lambda: reader.status.state is State.OFFLINE)
    assert reader.status.error_code == "DEV-010"


def test_a_deck_file_adds_cards_a_tester_can_place(tmp_path, sim_link):
    deck = tmp_path / "deck.toml"
    deck.write_text('[[card]]\nkey = "grandma"\nname = "赵淑珍"\ngender = "女"\nnation = "满"\n'
                    'birth_date = "1940-02-29"\naddress = "山东省东营市河口区六合街道"\n'
                    'id_number = "370503194002292026"\nissuer = "东营市公安局河口分局"\n'
                    'valid_from = "2010-01-01"\nvalid_to = "长期"\n', encoding="utf-8")
    with Ga467Simulator(link=sim_link("idcard"), deck=deck, card="grandma", wire_time=False) as simulator:
        with Ga467Reader(simulator.path, timeout=0.3) as device:
            card = device.read_card()
    assert (card.name, card.nation, card.birth_date, card.valid_to) == ("赵淑珍", "满", "1940-02-29", "长期")


def test_a_deck_file_with_a_bad_card_is_refused_at_start(tmp_path, sim_link):
    from drivers.idcard.deck import load_deck

    deck = tmp_path / "deck.toml"
    deck.write_text('[[card]]\nkey = "typo"\nname = "钱七"\nid_number = "370503194002292027"\n'
                    'birth_date = "1940-02-29"\nvalid_from = "2010-01-01"\nvalid_to = "长期"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="card 'typo' would not read back: .*GB 11643"):
        load_deck(deck)
