"""``kiosk backend …``: run the reference backend, and check a terminal's link to a backend.

Server side:
  kiosk backend serve [--host 127.0.0.1] [--port 8700] [--db FILE | --db postgresql://USER@HOST:PORT/DBNAME]
                      [--files DIR] [--workers N] [--catalog FILE] [--terminal ID=KEYFILE]
                      [--clerk-password-file FILE | --clerk-password-out FILE] [--tls-cert F --tls-key F]
  kiosk backend add-terminal --db FILE|URL --id ID --key-file FILE [--name NAME] [--doors N]
  kiosk backend add-worker --db FILE|URL --id WG-0002 --name NAME [--phone P] [--staff-code HYBSTAFF:…]
                           [--id-number N] [--pin-file FILE]   (asks for the PIN without a file)
  kiosk backend keygen FILE
  kiosk backend openapi [--out FILE | --check FILE]

Terminal side (reads the kiosk configuration):
  kiosk backend check  [--config FILE]   reach the backend, signature and clock accepted?
  kiosk backend sync   [--config FILE]   bring the catalogue cache up to date
  kiosk backend outbox [--config FILE] [list | drain | retry KEY | discard KEY]

The server side, and the terminal side with [backend] embedded = true, need the reference
backend (pip install 'heyiban-kiosk[refbackend]'); it is imported only when needed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import re
import secrets
import sys
import time
from pathlib import Path
from types import ModuleType

from kiosk.config import DEFAULT_CONFIG_PATH, load_settings
from kiosk.logs import setup_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backend", help="reference backend; check the link to the backend; the outbox",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="run the reference backend (HTTP; SQLite or PostgreSQL)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8700, help="port (default 8700; 0 for any free port)")
    serve.add_argument("--db", default="refbackend.sqlite3",
                       help="SQLite database file (default refbackend.sqlite3), or postgresql://USER@HOST:PORT/DBNAME; "
                            "the schema is created or upgraded at start")
    serve.add_argument("--files", default=None, metavar="DIR",
                       help="folder for page images and pickup photos (default: FILE.files next to a SQLite "
                            "database; required with PostgreSQL)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="worker processes (default 1; 2–4 per core with PostgreSQL)")
    serve.add_argument("--catalog", default=None,
                       help="service catalogue JSON to seed from (default: the bundled demo catalogue); "
                            "'none' to keep the database's catalogue as it is")
    serve.add_argument("--terminal", action="append", default=[], metavar="ID=KEYFILE",
                       help="register (or update) a terminal with the key in KEYFILE; may be repeated")
    serve.add_argument("--clerk-password-file", default=None,
                       help="file with the clerk's password (at least 8 characters); without it a new password "
                            "is written to --clerk-password-out")
    serve.add_argument("--clerk-password-out", default=None, metavar="FILE",
                       help="where a new clerk password is written, mode 0600 (default: the database's name "
                            "with .clerk-password); it is never printed")
    serve.add_argument("--no-access-log", action="store_true", help="do not log each request")
    serve.add_argument("--tls-cert", help="PEM certificate (chain) to serve HTTPS; with --tls-key")
    serve.add_argument("--tls-key", help="PEM private key for --tls-cert")
    serve.set_defaults(handler=_serve)

    add = actions.add_parser("add-terminal", help="register a terminal and its signing key with a backend database")
    add.add_argument("--db", required=True, help="SQLite file or postgresql://USER@HOST:PORT/DBNAME")
    add.add_argument("--id", required=True, help="terminal id, e.g. HK-LH-001")
    add.add_argument("--key-file", required=True, help="the terminal's key file; created when it does not exist")
    add.add_argument("--name", default="", help="display name, e.g. 六合街道便民服务中心 1号机")
    add.add_argument("--doors", type=int, default=24, help="number of locker doors (default 24)")
    add.set_defaults(handler=_add_terminal)

    worker = actions.add_parser("add-worker", help="add or update a grid worker (网格员) who may sign in for 代办")
    worker.add_argument("--db", required=True, help="SQLite file or postgresql://USER@HOST:PORT/DBNAME")
    worker.add_argument("--id", required=True, help="the worker's staff number, e.g. WG-0002")
    worker.add_argument("--name", required=True)
    worker.add_argument("--phone", default="")
    worker.add_argument("--staff-code", help="the text of the worker's staff QR code: HYBSTAFF: and 8–64 of "
                                             "A–Z a–z 0–9 _ -")
    worker.add_argument("--id-number", help="the ID number of the worker's own ID card (the staff card)")
    worker.add_argument("--pin-file", help="file holding the 6-digit PIN; without it the PIN is asked for twice")
    worker.set_defaults(handler=_add_worker)

    keygen = actions.add_parser("keygen", help="write a new terminal signing key to a file (mode 0600)")
    keygen.add_argument("file")
    keygen.set_defaults(handler=_keygen)

    openapi = actions.add_parser("openapi", help="print the contract as OpenAPI JSON")
    openapi.add_argument("--out", help="write to this file instead of standard output")
    openapi.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from the current contract")
    openapi.set_defaults(handler=_openapi)

    for name, summary, handler in (("check", "reach the backend with a signed heartbeat", _check),
                                   ("sync", "bring the catalogue cache up to date", _sync)):
        sub = actions.add_parser(name, help=summary)
        sub.add_argument("--config", default=str(DEFAULT_CONFIG_PATH))
        sub.set_defaults(handler=handler)

    outbox = actions.add_parser("outbox", help="what waits to be sent; send it now; retry or discard set-aside items")
    outbox.add_argument("--config", default=str(DEFAULT_CONFIG_PATH))
    outbox.add_argument("op", nargs="?", default="list", choices=("list", "drain", "retry", "discard"))
    outbox.add_argument("key", nargs="?", help="the item key (for retry and discard)")
    outbox.set_defaults(handler=_outbox)


# -- server side ---------------------------------------------------------------------------

_EXTRA_MODULES = frozenset({"refbackend", "fastapi", "uvicorn", "starlette", "anyio", "psycopg", "psycopg_pool"})
MAX_WORKERS = 64


def refbackend_module(name: str) -> ModuleType:
    """``refbackend.<name>``, or one line saying how to install the reference backend (exit 2)."""
    from kiosk.errors import UserFacingError

    try:
        return importlib.import_module(f"refbackend.{name}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        raise UserFacingError("the reference backend is not installed (missing " + str(exc.name) + "): install "
                              "it with `pip install 'heyiban-kiosk[refbackend]'`", 2) from None



def _serve(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError
    from kiosk.backend.signing import TerminalKeyError, read_key_file

    seed = refbackend_module("seed")
    server = refbackend_module("server")
    DEMO_CATALOG_PATH, CatalogFileError = seed.DEMO_CATALOG_PATH, seed.CatalogFileError

    setup_logging("INFO", "text")
    terminals: dict[str, str] = {}
    for spec in args.terminal:
        terminal_id, sep, key_file = spec.partition("=")
        if not sep or not terminal_id or not key_file:
            raise UserFacingError(f"--terminal expects ID=KEYFILE, got {spec!r}", 2)
        try:
            read_key_file(key_file)
        except TerminalKeyError as exc:
            raise UserFacingError(str(exc), 2) from None
        terminals[terminal_id] = Path(key_file).read_text("ascii").strip()
    if args.clerk_password_file:
        try:
            password = Path(args.clerk_password_file).read_text("utf-8").strip()
        except OSError as exc:
            raise UserFacingError(f"cannot read {args.clerk_password_file}: {exc.strerror}", 2) from None
        if len(password) < 8:
            raise UserFacingError("the clerk password needs at least 8 characters", 2)
    else:
        password = secrets.token_urlsafe(12)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UserFacingError("--tls-cert and --tls-key go together", 2)
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UserFacingError(f"--workers is 1 to {MAX_WORKERS}", 2)
    db_module = refbackend_module("db")
    try:
        db_module.check_target(args.db)
    except db_module.DatabaseUnavailable as exc:
        raise UserFacingError(str(exc), 2) from None
    if db_module.is_postgresql(args.db) and not args.files:
        raise UserFacingError("a PostgreSQL backend needs --files DIR: the folder for page images", 2)
    password_note = f"(from {args.clerk_password_file})"
    if not args.clerk_password_file:
        default_out = (Path(args.files) / "clerk-password" if db_module.is_postgresql(args.db)
                       else Path(("refbackend" if args.db == ":memory:" else args.db) + ".clerk-password"))
        out = Path(args.clerk_password_out) if args.clerk_password_out else default_out
        try:
            server.write_secret_file(out, password)
        except OSError as exc:
            raise UserFacingError(f"cannot write the clerk password to {out}: {exc.strerror}", 2) from None
        password_note = f"(new, in {out}, mode 0600)"
    catalog = None if args.catalog == "none" else Path(args.catalog) if args.catalog else DEMO_CATALOG_PATH
    if args.catalog is None and not DEMO_CATALOG_PATH.exists():
        print(f"note: no demo catalogue at {DEMO_CATALOG_PATH}; the catalogue stays as the database has it",
              file=sys.stderr)
        catalog = None
    # The demo catalogue comes with the demo people (a grid worker, identity codes): docs/backend.md.
    people = seed.DEMO_PEOPLE_PATH if catalog == DEMO_CATALOG_PATH else None
    try:
        store = server.prepare_store(args.db, catalog=catalog, terminals=terminals, people=people, files=args.files)
    except CatalogFileError as exc:
        raise UserFacingError(str(exc), 2) from None
    except (db_module.DatabaseUnavailable, refbackend_module("filestore").FileStoreError) as exc:
        raise UserFacingError(str(exc), 2) from None
    except ValueError as exc:
        raise UserFacingError(str(exc), 2) from None
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    scheme = "https" if args.tls_cert else "http"
    if args.port == 0:
        import socket

        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host, 0))
            args.port = probe.getsockname()[1]
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"reference backend on {scheme}://{shown_host}:{args.port}  (database {db_module.describe(args.db)}, "
          f"page images in {store.files.root or 'memory'}, catalogue version {store.catalog_version()}, "
          f"{len(store.terminals())} terminal(s){workers})")
    if people is not None:
        print("demo people: grid worker WG-0001 and identity codes HYBID:DEMO-… (see docs/backend.md)")
    print(f"clerk page: {scheme}://{shown_host}:{args.port}/clerk  user: clerk  password: {password_note}")
    warning = server.plain_http_warning(args.host, bool(args.tls_cert))
    if warning:
        print("\n" + "!" * 78 + "\n" + warning + "\n" + "!" * 78 + "\n", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    if args.workers > 1:  # each worker opens its own store; the parent's was for migrating and seeding
        files = str(store.files.root)
        store.close()
        try:
            refbackend_module("workers").serve_workers(args.db, files, args.host, args.port, password, args.workers,
                                                       access_log=not args.no_access_log, tls_cert=args.tls_cert,
                                                       tls_key=args.tls_key,
                                                       factory="kiosk.commands.backend:worker_app")
        except OSError as exc:
            raise UserFacingError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", 1) from None
        return 0
    try:
        server.serve(store, args.host, args.port, password, access_log=not args.no_access_log,
                     tls_cert=args.tls_cert, tls_key=args.tls_key)
    except OSError as exc:
        raise UserFacingError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", 1) from None
    finally:
        store.close()
    return 0


def worker_app():
    """One worker process of ``serve --workers N``: the same masked logging as the parent, then
    the reference backend's app (``refbackend.workers.app``)."""
    setup_logging("INFO", "text")
    return refbackend_module("workers").app()


