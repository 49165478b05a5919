"""``kiosk backend serve --workers N``: the reference backend in N uvicorn worker processes.

The parent process has already opened the database, created or upgraded its schema and seeded
it (``refbackend.server.prepare_store``); it hands the workers what they need through one
environment variable (``REFBACKEND_WORKER``: JSON with the database, the file store and the
clerk's password, readable only by the same user) and lets uvicorn start, watch and restart
them on one listening socket. Each worker opens its own store (no migration: the parent did it)
and serves the same app; what must be shared — idempotency keys, nonces, failed-attempt
counts, acceptance numbers — lives in the database (``refbackend.store``).

On SQLite the workers share the file through SQLite's own locking (WAL, a 30 s busy wait);
PostgreSQL is the database meant for several workers.
"""
from __future__ import annotations

import json
import os
from typing import Any

import uvicorn

ENV = "REFBACKEND_WORKER"


def app() -> Any:
    """The ASGI app of one worker process (a uvicorn factory)."""
    from refbackend.app import create_app
    from refbackend.store import ReferenceStore

    settings = json.loads(os.environ[ENV])
    store = ReferenceStore(settings["db"], files=settings["files"], migrate_schema=False)
    return create_app(store, settings["clerk_password"])


def serve_workers(db: str, files: str | None, host: str, port: int, clerk_password: str, workers: int,
                  access_log: bool = True, tls_cert: str | None = None, tls_key: str | None = None,
                  factory: str = "refbackend.workers:app") -> None:
    """Run ``workers`` processes in the foreground until Ctrl-C / SIGTERM. ``factory`` names the
    function each worker calls for its app (the CLI's sets up the worker's logging first)."""
    os.environ[ENV] = json.dumps({"db": db, "files": files, "clerk_password": clerk_password})
    try:
        uvicorn.run(factory, factory=True, host=host, port=port, workers=workers,
                    log_config=None, access_log=access_log, lifespan="off",
                    ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    finally:
        os.environ.pop(ENV, None)
