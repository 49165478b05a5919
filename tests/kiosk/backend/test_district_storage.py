"""The backend's storage at district scale: both databases, versioned migrations, the file store.

An application's page goes to a file (0600) and not into a row; a database made by an
older version (page images in rows) is upgraded in place, on SQLite and on PostgreSQL, with
nothing lost; a bad `--db` gets one clear line.
"""
from __future__ import annotations

import hashlib
import sqlite3
import stat
import uuid

import pytest

from backend_support import (current_database, jpeg_page, open_store, person, pick_item, start_reference_backend,
                             stored_bytes)
from kiosk.backend import models as m
from kiosk.backend.signing import generate_key
from kiosk.cli import main
from refbackend import migrations
from refbackend.db import DatabaseUnavailable, describe, open_database
from refbackend.filestore import FileStore
from refbackend.store import ReferenceStore


def _apply(client, item, page):
    application = client.create_application(m.ApplicationCreate(item_code=item.code, applicant=person()),
                                            str(uuid.uuid4()))
    for index, material in enumerate(item.materials):
        if material.required and material.kiosk_capture:
            client.upload_page(application.application_id, index, 1, page, "image/jpeg")
    return client.submit_application(application.application_id, m.SubmitRequest(declaration_accepted=True),
                                     str(uuid.uuid4()))


def test_a_page_is_a_private_file_not_a_database_row(tmp_path):
    backend = start_reference_backend(tmp_path / "backend.sqlite3")
    client = backend.client()
    page = jpeg_page(40 * 1024, seed=11)
    try:
        result = _apply(client, pick_item("承诺件"), page)
        kind, data = backend.store.page_data(result.acceptance_number, *next(
            (i, 1) for i, x in enumerate(pick_item("承诺件").materials) if x.required and x.kiosk_capture))
        assert (kind, data) == ("image/jpeg", page)  # the clerk sees the page as it was sent
        root = backend.store.files.root
        files = [p for p in root.rglob("*") if p.is_file()]
        assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
        assert stat.S_IMODE((root / "pages").stat().st_mode) == 0o700
        assert any(hashlib.sha256(p.read_bytes()).hexdigest() == hashlib.sha256(page).hexdigest() for p in files)
        assert result.application_id not in "".join(p.name for p in files if p.parent == root)  # names in folders
    finally:
        client.close()
        backend.stop()
    assert page[1000:1064] not in stored_bytes(tmp_path / "backend.sqlite3")  # the image is in no row


def _legacy_rows(conn, blob: bytes) -> None:
    """What an issue-12 backend kept: a terminal, a submitted application with its page in the row."""
    now = "2026-11-02T09:00:00+08:00"
    conn.execute("INSERT INTO terminals(terminal_id, name, key, doors, created_at) VALUES (?,?,?,?,?)",
                 ("HK-OLD-001", "旧终端", generate_key(), 12, now))
    conn.execute("INSERT INTO applications(application_id, terminal_id, item_code, item_name, applicant, holder_id, "
                 "agent, form, status, created_at, acceptance_number) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 ("APOLD0001", "HK-OLD-001", "370503-X-0001", "测试事项", person().model_dump_json(),
                  person().id_number, None, "{}", "submitted", now, "370503-20261102-000001"))
    conn.execute("INSERT INTO cases(acceptance_number, application_id, terminal_id, item_code, item_name, kind, "
                 "holder_id, verification_code, state, accepted_at, promised_date, agent_handled, decision, "
                 "submit_result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 ("370503-20261102-000001", "APOLD0001", "HK-OLD-001", "370503-X-0001", "测试事项", "承诺件",
                  person().id_number, "123456", "accepted", now, None, 0, None, "{}"))
    conn.execute("INSERT INTO pages(application_id, material_index, page_no, content_type, size, sha256, data, "
                 "uploaded_at) VALUES (?,?,?,?,?,?,?,?)",
                 ("APOLD0001", 0, 1, "image/jpeg", len(blob), hashlib.sha256(blob).hexdigest(), blob, now))


