"""A fault switch for the embedded backend: a loopback TCP proxy the kiosk talks through.

The demo and the scenarios run the reference backend inside the kiosk process; testers still
need "the network went down", "the backend is slow" and "the backend fails". ``FaultProxy``
listens on its own loopback port and forwards every connection to the backend, in one of
four modes:

- ``up``: bytes pass unchanged;
- ``down``: the backend is unreachable: open connections are cut and new ones are closed at
  once, before a byte is read (the kiosk's requests fail as a network failure does);
- ``slow``: every answer leaves ``seconds`` late (default 25 s: longer than a resident waits);
- ``error``: every request is answered ``500 internal_error`` by the proxy itself, without
  reaching the backend.

It answers the simulator control interface (``state()``, ``control(action, params)``), so
``kiosk sim backend down|up|slow|error`` and the scenarios' ``sim: backend …`` drive it. The
proxy never looks into the bytes beyond the point where a request starts.
"""
from __future__ import annotations

import json
import logging
import os
import select
import socket
import threading
from typing import Any

log = logging.getLogger(__name__)

MODES = ("up", "down", "slow", "error")
DEFAULT_SLOW_SECONDS = 25.0
_ERROR_BODY = json.dumps({"error": {"code": "internal_error", "message": "the backend failed (simulated)",
                                    "fields": []}}).encode()
_ERROR_ANSWER = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 b"Content-Length: " + str(len(_ERROR_BODY)).encode() + b"\r\n\r\n" + _ERROR_BODY)


class FaultProxy:
    kind = "backend"

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", name: str = "backend"):
        self.target = (target_host, target_port)
        self.name = name
        self.mode = "up"
        self.slow_seconds = DEFAULT_SLOW_SECONDS
        self.connections = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, name="backend-fault-proxy", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self._cut_all()

    # -- the control interface --------------------------------------------------------------
    def set_mode(self, mode: str, seconds: float | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"the backend switch knows {', '.join(MODES)}, not {mode!r}")
        with self._lock:
            self.mode = mode
            if mode == "slow":
                self.slow_seconds = float(seconds) if seconds else DEFAULT_SLOW_SECONDS
        log.warning("embedded backend switched", extra={"fields": {"mode": mode}})
        if mode in ("down", "error"):
            self._cut_all()  # a pooled keep-alive connection must not outlive the outage

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "mode": self.mode, "url": self.url,
                "slow_seconds": self.slow_seconds, "connections": self.connections, "refused": self.refused,
                "plugged_in": self.mode != "down", "pid": os.getpid()}

    def control(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        from drivers.sim.base import SimulatorError

        if action == "status":
            return self.state()
        if action in MODES:
            self.set_mode(action, params.get("seconds"))
        elif action in ("clear", "replug"):
            self.set_mode("up")
        elif action == "unplug":
            self.set_mode("down")
            if params.get("seconds"):
                timer = threading.Timer(float(params["seconds"]), lambda: self.set_mode("up"))
                timer.daemon = True
                timer.start()
        elif action == "fault":
            name = str(params.get("fault", ""))
            if name not in MODES:
                raise SimulatorError(f"the backend switch has no fault {name!r}; known: down, slow, error")
            self.set_mode(name if params.get("on", True) else "up", params.get("seconds"))
        else:
            raise SimulatorError(f"the backend switch has no action {action!r}; use down, up, slow or error")
        return self.state()

    # -- forwarding -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
            self.connections += 1
            if mode == "down":
                self.refused += 1
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client, mode), name="backend-fault-pipe", daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        if mode == "error":
            self._answer_error(client)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._open.update((client, upstream))
        try:
            self._pipe(client, upstream)
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            _close(client)
            _close(upstream)

    def _answer_error(self, client: socket.socket) -> None:
        try:
            client.settimeout(5)
            client.recv(65536)  # the start of the request
            client.sendall(_ERROR_ANSWER)
        except OSError:
            pass
        finally:
            _close(client)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        awaiting_answer = False
        while not self._stop.is_set():
            try:
                readable, _w, _x = select.select([client, upstream], [], [], 0.5)
            except (OSError, ValueError):
                return
            for source in readable:
                try:
                    data = source.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    mode, delay = self.mode, self.slow_seconds
                if mode in ("down", "error"):
                    return
                if source is client:
                    awaiting_answer = True
                    target = upstream
                else:
                    if awaiting_answer and mode == "slow":
                        if self._stop.wait(delay):
                            return
                    awaiting_answer = False
                    target = client
                try:
                    target.sendall(data)
                except OSError:
                    return

    def _cut_all(self) -> None:
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass

