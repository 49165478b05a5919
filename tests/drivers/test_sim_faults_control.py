"""Every fault of every simulator, set through the control interface, as the real driver meets it.

Each simulator reports the faults it knows (``known_faults`` in its state); this file has an
effect check for each of them, set over the control socket exactly as ``kiosk sim fault``
sets it, and a recovery check after ``clear``. A fault added to a simulator without a check
here fails ``test_every_known_fault_is_checked_here``.
"""
from __future__ import annotations

import os
import queue
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from drivers.base import ChecksumError, ConnectionLost, DeviceTimeout, HardwareError, NoDeviceError, ProtocolError, State
from drivers.idcard import protocol as p
from drivers.idcard.reader import CardReadError, Ga467Reader, NoCardError, SamError
from drivers.idcard.simulator import Ga467Simulator
from drivers.locker.locker import LockJammed, SerialLocker
from drivers.locker.simulator import LockerSimulator
from drivers.printer import PaperOutError, PrinterFault, simulated_printer
from drivers.printer import commands as c
from drivers.printer.simulator.controllable import ControllablePrinterSimulator
from drivers.printer.status import Paper
from drivers.scanner.serial_scanner import SerialScanner
from drivers.scanner.simulator import ScannerSimulator
from drivers.sim.control import SimControlClient, SimControlServer
from drivers.sim.interface import COMMON_VERBS

JOB = c.initialize() + c.encode_text("受理回执：测试") + b"\n" + c.feed_lines(3) + c.cut()


@dataclass
class Rig:
    """One simulator on the control socket, the real driver on it, and what the driver heard."""

    name: str
    simulator: Any
    device: Any
    client: SimControlClient
    events: "queue.Queue[Any]" = field(default_factory=queue.Queue)

    def fault(self, fault: str, **params: Any) -> dict:
        """``kiosk sim fault NAME FAULT [--times N] [--seconds S] [--door N]`` over the socket."""
        return self.client.call(self.name, "fault", fault=fault, on=True, **params)

    def clear(self) -> dict:
        return self.client.call(self.name, "clear")

    def active(self) -> list[str]:
        return [fault["fault"] for fault in self.client.call(self.name, "status")["faults"]]


