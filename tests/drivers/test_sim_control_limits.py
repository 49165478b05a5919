"""Control ports that a silent or greedy client cannot tie up, and that write only where they
should (issue 15)."""
from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator.server import ControlServer, apply_control
from drivers.sim.control import SimControlClient, SimControlServer


class Echo:
    """The smallest controllable: answers its state."""

    def control(self, action, params):
        return {"action": action}

    def state(self):
        return {"ok": True}


@pytest.fixture
def short_dir():
    with tempfile.TemporaryDirectory(prefix="ks-") as path:  # Unix socket paths must be short
        yield path


def connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(path)
    return sock


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_silent_connections_are_closed_and_their_threads_end(short_dir):
    control = SimControlServer(os.path.join(short_dir, "s.sock"), idle_timeout=0.5, max_connections=8).start()
    control.register("echo", Echo())
    before = threading.active_count()
    idle = [connect(str(control.path)) for _ in range(5)]
    try:
        assert wait_for(lambda: control._server.active == 5)
        for sock in idle:  # each one is told why, then closed
            answer = sock.makefile("rb").readline()
            assert b"no request for too long" in answer
        assert wait_for(lambda: control._server.active == 0)
        assert wait_for(lambda: threading.active_count() <= before)
        assert SimControlClient(control.path).call("echo", "status") == {"action": "status"}
    finally:
        for sock in idle:
            sock.close()
        control.stop()


def test_connections_past_the_bound_are_refused_without_a_thread(short_dir):
    control = SimControlServer(os.path.join(short_dir, "s.sock"), idle_timeout=30, max_connections=3).start()
    control.register("echo", Echo())
    held = [connect(str(control.path)) for _ in range(3)]
    try:
        assert wait_for(lambda: control._server.active == 3)
        threads = threading.active_count()
        for _ in range(20):
            with connect(str(control.path)) as sock:
                answer = json.loads(sock.makefile("rb").readline())
                assert answer == {"ok": False, "error": "too many control connections; try again"}
        assert threading.active_count() <= threads
        held[0].close()  # one leaves: the next tester gets in
        assert wait_for(lambda: control._server.active == 2)
        assert SimControlClient(control.path).call("echo", "status") == {"action": "status"}
    finally:
        for sock in held:
            sock.close()
        control.stop()


def test_render_writes_only_inside_the_simulators_folder(tmp_path):
    out = tmp_path / "printer-out"
    simulator = PrinterSimulator(58, out_dir=out)
    simulator.feed(b"hello\n")
    assert apply_control(simulator, "render roll.png") == f"ok rendered {out / 'roll.png'}"
    assert (out / "roll.png").read_bytes().startswith(b"\x89PNG")
    outside = tmp_path / "evil.png"
    for name in (str(outside), "../evil.png", "sub/roll.png", "roll.txt", "..png", ".hidden.png"):
        answer = apply_control(simulator, f"render {name}")
        assert answer.startswith("error render takes a file name only"), name
    assert not outside.exists() and sorted(p.name for p in out.iterdir()) == ["roll.png"]


def test_render_does_not_follow_a_planted_link(tmp_path):
    out = tmp_path / "printer-out"
    out.mkdir()
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    (out / "roll.png").symlink_to(target)
    simulator = PrinterSimulator(58, out_dir=out)
    assert apply_control(simulator, "render roll.png").startswith("error")
    assert target.read_text() == "keep me"


def test_render_needs_an_output_folder():
    assert "no output folder" in apply_control(PrinterSimulator(58), "render roll.png")


def test_a_silent_printer_control_client_lets_the_next_one_in(tmp_path):
    simulator = PrinterSimulator(58, out_dir=tmp_path)
    with ControlServer(simulator, port=0, idle_timeout=0.5) as control:
        silent = socket.create_connection(("127.0.0.1", control.port), timeout=5)
        try:
            assert b"idle too long" in silent.makefile("rb").readline()
            with socket.create_connection(("127.0.0.1", control.port), timeout=5) as connection:
                connection.sendall(b"paper out\n")
                assert connection.makefile("rb").readline().strip() == b"ok paper out"
        finally:
            silent.close()
