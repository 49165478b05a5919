"""The simulator behind real transports, and the control line testers drive faults with.

- ``PtyPrinterServer``: a pseudo-terminal; the driver opens ``server.port`` as a serial port.
- ``TcpPrinterServer``: a raw TCP printer port (9100 by default) on 127.0.0.1, one
  connection at a time, like a network printer.
- ``ControlServer``: a line protocol on 127.0.0.1 (``nc 127.0.0.1 9101``) for faults while
  the kiosk runs; ``apply_control`` is the same thing from Python. Commands::

    status | paper ok|near_end|out | paper run-out DOTS | cover open|closed | online | offline
    cutter error|ok | render NAME.png | reset | help

  ``render`` writes the roll so far into the simulator's own output folder (``out_dir``, where
  the cut receipts go) and nowhere else: a bare file name of letters, digits, ``.``, ``_`` and
  ``-`` ending in ``.png``, never a path, never through a symbolic link. One control client at
  a time; one that sends nothing for ``idle_timeout`` seconds is disconnected.
"""
from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import socket
import time
import tty
from pathlib import Path

from drivers.base import BackgroundLoop
from drivers.printer.simulator.printer import PrinterSimulator

log = logging.getLogger(__name__)

CONTROL_HELP = ("commands: status | paper ok|near_end|out | paper run-out DOTS | cover open|closed | "
                "online | offline | cutter error|ok | render NAME.png | reset | help")
_RENDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.png")


def render_into_folder(simulator: PrinterSimulator, name: str) -> Path:
    """Render the roll to ``name`` inside the simulator's output folder; ValueError for anything
    but a bare ``NAME.png`` or when the simulator has no output folder."""
    if simulator.out_dir is None:
        raise ValueError("this simulator has no output folder to render into (start it with --out)")
    if not _RENDER_NAME.fullmatch(name) or ".." in name:
        raise ValueError("render takes a file name only (letters, digits, . _ -, ending in .png), no folder")
    folder = Path(simulator.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    image = simulator.render()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with open(fd, "wb") as handle:
        image.save(handle, format="PNG")
    return path


def apply_control(simulator: PrinterSimulator, line: str) -> str:
    """Run one control command; the answer starts with "ok" or "error"."""
    words = line.strip().split()
    if not words:
        return "error empty command; " + CONTROL_HELP
    verb, args = words[0].lower(), [w.lower() for w in words[1:]]
    try:
        if verb == "status":
            return "ok " + json.dumps(simulator.report(), ensure_ascii=False)
        if verb == "paper" and args[:1] == ["run-out"] and len(args) == 2 and args[1].isdigit():
            simulator.run_out_after(int(args[1]))
            return f"ok paper runs out after {int(args[1])} dots"
        if verb == "paper" and len(args) == 1 and args[0] in ("ok", "near_end", "out"):
            simulator.set_paper(args[0])
            return f"ok paper {args[0]}"
        if verb == "cover" and args in (["open"], ["closed"]):
            simulator.set_cover(args[0] == "open")
            return f"ok cover {args[0]}"
        if verb in ("online", "offline") and not args:
            simulator.set_online(verb == "online")
            return f"ok {verb}"
        if verb == "cutter" and args in (["error"], ["ok"]):
            simulator.set_cutter_error(args[0] == "error")
            return f"ok cutter {args[0]}"
        if verb == "render" and len(words) == 2:
            path = render_into_folder(simulator, words[1])
            return f"ok rendered {path}"
        if verb == "reset" and not args:
            simulator.reset()
            return "ok reset"
        if verb == "help":
            return "ok " + CONTROL_HELP
    except (OSError, ValueError) as exc:
        return f"error {exc}"
    return f"error unknown command {line.strip()[:60]!r}; " + CONTROL_HELP


class _Loop:
    """A background thread that stops when asked."""

    def __init__(self) -> None:
        self._loop = BackgroundLoop(type(self).__name__, self._run)
        self._stop = self._loop.stop_event

    def start(self) -> "_Loop":
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop()
        self._cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    def _run(self) -> None:
        raise NotImplementedError

    def _cleanup(self) -> None:
        pass


class PtyPrinterServer(_Loop):
    def __init__(self, simulator: PrinterSimulator):
        super().__init__()
        self.simulator = simulator
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)  # no echo, no newline translation: the bytes as sent
        self.port = os.ttyname(self.slave)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # nobody has the port open at the moment
                self._stop.wait(0.05)
                continue
            if not self.simulator.connected:
                continue  # unplugged: the bytes go nowhere, nothing answers
            answers = self.simulator.feed(data)
            if answers:
                self.simulator.take_output(len(answers))
                os.write(self.master, answers)

    def _cleanup(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class _TcpServer(_Loop):
    """Accepts one connection at a time on a loopback port and hands it to ``_serve``."""

    def __init__(self, simulator: PrinterSimulator, host: str, port: int):
        super().__init__()
        self.simulator = simulator
        self.listener = socket.create_server((host, port))
        self.listener.settimeout(0.1)
        self.host, self.port = self.listener.getsockname()[:2]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with connection:
                self._serve(connection)
            self._connection_closed()

    def _serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def _connection_closed(self) -> None:
        pass

    def _cleanup(self) -> None:
        self.listener.close()


class TcpPrinterServer(_TcpServer):
    def __init__(self, simulator: PrinterSimulator, host: str = "127.0.0.1", port: int = 9100):
        super().__init__(simulator, host, port)

    def _connection_closed(self) -> None:
        self.simulator.finish()  # the job ends with the connection, as on a port-9100 printer

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.1)
        while not self._stop.is_set():
            if not self.simulator.connected:
                return  # unplugged: drop the connection
            try:
                data = connection.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            answers = self.simulator.feed(data)
            if answers:
                self.simulator.take_output(len(answers))
                try:
                    connection.sendall(answers)
                except OSError:
                    return


class ControlServer(_TcpServer):
    def __init__(self, simulator: PrinterSimulator, host: str = "127.0.0.1", port: int = 9101,
                 idle_timeout: float = 60.0):
        super().__init__(simulator, host, port)
        self.idle_timeout = idle_timeout

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.1)
        pending = b""
        last_heard = time.monotonic()
        while not self._stop.is_set():
            try:
                data = connection.recv(4096)
            except socket.timeout:
                if time.monotonic() - last_heard > self.idle_timeout:
                    try:  # the next tester is waiting: one client at a time
                        connection.sendall(b"error idle too long; disconnected\n")
                    except OSError:
                        pass
                    return
                continue
            except OSError:
                return
            if not data:
                return
            last_heard = time.monotonic()
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                answer = apply_control(self.simulator, line.decode("utf-8", "replace"))
                try:
                    connection.sendall(answer.encode("utf-8") + b"\n")
                except OSError:
                    return
            if len(pending) > 4096:  # no newline in sight: not a control client
                return
