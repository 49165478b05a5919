"""The simulator panel's buttons come from the `kiosk sim` words and what the simulators report.

Against real simulators behind a real control socket: every button's words are words
`kiosk sim` accepts and make the request the button sends; a word added to the grammar and a
simulator that answers it appear without a change to the panel (as the camera's and the
backend's words will, issue 11); words for simulators that do not run never appear.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from drivers.idcard.simulator import Ga467Simulator
from drivers.locker.simulator import LockerSimulator
from drivers.printer import simulated_printer
from drivers.printer.simulator.controllable import ControllablePrinterSimulator
from drivers.scanner.simulator import ScannerSimulator
from drivers.sim.control import SimControlError, SimControlServer
from drivers.sim.interface import SimulatorError
from kiosk.commands.sim import SimCall, add_actions, call_simulator, parse_sim_words
from kiosk.commands.sim_panel import Pictures, SimPanel, load_payloads, simulated_devices, word_forms
from kiosk.config import DEMO_CONFIG_PATH, load_settings


@pytest.fixture
def folder():
    path = tempfile.mkdtemp(prefix="kp-", dir="/tmp")  # a Unix socket path must stay short
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def kiosk_sims(folder):
    """The four wire-level simulators behind a control socket, as a demo kiosk has them."""
    server = SimControlServer(folder / "s.sock").start()
    sims = {
        "idcard": Ga467Simulator("idcard", link=folder / "i", wire_time=False),
        "scanner": ScannerSimulator("scanner", link=folder / "c", wire_time=False),
        "locker": LockerSimulator("locker", link=folder / "l", doors=8, wire_time=False),
        "printer": ControllablePrinterSimulator(simulated_printer().link.simulator, "printer"),
    }
    for name, sim in sims.items():
        server.register(name, sim.start())
    yield server, sims
    server.stop()
    for sim in sims.values():
        sim.stop()


def panel_for(server, **kwargs) -> SimPanel:
    panel = SimPanel(lambda call: call_simulator(call, server.path, timeout=5), **kwargs)
    panel.refresh()
    return panel


def ids(panel: SimPanel, device: str) -> set[str]:
    return {entry.widget_id for entry in panel.entries(device)}


def test_every_button_is_words_kiosk_sim_accepts_for_a_running_simulator(kiosk_sims):
    server, sims = kiosk_sims
    panel = panel_for(server)
    entries = panel.entries()
    assert {e.device for e in entries} == set(sims)
    for entry in entries:
        assert parse_sim_words(entry.text) == entry.call  # the one parser of kiosk sim, nothing else
        assert entry.call.action not in ("status", "list", "deck")
        assert entry.call.action in panel.reported.states[entry.device]["actions"]
    assert len({(e.device, e.widget_id) for e in entries}) == len(entries)


def test_each_simulator_gets_its_plugging_its_faults_and_its_own_actions(kiosk_sims):
    server, sims = kiosk_sims
    panel = panel_for(server)
    for name, sim in sims.items():
        found = ids(panel, name)
        assert {"sim.unplug", "sim.replug", "sim.clear"} <= found, name
        assert {f"sim.fault.{fault}" for fault in sim.known_faults()} <= found, name
    assert {f"sim.card.place.{key}" for key in sims["idcard"].deck} | {"sim.card.remove"} <= ids(panel, "idcard")
    assert {"sim.scan.identity", "sim.scan.staff", "sim.scan.receipt", "sim.scan.garbage"} <= ids(panel, "scanner")
    assert {"sim.door.close", "sim.door.open", "sim.door.put", "sim.door.take"} <= ids(panel, "locker")
    assert not any(i.startswith(("sim.card", "sim.scan", "sim.door")) for i in ids(panel, "printer"))
    garbage = next(e for e in panel.entries("scanner") if e.widget_id == "sim.scan.garbage")
    assert garbage.text == "scan 0001020304ff7f --hex"


def test_a_fault_button_toggles_and_the_door_comes_from_the_chosen_door(kiosk_sims):
    server, sims = kiosk_sims
    panel = panel_for(server)
    paper = next(e for e in panel.entries("printer") if e.widget_id == "sim.fault.paper_out")
    assert paper.text == "fault printer paper_out" and not paper.active
    panel.press(paper)
    assert sims["printer"].simulator.paper_state.value == "out"
    paper = next(e for e in panel.entries("printer") if e.widget_id == "sim.fault.paper_out")
    assert paper.active and paper.text == "fault printer paper_out --off"
    panel.press(paper)
    assert sims["printer"].simulator.paper_state.value == "ok"
    assert panel.move_door(-1, "locker") == 8  # 1 → 8: the cabinet has 8 doors
    opening = next(e for e in panel.entries("locker") if e.widget_id == "sim.door.open")
    assert opening.text == "door open 8"
    panel.press(opening)
    assert not sims["locker"].doors[8].closed
    unplug = next(e for e in panel.entries("idcard") if e.widget_id == "sim.unplug")
    panel.press(unplug)
    assert next(e for e in panel.entries("idcard") if e.widget_id == "sim.fault.vanish").active


def test_a_refused_request_raises_what_kiosk_sim_would_print(kiosk_sims):
    server, sims = kiosk_sims
    panel = panel_for(server)
    closing = next(e for e in panel.entries("locker") if e.widget_id == "sim.door.close")
    sims["locker"].doors.pop(1)
    with pytest.raises(SimControlError, match="no door"):
        panel.press(closing)


# -- words and simulators the panel has never heard of --------------------------------------------------


def grammar_with_camera_and_backend(parser: argparse.ArgumentParser) -> None:
    """The words of ``kiosk sim`` itself, which include issue 11's and 12's: camera show FILE | scene NAME |
    next-page; backend down|up|slow|error and the back office's words."""
    add_actions(parser)


class FakeCamera:
    """A simulator that answers the control interface with its own verbs."""

    def __init__(self, actions=("status", "fault", "clear", "unplug", "replug", "show", "scene", "next_page")):
        self.actions, self.shown = list(actions), []

    def state(self):
        return {"kind": "camera", "name": "camera", "plugged_in": True, "faults": [], "known_faults": ["slow"],
                "actions": self.actions}

    def control(self, action, params):
        if action not in self.actions:
            raise SimulatorError(f"no action {action!r}")
        if action == "show":
            self.shown.append(Path(params["file"]).name)
        return self.state()


class FakeBackendSwitch:
    """Like the embedded backend's fault switch: it reports no list of actions."""

    def __init__(self):
        self.mode = "up"

    def state(self):
        return {"kind": "backend", "name": "backend", "mode": self.mode, "plugged_in": self.mode != "down"}

    def control(self, action, params):
        self.mode = action if action in ("down", "up", "slow", "error") else self.mode
        return self.state()


@pytest.fixture
def pictures(folder):
    root = folder / "pictures"
    (root / "two-pages").mkdir(parents=True)
    for name in ("letter.jpg", "notes.txt", "two-pages/page-1.jpg", "two-pages/page-2.jpg"):
        (root / name).write_bytes(b"\xff\xd8 not really a jpeg")
    return Pictures(root)


def test_new_words_appear_once_a_simulator_answers_them(kiosk_sims, pictures):
    server, _sims = kiosk_sims
    panel = panel_for(server, grammar=grammar_with_camera_and_backend, pictures=pictures)
    assert not any(e.device in ("camera", "backend") for e in panel.entries())  # nothing answers them yet
    camera, backend = FakeCamera(), FakeBackendSwitch()
    server.register("camera", camera)
    server.register("backend", backend)
    panel.refresh()
    assert {"sim.camera.show.letter_jpg", "sim.camera.show.two-pages", "sim.camera.scene.document",
            "sim.camera.scene.qr", "sim.camera.next-page", "sim.fault.slow", "sim.unplug"} <= ids(panel, "camera")
    assert "sim.camera.show.notes_txt" not in ids(panel, "camera")
    for _ in range(3):  # a folder: the next page each press
        panel.press(next(e for e in panel.entries("camera") if e.widget_id == "sim.camera.show.two-pages"))
    assert camera.shown == ["page-1.jpg", "page-2.jpg", "page-1.jpg"]
    assert {"sim.backend.down", "sim.backend.up", "sim.backend.slow", "sim.backend.error"} <= ids(panel, "backend")
    panel.press(next(e for e in panel.entries("backend") if e.widget_id == "sim.backend.error"))
    assert backend.mode == "error"


def test_words_a_simulator_does_not_list_among_its_actions_are_left_out(kiosk_sims, pictures):
    server, _sims = kiosk_sims
    server.register("camera", FakeCamera(actions=("status", "fault", "clear", "unplug", "replug", "scene")))
    panel = panel_for(server, grammar=grammar_with_camera_and_backend, pictures=pictures)
    found = ids(panel, "camera")
    assert "sim.camera.scene.qr" in found
    assert not any(i.startswith(("sim.camera.show", "sim.camera.next")) for i in found)


def test_the_grammar_is_read_from_kiosk_sim_itself():
    forms = {form.words: form for form in word_forms()}
    assert {("card",), ("scan",), ("door",), ("fault",), ("unplug",), ("replug",), ("clear",)} <= set(forms)
    assert [slot.dest for slot in forms[("fault",)].slots] == ["device", "fault"]
    assert "--off" in forms[("fault",)].flags
    assert forms[("door",)].slots[0].choices == ("close", "open", "put", "take")


def test_payloads_file_and_the_demo_simulates_devices(folder):
    payloads = folder / "codes.toml"
    payloads.write_text('[[payload]]\nkey = "mine"\nlabel = "我的码"\ntext = "HYBID:MINE-0000000000000001"\n'
                        '[[payload]]\nkey = "raw"\nhex = "ff00"\n', encoding="utf-8")
    values = load_payloads(payloads)
    assert [(v.key, v.words, v.label) for v in values] == [
        ("mine", ("HYBID:MINE-0000000000000001",), "我的码"), ("raw", ("ff00", "--hex"), "raw")]
    assert {v.key for v in load_payloads()} >= {"identity", "staff", "receipt", "garbage"}
    assert set(simulated_devices(load_settings(DEMO_CONFIG_PATH))) == {"idcard", "scanner", "printer", "camera",
                                                                      "locker"}
    assert os.path.isdir(Pictures().folder) and Pictures().values()
