"""The device manager: simulated devices come up, drop out, come back, and the UI is told why."""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time

import pytest

from drivers.base import Device, HealthLevel, HealthReport
from drivers.locker.locker import LockJammed
from kiosk.cli import main as kiosk_main
from kiosk.config import DEMO_CONFIG_PATH, load_settings, parse_settings
from kiosk.devices import DeviceManager, card_problem_key
from kiosk.runtime import device_plans
from kiosk.i18n import load_strings
from kiosk.status import StatusBoard

BASE = """\
[terminal]
id = "HK-TEST-001"
name = "测试终端"
"""


def wait_for(predicate, timeout=6.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def short_dir():
    with tempfile.TemporaryDirectory(prefix="kd-") as path:
        yield path


@pytest.fixture
def start_manager(short_dir):
    managers = []

    def start(devices_toml: str, **overrides):
        settings = parse_settings(BASE + devices_toml, overrides={"devices.health_seconds": 1,
                                                                  "devices.reopen_max_seconds": 1, **overrides})
        board = StatusBoard()
        changes = []
        board.subscribe(changes.append)
        manager = DeviceManager(settings.devices, board, device_plans(settings), sim_dir=short_dir,
                                control_socket=os.path.join(short_dir, "s.sock")).start()
        managers.append(manager)
        return manager, board, changes

    yield start
    for manager in managers:
        manager.stop()


ALL_SIMULATED = """
[devices.idcard]
driver = "simulator"
poll_seconds = 0.05
timeout_seconds = 0.3
[devices.scanner]
driver = "simulator"
[devices.locker]
driver = "simulator"
board = "8a"
doors = 30
poll_seconds = 0.1
timeout_seconds = 0.2
simulator_items = "1, 2"
simulator_pickup_seconds = 0
door_open_alert_seconds = 5
"""


def test_simulated_devices_come_up_available(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    wait_for(lambda: all(board.is_available(name) for name in ("idcard", "scanner", "locker")))
    infos = {info.name: info for info in manager.describe()}
    assert all(info.simulated and info.state == "online" for info in infos.values())
    assert set(manager.control.devices) == {"idcard", "scanner", "locker"}
    assert all(report.ok for report in manager.check_health(HealthLevel.INTERNAL))


@pytest.mark.parametrize("name", ["idcard", "scanner", "locker"])
def test_unplugged_device_is_reopened_without_restart(start_manager, name):
    manager, board, changes = start_manager(ALL_SIMULATED)
    wait_for(lambda: board.is_available(name))
    manager.simulator(name).unplug()
    wait_for(lambda: board.get(name).available is False)
    assert board.get(name).reason == f"device.{name}.unavailable"
    time.sleep(0.3)  # a failed reopen attempt or two while the port is gone
    manager.simulator(name).replug()
    wait_for(lambda: board.is_available(name))
    wait_for(lambda: manager.device(name).counters["reconnects"] >= 1)
    assert [c.available for c in changes if c.component == name][-2:] == [False, True]


def test_the_reader_works_after_coming_back(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    cards = []
    manager.subscribe_cards(cards.append)
    wait_for(lambda: board.is_available("idcard"))
    manager.simulator("idcard").unplug()
    wait_for(lambda: board.get("idcard").available is False)
    manager.simulator("idcard").replug()
    wait_for(lambda: board.is_available("idcard"))
    manager.simulator("idcard").place("resident")
    wait_for(lambda: [e for e in cards if e.kind == "card"])
    assert cards[-1].card.name == "李建军"


def test_a_missing_real_device_stays_unavailable_and_is_never_simulated(start_manager, short_dir):
    manager, board, _changes = start_manager('[devices.idcard]\ndriver = "ga467"\nport = "/dev/ttyNOPE9"\n')
    wait_for(lambda: board.get("idcard").available is False)
    assert board.get("idcard").reason == "device.idcard.unavailable"
    assert manager.simulator("idcard") is None and manager.control is None
    assert "does not exist" in manager.describe()[0].error
    assert os.listdir(short_dir) == []


def test_a_silent_reader_is_unavailable_until_it_answers_again(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    wait_for(lambda: board.is_available("idcard"))
    manager.simulator("idcard").set_fault("no_answer")
    wait_for(lambda: board.get("idcard").available is False)
    manager.simulator("idcard").clear_faults()
    wait_for(lambda: board.is_available("idcard"))


def test_sam_failure_makes_the_reader_unavailable_until_it_recovers(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    wait_for(lambda: board.is_available("idcard"))
    manager.simulator("idcard").set_fault("sam_failure")
    wait_for(lambda: board.get("idcard").available is False)
    manager.simulator("idcard").clear_faults()
    wait_for(lambda: board.is_available("idcard"))


def test_locker_problems_have_their_own_reasons(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    wait_for(lambda: board.is_available("locker"))
    simulator = manager.simulator("locker")
    simulator.set_fault("jammed", value=2)
    with pytest.raises(LockJammed):
        manager.locker.open_door(2)
    wait_for(lambda: board.get("locker").reason == "device.locker.jammed")
    simulator.clear_faults()
    manager.locker.open_door(2)
    wait_for(lambda: board.is_available("locker"))
    simulator.close(2)
    manager.locker.door_open_alert_seconds = 0.2
    manager.locker.open_door(1)
    wait_for(lambda: board.get("locker").reason == "device.locker.door_left_open")
    simulator.close(1)
    wait_for(lambda: board.is_available("locker"))


def test_scanned_codes_reach_listeners_classified(start_manager):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    payloads = []
    manager.subscribe_payloads(payloads.append)
    wait_for(lambda: board.is_available("scanner"))
    manager.simulator("scanner").scan("370503-20260612-000123")
    wait_for(lambda: payloads)
    assert (payloads[0].kind, payloads[0].value, payloads[0].source) == ("receipt", "37050320260612000123", "scanner")
    camera = manager.feed_payload("482913", source="camera")
    assert camera.kind == "pickup_code" and payloads[-1] is camera


def test_sim_commands_drive_the_running_devices(start_manager, short_dir, capsys):
    manager, board, _changes = start_manager(ALL_SIMULATED)
    cards = []
    manager.subscribe_cards(cards.append)
    wait_for(lambda: board.is_available("idcard"))
    socket_path = os.path.join(short_dir, "s.sock")
    assert kiosk_main(["sim", "--socket", socket_path, "card", "place", "foreign-2023"]) == 0
    wait_for(lambda: [e for e in cards if e.kind == "card"])
    assert cards[-1].card.english_name.startswith("MONTGOMERY")
    assert kiosk_main(["sim", "--socket", socket_path, "door", "put", "7"]) == 0
    assert manager.simulator("locker").doors[7].item
    assert kiosk_main(["sim", "--socket", socket_path, "fault", "printer", "paper_out"]) == 1
    assert "no simulated device 'printer'" in capsys.readouterr().err


def test_faults_from_config_are_applied_at_start(start_manager):
    manager, _board, _changes = start_manager(ALL_SIMULATED + '\n', **{"devices.idcard.simulator_faults":
                                                                        "slow:0.1, read_failure"})
    assert set(manager.simulator("idcard").faults) == {"slow", "read_failure"}


def test_a_misconfigured_device_is_unavailable_with_the_reason_logged(start_manager):
    manager, board, _changes = start_manager('[devices.locker]\ndriver = "simulator"\nboard = "8a"\naddress = 0\n')
    assert board.get("locker").available is False
    assert "not a 8a board address" in manager.describe()[0].error


@dataclasses.dataclass(frozen=True)
class PrinterSection:
    driver: str = "fake"


@dataclasses.dataclass(frozen=True)
class DevicesWithPrinter:
    printer: PrinterSection = dataclasses.field(default_factory=PrinterSection)
    health_seconds: float = 1.0
    reopen_max_seconds: float = 1.0
    sim_control: str = ""


class FakePrinter(Device):
    device_class = "printer"

    def _open(self):
        pass

    def _close(self):
        pass

    def _health(self, level):
        return HealthReport(self.name, level, True, "ok")


def test_the_manager_builds_whatever_the_composition_root_planned(short_dir):
    from kiosk.devices import Built, DevicePlan

    plan = DevicePlan("printer", "fake", "", lambda context: Built(FakePrinter("printer")))
    board = StatusBoard()
    manager = DeviceManager(DevicesWithPrinter(), board, [plan], sim_dir=short_dir).start()
    try:
        wait_for(lambda: board.is_available("printer"))
        assert isinstance(manager.device("printer"), FakePrinter)
    finally:
        manager.stop()


def test_every_reason_the_manager_gives_is_translated():
    strings = load_strings()
    for key in ("device.starting", "device.unavailable", "device.idcard.unavailable", "device.scanner.unavailable",
                "device.locker.unavailable", "device.locker.door_left_open", "device.locker.jammed",
                "idcard.place_card", "idcard.read_failed"):
        assert strings[key]["zh"] and strings[key]["en"], key


def test_card_problems_map_to_what_the_resident_should_do():
    from drivers.base import ChecksumError, DeviceTimeout
    from drivers.idcard.reader import CardReadError, NoCardError

    assert card_problem_key(NoCardError("x")) == "idcard.place_card"
    assert card_problem_key(CardReadError("x")) == "idcard.read_failed"
    assert card_problem_key(ChecksumError("x")) == "idcard.read_failed"
    assert card_problem_key(DeviceTimeout("x")) == "device.idcard.unavailable"


def test_the_demo_configuration_runs_every_device_simulated(short_dir):
    from kiosk.runtime import build_kiosk
    from refbackend.embed import start_for_settings

    overrides = {"devices.sim_control": os.path.join(short_dir, "demo.sock")}
    for name in ("idcard", "scanner", "locker"):
        overrides[f"devices.{name}.port"] = os.path.join(short_dir, name)
    settings = load_settings(DEMO_CONFIG_PATH, overrides)
    kiosk = build_kiosk(settings, embed_backend=start_for_settings)
    try:
        wait_for(lambda: all(kiosk.status.is_available(n) for n in ("idcard", "scanner", "locker")))
        assert {info.driver for info in kiosk.devices.describe()} == {"simulator"}
    finally:
        kiosk.shutdown()
    assert not os.path.exists(overrides["devices.sim_control"])


@pytest.mark.parametrize("text,key", [
    ('[devices.idcard]\ndriver = "simulator"\nsimulator_faults = "slow;garbage"\n', "devices.idcard.simulator_faults"),
    ('[devices.locker]\ndriver = "serial"\nboard = "kerong-cu"\n', "devices.locker.board"),
    ('[devices.scanner]\ndriver = "usb"\n', "devices.scanner.driver"),
    ('[devices.idcard]\nbaud = 4800\n', "devices.idcard.baud"),
])
def test_device_config_mistakes_name_the_key_and_line(text, key):
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_settings(BASE + text, "kiosk.toml")
    assert caught.value.key == key and caught.value.line is not None


def test_existing_files_without_device_sections_stay_valid():
    settings = parse_settings(BASE)
    assert {settings.devices.idcard.driver, settings.devices.scanner.driver, settings.devices.locker.driver} == {"none"}


def test_printer_is_managed_and_paper_out_reaches_the_status_board(start_manager):
    from drivers.sim.control import SimControlClient

    manager, board, _changes = start_manager('[devices.printer]\ndriver = "simulator"\n')
    wait_for(lambda: board.is_available("printer"))
    assert manager.printer is manager.device("printer")
    client = SimControlClient(manager.control.path)
    client.call("printer", "fault", fault="paper_out", on=True)
    wait_for(lambda: board.get("printer").available is False)
    assert board.get("printer").reason == "device.printer.unavailable"
    assert manager.printer.status.detail.get("paper") == "out"
    client.call("printer", "clear")
    wait_for(lambda: board.is_available("printer"))


def test_no_printer_section_means_no_printer(start_manager):
    manager, board, _changes = start_manager("")
    assert manager.printer is None and board.get("printer").available is None


def test_camera_with_code_scanning_feeds_the_payload_parser(start_manager):
    manager, board, _changes = start_manager('[devices.camera]\ndriver = "simulator"\nwidth = 1280\nheight = 720\n'
                                             'scan_codes = true\nsimulator_scene = "qr"\n')
    payloads = []
    manager.subscribe_payloads(payloads.append)
    wait_for(lambda: board.is_available("camera") and board.is_available("camera_scanner"), timeout=15)
    wait_for(lambda: payloads, timeout=15)
    assert payloads[0].source == "camera_scanner"  # the scanner device that read it, as for serial scanners
    assert manager.camera is manager.device("camera")


def test_camera_streams_only_while_enabled(start_manager):
    manager, board, _changes = start_manager('[devices.camera]\ndriver = "simulator"\nwidth = 640\nheight = 480\n')
    wait_for(lambda: board.is_available("camera"), timeout=15)
    camera = manager.camera
    assert camera.is_open and not camera.enabled  # opened and checked, but not burning CPU
    frames_before = camera.counters["frames"]
    time.sleep(0.3)
    assert camera.counters["frames"] == frames_before
    manager.enable("camera")
    wait_for(lambda: camera.counters["frames"] > frames_before + 3)
    manager.disable("camera")
    assert not camera.enabled


def test_a_device_that_breaks_while_being_built_leaves_the_others_running(start_manager, monkeypatch):
    """A printer whose library failed on import (python-escpos read a half-written capabilities
    pickle) used to stop the building: the camera after it, and the backend, never started."""
    import kiosk.runtime

    real = kiosk.runtime.device_plans

    def plans(settings):
        built = real(settings)
        def broken(_context):
            raise EOFError("Ran out of input")
        built = [dataclasses.replace(built[0], build=broken)] + list(built[1:])  # the first one breaks
        names.extend(plan.name for plan in built)
        return built
    names: list[str] = []
    monkeypatch.setattr(sys.modules[__name__], "device_plans", plans)
    manager, board, _changes = start_manager(ALL_SIMULATED)
    assert len(names) >= 2
    assert board.get(names[0]).available is False
    assert all(manager.simulator(name) is not None for name in names[1:])
