"""The hidden entry: corner taps, the hashed PIN, the growing lockout, the audit, `kiosk config set-pin`."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.cli import main
from kiosk.config import load_settings
from kiosk.technician.audit import Auditor
from kiosk.technician.config_file import with_pin_hash
from kiosk.technician.corner import CornerTaps
from kiosk.technician.flow import TechnicianFlow
from kiosk.technician.gate import PinGate
from kiosk.technician.pin import hash_pin, pin_matches


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_five_taps_in_the_corner_within_three_seconds_open_it():
    clock = Clock()
    taps = CornerTaps("top_left", size=100, taps=5, seconds=3.0, clock=clock)
    results = []
    for _ in range(5):
        results.append(taps.touch(20, 1900, 1080, 1920))
        clock.now += 0.5
    assert results == [False, False, False, False, True]


def test_slow_taps_or_a_touch_elsewhere_start_again():
    clock = Clock()
    taps = CornerTaps("top_left", size=100, taps=5, seconds=3.0, clock=clock)
    for _ in range(4):
        assert not taps.touch(20, 1900, 1080, 1920)
        clock.now += 1.0  # the fifth comes 4 s after the first
    assert not taps.touch(20, 1900, 1080, 1920)
    taps = CornerTaps("bottom_right", size=100, taps=3, seconds=3.0, clock=clock)
    assert not taps.touch(1050, 30, 1080, 1920) and not taps.touch(1050, 30, 1080, 1920)
    assert not taps.touch(500, 900, 1080, 1920)  # the resident touched the screen
    assert not taps.touch(1050, 30, 1080, 1920)


@settings(deadline=None, max_examples=15)  # scrypt is slow on purpose
@given(st.text(alphabet="0123456789", min_size=6, max_size=12))
def test_a_hash_matches_its_pin_only(pin):
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        return
    stored = hash_pin(pin, b"0123456789abcdef")
    assert pin not in stored and pin_matches(pin, stored)
    assert not pin_matches(pin + "0", stored) and not pin_matches(pin, "scrypt$garbage")


def test_wrong_pins_lock_out_for_growing_times_and_survive_a_restart(tmp_path):
    clock = Clock()
    stored = hash_pin("135790")
    gate = PinGate(stored, tmp_path / "lock.json", free_attempts=3, lockout_seconds=30, clock=clock)
    assert [gate.attempt("000001").result for _ in range(2)] == ["wrong", "wrong"]
    third = gate.attempt("000001")
    assert (third.result, third.retry_after) == ("locked", 30)
    assert gate.attempt("135790").result == "locked"  # even the right PIN waits
    restarted = PinGate(stored, tmp_path / "lock.json", free_attempts=3, lockout_seconds=30, clock=clock)
    assert restarted.locked_for() == 30
    clock.now += 31
    assert restarted.attempt("000002").retry_after == 60  # the next wrong PIN: twice as long
    clock.now += 61
    assert restarted.attempt("000003").retry_after == 120
    clock.now += 121
    assert restarted.attempt("135790").result == "ok"
    assert restarted.attempt("000004").result == "wrong"  # the count starts again


def test_the_flow_audits_entry_wrong_pin_lockout_sign_in_actions_and_sign_out():
    clock = Clock()
    sent = []

    class Backend:
        def audit(self, event):
            sent.append(event)

    auditor = Auditor(lambda: Backend(), lambda work: work())
    gate = PinGate(hash_pin("135790"), None, free_attempts=2, lockout_seconds=10, clock=clock)
    flow = TechnicianFlow(gate, auditor).start()
    flow.enter_pin("111112")
    assert (flow.state, flow.problem, flow.problem_values) == ("pin", "tech.pin_wrong", {"attempts_left": 1})
    flow.enter_pin("111112")
    assert (flow.state, flow.problem) == ("locked", "tech.locked") and flow.problem_values == {"seconds": 10}
    clock.now += 11
    flow.refresh()
    assert flow.state == "pin"
    flow.enter_pin("135790")
    assert flow.state == "open"
    flow.act("open_door", "locker", "door 3")
    flow.end()
    assert [(e.event, e.action, e.device, e.detail) for e in sent] == [
        ("entry_opened", "", "", ""), ("pin_wrong", "", "", "1 left"), ("pin_locked", "", "", "lockout 10 s"),
        ("signed_in", "", "", ""), ("action", "open_door", "locker", "door 3"), ("signed_out", "", "", "")]


def test_without_a_configured_pin_the_pad_says_so():
    flow = TechnicianFlow(PinGate(""), Auditor(lambda: None, lambda work: work())).start()
    flow.enter_pin("135790")
    assert flow.state == "pin" and flow.problem == "tech.not_set_up"


CONFIG = """# my kiosk
[terminal]
id = "HK-T-1"
name = "终端"

[display]
width = 1080
"""


def test_set_pin_writes_only_the_hash_and_keeps_the_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o640)
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n"))
    assert main(["config", "set-pin", "--config", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(CONFIG) and "246813" not in text and (path.stat().st_mode & 0o777) == 0o640
    assert pin_matches("246813", load_settings(path).technician.pin_hash)
    monkeypatch.setattr("sys.stdin", io.StringIO("975310\n"))
    assert main(["config", "set-pin", "--config", str(path)]) == 0
    assert path.read_text(encoding="utf-8").count("pin_hash") == 1
    assert pin_matches("975310", load_settings(path).technician.pin_hash)


@pytest.mark.parametrize("pin", ["12345", "111111", "123456", "12ab56"])
def test_set_pin_refuses_weak_or_malformed_pins_and_changes_nothing(tmp_path, monkeypatch, capsys, pin):
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
    assert main(["config", "set-pin", "--config", str(path)]) == 2
    assert path.read_text(encoding="utf-8") == CONFIG and "nothing was changed" in capsys.readouterr().err


def test_pin_hash_goes_into_an_existing_technician_table():
    text = "[terminal]\nid = \"a\"\nname = \"b\"\n[technician]\ntaps = 4\n[devices]\nhealth_seconds = 5\n"
    updated = with_pin_hash(text, "scrypt$X")
    assert updated == text.replace("[technician]\n", "[technician]\npin_hash = \"scrypt$X\"\n")
