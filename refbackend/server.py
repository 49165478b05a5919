"""Running the reference backend: as a server (``kiosk backend serve``) or embedded in-process.

``start_embedded()`` binds a random port on 127.0.0.1, runs uvicorn on a daemon thread
and returns once it accepts connections; the kiosk (or a test) then talks to it over
real HTTP. ``serve()`` runs in the foreground until interrupted, and warns loudly
(``plain_http_warning``) when it listens beyond loopback without TLS. ``prepare_store``
creates a new database file readable by its owner only (0600), so that SQLite gives its
``-wal`` and ``-shm`` files the same mode. ``write_secret_file`` writes the clerk's password
to a 0600 file instead of a log or the terminal.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import uvicorn

from refbackend.app import create_app
from refbackend.db import is_postgresql
from refbackend.seed import DEMO_CATALOG_PATH, load_catalog_file, load_people_file, seed_people
from refbackend.store import ReferenceStore

log = logging.getLogger(__name__)


@dataclass
class RunningBackend:
    """A reference backend started by ``start_embedded``; ``stop()`` ends it."""

    url: str
    clerk_password: str
    store: ReferenceStore
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _sock: socket.socket = field(repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, close_store: bool = True, wait: bool = True) -> None:
        """Stop serving. ``wait=False`` returns at once and finishes the shutdown (~0.2 s) on a thread."""
        self._server.should_exit = True
        self._server.force_exit = True  # do not wait for idle keep-alive connections

        def finish() -> None:
            self._thread.join(timeout=10)
            try:
                self._sock.close()
            except OSError:
                pass
            if close_store:
                self.store.close()

        if wait:
            finish()
        else:
            threading.Thread(target=finish, name="refbackend-stop", daemon=True).start()

    def __enter__(self) -> "RunningBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def prepare_store(db: str | Path = ":memory:", catalog: Path | str | None = DEMO_CATALOG_PATH,
                  terminals: dict[str, str] | None = None, clock: Callable[[], float] = time.time,
                  terminal_names: dict[str, str] | None = None,
                  terminal_doors: dict[str, int] | None = None,
                  people: Path | str | None = None, files: Path | str | None = None) -> ReferenceStore:
    """Open the database (creating or upgrading its schema; page images in ``files``), seed the
    catalogue and the people (grid workers, identity codes) when
    files are given, and register terminals. A bad file raises ``CatalogFileError`` and leaves
    nothing open."""
    catalog_items = load_catalog_file(catalog) if catalog is not None else None
    demo_people = load_people_file(people) if people is not None else None
    if not is_postgresql(db):
        create_private_file(db)
    store = ReferenceStore(db, clock=clock, files=files)
    try:
        if catalog_items is not None:
            changed, removed = store.seed_catalog(catalog_items)
            log.info("catalogue seeded", extra={"fields": {"file": str(catalog), "changed": changed,
                                                          "removed": removed, "version": store.catalog_version()}})
        if demo_people is not None:
            seed_people(store, demo_people)
            log.info("people seeded", extra={"fields": {"file": str(people), "grid_workers": len(demo_people.workers),
                                                       "identity_codes": len(demo_people.identities)}})
        for terminal_id, key_text in (terminals or {}).items():
            store.register_terminal(terminal_id, key_text, (terminal_names or {}).get(terminal_id, ""),
                                    (terminal_doors or {}).get(terminal_id, 24))
    except Exception:
        store.close()
        raise
    return store


def start_embedded(store: ReferenceStore | None = None, *, clerk_password: str | None = None,
                   clock: Callable[[], float] = time.time, port: int = 0, timeout: float = 15.0,
                   tls_cert: str | None = None, tls_key: str | None = None,
                   wrap: Callable[[Any], Any] | None = None, **app_options: Any) -> RunningBackend:
    """Start the backend on 127.0.0.1 (a random free port unless given) on a daemon thread.

    With ``tls_cert`` and ``tls_key`` (PEM files) it speaks HTTPS. ``wrap(app)`` returns the ASGI
    app actually served (middleware a test wants around the whole application). ``app_options``
    go to ``create_app`` (``throttle``, ``lookup_limits``, ``interactive_docs``)."""
    store = store or prepare_store(clock=clock)
    clerk_password = clerk_password or secrets.token_urlsafe(12)
    app = create_app(store, clerk_password, clock, **app_options)
    if wrap is not None:
        app = wrap(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # asyncio sets TCP_NODELAY only on sockets it creates; on a socket handed to it, each answer
    # would stall ~40 ms on delayed ACKs. Accepted connections inherit the option from here.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_keep_alive=30,
                            timeout_graceful_shutdown=2,
                            ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="refbackend", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the embedded backend did not start")
        time.sleep(0.01)
    url = f"{'https' if tls_cert else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
    log.info("embedded backend started", extra={"fields": {"url": url, "clerk_page": url + "/clerk"}})
    return RunningBackend(url=url, clerk_password=clerk_password, store=store, _server=server, _thread=thread,
                          _sock=sock)


def serve(store: ReferenceStore, host: str, port: int, clerk_password: str, access_log: bool = True,
          tls_cert: str | None = None, tls_key: str | None = None) -> None:
    """Run in the foreground until Ctrl-C / SIGTERM."""
    warning = plain_http_warning(host, bool(tls_cert))
    if warning:
        log.warning(warning)
    app = create_app(store, clerk_password)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=access_log, lifespan="off",
                            ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    uvicorn.Server(config).run()


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost": only this computer can connect."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_warning(host: str, tls: bool) -> str | None:
    """The warning for serving beyond loopback without TLS (None when there is nothing to warn of)."""
    if tls or is_loopback(host):
        return None
    return (f"WARNING: serving plain HTTP on {host}, reachable from other computers: the clerk's password, "
            "residents' names, ID numbers and page images cross the network unencrypted. Use --tls-cert and "
            "--tls-key, or put a TLS proxy in front and listen on 127.0.0.1.")


def create_private_file(path: str | Path) -> None:
    """Make the database file readable and writable by its owner only (0600): created so when
    new, narrowed when others could read it (with its ``-wal`` and ``-shm``). SQLite creates
    ``-wal`` and ``-shm`` with the database file's mode. ``:memory:`` is left alone."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    for existing in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if existing.stat().st_mode & 0o077:
                os.chmod(existing, 0o600)
        except OSError:  # missing, or not ours to change: SQLite will say so if it matters
            pass


def write_secret_file(path: str | Path, secret: str) -> Path:
    """Write ``secret`` (and a newline) to ``path``, mode 0600 even when the file existed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return path
