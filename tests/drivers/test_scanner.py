"""Code scanners: line framing, decoding, the serial driver against the simulator, the HID wedge."""
from __future__ import annotations

import errno
import queue

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.base import State, UnsupportedError
from drivers.scanner.base import ScanEvent
from drivers.scanner.framing import LineFramer
from drivers.scanner.hid import EV_KEY, KEYMAP, EvdevSource, HidWedgeScanner, KeyAssembler
from drivers.scanner.serial_scanner import NEWLAND_START, SerialScanner
from drivers.scanner.simulator import ScannerSimulator

# -- framing and decoding --------------------------------------------------------------------------


def lines(framer, *chunks):
    out = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return [(line.raw, line.oversized) for line in out]


def test_cr_lf_and_crlf_each_end_one_code_even_split_across_reads():
    framer = LineFramer()
    assert lines(framer, b"AB\r", b"\nCD\n", b"EF\r\n\r\n", b"GH\r") == \
        [(b"AB", False), (b"CD", False), (b"EF", False), (b"GH", False)]


def test_prefix_and_suffix_are_removed():
    framer = LineFramer(prefix=b"]Q1", suffix=b"#")
    assert lines(framer, b"]Q1370503#\r") == [(b"370503", False)]


def test_an_oversized_line_is_reported_once_and_the_next_code_is_clean():
    framer = LineFramer(max_length=10)
    out = lines(framer, b"X" * 25, b"Y" * 5 + b"\rOK\r")
    assert out[0][1] is True and out[1:] == [(b"OK", False)]


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_framer_never_raises_and_never_returns_a_line_longer_than_the_limit(chunks):
    framer = LineFramer(max_length=64)
    for chunk in chunks:
        for line in framer.feed(chunk):
            assert len(line.raw) <= 64 and b"\r" not in line.raw and b"\n" not in line.raw


def test_scan_events_carry_the_one_decoders_text_or_its_refusal():
    read = ScanEvent.from_bytes("河易办".encode("gb18030"), "s")
    assert (read.text, read.encoding, read.error, read.format) == ("河易办", "gb18030", "", "")
    refused = ScanEvent.from_bytes(b"\xff\xfe\x80", "s")
    assert (refused.text, refused.encoding, refused.error, refused.raw) == (None, "", "undecodable", b"\xff\xfe\x80")
    oversized = ScanEvent.from_bytes(b"X" * 5000, "s", oversized=True)
    assert oversized.error == "oversized" and len(oversized.raw) == 64
    assert "河" not in repr(ScanEvent.from_bytes("河易办".encode(), "s"))


# -- serial scanner against the simulator ------------------------------------------------------------


@pytest.fixture
def scanner_pair(sim_link):
    made = []

    def make(trigger="none", **sim_kwargs):
        simulator = ScannerSimulator(link=sim_link("scanner"), trigger=trigger, wire_time=False, seed=3,
                                     **sim_kwargs).start()
        scanner = SerialScanner(simulator.path, trigger=trigger, retrigger_seconds=0.2,
                                prefix=sim_kwargs.get("prefix", ""), suffix=sim_kwargs.get("suffix", ""))
        events: queue.Queue = queue.Queue()
        scanner.subscribe_scans(events.put)
        scanner.open()
        scanner.enable()
        made.append((simulator, scanner))
        return simulator, scanner, events

    yield make
    for simulator, scanner in made:
        scanner.close()
        simulator.stop()


def test_chinese_utf8_and_gb18030_codes_arrive_intact(scanner_pair):
    simulator, _scanner, events = scanner_pair()
    simulator.scan("河口区政务服务中心 受理编号 370503-20260612-000123")
    simulator.scan("东营市河口区", encoding="gb18030", terminator="crlf")
    first, second = events.get(timeout=2), events.get(timeout=2)
    assert first.text == "河口区政务服务中心 受理编号 370503-20260612-000123" and first.encoding == "utf-8"
    assert second.text == "东营市河口区" and second.encoding == "gb18030"


def test_prefix_suffix_configured_on_both_ends(scanner_pair):
    simulator, _scanner, events = scanner_pair(prefix="]Q1", suffix="!")
    simulator.scan("12345678")
    assert events.get(timeout=2).text == "12345678"


@pytest.mark.parametrize("trigger", ["honeywell", "newland"])
def test_trigger_mode_scanners_send_only_after_the_trigger(scanner_pair, trigger, wait_for):
    simulator, scanner, events = scanner_pair(trigger)
    wait_for(lambda: simulator.triggers >= 1)
    simulator.scan("654321")
    event = events.get(timeout=2)
    assert event.text == "654321"  # a Newland acknowledgement was not taken for part of the code
    assert scanner.counters["triggers"] >= 1
    if trigger == "newland":
        assert NEWLAND_START in bytes(simulator.received)


def test_garbage_is_delivered_as_a_bad_scan_and_the_next_code_is_fine(scanner_pair):
    simulator, scanner, events = scanner_pair()
    simulator.set_fault("garbage", times=1)
    simulator.scan("370503-20260612-000123")
    simulator.scan("PICKUP")
    received = []
    while not received or received[-1].text != "PICKUP":
        received.append(events.get(timeout=2))
    assert received[-1].text == "PICKUP" and scanner.reading


def test_a_slow_trickle_of_bytes_still_makes_one_code(scanner_pair):
    simulator, _scanner, events = scanner_pair()
    simulator.set_fault("slow", value=0.2, times=1)
    simulator.scan("ABCDEFGH")
    assert events.get(timeout=3).text == "ABCDEFGH"