def _wait(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.fixture
def control():
    with tempfile.TemporaryDirectory(prefix="kf-") as folder:  # Unix socket paths must stay short
        server = SimControlServer(os.path.join(folder, "s.sock")).start()
        yield server
        server.stop()


def _reopen(device) -> None:
    device.close()
    device.open()


# -- the rigs ----------------------------------------------------------------------------------------


@pytest.fixture
def idcard(control, sim_link):
    simulator = Ga467Simulator("idcard", link=sim_link("idcard"), wire_time=False, seed=1).start()
    control.register("idcard", simulator)
    reader = Ga467Reader(simulator.path, timeout=0.3, poll_interval=0.05)
    reader.open()
    yield Rig("idcard", simulator, reader, SimControlClient(control.path))
    reader.close()
    simulator.stop()


@pytest.fixture
def scanner(control, sim_link):
    simulator = ScannerSimulator("scanner", link=sim_link("scanner"), wire_time=False, seed=3).start()
    control.register("scanner", simulator)
    device = SerialScanner(simulator.path)
    rig = Rig("scanner", simulator, device, SimControlClient(control.path))
    device.subscribe_scans(rig.events.put)
    device.open()
    device.enable()
    yield rig
    device.close()
    simulator.stop()


@pytest.fixture
def locker(control, sim_link):
    simulator = LockerSimulator("locker", link=sim_link("locker"), doors=16, auto_pickup_seconds=0.3,
                                wire_time=False, seed=5).start()
    control.register("locker", simulator)
    device = SerialLocker(simulator.path, "kerong", doors=16, timeout=0.2, poll_interval=0.05,
                          door_open_alert_seconds=0.5)
    rig = Rig("locker", simulator, device, SimControlClient(control.path))
    device.subscribe_doors(rig.events.put)
    device.open()
    yield rig
    device.close()
    simulator.stop()


@pytest.fixture
def printer(control):
    device = simulated_printer(paper_width=58, timeout_seconds=0.3, job_timeout_seconds=3)
    simulator = ControllablePrinterSimulator(device.link.simulator, "printer", seed=7)
    control.register("printer", simulator)
    device.open()
    yield Rig("printer", simulator, device, SimControlClient(control.path))
    device.close()
    simulator.stop()


# -- what each fault does to the real driver --------------------------------------------------------


def _card_read_fails(rig: Rig, fault: str, sw3: int) -> None:
    rig.client.call("idcard", "place", card="resident")
    rig.fault(fault, times=1)
    with pytest.raises(CardReadError) as caught:
        rig.device.read_card()
    assert caught.value.sw3 == sw3


def _idcard_sam_failure(rig: Rig) -> None:
    rig.fault("sam_failure")
    with pytest.raises(SamError) as caught:
        rig.device.find_card()
    assert caught.value.sw3 == p.SW_SAM_SELF_TEST


def _idcard_card_not_found(rig: Rig) -> None:
    rig.client.call("idcard", "place", card="resident")
    rig.fault("card_not_found")
    with pytest.raises(NoCardError):
        rig.device.read_card()


def _idcard_bad_checksum(rig: Rig) -> None:
    rig.client.call("idcard", "place", card="resident")
    rig.fault("bad_checksum", times=1)
    with pytest.raises(ChecksumError) as caught:
        rig.device.read_card()
    assert caught.value.raw.startswith(p.PREAMBLE)


def _times_out(call: Callable[[], Any]) -> None:
    with pytest.raises(DeviceTimeout) as caught:
        call()
    assert caught.value.code == "DEV-003"


def _idcard_vanish(rig: Rig) -> None:
    rig.fault("vanish")
    assert rig.client.call("idcard", "status")["plugged_in"] is False
    with pytest.raises(ConnectionLost):
        rig.device.find_card()
    rig.device.close()
    with pytest.raises(NoDeviceError):
        rig.device.open()


def _idcard_slow(rig: Rig) -> None:
    rig.fault("slow", seconds=0.6, times=1)
    _times_out(rig.device.find_card)
    time.sleep(0.7)  # the late reply comes (and is dropped as stale by the next request)


def _idcard_works(rig: Rig) -> None:
    _reopen(rig.device)
    rig.client.call("idcard", "remove")
    rig.client.call("idcard", "place", card="resident-young")
    assert rig.device.read_card().id_number == rig.simulator.deck["resident-young"].card.id_number


def _scan(rig: Rig, text: str) -> None:
    rig.client.call("scanner", "scan", payload=text)


def _scanner_no_answer(rig: Rig) -> None:
    rig.fault("no_answer")
    _scan(rig, "ABCD1234")
    with pytest.raises(queue.Empty):
        rig.events.get(timeout=0.6)


def _scanner_corrupted(fault: str) -> Callable[[Rig], None]:
    def check(rig: Rig) -> None:
        rig.fault(fault, times=1)
        _scan(rig, "ABCD1234")
        _scan(rig, "EFGH5678")  # a corrupted line end runs the first code into the second
        texts = [rig.events.get(timeout=2).text]
        while "EFGH5678" not in (texts[-1] or ""):  # the second code comes, alone or run into the first
            texts.append(rig.events.get(timeout=2).text)
        assert "ABCD1234" not in texts
    return check


def _scanner_slow(rig: Rig) -> None:
    rig.fault("slow", seconds=0.3, times=1)
    started = time.monotonic()
    _scan(rig, "ABCDEFGH")
    assert rig.events.get(timeout=3).text == "ABCDEFGH"  # it trickles in, but arrives as one code
    assert time.monotonic() - started >= 0.2


def _scanner_vanish(rig: Rig) -> None:
    rig.fault("vanish")
    assert _wait(lambda: rig.device.status.state is State.OFFLINE)
    assert rig.device.last_error.code == "DEV-010"


def _scanner_works(rig: Rig) -> None:
    _reopen(rig.device)
    rig.device.enable()
    _scan(rig, "OK-0001")
    assert rig.events.get(timeout=2).text == "OK-0001"


def _locker_jammed(rig: Rig) -> None:
    rig.fault("jammed", door=5)  # kiosk sim fault locker jammed --door 5
    with pytest.raises(LockJammed):
        rig.device.open_door(5)
    assert rig.device.status.state is State.HARDWARE_ERROR
    rig.device.open_door(6)  # the other doors still open


def _locker_door_left_open(rig: Rig) -> None:
    rig.fault("door_left_open")
    rig.device.enable()
    rig.device.open_door(2)
    assert _wait(lambda: rig.device.status.state is State.USER_ERROR)
    rig.client.call("locker", "close", door=2)


def _locker_vanish(rig: Rig) -> None:
    rig.fault("vanish")
    with pytest.raises(ConnectionLost):
        rig.device.query_door(1)


def _locker_works(rig: Rig) -> None:
    _reopen(rig.device)
    rig.client.call("locker", "close", door=6)
    assert rig.device.query_door(1).closed
    assert not rig.device.open_door(7).closed
    rig.client.call("locker", "close", door=7)
    assert rig.device.query_door(7).closed


def _printer_stops(fault: str, paper: Paper | None, error: type[Exception]) -> Callable[[Rig], None]:
    def check(rig: Rig) -> None:
        rig.fault(fault)
        status = rig.device.refresh_status()
        if paper is not None:
            assert status.paper is paper
        assert not status.can_print
        with pytest.raises(error):
            rig.device.print_job(JOB)
        assert fault in rig.active()
    return check


def _printer_near_end(rig: Rig) -> None:
    rig.fault("paper_near_end")
    assert rig.device.refresh_status().paper is Paper.NEAR_END
    assert rig.device.print_job(JOB).confirmed  # still prints; a technician changes the roll soon
    assert "paper_near_end" in rig.active()


def _printer_run_out(rig: Rig) -> None:
    rig.fault("paper_run_out")  # 300 dots of paper left: the receipt runs out mid-job
    with pytest.raises(PaperOutError) as caught:
        rig.device.print_job(JOB * 8)
    assert caught.value.during_job
    assert "paper_out" in rig.active()


def _printer_garbage(rig: Rig) -> None:
    rig.fault("garbage", times=1)
    with pytest.raises(ProtocolError):
        rig.device.refresh_status()


def _printer_slow(rig: Rig) -> None:
    rig.fault("slow", seconds=0.6, times=1)
    _times_out(rig.device.refresh_status)
    assert _wait(lambda: rig.simulator.simulator.output)  # the answer came, too late


def _printer_vanish(rig: Rig) -> None:
    rig.fault("vanish")
    with pytest.raises(ConnectionLost):
        rig.device.print_job(JOB)
    rig.device.close()
    with pytest.raises(NoDeviceError):
        rig.device.open()


def _printer_works(rig: Rig) -> None:
    _reopen(rig.device)
    assert rig.device.refresh_status().paper is Paper.OK
    assert rig.device.print_job(JOB).confirmed


EFFECTS: dict[tuple[str, str], Callable[[Rig], None]] = {
    ("idcard", "no_answer"): lambda rig: (rig.fault("no_answer"), _times_out(rig.device.find_card)),
    ("idcard", "bad_checksum"): _idcard_bad_checksum,
    ("idcard", "garbage"): lambda rig: (rig.fault("garbage", times=1),
                                        pytest.raises(ProtocolError, rig.device.find_card)),
    ("idcard", "slow"): _idcard_slow,
    ("idcard", "vanish"): _idcard_vanish,
    ("idcard", "sam_failure"): _idcard_sam_failure,
    ("idcard", "card_not_found"): _idcard_card_not_found,
    ("idcard", "select_failure"): lambda rig: _card_read_fails(rig, "select_failure", p.SW_SELECT_FAILED),
    ("idcard", "read_failure"): lambda rig: _card_read_fails(rig, "read_failure", p.SW_READ_FAILED),
    ("scanner", "no_answer"): _scanner_no_answer,
    ("scanner", "bad_checksum"): _scanner_corrupted("bad_checksum"),
    ("scanner", "garbage"): _scanner_corrupted("garbage"),
    ("scanner", "slow"): _scanner_slow,
    ("scanner", "vanish"): _scanner_vanish,
    ("locker", "no_answer"): lambda rig: (rig.fault("no_answer"), _times_out(lambda: rig.device.query_door(1))),
    ("locker", "bad_checksum"): lambda rig: (rig.fault("bad_checksum", times=1),
                                             pytest.raises(ChecksumError, rig.device.query_door, 1)),
    ("locker", "garbage"): lambda rig: (rig.fault("garbage", times=1),
                                        pytest.raises(ProtocolError, rig.device.query_door, 1)),
    ("locker", "slow"): lambda rig: (rig.fault("slow", seconds=0.5, times=1),
                                     _times_out(lambda: rig.device.query_door(1)), time.sleep(0.6)),
    ("locker", "vanish"): _locker_vanish,
    ("locker", "jammed"): _locker_jammed,
    ("locker", "door_left_open"): _locker_door_left_open,
    ("printer", "paper_out"): _printer_stops("paper_out", Paper.OUT, PaperOutError),
    ("printer", "paper_near_end"): _printer_near_end,
    ("printer", "paper_run_out"): _printer_run_out,
    ("printer", "cover_open"): _printer_stops("cover_open", None, PrinterFault),
    ("printer", "offline"): _printer_stops("offline", None, PrinterFault),
    ("printer", "cutter_error"): _printer_stops("cutter_error", None, HardwareError),
    ("printer", "no_answer"): lambda rig: (rig.fault("no_answer"), _times_out(rig.device.refresh_status)),
    ("printer", "garbage"): _printer_garbage,
    ("printer", "slow"): _printer_slow,
    ("printer", "vanish"): _printer_vanish,
}
WORKS = {"idcard": _idcard_works, "scanner": _scanner_works, "locker": _locker_works, "printer": _printer_works}


@pytest.mark.parametrize("kind,fault", sorted(EFFECTS), ids=[f"{k}-{f}" for k, f in sorted(EFFECTS)])
def test_each_fault_through_the_control_interface(request, kind, fault):
    rig: Rig = request.getfixturevalue(kind)
    WORKS[kind](rig)
    EFFECTS[(kind, fault)](rig)
    state = rig.clear()  # kiosk sim clear DEVICE: every fault off, plugged back in
    assert state["faults"] == [] and state["plugged_in"] is True
    WORKS[kind](rig)


@pytest.mark.parametrize("kind", sorted(WORKS))
def test_every_known_fault_is_checked_here_and_the_state_is_the_common_one(request, kind):
    rig: Rig = request.getfixturevalue(kind)
    state = rig.client.call(kind, "status")
    assert {"kind", "name", "plugged_in", "faults", "known_faults", "actions"} <= set(state)
    assert state["kind"] == kind and state["name"] == kind
    assert set(state["known_faults"]) == {fault for k, fault in EFFECTS if k == kind}
    assert set(COMMON_VERBS) <= set(state["actions"])


@pytest.mark.parametrize("kind", sorted(WORKS))
def test_unplug_for_some_seconds_comes_back_by_itself(request, kind):
    rig: Rig = request.getfixturevalue(kind)
    assert rig.client.call(kind, "unplug", seconds=0.3)["plugged_in"] is False
    assert _wait(lambda: rig.client.call(kind, "status")["plugged_in"])
    assert rig.client.call(kind, "unplug")["plugged_in"] is False
    assert rig.client.call(kind, "replug")["plugged_in"] is True
    WORKS[kind](rig)


@pytest.mark.parametrize("kind", sorted(WORKS))
def test_unknown_faults_and_verbs_name_what_exists(request, kind):
    from drivers.sim.control import SimControlError

    rig: Rig = request.getfixturevalue(kind)
    with pytest.raises(SimControlError, match="unknown fault 'melted'.*known: .*vanish"):
        rig.fault("melted")
    with pytest.raises(SimControlError, match="no action 'dance'; actions: status, fault, clear, unplug, replug"):
        rig.client.call(kind, "dance")
