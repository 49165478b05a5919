"""Shared helpers for the backend tests (tests/kiosk/backend, tests/e2e) and benchmarks.

- ``catalog_items()``: the demo catalogue when ``assets/catalog/hekou_items.json`` exists,
  otherwise a few items of the same schema written here;
- ``pick_item(...)``: an item with the wanted properties from that catalogue;
- ``resident_id(...)``: a valid 18-character ID number (GB 11643 check character);
- ``jpeg_page(size)``: a real JPEG of about ``size`` bytes (noise, so it barely compresses);
- ``ReferenceBackend``: the reference backend on a loopback port with a registered terminal
  (and the demo people: grid worker WG-0001, PIN 246810; identity codes HYBID:DEMO-…);
- ``DEMO_WORKER`` and the ``DEMO_*`` codes: what ``refbackend/demo_people.json`` holds;
- ``contract_db``: the contract tests run once on SQLite and once on PostgreSQL (a server the
  test session starts, ``tests/pg_support.py``); ``open_store(path)`` opens the database of the
  current run: the SQLite file ``path``, or a PostgreSQL database that stands for that path
  (the same one each time the path is opened again), with its file store next to ``path``.
"""
from __future__ import annotations

import functools
import io
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

import numpy as np
from PIL import Image

from kiosk.backend import models as m
from kiosk.backend.client import BackendClient
from kiosk.backend.signing import generate_key, parse_key
from refbackend.seed import DEMO_CATALOG_PATH, DEMO_PEOPLE_PATH, load_catalog_file, load_people_file, seed_people
from refbackend.server import RunningBackend, start_embedded
from refbackend.store import ReferenceStore

TERMINAL_ID = "HK-TEST-001"

DEMO_WORKER = m.GridWorker(worker_id="WG-0001", name="王晓梅", phone="13905460001")
DEMO_PIN = "246810"
DEMO_STAFF_CODE = "HYBSTAFF:WG0001DEMO2026"
DEMO_STAFF_CARD = "370503198811230026"
DEMO_IDENTITY = "HYBID:DEMO-OUYANG-NANA-0001"
DEMO_IDENTITY_2 = "HYBID:DEMO-LI-JIANJUN-0001"
DEMO_IDENTITY_EXPIRED = "HYBID:DEMO-EXPIRED-000001"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(birth: str = "19800101", region: str = "370503", sequence: int = 123) -> str:
    body = f"{region}{birth}{sequence:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


def person(name: str = "张三", **kwargs) -> m.Person:
    return m.Person(id_number=kwargs.pop("id_number", resident_id()), name=name, **kwargs)


def _item(code: str, name: str, kind: str, promised: int, can_apply: bool = True, objects: list | None = None,
          materials: list | None = None, result: str = "") -> m.ServiceItem:
    return m.ServiceItem.model_validate({
        "code": code, "name": name, "type": "行政确认", "department": "东营市河口区行政审批服务局", "level": "区级",
        "service_objects": objects or ["自然人"], "legal_basis": ["《测试条例》第一条"],
        "conditions": ["本区户籍居民"],
        "materials": materials if materials is not None else [
            {"name": "居民身份证", "copies": 1, "format": "原件", "required": True, "sample": "四角完整、字迹清楚",
             "note": "", "kiosk_capture": True},
            {"name": "户口簿", "copies": 1, "format": "原件", "required": True, "sample": "", "note": "",
             "kiosk_capture": True},
            {"name": "其他证明", "copies": 1, "format": "复印件", "required": False, "sample": "", "note": "",
             "kiosk_capture": True}],
        "time_limit": {"kind": kind, "statutory_days": 20 if promised else 0, "promised_days": promised},
        "fees": {"charged": False, "description": "不收费"}, "process": ["申请", "受理", "审核", "办结"],
        "locations": [{"name": "河口区政务服务中心 综合窗口", "address": "东营市河口区河口街道", "hours": "周一至周五"}],
        "phone": "0546-3600000", "kiosk": {"can_apply": can_apply, "can_pickup": True}, "result": result,
        "life_events": ["就业"], "keywords": ["测试"], "popularity": 50})


