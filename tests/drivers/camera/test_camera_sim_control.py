"""The simulated camera answers the simulator control interface like the other simulators, and
the embedded backend's fault switch answers ``kiosk sim backend …`` (issue 11)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from drivers.camera.simulator import SimulatedSource
from drivers.sim.base import SimulatorError
from drivers.sim.control import SimControlClient, SimControlError, SimControlServer
from kiosk.backend.errors import BackendUnavailable
from kiosk.commands.sim import SimWordsError, parse_sim_words
from kiosk.scenario.model import ScenarioError
from kiosk.scenario.parse import parse_scenario
from refbackend.faults import FaultProxy
from tests.backend_support import start_reference_backend

PICTURE = str(Path(__file__).resolve().parents[2] / "scenarios" / "pictures" / "bank-card.jpg")


def test_camera_show_films_the_picture_until_told_otherwise(tmp_path):
    source = SimulatedSource(640, 360, 30, scene="document")
    source.open()
    state = source.control("show", {"file": PICTURE})
    assert state["scene"] == "picture" and state["picture"].endswith("bank-card.jpg")
    frame = source.read()
    assert frame.shape == (360, 640, 3)
    centre = frame[150:210, 280:360].reshape(-1, 3).mean(axis=0)
    assert centre[0] > centre[2] + 40  # the blue card fills the middle of the frame (BGR)
    source.control("scene", {"scene": "empty"})
    assert source.state()["picture"] == "" and source.state()["scene"] == "empty"
    with pytest.raises(SimulatorError, match="cannot read the picture"):
        source.control("show", {"file": str(tmp_path / "nowhere.jpg")})
    (tmp_path / "text.jpg").write_text("not a picture")
    with pytest.raises(SimulatorError, match="not a picture"):
        source.control("show", {"file": str(tmp_path / "text.jpg")})
    with pytest.raises(SimulatorError, match="no action"):
        source.control("explode", {})


def test_camera_unplug_and_replug_through_the_control_socket():
    import tempfile

    # a short folder: tmp_path can pass the 107 bytes a Unix socket's path may have
    folder = tempfile.mkdtemp(prefix="cs-")
    source = SimulatedSource(320, 240, 30)
    server = SimControlServer(os.path.join(folder, "sim.sock")).start()
    try:
        server.register("camera", source)
        client = SimControlClient(os.path.join(folder, "sim.sock"))
        assert client.call("camera", "unplug")["plugged_in"] is False
        with pytest.raises(Exception):
            source.open()  # gone: it cannot be opened
        assert client.call("camera", "replug")["plugged_in"] is True
        source.open()
        assert isinstance(source.read(), np.ndarray)
        with pytest.raises(SimControlError, match="no action"):
            client.call("camera", "explode")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_words_for_applying_parse_and_a_scenario_finds_its_picture(tmp_path):
    assert parse_sim_words("camera show a.jpg").params["file"].endswith("/a.jpg")
    assert parse_sim_words("backend slow --seconds 3").params == {"seconds": 3.0}
    assert parse_sim_words("backend down").action == "down"
    with pytest.raises(SimWordsError):
        parse_sim_words("backend sideways")
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "card.jpg").write_bytes(b"x")
    scenario = parse_scenario("steps:\n  - sim: camera show pics/card.jpg\n", tmp_path / "s.yaml",
                              check_sim=parse_sim_words)
    assert scenario.steps[0].parsed.params["file"] == str((tmp_path / "pics" / "card.jpg").resolve())
    with pytest.raises(ScenarioError, match="there is no picture"):
        parse_scenario("steps:\n  - sim: camera show pics/missing.jpg\n", tmp_path / "s.yaml",
                       check_sim=parse_sim_words)


def test_the_backend_fault_switch_makes_the_backend_down_failing_slow_and_up(tmp_path):
    backend = start_reference_backend(tmp_path / "b.sqlite3")
    proxy = FaultProxy(backend.running.port).start()
    client = backend.client(url=proxy.url, retries=0, read_timeout=1.0)
    try:
        assert client.catalog_changes()[0] is not None  # up: straight through
        proxy.control("down", {})
        with pytest.raises(BackendUnavailable) as down:
            client.catalog_changes()
        assert down.value.code == "unreachable" and proxy.state()["plugged_in"] is False
        proxy.control("error", {})
        with pytest.raises(BackendUnavailable) as failing:
            client.catalog_changes()
        assert failing.value.status == 500
        proxy.control("slow", {"seconds": 3})
        with pytest.raises(BackendUnavailable) as slow:
            client.catalog_changes()
        assert slow.value.code == "timeout"
        proxy.control("up", {})
        assert client.catalog_changes()[0] is not None
        with pytest.raises(SimulatorError):
            proxy.control("sideways", {})
    finally:
        client.close()
        proxy.stop()
        backend.stop()
