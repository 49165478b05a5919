"""Versioned schema migrations of the reference backend, for SQLite and PostgreSQL alike.

``migrate(db, files)`` brings a database to the newest version in place and returns the
versions it applied. Each migration runs in its own transaction (DDL is transactional on both
databases), under an advisory lock on PostgreSQL so that several workers or hosts starting at
once apply it exactly once, and is recorded in ``schema_migrations``. A database made before
migrations were versioned (an issue-12 SQLite file) upgrades too: every step checks what is
already there.

1. the tables of the contract (as of issue 12);
2. the columns of following, collecting and alerts (``refbackend.followup``);
3. page images and pickup photos move out of the rows into the file store
   (``refbackend.filestore``): the rows keep the file's path;
4. secrets that every worker must share (the key of the clerk's form token).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from refbackend.db import Database

log = logging.getLogger(__name__)

_BASE = """
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id TEXT PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL, doors INTEGER NOT NULL,
    created_at TEXT NOT NULL, last_heartbeat_at TEXT, last_heartbeat TEXT);
CREATE TABLE IF NOT EXISTS nonces (
    terminal_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (terminal_id, nonce));
CREATE TABLE IF NOT EXISTS idempotency (
    terminal_id TEXT NOT NULL, key TEXT NOT NULL, endpoint TEXT NOT NULL, request_hash TEXT NOT NULL,
    status INTEGER NOT NULL, response TEXT NOT NULL, ref TEXT, created_at TEXT NOT NULL,
    PRIMARY KEY (terminal_id, key));