def _check_upgraded(store: ReferenceStore, blob: bytes) -> None:
    assert store.page_data("370503-20261102-000001", 0, 1) == ("image/jpeg", blob)
    with store.db.read() as conn:
        assert "data" not in store.db.columns(conn, "pages")
        assert {"supplement", "delivery"} <= store.db.columns(conn, "cases")
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m.version for m in migrations.MIGRATIONS]
    files = [p for p in store.files.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert store.clerk_case("370503-20261102-000001").state == "accepted"


def test_an_issue_12_sqlite_database_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite3"
    blob = jpeg_page(8 * 1024, seed=3)
    conn = sqlite3.connect(path)  # made the way the old store made it: no schema_migrations table
    conn.executescript(migrations._BASE.format(**migrations._TYPES["sqlite"]))
    conn.execute("ALTER TABLE cases ADD COLUMN supplement TEXT")  # one issue-12 column already there
    _legacy_rows(conn, blob)
    conn.commit()
    conn.close()
    store = ReferenceStore(path)
    try:
        _check_upgraded(store, blob)
        assert store.files.root == tmp_path / "old.sqlite3.files"
    finally:
        store.close()
    assert blob[500:564] not in path.read_bytes()
    again = ReferenceStore(path)  # opening it again applies nothing
    again.close()


def test_a_postgresql_database_at_version_1_is_upgraded_in_place(postgres, tmp_path):
    url = postgres.new_database(migrated=False)
    blob = jpeg_page(8 * 1024, seed=5)
    db = open_database(url)
    try:
        assert migrations.migrate(db, FileStore(tmp_path / "unused"), upto=1) == [1]
        with db.transaction() as conn:
            _legacy_rows(conn, blob)
    finally:
        db.close()
    store = ReferenceStore(url, files=tmp_path / "files")
    try:
        _check_upgraded(store, blob)
    finally:
        store.close()


def test_workers_refuse_a_database_that_was_not_upgraded(postgres, tmp_path):
    url = postgres.new_database(migrated=False)
    with pytest.raises(DatabaseUnavailable, match=f"schema version {migrations.LATEST}"):
        ReferenceStore(url, files=tmp_path, migrate_schema=False)


def test_a_password_never_shows_in_what_the_backend_prints():
    assert describe("postgresql://kiosk:s3cret@db.example:5432/district") == "postgresql://kiosk@db.example:5432/district"


@pytest.mark.parametrize("db,problem", [
    ("postgresql://kiosk:s3cret@127.0.0.1:1/district", "cannot connect to postgresql://kiosk@127.0.0.1:1/district"),
    ("mysql://kiosk@127.0.0.1/district", "give a SQLite file path or postgresql://"),
], ids=["unreachable", "other-database"])
def test_a_bad_database_gets_one_clear_line(tmp_path, capsys, monkeypatch, db, problem):
    monkeypatch.chdir(tmp_path)
    assert main(["backend", "serve", "--db", db, "--files", str(tmp_path / "f"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert problem in err and "s3cret" not in err and "Traceback" not in err
    if db.startswith("mysql"):  # refused before anything was written: no clerk password beside "mysql:/…"
        assert not (tmp_path / "mysql:").exists()


def test_postgresql_without_a_file_store_is_refused_before_starting(capsys):
    assert main(["backend", "serve", "--db", "postgresql://kiosk@127.0.0.1:1/district", "--port", "0"]) == 2
    assert "--files DIR" in capsys.readouterr().err


def test_the_contract_runs_on_the_database_of_the_run(tmp_path):
    store = open_store(tmp_path / "x.sqlite3")
    try:
        assert store.db.dialect == current_database()
    finally:
        store.close()


def test_a_clerk_form_from_one_worker_is_accepted_by_another(tmp_path):
    """Two servers on one database (two workers, or two hosts): the form a clerk got from one is
    accepted by the other; a stale token is refused; a new password makes a new token."""
    import re

    import requests

    from refbackend.server import start_embedded

    servers = [start_embedded(open_store(tmp_path / "b.sqlite3"), clerk_password="clerk-password-1")
               for _ in range(2)]
    try:
        page = requests.get(servers[0].url + "/clerk", auth=("clerk", "clerk-password-1"), timeout=10)
        token = re.search(r'var csrf = "([^"]+)"', page.text).group(1)
        posted = [requests.post(f"{servers[1].url}/clerk/staff-calls/SC-NONE/handled", data={"csrf": value},
                                auth=("clerk", "clerk-password-1"), timeout=10, allow_redirects=False)
                  for value in (token, "stale")]
        assert posted[0].status_code != 403  # past the token check: the call is unknown, not the form
        assert posted[1].status_code == 403 and "reload the page" in posted[1].text
        store = servers[0].store
        assert store.form_token("another-password") != store.form_token("clerk-password-1")
    finally:
        for server in servers:
            server.stop()