def fixture_items() -> list[m.ServiceItem]:
    """Stand-in items for when the demo catalogue is not there."""
    return [
        _item("370503-XZSP-0001", "灵活就业人员就业登记", "承诺件", 5, result="就业登记证明"),
        _item("370503-MZ-0002", "最低生活保障对象证明开具", "即办件", 0, result="证明"),
        _item("370503-ZJ-0003", "建筑工程施工许可", "承诺件", 7, can_apply=False, objects=["法人"]),
        _item("370503-RS-0004", "失业登记", "即办件", 0,
              materials=[{"name": "居民身份证", "copies": 1, "format": "原件", "required": True, "sample": "",
                          "note": "", "kiosk_capture": True}], result="失业登记证明"),
    ]


@functools.lru_cache(maxsize=1)
def catalog_items() -> tuple[m.ServiceItem, ...]:
    if DEMO_CATALOG_PATH.exists():
        return tuple(load_catalog_file(DEMO_CATALOG_PATH))
    return tuple(fixture_items())


def pick_item(kind: str = "承诺件", min_required: int = 1) -> m.ServiceItem:
    """A kiosk-capable item for persons with at least ``min_required`` required, capturable materials."""
    for item in catalog_items():
        required = [x for x in item.materials if x.required and x.kiosk_capture]
        if (item.time_limit.kind == kind and item.kiosk.can_apply and "自然人" in item.service_objects
                and len(required) >= min_required):
            return item
    raise LookupError(f"no {kind} item in the catalogue with {min_required} required materials")


def required_pages(item: m.ServiceItem, page: bytes) -> list[tuple[int, int, str, bytes]]:
    return [(i, 1, "image/jpeg", page) for i, x in enumerate(item.materials) if x.required and x.kiosk_capture]


@functools.lru_cache(maxsize=8)
def jpeg_page(size: int = 300 * 1024, seed: int = 7) -> bytes:
    """A JPEG of roughly ``size`` bytes (within a few percent)."""
    rng = np.random.default_rng(seed)
    side = max(220, int(math.sqrt(size / 0.76)))
    for _ in range(6):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=85)
        data = buffer.getvalue()
        if abs(len(data) - size) / size < 0.03:
            break
        side = max(220, int(side * math.sqrt(size / len(data))))
    return data


@dataclass
class ReferenceBackend:
    """A running reference backend with one registered terminal."""

    running: RunningBackend
    key_text: str
    terminal_id: str = TERMINAL_ID

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def store(self) -> ReferenceStore:
        return self.running.store

    @property
    def key(self) -> bytes:
        return parse_key(self.key_text)

    def client(self, url: str | None = None, **kwargs) -> BackendClient:
        kwargs.setdefault("sleep", lambda s: None)
        return BackendClient(url or self.url, self.terminal_id, self.key, **kwargs)

    def clerk_auth(self) -> tuple[str, str]:
        return ("clerk", self.running.clerk_password)

    def stop(self, wait: bool = True) -> None:
        self.running.stop(wait=wait)


def start_reference_backend(db: str | Path = ":memory:", clock: Callable[[], float] | None = None,
                            items: list[m.ServiceItem] | None = None, people: bool = True,
                            **app_options) -> ReferenceBackend:
    """With ``people`` the backend also knows the demo grid worker and identity codes
    (``refbackend/demo_people.json``: WG-0001 with PIN 246810, HYBID:DEMO-…). ``app_options`` go
    to ``refbackend.app.create_app`` (``throttle``, ``lookup_limits``, ``interactive_docs``)."""
    import time

    store = open_store(db, clock=clock or time.time)
    store.seed_catalog(items if items is not None else list(catalog_items()))
    if people:
        seed_people(store, load_people_file(DEMO_PEOPLE_PATH))
    key_text = generate_key()
    store.register_terminal(TERMINAL_ID, key_text, "河口街道便民服务中心 测试终端", doors=12)
    running = start_embedded(store, clerk_password=secrets.token_urlsafe(12), clock=clock or time.time,
                             **app_options)
    return ReferenceBackend(running, key_text)