CREATE TABLE IF NOT EXISTS catalog_items (
    code TEXT PRIMARY KEY, version INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS catalog_items_version ON catalog_items(version);
CREATE TABLE IF NOT EXISTS applications (
    application_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, item_code TEXT NOT NULL, item_name TEXT NOT NULL,
    applicant TEXT NOT NULL, holder_id TEXT NOT NULL, agent TEXT, form TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, acceptance_number TEXT);
CREATE TABLE IF NOT EXISTS pages (
    application_id TEXT NOT NULL, material_index INTEGER NOT NULL, page_no INTEGER NOT NULL,
    content_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, data {blob} NOT NULL,
    uploaded_at TEXT NOT NULL, PRIMARY KEY (application_id, material_index, page_no));
CREATE TABLE IF NOT EXISTS cases (
    acceptance_number TEXT PRIMARY KEY, application_id TEXT NOT NULL UNIQUE, terminal_id TEXT NOT NULL,
    item_code TEXT NOT NULL, item_name TEXT NOT NULL, kind TEXT NOT NULL, holder_id TEXT NOT NULL,
    verification_code TEXT NOT NULL, state TEXT NOT NULL, accepted_at TEXT NOT NULL, promised_date TEXT,
    agent_handled INTEGER NOT NULL, decision TEXT, submit_result TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_holder ON cases(holder_id);
CREATE TABLE IF NOT EXISTS case_events (
    id {serial}, acceptance_number TEXT NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL,
    title TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pickups (
    pickup_id TEXT PRIMARY KEY, acceptance_number TEXT NOT NULL, terminal_id TEXT NOT NULL, door INTEGER NOT NULL,
    pickup_code TEXT NOT NULL, result_name TEXT NOT NULL, issued_at TEXT NOT NULL, picked_up_at TEXT,
    door_closed INTEGER, door_closed_at TEXT, verified_by TEXT, photo {blob});
CREATE INDEX IF NOT EXISTS pickups_open ON pickups(terminal_id, picked_up_at);
CREATE TABLE IF NOT EXISTS ratings (
    rating_id TEXT PRIMARY KEY, acceptance_number TEXT NOT NULL, terminal_id TEXT NOT NULL, level INTEGER NOT NULL,
    reasons TEXT NOT NULL, comment TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failed_attempts (
    terminal_id TEXT NOT NULL, kind TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grid_workers (
    worker_id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL, staff_code TEXT UNIQUE,
    id_number TEXT UNIQUE, pin_hash TEXT NOT NULL, failed_pins INTEGER NOT NULL DEFAULT 0,
    locked_until DOUBLE PRECISION NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identity_codes (
    code_hash TEXT PRIMARY KEY, person TEXT NOT NULL, expires_at TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS staff_calls (
    call_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, terminal_name TEXT NOT NULL, screen TEXT NOT NULL,
    called_at TEXT NOT NULL, recorded_at TEXT NOT NULL, handled_at TEXT);
CREATE INDEX IF NOT EXISTS staff_calls_open ON staff_calls(handled_at, recorded_at);
CREATE TABLE IF NOT EXISTS application_extras (
    application_id TEXT PRIMARY KEY, materials TEXT NOT NULL, consent TEXT, delivery TEXT);
CREATE TABLE IF NOT EXISTS licences (
    licence_id TEXT PRIMARY KEY, holder_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    issuer TEXT NOT NULL, number TEXT NOT NULL, issued_on TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS licences_holder ON licences(holder_id, kind);
CREATE TABLE IF NOT EXISTS audit_events (
    audit_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL,
    recorded_at TEXT NOT NULL, action TEXT NOT NULL, device TEXT NOT NULL, detail TEXT NOT NULL,
    outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_events_recent ON audit_events(recorded_at);
"""

_TYPES = {"sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
          "postgresql": {"blob": "BYTEA", "serial": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}}

#: table → columns added for issue 12 (name, SQL type)
FOLLOW_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "cases": (("supplement", "TEXT"), ("delivery", "TEXT"), ("delivery_terminal", "TEXT")),
    "pickups": (("cancelled_at", "TEXT"),),
    "staff_calls": (("alert", "TEXT"), ("door", "INTEGER")),
}


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _base(db: Database, conn: Any, files: Any) -> None:
    for statement in _statements(_BASE.format(**_TYPES[db.dialect])):
        conn.execute(statement)


def _follow_columns(db: Database, conn: Any, files: Any) -> None:
    for table, columns in FOLLOW_COLUMNS.items():
        have = db.columns(conn, table)
        for name, kind in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _file_store(db: Database, conn: Any, files: Any) -> None:
    """Page images and pickup photos to files (0600); the rows keep the path relative to the store."""
    have_pages, have_pickups = db.columns(conn, "pages"), db.columns(conn, "pickups")
    if "path" not in have_pages:
        conn.execute("ALTER TABLE pages ADD COLUMN path TEXT")
    if "photo_path" not in have_pickups:
        conn.execute("ALTER TABLE pickups ADD COLUMN photo_path TEXT")
    moved = 0
    if "data" in have_pages:
        for row in conn.execute("SELECT application_id, material_index, page_no, content_type, sha256 FROM pages "
                                "WHERE path IS NULL").fetchall():
            data = conn.execute("SELECT data FROM pages WHERE application_id=? AND material_index=? AND page_no=?",
                                (row[0], row[1], row[2])).fetchone()[0]
            path = files.put_page(row[0], row[1], row[2], row[3], bytes(data), row[4])
            conn.execute("UPDATE pages SET path=? WHERE application_id=? AND material_index=? AND page_no=?",
                         (path, row[0], row[1], row[2]))
            moved += 1
        conn.execute("ALTER TABLE pages DROP COLUMN data")
    if "photo" in have_pickups:
        for row in conn.execute("SELECT pickup_id, photo FROM pickups WHERE photo IS NOT NULL").fetchall():
            conn.execute("UPDATE pickups SET photo_path=? WHERE pickup_id=?",
                         (files.put_photo(row[0], bytes(row[1])), row[0]))
            moved += 1
        conn.execute("ALTER TABLE pickups DROP COLUMN photo")
    if moved:
        log.info("images moved to the file store", extra={"fields": {"files": moved}})


def _server_secrets(db: Database, conn: Any, files: Any) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS server_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL, "
                 "created_at TEXT NOT NULL)")


def _login_throttle(db: Database, conn: Any, files: Any) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS login_throttle (kind TEXT NOT NULL, name TEXT NOT NULL, "
                 "failures INTEGER NOT NULL, last_failure DOUBLE PRECISION NOT NULL, "
                 "locked_until DOUBLE PRECISION NOT NULL, PRIMARY KEY (kind, name))")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Database, Any, Any], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the tables of the contract", _base),
    Migration(2, "following, collecting and alerts", _follow_columns),
    Migration(3, "page images and photos in the file store", _file_store),
    Migration(4, "secrets every worker shares", _server_secrets),
    Migration(5, "clerk login throttle every worker shares", _login_throttle),
)

LATEST = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    with db.read() as conn:
        if "schema_migrations" not in db.tables(conn):
            return 0
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


def migrate(db: Database, files: Any, upto: int = LATEST) -> list[int]:
    """Apply the migrations the database lacks, up to ``upto``; return their versions."""
    applied = []
    with db.transaction() as conn:
        db.lock(conn, "refbackend-schema")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at TEXT NOT NULL)")
    for migration in MIGRATIONS:
        if migration.version > upto:
            break
        with db.transaction() as conn:
            db.lock(conn, "refbackend-schema")
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE version=?", (migration.version,)).fetchone()
            if done is not None:
                continue
            migration.apply(db, conn, files)
            conn.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)",
                         (migration.version, migration.name,
                          datetime.now(timezone.utc).isoformat(timespec="seconds")))
            applied.append(migration.version)
    if applied:
        log.info("database schema upgraded", extra={"fields": {"dialect": db.dialect, "applied": applied,
                                                               "version": max(applied)}})
    newer = current_version(db)
    if newer > LATEST:
        raise RuntimeError(f"the database has schema version {newer}, newer than this backend knows ({LATEST}): "
                           "run the newer backend, or restore a backup")
    return applied