def _open_store(db: str):
    """The backend's database for a command (created or upgraded), or one line saying why not."""
    from kiosk.errors import UserFacingError

    store_module, db_module = refbackend_module("store"), refbackend_module("db")
    try:
        return store_module.ReferenceStore(db)
    except db_module.DatabaseUnavailable as exc:
        raise UserFacingError(str(exc), 2) from None


def _add_terminal(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError
    from kiosk.backend.signing import TerminalKeyError, read_key_file, write_key_file


    key_file = Path(args.key_file)
    created = not key_file.exists()
    if created:
        write_key_file(key_file)
    try:
        read_key_file(key_file)
    except TerminalKeyError as exc:
        raise UserFacingError(str(exc), 2) from None
    store = _open_store(args.db)
    try:
        store.register_terminal(args.id, key_file.read_text("ascii"), args.name, args.doors)
    finally:
        store.close()
    print(f"terminal {args.id} registered in {refbackend_module('db').describe(args.db)}" + (f"; new key written to {key_file}" if created else ""))
    return 0


def _add_worker(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kiosk.backend import models as m
    from kiosk.errors import UserFacingError

    refbackend_module("store")  # says how to install the extra before asking for a PIN
    if not args.staff_code and not args.id_number:
        raise UserFacingError("a grid worker needs --staff-code or --id-number (or both) to sign in with", 2)
    try:
        worker = m.GridWorker(worker_id=args.id, name=args.name, phone=args.phone)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise UserFacingError(f"--{where.replace('_', '-') if where != 'worker_id' else 'id'}: "
                              f"{exc.errors()[0]['msg']}", 2) from None
    if args.pin_file:
        try:
            pin = Path(args.pin_file).read_text("utf-8").strip()
        except OSError as exc:
            raise UserFacingError(f"cannot read {args.pin_file}: {exc.strerror}", 2) from None
    else:
        import getpass

        pin = getpass.getpass("PIN (6 digits): ")
        if getpass.getpass("the same PIN again: ") != pin:
            raise UserFacingError("the two PINs differ; nothing was changed", 2)
    if not re.fullmatch(r"[0-9]{6}", pin):
        raise UserFacingError("the PIN must be exactly 6 digits; nothing was changed", 2)
    store = _open_store(args.db)
    try:
        store.register_grid_worker(worker, pin, args.staff_code, args.id_number)
    except (ValueError, ValidationError) as exc:
        problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise UserFacingError(f"{problem}; nothing was changed", 2) from None
    finally:
        store.close()
    print(f"grid worker {args.id} saved in {refbackend_module('db').describe(args.db)} (signs in with "
          + " or ".join(w for w, v in (("the staff code", args.staff_code), ("the staff card", args.id_number)) if v)
          + " and the PIN)")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError
    from kiosk.backend.signing import write_key_file

    path = Path(args.file)
    if path.exists():
        raise UserFacingError(f"{path} exists; remove it first if you mean to replace the key", 1)
    write_key_file(path)
    print(f"new terminal key written to {path} (mode 0600)")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    openapi_document = refbackend_module("app").openapi_document
    text = json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if args.check:
        try:
            current = Path(args.check).read_text("utf-8")
        except OSError:
            current = ""
        if current != text:
            print(f"{args.check} is out of date: run `kiosk backend openapi --out {args.check}`", file=sys.stderr)
            return 1
        print(f"{args.check} is current")
        return 0
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, "utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


# -- terminal side -------------------------------------------------------------------------


def _services(args: argparse.Namespace):
    from kiosk.errors import UserFacingError
    from kiosk.backend.crypto import KeyFileError
    from kiosk.backend.service import BackendConfigError, build_backend

    settings = load_settings(args.config)
    setup_logging("WARNING", "text")
    embedded = refbackend_module("embed").start_for_settings(settings) if settings.backend.embedded else None
    try:
        return build_backend(settings, embedded=embedded)
    except (BackendConfigError, KeyFileError, ValueError) as exc:
        raise UserFacingError(f"{args.config}: {exc}", 2) from None


def _check(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError
    from kiosk.backend.errors import BackendAuthError, BackendError

    services = _services(args)
    try:
        started = time.monotonic()
        ack = services.heartbeat()
        elapsed = (time.monotonic() - started) * 1000
        skew = time.time() - ack.server_time.timestamp()
        print(f"backend {services.client.base_url}: reachable, signature accepted ({elapsed:.0f} ms); "
              f"clock {skew:+.0f} s from the server's; catalogue version {ack.catalog_version} "
              f"(cached {services.catalog.version}); {ack.pickups_waiting} result(s) waiting in the locker")
        return 0
    except BackendAuthError as exc:
        raise UserFacingError(f"backend refused this terminal: {exc.code} — check [backend] terminal_key_file "
                              f"and the system clock", 3) from None
    except BackendError as exc:
        raise UserFacingError(f"backend not usable: {exc}", 3) from None
    finally:
        services.stop()


def _sync(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError

    services = _services(args)
    try:
        result = services.sync_catalog()
        if not result.ok:
            raise UserFacingError(f"catalogue sync failed ({result.error}); the cache keeps version {result.version} "
                                  f"with {len(services.catalog)} items", 3)
        what = "unchanged" if result.not_modified else f"{result.changed} changed, {result.removed} removed"
        print(f"catalogue version {result.version}: {what}; {len(services.catalog)} items cached")
        return 0
    finally:
        services.stop()


def _outbox(args: argparse.Namespace) -> int:
    from kiosk.errors import UserFacingError

    services = _services(args)
    outbox = services.outbox
    try:
        if args.op in ("retry", "discard"):
            if not args.key:
                raise UserFacingError(f"outbox {args.op} needs the item's KEY (see `kiosk backend outbox list`)", 2)
            done = outbox.retry_set_aside(args.key) if args.op == "retry" else outbox.discard(args.key)
            if not done:
                raise UserFacingError(f"no set-aside item {args.key} (only rejected items can be retried; pending "
                                      f"items cannot be discarded)", 1)
            print(f"{args.op}: {args.key} done")
            return 0
        if args.op == "drain":
            report = outbox.drain(services.deliverer)
            print(f"delivered {len(report.delivered)}, rejected {len(report.rejected)}, quarantined "
                  f"{len(report.quarantined)}" + (f"; stopped: {report.blocked_by}" if report.blocked_by else ""))
        items = outbox.items()
        counts = outbox.counts()
        print(f"outbox {outbox.path}: {counts['pending']} pending, {counts['rejected']} rejected, "
              f"{counts['quarantined']} quarantined")
        for item in items:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item.created_at))
            print(f"  #{item.seq} {item.key} {item.kind:<15} {item.state:<11} {stamp} attempts {item.attempts}"
                  + (f" — {item.last_error}" if item.last_error else ""))
        return 0
    finally:
        services.stop()

