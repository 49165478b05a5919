"""Random and mutated replies thrown at the reader: no crash, no hang, the thread reports and goes on."""
from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.base import DeviceError, State
from drivers.idcard import protocol as p
from drivers.idcard.cardtext import encode_card_text
from drivers.idcard.deck import builtin_deck
from drivers.idcard.reader import Ga467Reader
from drivers.sim.base import SerialSimulator

GENUINE = builtin_deck()["resident"].card
READ_REPLY = p.encode_response(p.SW_OK, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big")
                               + encode_card_text(GENUINE) + GENUINE.photo_wlt)
REPLIES = [p.encode_response(p.SW_OK), p.encode_response(p.SW_CARD_FOUND, bytes(4)),
           p.encode_response(p.SW_OK, bytes(8)), READ_REPLY, p.encode_response(p.SW_NO_CARD)]


def mutated_reply():
    return st.tuples(st.sampled_from(REPLIES), st.lists(st.tuples(st.integers(0, 1294), st.integers(0, 255)),
                                                        min_size=1, max_size=5), st.integers(0, 1300)).map(_mutate)


def _mutate(case):
    frame, changes, cut = case
    data = bytearray(frame)
    for position, value in changes:
        if position < len(data):
            data[position] = value
    return bytes(data[:max(cut, 1)]) if cut < len(data) else bytes(data)


REPLY_BYTES = st.one_of(st.binary(max_size=300), mutated_reply(),
                        st.builds(lambda a, b: a + b, st.binary(max_size=40), st.sampled_from(REPLIES)))


class RawResponder(SerialSimulator):
    """Answers every request frame with whatever bytes the test chose."""

    kind = "raw"

    def __init__(self, link):
        super().__init__(link=link, baud=115200, wire_time=False)
        self.decoder = p.FrameDecoder("request")
        self.next_reply = p.encode_response(p.SW_OK)
        self.answered = 0
        self.answered_event = threading.Condition()

    def on_bytes(self, data):
        for item in self.decoder.feed(data):
            if isinstance(item, p.Request):
                self.send(self.next_reply)
                with self.answered_event:
                    self.answered += 1
                    self.answered_event.notify_all()

    def wait_answers(self, count, timeout=2.0):
        with self.answered_event:
            return self.answered_event.wait_for(lambda: self.answered >= count, timeout)


@pytest.fixture(scope="module")
def polling_reader(tmp_path_factory):
    responder = RawResponder(tmp_path_factory.mktemp("fuzz") / "reader").start()
    reader = Ga467Reader(responder.path, timeout=0.02, poll_interval=0.002, silent_limit=10**9)
    reader.open()
    events = []
    reader.subscribe_cards(events.append)
    reader.enable()
    yield responder, reader, events
    reader.close()
    responder.stop()


@settings(max_examples=fuzz_examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=REPLY_BYTES)
def test_reader_thread_survives_random_and_mutated_replies(polling_reader, reply):
    responder, reader, events = polling_reader
    responder.next_reply = reply
    before = responder.answered
    assert responder.wait_answers(before + 2)
    assert reader.polling, "the reader thread died"
    assert reader.status.state in (State.ONLINE, State.HARDWARE_ERROR)
    for event in events[-5:]:
        assert event.kind in ("card", "error")
        if event.kind == "error":
            assert isinstance(event.error, DeviceError) and event.error.code.startswith("DEV-")
    assert reader.counters["internal_errors"] == 0


class FakeLink:
    """An in-memory line: the reply arrives at once; then silence."""

    def __init__(self, reply):
        self.reply = reply
        self.port = "fake"
        self.baud = 10**9  # no wire time: the test is about content, not speed
        self.is_open = True

    def discard_input(self):
        return b""

    def write(self, data):
        pass

    def read_some(self, max_wait):
        data, self.reply = self.reply, b""
        if not data:
            time.sleep(min(max_wait, 0.001))
        return data


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(reply=REPLY_BYTES)
def test_one_exchange_with_any_reply_ends_in_a_response_or_a_device_error(reply):
    reader = Ga467Reader("fake", timeout=0.005)
    reader.link = FakeLink(reply)
    try:
        response = reader.transact(*p.FIND_CARD)
    except DeviceError as exc:
        assert exc.code in ("DEV-003", "DEV-004", "DEV-005")
    else:
        assert response.raw.startswith(p.PREAMBLE)
    reader.link = FakeLink(reply)
    try:
        reader.read_selected()
    except DeviceError as exc:
        assert exc.code.startswith("DEV-")