# ---------------------------------------------------------------------------------------
# Both databases: SQLite (the default) and PostgreSQL

_CURRENT = {"kind": "sqlite", "server": None}
_PG_DATABASES: dict[str, str] = {}


def current_database() -> str:
    """``sqlite`` or ``postgresql``: the database the running contract test uses."""
    return _CURRENT["kind"]


def open_store(db: str | Path = ":memory:", clock: Callable[[], float] | None = None) -> ReferenceStore:
    import tempfile
    import time

    if _CURRENT["kind"] != "postgresql":
        return ReferenceStore(db, clock=clock or time.time)
    server = _CURRENT["server"]
    name = str(db)
    if name == ":memory:":
        url, files = server.new_database(), tempfile.mkdtemp(prefix="refbackend-files-")
    else:
        if name not in _PG_DATABASES:
            _PG_DATABASES[name] = server.new_database()
        url, files = _PG_DATABASES[name], name + ".files"
    return ReferenceStore(url, clock=clock or time.time, files=files)


def stored_bytes(db: str | Path) -> bytes:
    """Everything the database of ``db`` holds, as someone who copied it would read it: the
    SQLite file's bytes, or every row of every table of its PostgreSQL database as text."""
    name = str(db)
    if name not in _PG_DATABASES:
        return Path(db).read_bytes()
    import psycopg

    out = []
    with psycopg.connect(_PG_DATABASES[name]) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = current_schema()")]
        for table in tables:
            out += [r[0] for r in conn.execute(f"SELECT t::text FROM {table} t")]
    return "\n".join(out).encode("utf-8")


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test process (skips the test when none can be started)."""
    from pg_support import PostgresServer, available

    import os

    reason = available()
    if reason and os.environ.get("CI"):
        pytest.fail(reason + ": CI runs the contract on PostgreSQL too (make setup installs it)")
    if reason:
        pytest.skip(reason)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def contract_db(request):
    """Runs a contract test on the database of its parameter (``sqlite`` when not parametrized)."""
    kind = getattr(request, "param", "sqlite")
    _CURRENT["kind"] = kind
    _CURRENT["server"] = request.getfixturevalue("postgres") if kind == "postgresql" else None
    yield kind
    _CURRENT["kind"], _CURRENT["server"] = "sqlite", None


def parametrize_contract(metafunc) -> None:
    """``pytest_generate_tests`` of the contract suites: every test of a module that starts a
    reference backend runs on both databases."""
    if "contract_db" not in metafunc.fixturenames:
        return
    import inspect

    source = inspect.getsource(metafunc.module)
    if "backend" in metafunc.fixturenames or "start_reference_backend" in source or "open_store" in source:
        metafunc.parametrize("contract_db", ["sqlite", "postgresql"], indirect=True)


# ---------------------------------------------------------------------------------------
# A fault-injecting HTTP proxy between a kiosk and the backend


class FaultProxy:
    """Forwards HTTP requests to ``upstream`` byte for byte, with faults on command.

    ``mode``: "pass"; "drop" (close the connection without answering, like a dead network);
    "error" (answer ``status`` without forwarding, ``count`` times, then pass); "html" (like
    "error", with a proxy's HTML page instead of the contract's error body); "cut" (forward,
    then send only half of the backend's answer and close, ``count`` times); "slow"
    (forward, then wait ``delay`` seconds before answering — the backend did the work —
    ``count`` times, then pass).
    ``hold(method, path_part, phase)`` freezes the first matching request either before it is
    forwarded (phase "request") or after the backend answered (phase "response"), and sets
    ``held``: the moment to kill the kiosk process.
    """

    def __init__(self, upstream: str):
        import http.server
        import threading

        self.upstream = upstream
        self.mode = "pass"
        self.status = 500
        self.count = 0
        self.delay = 0.0
        self.seen: list[tuple[str, str]] = []
        self.forwarded: list[tuple[str, str, int]] = []
        self.held = threading.Event()
        self.release = threading.Event()
        self._hold: tuple[str, str, str] | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hold(self, method: str, path_part: str, phase: str) -> None:
        self._hold = (method, path_part, phase)

    def _matches_hold(self, method: str, path: str, phase: str) -> bool:
        with self._lock:
            if self._hold and self._hold[0] == method and self._hold[1] in path and self._hold[2] == phase:
                self._hold = None
                return True
        return False

    def _handle(self, handler) -> None:
        import http.client
        import time
        from urllib.parse import urlsplit

        method, path = handler.command, handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.seen.append((method, path))
        if self.mode == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        if self.mode in ("error", "html") and self.count > 0:
            with self._lock:
                self.count -= 1
            html = self.mode == "html"
            payload = (b"<html><body><h1>403 Forbidden</h1><hr>nginx</body></html>" if html else
                       b'{"error":{"code":"proxy_fault","message":"injected fault","fields":[]}}')
            handler.send_response(self.status)
            handler.send_header("Content-Type", "text/html" if html else "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        if self._matches_hold(method, path, "request"):
            self.held.set()
            self.release.wait()
            handler.close_connection = True
            return
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.forwarded.append((method, path, response.status))
        connection.close()
        if self._matches_hold(method, path, "response"):
            self.held.set()
            self.release.wait()
            handler.close_connection = True
            return
        if self.mode == "slow" and self.count > 0:
            with self._lock:
                self.count -= 1
            time.sleep(self.delay)
        if self.mode == "cut" and self.count > 0:
            with self._lock:
                self.count -= 1
            handler.send_response(response.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[:len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        try:
            handler.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def settings_for(backend: "ReferenceBackend", state_dir: Path, url: str | None = None, **backend_keys):
    """Kiosk settings whose [backend] points at ``backend`` (or ``url``) with state in ``state_dir``."""
    from kiosk.config import parse_settings

    lines = [f'url = "{url or backend.url}"', f'terminal_key = "{backend.key_text}"',
             f'outbox_path = "{state_dir / "outbox.sqlite3"}"', f'outbox_key_file = "{state_dir / "outbox.key"}"',
             f'catalog_cache_path = "{state_dir / "catalog.sqlite3"}"']
    for name, value in backend_keys.items():
        lines.append(f"{name} = {value!r}" if not isinstance(value, bool) else f"{name} = {str(value).lower()}")
    text = (f'[terminal]\nid = "{backend.terminal_id}"\nname = "河口街道便民服务中心 测试终端"\n\n[backend]\n'
            + "\n".join(lines) + "\n")
    return parse_settings(text, "test.toml")


def clerk_decide(backend: "ReferenceBackend", number: str, approve: bool = True, reasons: list | None = None):
    import requests

    response = requests.post(f"{backend.url}/api/v1/clerk/cases/{number}/decision", auth=backend.clerk_auth(),
                             json={"approve": approve, "reasons": reasons or []}, timeout=10)
    response.raise_for_status()
    return m.CaseStatus.model_validate_json(response.content)


def clerk_issue(backend: "ReferenceBackend", number: str, door: int):
    import requests

    response = requests.post(f"{backend.url}/api/v1/clerk/cases/{number}/issue", auth=backend.clerk_auth(),
                             json={"terminal_id": backend.terminal_id, "door": door}, timeout=10)
    response.raise_for_status()
    return m.IssuedPickup.model_validate_json(response.content)


@pytest.fixture
def backend(tmp_path, contract_db):
    """A reference backend on loopback with its own database (SQLite file or PostgreSQL database)."""
    running = start_reference_backend(tmp_path / "backend.sqlite3")
    yield running
    running.stop(wait=False)


@pytest.fixture
def client(backend):
    """A signed client of that backend."""
    client = backend.client()
    yield client
    client.close()
