"""The simulator control socket and the pty plumbing every simulator stands on."""
from __future__ import annotations

import os
import socket
import stat
import tempfile

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import BusyError, NoDeviceError
from drivers.idcard.simulator import Ga467Simulator
from drivers.serialio import PtyPort, SerialLink
from drivers.sim.control import SimControlClient, SimControlError, SimControlServer


@pytest.fixture
def short_dir():
    with tempfile.TemporaryDirectory(prefix="ks-") as path:  # Unix socket paths must be short
        yield path


@pytest.fixture
def server(short_dir, sim_link):
    simulator = Ga467Simulator(link=sim_link("idcard"), wire_time=False).start()
    control = SimControlServer(os.path.join(short_dir, "s.sock")).start()
    control.register("idcard", simulator)
    yield control, simulator
    control.stop()
    simulator.stop()


def test_place_a_card_and_list_simulators_through_the_socket(server):
    control, simulator = server
    client = SimControlClient(control.path)
    state = client.call("idcard", "place", card="resident-expired")
    assert state["card"] == "resident-expired" and simulator.card.key == "resident-expired"
    assert set(client.call(None, "list")) == {"idcard"}
    deck = client.call("idcard", "deck")["cards"]
    assert {"key": "resident-expired", "label": "resident card, expired", "card_type": "resident",
            "expired": True} in deck


def test_faults_and_unplug_through_the_socket(server):
    control, simulator = server
    client = SimControlClient(control.path)
    client.call("idcard", "fault", fault="read_failure", times=2)
    assert simulator.faults["read_failure"].times == 2
    client.call("idcard", "unplug")
    assert not simulator.port.present and not os.path.exists(simulator.path)
    client.call("idcard", "clear")
    assert simulator.port.present and os.path.islink(simulator.path) and not simulator.faults


def test_errors_are_one_readable_line(server):
    control, _simulator = server
    client = SimControlClient(control.path)
    with pytest.raises(SimControlError, match="no simulated device 'printer'; simulated: idcard"):
        client.call("printer", "status")
    with pytest.raises(SimControlError, match="no card 'nobody'"):
        client.call("idcard", "place", card="nobody")
    with pytest.raises(SimControlError, match="unknown fault 'paper_out'"):
        client.call("idcard", "fault", fault="paper_out")


def test_garbage_on_the_socket_gets_an_error_answer(server):
    control, _simulator = server
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(control.path))
        sock.sendall(b"\xff\xfe not json\n")
        assert b'"ok": false' in sock.recv(4096)


def test_socket_is_private_and_not_taken_over_by_a_second_kiosk(server):
    control, _simulator = server
    assert stat.S_IMODE(os.stat(control.path).st_mode) == 0o600
    with pytest.raises(SimControlError, match="already controls"):
        SimControlServer(control.path).start()


def test_no_kiosk_running_is_a_clear_message(short_dir):
    with pytest.raises(SimControlError, match="no running kiosk"):
        SimControlClient(os.path.join(short_dir, "none.sock")).call(None, "list")


def test_pty_port_vanishes_and_returns_behind_the_same_link(sim_link):
    link = sim_link("pty")
    port = PtyPort(link)
    app = serial.Serial(str(link), 115200, timeout=0.2)
    app.write(b"ping")
    assert port.read(1.0) == b"ping"
    assert port.app_baud() == 115200
    port.vanish()
    assert not link.exists()
    with pytest.raises(serial.SerialException):
        app.read(1)
    app.close()
    port.restore()
    again = serial.Serial(str(link), 9600, timeout=0.2)
    port.write(b"pong")
    assert again.read(4) == b"pong" and port.app_baud() == 9600
    again.close()
    port.close()


def test_serial_link_errors_name_the_cause(sim_link):
    with pytest.raises(NoDeviceError, match="does not exist"):
        SerialLink(str(sim_link("missing")), 9600).open()
    port = PtyPort(sim_link("busy"))
    first = SerialLink(port.path, 9600)
    first.open()
    with pytest.raises(BusyError, match="in use"):
        SerialLink(port.path, 9600).open()
    first.close()
    port.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_request_line_gets_an_answer_object(line):
    answer = SimControlServer("/nonexistent/never-started.sock").dispatch_line(line)
    assert isinstance(answer, dict) and isinstance(answer["ok"], bool)
