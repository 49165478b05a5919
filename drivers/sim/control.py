"""Control a running kiosk's simulators from outside: JSON lines over a Unix socket.

The device manager starts a ``SimControlServer`` when any device is simulated; ``kiosk sim``
commands (and tests) talk to it with ``SimControlClient``. One request a line, one answer a
line::

    → {"device": "idcard", "action": "place", "card": "resident-expired"}
    ← {"ok": true, "result": {...the simulator's state...}}
    → {"action": "list"}
    ← {"ok": true, "result": {"idcard": {...}, "scanner": {...}}}
    → {"device": "printer", "action": "place"}
    ← {"ok": false, "error": "no simulated device 'printer'; simulated: idcard, scanner"}

The socket is created with mode 0600 in the user's runtime directory: only the kiosk's own
user can drive its simulators. Each connection is served on its own thread, at most
``max_connections`` at once (one more is told so in one line and closed, without a thread),
and a connection that sends no request for ``idle_timeout`` seconds is closed: a client that
connects and stays silent holds nothing for ever. A simulator is anything with ``control(action, params)`` and
``state()`` (``Controllable``); what both must do — the common verbs, ``known_faults`` and
``actions`` in the state — is ``drivers.sim.interface``. Requests that change something are
passed to ``on_request`` (the kiosk's flight recorder); queries (``QUERY_VERBS``) are not.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from drivers.sim.interface import QUERY_VERBS

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024


class Controllable(Protocol):
    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]: ...

    def state(self) -> dict[str, Any]: ...


class SimControlError(Exception):
    """A control request failed; the message is meant for the tester."""


def default_socket_path() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "kiosk-sim.sock"
    return Path(tempfile.gettempdir()) / f"kiosk-sim-{os.getuid()}.sock"


class _Handler(socketserver.StreamRequestHandler):
    server: "_Server"

    def setup(self) -> None:
        self.timeout = self.server.owner.idle_timeout  # StreamRequestHandler sets it on the socket
        super().setup()

    def handle(self) -> None:
        while True:
            try:
                line = self.rfile.readline(MAX_LINE + 1)
            except (socket.timeout, TimeoutError):
                self._answer({"ok": False, "error": "no request for too long; connection closed"})
                return
            except OSError:
                return
            if not line:
                return
            if len(line) > MAX_LINE:
                self._answer({"ok": False, "error": "request line too long"})
                return
            if not line.strip():
                continue
            self._answer(self.server.owner.dispatch_line(line))

    def _answer(self, answer: dict[str, Any]) -> None:
        try:
            self.wfile.write(json.dumps(answer, ensure_ascii=False).encode("utf-8") + b"\n")
            self.wfile.flush()
        except OSError:
            pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    owner: "SimControlServer"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._active = 0
        self._active_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            full = self._active >= self.owner.max_connections
            if not full:
                self._active += 1
        if full:
            try:
                request.settimeout(1.0)
                request.sendall(json.dumps({"ok": False, "error": "too many control connections; try again"})
                                .encode("utf-8") + b"\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            with self._active_lock:
                self._active -= 1
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    @property
    def active(self) -> int:
        with self._active_lock:
            return self._active


class SimControlServer:
    def __init__(self, path: str | Path | None = None, idle_timeout: float = 60.0, max_connections: int = 16):
        self.path = Path(path) if path else default_socket_path()
        #: seconds a connection may stay without a request; at most this many connections at once
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.devices: dict[str, Controllable] = {}
        #: called with every request a simulator carried out (the kiosk's flight recorder)
        self.on_request = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def register(self, name: str, simulator: Controllable) -> None:
        with self._lock:
            self.devices[name] = simulator

    def unregister(self, name: str) -> None:
        with self._lock:
            self.devices.pop(name, None)

    # -- requests ------------------------------------------------------------------------------
    def dispatch_line(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {"ok": False, "error": "not a JSON object on one line"}
        if not isinstance(request, dict):
            return {"ok": False, "error": "not a JSON object on one line"}
        try:
            return {"ok": True, "result": self.dispatch(request)}
        except SimControlError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # a simulator's own error, e.g. SimulatorError: show it to the tester
            if type(exc).__name__ != "SimulatorError":
                log.exception("simulator control request failed")
            return {"ok": False, "error": str(exc) or type(exc).__name__}

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        action = str(request.get("action", ""))
        device = request.get("device")
        with self._lock:
            devices = dict(self.devices)
        if action == "list" and not device:
            return {name: sim.state() for name, sim in sorted(devices.items())}
        if not device:
            raise SimControlError("say which device: {\"device\": NAME, \"action\": ...}")
        simulator = devices.get(str(device))
        if simulator is None:
            simulated = ", ".join(sorted(devices)) or "none"
            raise SimControlError(f"no simulated device {device!r}; simulated: {simulated}")
        params = {k: v for k, v in request.items() if k not in ("device", "action")}
        result = simulator.control(action, params)
        if self.on_request is not None and action not in QUERY_VERBS:
            try:
                self.on_request({"device": str(device), "action": action, **params})
            except Exception:  # a recorder must never fail the tester's request
                log.exception("simulator request listener failed")
        return result

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "SimControlServer":
        if self._server is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            if _answers(self.path):
                raise SimControlError(f"another kiosk already controls simulators at {self.path}")
            self.path.unlink()
        old_umask = os.umask(0o177)
        try:
            server = _Server(str(self.path), _Handler)
        finally:
            os.umask(old_umask)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="sim-control", daemon=True)
        self._thread.start()
        log.info("simulator control listening", extra={"fields": {"socket": str(self.path)}})
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class SimControlClient:
    def __init__(self, path: str | Path | None = None, timeout: float = 10.0):
        self.path = Path(path) if path else default_socket_path()
        self.timeout = timeout

    def call(self, device: str | None, action: str, **params: Any) -> dict[str, Any]:
        request: dict[str, Any] = {"action": action, **params}
        if device:
            request["device"] = device
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            try:
                sock.connect(str(self.path))
            except (FileNotFoundError, ConnectionRefusedError):
                raise SimControlError(f"no running kiosk with simulated devices at {self.path} "
                                      "(start one with `kiosk demo`)") from None
            except OSError as exc:
                raise SimControlError(f"cannot reach {self.path}: {exc.strerror or exc}") from None
            sock.sendall(json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n")
            data = bytearray()
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            raise SimControlError(f"no answer from {self.path}") from None
        finally:
            sock.close()
        try:
            answer = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SimControlError("the kiosk sent an unreadable answer") from None
        if not answer.get("ok"):
            raise SimControlError(str(answer.get("error", "request failed")))
        return answer.get("result", {})