def test_scanner_goes_offline_when_its_port_vanishes(scanner_pair, wait_for):
    simulator, scanner, _events = scanner_pair()
    simulator.unplug()
    wait_for(lambda: scanner.status.state is State.OFFLINE)
    assert scanner.last_error.code == "DEV-010"


# -- HID keyboard wedge ------------------------------------------------------------------------------

CODES = {plain: code for code, (plain, _shifted) in KEYMAP.items() if code < 60}
SHIFT, ENTER, CAPS = 42, 28, 58


def typing(text):
    """Key events a US-layout wedge scanner sends for ``text`` then Enter."""
    events = []
    for char in text:
        code = CODES.get(char)
        shifted = False
        if code is None:
            code = next(c for c, (_p, s) in KEYMAP.items() if s == char and c < 60)
            shifted = True
        elif char.isalpha() and char.isupper():
            shifted = True
        if char.isalpha():
            code = CODES[char.lower()]
        if shifted:
            events.append((EV_KEY, SHIFT, 1))
        events += [(EV_KEY, code, 1), (EV_KEY, code, 0)]
        if shifted:
            events.append((EV_KEY, SHIFT, 0))
    return events + [(EV_KEY, ENTER, 1), (EV_KEY, ENTER, 0)]


def assemble(events):
    assembler = KeyAssembler()
    return [done for event in events if (done := assembler.feed(*event)) is not None]


def test_wedge_keys_assemble_with_shift_until_enter():
    assert assemble(typing("https://Zwfw.EXAMPLE.cn/case?no=370503-20260612-000123")) == \
        [("https://Zwfw.EXAMPLE.cn/case?no=370503-20260612-000123", False)]


def test_caps_lock_and_ignored_keys():
    events = [(EV_KEY, CAPS, 1), (EV_KEY, CAPS, 0)] + typing("abc")[:-2] + [(EV_KEY, 125, 1), (4, 4, 458756)] \
        + [(EV_KEY, ENTER, 1)]
    assert assemble(events) == [("ABC", False)]


def test_keypad_digits_and_keypad_enter():
    events = [(EV_KEY, 79, 1), (EV_KEY, 80, 1), (EV_KEY, 81, 1), (EV_KEY, 96, 1)]
    assert assemble(events) == [("123", False)]


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 300), st.integers(-1, 3)), max_size=300))
def test_any_event_sequence_is_safe(events):
    assembler = KeyAssembler(max_length=50)
    for event in events:
        done = assembler.feed(*event)
        if done is not None:
            assert len(done[0]) <= 50


def test_keymap_matches_the_kernel_codes_when_evdev_is_installed():
    ecodes = pytest.importorskip("evdev.ecodes")
    assert ecodes.KEY_A == CODES["a"] and ecodes.KEY_0 == CODES["0"] and ecodes.KEY_SLASH == CODES["/"]
    assert ecodes.KEY_ENTER == ENTER and ecodes.KEY_LEFTSHIFT == SHIFT and ecodes.KEY_KPENTER == 96


class FakeInput:
    """Stands in for an evdev device: events are queued by the test; OSError when unplugged."""

    def __init__(self, path):
        self.path = path
        self.events: queue.Queue = queue.Queue()
        self.grabbed = False
        self.closed = False
        self.gone = False

    def read_events(self, timeout):
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        try:
            return [self.events.get(timeout=timeout)]
        except queue.Empty:
            return []

    def grab(self):
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def close(self):
        self.closed = True


def test_hid_wedge_scanner_grabs_the_device_and_delivers_codes(wait_for):
    sources = []

    def factory(path):
        sources.append(FakeInput(path))
        return sources[-1]

    scanner = HidWedgeScanner("/dev/input/event7", source_factory=factory)
    received: queue.Queue = queue.Queue()
    scanner.subscribe_scans(received.put)
    scanner.open()
    scanner.enable()
    assert sources[0].grabbed
    for event in typing("12345678"):
        sources[0].events.put(event)
    assert received.get(timeout=2).text == "12345678"
    sources[0].gone = True
    wait_for(lambda: scanner.status.state is State.OFFLINE)
    scanner.close()
    assert sources[0].closed and not sources[0].grabbed


def test_hid_without_evdev_says_how_to_install_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_evdev(name, *args, **kwargs):
        if name == "evdev":
            raise ImportError("no evdev")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_evdev)
    with pytest.raises(UnsupportedError) as caught:
        EvdevSource("/dev/input/event0")
    assert "heyiban-kiosk[hid]" in str(caught.value)


@pytest.fixture(scope="module")
def noisy_line(tmp_path_factory):
    simulator = ScannerSimulator(link=tmp_path_factory.mktemp("noise") / "scanner", wire_time=False).start()
    scanner = SerialScanner(simulator.path)
    events: queue.Queue = queue.Queue()
    scanner.subscribe_scans(events.put)
    scanner.open()
    scanner.enable()
    yield simulator, scanner, events
    scanner.close()
    simulator.stop()


@settings(max_examples=fuzz_examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(min_size=1, max_size=300))
def test_scanner_thread_survives_any_bytes_on_the_line(noisy_line, noise):
    simulator, scanner, events = noisy_line
    simulator.send(noise + b"\r")
    simulator.scan("MARKER-OK")
    while True:
        event = events.get(timeout=3)
        if event.text is not None and event.text.endswith("MARKER-OK"):
            break
    assert scanner.reading and scanner.counters["internal_errors"] == 0
