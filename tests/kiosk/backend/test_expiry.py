"""Drafts and idempotency records do not live for ever: after ``RETENTION_DAYS`` a draft (never
submitted) goes with its page images, and so do the idempotency records; submitted applications
and their cases stay. Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import json
import time

import pytest

from backend_support import catalog_items, jpeg_page, open_store, person, pick_item
from kiosk.backend import models as m
from kiosk.backend.signing import generate_key
from refbackend.filestore import FileStoreError
from refbackend.store import RETENTION_DAYS

TERMINAL = "HK-EXP-001"


def test_old_drafts_and_idempotency_records_expire_and_cases_stay(tmp_path, contract_db):
    now = [time.time()]
    store = open_store(tmp_path / "backend.sqlite3", clock=lambda: now[0])
    try:
        store.seed_catalog(list(catalog_items()))
        store.register_terminal(TERMINAL, generate_key(), "测试终端", doors=12)
        item = pick_item("承诺件")
        request = m.ApplicationCreate(item_code=item.code, applicant=person("王*明"))

        def create(key: str) -> str:
            status, text, _again = store.idempotent(TERMINAL, key, "create", key.encode(),
                                                    lambda conn: store.create_application(conn, TERMINAL, request))
            assert status == 201
            return json.loads(text)["application_id"]

        old_draft = create("draft-old")
        store.put_page(TERMINAL, old_draft, 0, 1, "image/jpeg", jpeg_page(20 * 1024))
        page_path = _page_path(store, old_draft)
        assert store.files.read(page_path)
        submitted = create("draft-submitted")
        for index, material in enumerate(item.materials):
            if material.required and material.kiosk_capture:
                store.put_page(TERMINAL, submitted, index, 1, "image/jpeg", jpeg_page(20 * 1024))
        with store.tx() as conn:
            store.submit(conn, TERMINAL, submitted, m.SubmitRequest(declaration_accepted=True))
        assert store.expire_stale() == (0, 0)  # nothing is old yet

        now[0] += (RETENTION_DAYS + 1) * 86400
        fresh = create("draft-fresh")  # a draft made today stays
        assert store.expire_stale() == (1, 2)
        assert store.expire_stale() == (0, 0)
        with store.db.read() as conn:
            left = {row["application_id"] for row in conn.execute("SELECT application_id FROM applications")}
            keys = {row["key"] for row in conn.execute("SELECT key FROM idempotency")}
        assert left == {submitted, fresh} and keys == {"draft-fresh"}
        with pytest.raises(FileStoreError):  # the expired draft's page image is gone too
            store.files.read(page_path)
        assert store.count("cases") == 1
    finally:
        store.close()


def _page_path(store, application_id: str) -> str:
    with store.db.read() as conn:
        return conn.execute("SELECT path FROM pages WHERE application_id=?", (application_id,)).fetchone()["path"]
