"""The reference backend's data and rules, on SQLite or PostgreSQL.

Everything the contract promises happens here: catalogue versions for incremental sync,
idempotency keys honoured per terminal, applications and their pages, acceptance numbers
and promised dates, the case timeline, clerk decisions and remedies, results issued into
a terminal's locker door, pickups that close a case, ratings and heartbeats. Grid
workers signing in with a staff code or staff card and a PIN (locked after 5 wrong PINs),
personal identity codes resolved to a person, and staff calls from terminals are here too.
The HTTP layer (``refbackend.app``) only translates between HTTP and these methods. The steps
between acceptance and decision (审查中, 补正), re-issuing a result, the clerk's ratings and the
door flags are in the mixin ``refbackend.followup``.

Each operation is one transaction of ``refbackend.db`` (SQLite: one connection, one lock,
``BEGIN IMMEDIATE``; PostgreSQL: a pooled connection). What several workers must share is in
the database: idempotency keys (a repeat of a key waits for the first, then gets its answer),
nonces, failed attempts, acceptance numbers (one counter row per day, taken by an upsert that
locks it); rows that two requests could change at once (an application being submitted, a
pickup, a case, a terminal's doors) are locked for the transaction. Page images and pickup
photos are files in ``refbackend.filestore``; the schema is made and upgraded by
``refbackend.migrations``. Caches in process memory are only of what the database can
re-check cheaply: a terminal's key (10 s) and parsed catalogue items (per version).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import math
import re
import secrets
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk.backend import models as m
from kiosk.backend.signing import NONCE_MEMORY_SECONDS, parse_key
from refbackend.masking import mask_id_number, mask_name
from refbackend import migrations
from refbackend.db import DatabaseUnavailable, describe, is_postgresql, open_database
from refbackend.filestore import FileStore, FileStoreError, MemoryFileStore, NoFileStore
from refbackend.followup import FollowupStore, case_extras, delivery_for

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "CST")
DIVISION = "370503"
MAX_PAGE_BYTES = 10 * 1024 * 1024
MAX_PAGES_PER_MATERIAL = 30
FAILED_ATTEMPTS_LIMIT = 10
FAILED_ATTEMPTS_WINDOW = 600
KEY_CACHE_SECONDS = 10
#: Drafts (applications never submitted, with their page images) and idempotency records are
#: deleted after this long. Longer than a kiosk's outbox keeps retrying through an outage, so
#: that a repeat of a request that did arrive is still recognised (and never makes a second case).
RETENTION_DAYS = 30
EXPIRY_EVERY_SECONDS = 3600

DEFAULT_REMEDIES = (
    m.Remedy(kind="行政复议", authority="东营市河口区人民政府",
             time_limit="自知道该决定之日起60日内"),
    m.Remedy(kind="行政诉讼", authority="东营市河口区人民法院",
             time_limit="自知道该决定之日起6个月内"),
)



_UPSERT_ITEM = ("INSERT INTO catalog_items(code, version, removed, body) VALUES (?,?,0,?) ON CONFLICT (code) "
                "DO UPDATE SET version=excluded.version, removed=0, body=excluded.body")


class ApiError(Exception):
    """A refusal the HTTP layer turns into an ``ErrorBody`` with this status."""

    def __init__(self, status: int, code: str, message: str, fields: list[m.FieldProblem] | None = None, *,
                 attempts_left: int | None = None, retry_after_seconds: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.attempts_left = attempts_left
        self.retry_after_seconds = retry_after_seconds


def add_working_days(start: date, days: int) -> date:
    """``days`` working days after ``start`` (Saturdays and Sundays skipped)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of a PIN, with its parameters: ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return secrets.compare_digest(actual.hex(), digest)


def _code_hash(code: str) -> str:
    """Identity codes are bearer credentials: only their SHA-256 is kept."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class ReferenceStore(FollowupStore):
    def __init__(self, path: Path | str = ":memory:", clock: Callable[[], float] = time.time,
                 files: Path | str | None = None, migrate_schema: bool = True):
        """Open (and create or upgrade, unless ``migrate_schema`` is false) the database at ``path``:
        a SQLite file, ``:memory:``, or a ``postgresql://`` URL. Page images go to ``files``: by
        default a folder next to a SQLite file, memory for ``:memory:``; on PostgreSQL
        there is none unless given, and storing a page then fails with that reason."""
        self.path = str(path)
        self.clock = clock
        if files is not None:
            self.files = FileStore(files)
        elif is_postgresql(self.path):
            self.files = NoFileStore()  # registering terminals and workers needs none; pages do
        elif self.path == ":memory:":
            self.files = MemoryFileStore()
        else:
            self.files = FileStore(Path(self.path).with_name(Path(self.path).name + ".files"))
        try:
            self.db = open_database(path)
        except BaseException:
            self.files.close()
            raise
        try:
            if migrate_schema:
                migrations.migrate(self.db, self.files)
            elif migrations.current_version(self.db) != migrations.LATEST:
                raise DatabaseUnavailable(f"the database {describe(self.path)} is not at schema version "
                                          f"{migrations.LATEST}: start the backend once without workers to upgrade it")
        except BaseException:
            self.close()
            raise
        self._keys: dict[str, tuple[float, bytes]] = {}
        self._items: dict[str, tuple[int, m.ServiceItem]] = {}
        self._last_prune = 0.0
        self._last_expiry = 0.0

    def close(self) -> None:
        self.db.close()
        self.files.close()

    def tx(self):
        """One write transaction (``refbackend.db``); a transaction inside another joins it."""
        return self.db.transaction()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), CHINA)

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    # -- terminals and signatures ----------------------------------------------------------
    def register_terminal(self, terminal_id: str, key_text: str, name: str = "", doors: int = 24) -> None:
        parse_key(key_text, "the terminal key")  # refuse a bad key now, not at the first request
        with self.tx() as conn:
            conn.execute("INSERT INTO terminals(terminal_id, name, key, doors, created_at) VALUES (?,?,?,?,?) "
                         "ON CONFLICT(terminal_id) DO UPDATE SET name=excluded.name, key=excluded.key, "
                         "doors=excluded.doors", (terminal_id, name or terminal_id, key_text.strip(), doors,
                                                  self._stamp()))
        self._keys.pop(terminal_id, None)

    def terminal_key(self, terminal_id: str) -> bytes | None:
        """The terminal's key, read again after ``KEY_CACHE_SECONDS``: a key changed by another worker
        or by ``kiosk backend add-terminal`` is in force everywhere within that time."""
        cached = self._keys.get(terminal_id)
        if cached is not None and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        with self.db.read() as conn:
            row = conn.execute("SELECT key FROM terminals WHERE terminal_id=?", (terminal_id,)).fetchone()
        if row is None:
            self._keys.pop(terminal_id, None)
            return None
        key = parse_key(row["key"])
        self._keys[terminal_id] = (time.monotonic(), key)
        return key

    def remember(self, terminal_id: str, nonce: str, timestamp: int, now: float) -> bool:
        """Record a request's nonce in the database; False when any worker has seen it before (a replay)."""
        # no fsync per nonce: a nonce only has to outlive the 10-minute replay window, and losing the
        # last few to a power cut reopens that window only for requests whose Idempotency-Key still
        # makes a repeat harmless
        with self.db.transaction(durable=False) as conn:
            if now - self._last_prune > 60:
                conn.execute("DELETE FROM nonces WHERE seen_at < ?", (now - NONCE_MEMORY_SECONDS,))
                self._last_prune = now
            added = conn.execute("INSERT INTO nonces(terminal_id, nonce, seen_at) VALUES (?,?,?) "
                                 "ON CONFLICT (terminal_id, nonce) DO NOTHING", (terminal_id, nonce, now)).rowcount
        if now - self._last_expiry > EXPIRY_EVERY_SECONDS:
            self._last_expiry = now
            self.expire_stale()
        return added == 1

    def expire_stale(self) -> tuple[int, int]:
        """Delete drafts older than ``RETENTION_DAYS`` with their page images, and idempotency
        records as old; returns (drafts, records) deleted. Runs at most hourly, on the requests'
        path; any worker may run it."""
        cutoff = (self.now() - timedelta(days=RETENTION_DAYS)).isoformat(timespec="seconds")
        with self.tx() as conn:
            drafts = [row["application_id"] for row in conn.execute(
                "SELECT application_id FROM applications WHERE status='draft' AND created_at < ?", (cutoff,))]
            paths = []
            for application_id in drafts:
                paths += [row["path"] for row in conn.execute("SELECT path FROM pages WHERE application_id=?",
                                                              (application_id,)) if row["path"]]
                conn.execute("DELETE FROM pages WHERE application_id=?", (application_id,))
                conn.execute("DELETE FROM application_extras WHERE application_id=?", (application_id,))
                conn.execute("DELETE FROM applications WHERE application_id=?", (application_id,))
            records = conn.execute("DELETE FROM idempotency WHERE created_at < ?", (cutoff,)).rowcount
        for path in paths:  # after the commit: a row never points to a missing image
            self.files.remove(path)
        if drafts or records:
            log.info("expired stale drafts and idempotency records",
                     extra={"fields": {"drafts": len(drafts), "records": records, "days": RETENTION_DAYS}})
        return len(drafts), records

    def _terminal(self, conn: Any, terminal_id: str) -> Any:
        row = conn.execute("SELECT * FROM terminals WHERE terminal_id=?", (terminal_id,)).fetchone()
        if row is None:
            raise ApiError(404, "unknown_terminal", "no terminal with this id is registered")
        return row

    def form_token(self, clerk_password: str) -> str:
        """The token the clerk's forms carry: the same in every worker (derived from a random key kept
        in the database, made on first use), and a new one when the clerk's password changes."""
        with self.tx() as conn:
            conn.execute("INSERT INTO server_secrets(name, value, created_at) VALUES ('clerk-forms', ?, ?) "
                         "ON CONFLICT (name) DO NOTHING", (secrets.token_hex(32), self._stamp()))
            key = conn.execute("SELECT value FROM server_secrets WHERE name='clerk-forms'").fetchone()[0]
        digest = hmac.new(bytes.fromhex(key), b"clerk-forms\n" + clerk_password.encode("utf-8"), "sha256").digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:32]

    # -- idempotency -----------------------------------------------------------------------
    def idempotent(self, terminal_id: str, key: str, endpoint: str, body: bytes,
                   operation: Callable[[Any], tuple[int, Any, str | None]]) -> tuple[int, str, bool]:
        """Run ``operation`` once per (terminal, key); a repeat gets the stored answer (and ``True``).

        ``operation`` returns (status, model, ref); ``ref`` links the key to what it made
        (an application id), for ratings that name their case by the application's key.
        """
        request_hash = hashlib.sha256(endpoint.encode() + b"\n" + body).hexdigest()
        with self.tx() as conn:
            self.db.lock(conn, f"idempotency:{terminal_id}:{key}")  # a concurrent repeat waits, then replays
            row = conn.execute("SELECT endpoint, request_hash, status, response FROM idempotency "
                               "WHERE terminal_id=? AND key=?", (terminal_id, key)).fetchone()
            if row is not None:
                if row["endpoint"] != endpoint or row["request_hash"] != request_hash:
                    raise ApiError(409, "idempotency_key_reused",
                                   "this Idempotency-Key was already used for a different request")
                return row["status"], row["response"], True
            status, model, ref = operation(conn)
            text = model.model_dump_json()
            conn.execute("INSERT INTO idempotency(terminal_id, key, endpoint, request_hash, status, response, ref, "
                         "created_at) VALUES (?,?,?,?,?,?,?,?)",
                         (terminal_id, key, endpoint, request_hash, status, text, ref, self._stamp()))
            return status, text, False

    # -- catalogue -------------------------------------------------------------------------
    def _next_version(self, conn: Any) -> int:
        self.db.lock(conn, "catalog")  # one catalogue writer at a time across workers
        row = conn.execute("SELECT MAX(version) FROM catalog_items").fetchone()
        return (row[0] or 0) + 1

    def catalog_version(self) -> int:
        with self.db.read() as conn:
            return conn.execute("SELECT COALESCE(MAX(version), 0) FROM catalog_items").fetchone()[0]

    def seed_catalog(self, items: Iterable[m.ServiceItem], remove_missing: bool = True) -> tuple[int, int]:
        """Make the catalogue equal to ``items``: changed items get new versions, missing ones tombstones."""
        items = list(items)
        codes = [item.code for item in items]
        if len(set(codes)) != len(codes):
            raise ValueError("the catalogue lists an item code twice")
        changed = removed = 0
        with self.tx() as conn:
            current = {row["code"]: (row["body"], row["removed"])
                       for row in conn.execute("SELECT code, body, removed FROM catalog_items")}
            version = self._next_version(conn)
            for item in items:
                body = item.model_dump_json()
                if current.get(item.code) != (body, 0):
                    conn.execute(_UPSERT_ITEM,
                                 (item.code, version, body))
                    version += 1
                    changed += 1
            if remove_missing:
                wanted = set(codes)
                for code, (_body, was_removed) in current.items():
                    if code not in wanted and not was_removed:
                        conn.execute("UPDATE catalog_items SET removed=1, version=? WHERE code=?", (version, code))
                        version += 1
                        removed += 1
        self._items.clear()
        return changed, removed

    def upsert_item(self, item: m.ServiceItem) -> int:
        with self.tx() as conn:
            version = self._next_version(conn)
            conn.execute(_UPSERT_ITEM,
                         (item.code, version, item.model_dump_json()))
        self._items.pop(item.code, None)
        return version

    def remove_item(self, code: str) -> int:
        with self.tx() as conn:
            row = conn.execute("SELECT removed FROM catalog_items WHERE code=?", (code,)).fetchone()
            if row is None or row["removed"]:
                raise ApiError(404, "item_not_found", "no service item with this code")
            version = self._next_version(conn)
            conn.execute("UPDATE catalog_items SET removed=1, version=? WHERE code=?", (version, code))
        self._items.pop(code, None)
        return version

    def catalog_changes(self, since: int, limit: int) -> m.CatalogPage:
        with self.db.read() as conn:
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM catalog_items").fetchone()[0]
            if since > current:  # the terminal knows a catalogue this backend never had: start it over
                since = 0
            rows = conn.execute("SELECT code, version, removed, body FROM catalog_items WHERE version > ? "
                                      "ORDER BY version LIMIT ?", (since, limit + 1)).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        full = since == 0
        items = [m.ServiceItem.model_validate_json(r["body"]) for r in rows if not r["removed"]]
        removed = [] if full else [r["code"] for r in rows if r["removed"]]
        version = rows[-1]["version"] if has_more else current
        return m.CatalogPage(version=version, since_version=since, items=items, removed=removed,
                             has_more=has_more, full=full)

    def item(self, code: str) -> m.ServiceItem:
        """A catalogue item; the parsed item is kept per version, so an edit made through any worker
        is seen by the next request."""
        cached = self._items.get(code)
        with self.db.read() as conn:
            row = conn.execute("SELECT version FROM catalog_items WHERE code=? AND removed=0", (code,)).fetchone()
            if row is None:
                raise ApiError(404, "item_not_found", "no service item with this code")
            if cached is not None and cached[0] == row["version"]:
                return cached[1]
            body = conn.execute("SELECT version, body FROM catalog_items WHERE code=?", (code,)).fetchone()
        item = m.ServiceItem.model_validate_json(body["body"])
        self._items[code] = (body["version"], item)
        return item

    def all_items(self) -> list[m.ServiceItem]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT body FROM catalog_items WHERE removed=0 ORDER BY code").fetchall()
        return [m.ServiceItem.model_validate_json(r["body"]) for r in rows]

    # -- applications ----------------------------------------------------------------------
    def create_application(self, conn: Any, terminal_id: str,
                           request: m.ApplicationCreate) -> tuple[int, m.Application, str]:
        item = self.item(request.item_code)
        if not item.kiosk.can_apply:
            raise ApiError(409, "not_at_kiosk", "this item cannot be applied for at a terminal; the guide says "
                                                "where to go")
        if "自然人" not in item.service_objects:
            raise ApiError(409, "not_for_persons", "this item is for organisations, not for a person")
        self._check_provisions(conn, item, request)
        application_id = "AP" + uuid.uuid4().hex[:20].upper()
        conn.execute("INSERT INTO applications(application_id, terminal_id, item_code, item_name, applicant, "
                     "holder_id, agent, form, status, created_at) VALUES (?,?,?,?,?,?,?,?, 'draft', ?)",
                     (application_id, terminal_id, item.code, item.name, request.applicant.model_dump_json(),
                      request.applicant.id_number, request.agent.model_dump_json() if request.agent else None,
                      json.dumps(request.form, ensure_ascii=False), self._stamp()))
        if request.materials or request.consent or request.delivery:
            conn.execute("INSERT INTO application_extras(application_id, materials, consent, delivery) VALUES (?,?,?,?)",
                         (application_id, json.dumps([p.model_dump(mode="json") for p in request.materials]),
                          request.consent.model_dump_json() if request.consent else None,
                          request.delivery.model_dump_json() if request.delivery else None))
        return 201, self._application(conn, application_id, terminal_id), application_id

    # -- issue 11: materials provided otherwise than by pages, consent, delivery ------------
    def _check_provisions(self, conn: Any, item: m.ServiceItem, request: m.ApplicationCreate) -> None:
        """Refuse provisions that do not fit the item (422 with the field at fault)."""
        spec = item.application
        by_index = {mat.index: mat for mat in spec.materials} if spec else {}
        seen: set[int] = set()
        for position, provision in enumerate(request.materials):
            where = f"body.materials[{position}]"
            if provision.index >= len(item.materials) or provision.index in seen:
                raise ApiError(422, "bad_material", "a material is unknown or given twice",
                               [m.FieldProblem(field=where, problem="unknown or repeated material index")])
            seen.add(provision.index)
            mat = by_index.get(provision.index)
            if provision.how == "e_licence":
                row = conn.execute("SELECT kind FROM licences WHERE licence_id=? AND holder_id=?",
                                   (provision.licence_id, request.applicant.id_number)).fetchone()
                if row is None or (mat is not None and mat.licence != row["kind"]):
                    raise ApiError(422, "licence_not_found", "no such electronic licence of this applicant for "
                                                             "this material",
                                   [m.FieldProblem(field=where, problem="licence not found")])
            elif spec is not None and provision.how == "commitment" and not (mat and mat.commitment):
                raise ApiError(422, "commitment_not_allowed", "this material cannot be replaced by a commitment",
                               [m.FieldProblem(field=where, problem="commitment not allowed")])
            elif spec is not None and provision.how == "id_card" and not (mat and mat.satisfied_by_card):
                raise ApiError(422, "id_card_not_enough", "the ID card does not provide this material",
                               [m.FieldProblem(field=where, problem="not satisfied by the ID card")])
        if spec is not None and request.delivery is not None and request.delivery.method not in spec.delivery:
            raise ApiError(422, "delivery_not_offered", "this item is not delivered that way",
                           [m.FieldProblem(field="body.delivery.method", problem="not offered for this item")])

    def _provisions(self, conn: Any, application_id: str) -> dict[int, m.MaterialProvision]:
        row = conn.execute("SELECT materials FROM application_extras WHERE application_id=?",
                           (application_id,)).fetchone()
        if row is None:
            return {}
        return {p.index: p for p in (m.MaterialProvision.model_validate(x) for x in json.loads(row["materials"]))}

    def register_licence(self, holder_id: str, licence: m.Licence, number: str) -> None:
        """Hold an electronic licence for a person (the demo seed; a real platform asks the licence library)."""
        with self.tx() as conn:
            conn.execute("INSERT INTO licences(licence_id, holder_id, kind, name, issuer, number, issued_on) "
                         "VALUES (?,?,?,?,?,?,?) ON CONFLICT (licence_id) DO UPDATE SET holder_id=excluded.holder_id, "
                         "kind=excluded.kind, name=excluded.name, issuer=excluded.issuer, number=excluded.number, "
                         "issued_on=excluded.issued_on", (licence.licence_id, holder_id.strip().upper(), licence.kind,
                                                    licence.name, licence.issuer, number,
                                                    licence.issued_on.isoformat()))

    def find_licences(self, terminal_id: str, query: m.LicenceQuery) -> m.LicenceList:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM licences WHERE holder_id=? AND kind IN ({','.join('?' * len(query.kinds))}) "
                "ORDER BY kind, issued_on DESC", (query.holder.id_number, *query.kinds)).fetchall()
        log.info("electronic licences looked up", extra={"fields": {"terminal": terminal_id, "kinds": len(query.kinds),
                                                                    "found": len(rows)}})
        return m.LicenceList(licences=[self._licence(r) for r in rows])

    @staticmethod
    def _licence(row: Any) -> m.Licence:
        number = row["number"]
        masked = number[:2] + "*" * max(0, len(number) - 4) + number[-2:] if len(number) > 4 else "****"
        return m.Licence(licence_id=row["licence_id"], kind=row["kind"], name=row["name"], issuer=row["issuer"],
                         issued_on=date.fromisoformat(row["issued_on"]), number_masked=masked)

    def _application_row(self, conn: Any, application_id: str, terminal_id: str, lock: bool = False) -> Any:
        """The application's row; with ``lock`` no other transaction changes it until this one ends."""
        row = conn.execute("SELECT * FROM applications WHERE application_id=? AND terminal_id=?"
                           + (self.db.for_update if lock else ""), (application_id, terminal_id)).fetchone()
        if row is None:
            raise ApiError(404, "application_not_found", "no application with this id from this terminal")
        return row

    def _application(self, conn: Any, application_id: str, terminal_id: str) -> m.Application:
        row = self._application_row(conn, application_id, terminal_id)
        item = self.item(row["item_code"])
        pages: dict[int, list[m.PageInfo]] = {}
        for p in conn.execute("SELECT material_index, page_no, content_type, size, sha256 FROM pages "
                              "WHERE application_id=? ORDER BY material_index, page_no", (application_id,)):
            pages.setdefault(p["material_index"], []).append(
                m.PageInfo(page_no=p["page_no"], content_type=p["content_type"], size=p["size"], sha256=p["sha256"]))
        slots = [m.MaterialSlot(index=i, name=mat.name, required=mat.required, pages=pages.get(i, []))
                 for i, mat in enumerate(item.materials)]
        return m.Application(application_id=application_id, item_code=row["item_code"], item_name=row["item_name"],
                             status=row["status"], created_at=datetime.fromisoformat(row["created_at"]),
                             agent_handled=row["agent"] is not None, materials=slots,
                             acceptance_number=row["acceptance_number"])

    def get_application(self, terminal_id: str, application_id: str) -> m.Application:
        with self.db.read() as conn:
            return self._application(conn, application_id, terminal_id)

    def put_page(self, terminal_id: str, application_id: str, material_index: int, page_no: int,
                 content_type: str, data: bytes) -> m.PageReceipt:
        """Store a page: the image goes to the file store (0600), the row keeps its path and digest."""
        check_page(content_type, data)
        digest = hashlib.sha256(data).hexdigest()
        replaced: str | None = None
        written: str | None = None
        try:
            with self.tx() as conn:
                row = self._application_row(conn, application_id, terminal_id, lock=True)
                item = self.item(row["item_code"])
                if not 0 <= material_index < len(item.materials):
                    raise ApiError(404, "material_not_found", f"this item lists {len(item.materials)} materials "
                                                              f"(index 0 to {len(item.materials) - 1})")
                if not 1 <= page_no <= MAX_PAGES_PER_MATERIAL:
                    raise ApiError(422, "bad_page_number", f"page numbers run from 1 to {MAX_PAGES_PER_MATERIAL}")
                existing = conn.execute("SELECT sha256, path FROM pages WHERE application_id=? AND material_index=? "
                                        "AND page_no=?", (application_id, material_index, page_no)).fetchone()
                if row["status"] != "draft":
                    if existing is not None and existing["sha256"] == digest:
                        pass  # a late repeat of an upload that made it: harmless
                    else:
                        raise ApiError(409, "already_submitted", "the application was submitted; its pages are final")
                elif existing is None or existing["sha256"] != digest:
                    written = self.files.put_page(application_id, material_index, page_no, content_type, data, digest)
                    conn.execute("INSERT INTO pages(application_id, material_index, page_no, content_type, size, "
                                 "sha256, path, uploaded_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (application_id, "
                                 "material_index, page_no) DO UPDATE SET content_type=excluded.content_type, "
                                 "size=excluded.size, sha256=excluded.sha256, path=excluded.path, "
                                 "uploaded_at=excluded.uploaded_at",
                                 (application_id, material_index, page_no, content_type, len(data), digest, written,
                                  self._stamp()))
                    if existing is not None and existing["path"] != written:
                        replaced = existing["path"]
        except BaseException:
            if written is not None:
                self.files.remove(written)  # the row was not written: no image without a row
            raise
        if replaced:
            self.files.remove(replaced)
        return m.PageReceipt(application_id=application_id, material_index=material_index,
                             page=m.PageInfo(page_no=page_no, content_type=content_type, size=len(data), sha256=digest))

    def delete_page(self, terminal_id: str, application_id: str, material_index: int, page_no: int) -> None:
        with self.tx() as conn:
            row = self._application_row(conn, application_id, terminal_id, lock=True)
            if row["status"] != "draft":
                raise ApiError(409, "already_submitted", "the application was submitted; its pages are final")
            existing = conn.execute("SELECT path FROM pages WHERE application_id=? AND material_index=? AND page_no=?",
                                    (application_id, material_index, page_no)).fetchone()
            conn.execute("DELETE FROM pages WHERE application_id=? AND material_index=? AND page_no=?",
                         (application_id, material_index, page_no))
        if existing is not None and existing["path"]:
            self.files.remove(existing["path"])

    def page_data(self, acceptance_number: str, material_index: int, page_no: int) -> tuple[str, bytes]:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT p.content_type, p.path FROM pages p JOIN cases c ON c.application_id = p.application_id "
                "WHERE c.acceptance_number=? AND p.material_index=? AND p.page_no=?",
                (acceptance_number, material_index, page_no)).fetchone()
        if row is None:
            raise ApiError(404, "page_not_found", "no such page")
        try:
            return row["content_type"], self.files.read(row["path"])
        except FileStoreError:
            log.error("a page's file is missing from the file store", extra={"fields": {
                "acceptance_number": acceptance_number, "material": material_index, "page": page_no}})
            raise ApiError(404, "page_not_found", "the page's file is missing from the file store") from None

    def submit(self, conn: Any, terminal_id: str, application_id: str,
               request: m.SubmitRequest) -> tuple[int, m.SubmitResult, str]:
        row = self._application_row(conn, application_id, terminal_id, lock=True)
        if row["status"] == "submitted":  # submitted before (another key, or a lost answer): same result
            case = conn.execute("SELECT submit_result FROM cases WHERE application_id=?", (application_id,)).fetchone()
            return 200, m.SubmitResult.model_validate_json(case["submit_result"]), application_id
        if not request.declaration_accepted:
            raise ApiError(422, "declaration_required", "the applicant must confirm the materials are true")
        item = self.item(row["item_code"])
        have = {r[0] for r in conn.execute("SELECT DISTINCT material_index FROM pages WHERE application_id=?",
                                           (application_id,))}
        provided = self._provisions(conn, application_id)
        spec = {mat.index: mat for mat in item.application.materials} if item.application else {}
        missing = []
        for i, mat in enumerate(item.materials):
            wanted = mat.required or (i in spec and spec[i].agent_only and row["agent"] is not None)
            checked = mat.kiosk_capture or i in spec
            how = provided[i].how if i in provided else "pages"
            if not wanted or not checked:
                continue
            if how in ("id_card", "e_licence"):
                continue
            if i not in have:
                problem = "commitment not signed" if how == "commitment" else f"required material missing: {mat.name}"
                missing.append(m.FieldProblem(field=f"materials[{i}]", problem=problem))
        if missing:
            raise ApiError(422, "missing_materials", f"{len(missing)} required material(s) have no pages", missing)
        now = self.now()
        number = self._acceptance_number(conn, now)
        code = f"{secrets.randbelow(10 ** 6):06d}"
        agent = m.GridWorker.model_validate_json(row["agent"]) if row["agent"] else None
        terminal = self._terminal(conn, terminal_id)
        via = f"{terminal['name']}（{terminal_id}）自助终端受理"
        if agent:
            via += f"，网格员{mask_name(agent.name)}（工号 {agent.worker_id}）代办"
        immediate = item.time_limit.kind == "即办件"
        if immediate:
            promised = None
            message = f"即办件，已当场办结：准予办理。{('结果：' + item.result + '。') if item.result else ''}"
        else:
            promised = add_working_days(now.date(), item.time_limit.promised_days)
            message = (f"已受理，承诺 {item.time_limit.promised_days} 个工作日内办结，"
                       f"最晚 {promised.year}年{promised.month}月{promised.day}日。")
        result = m.SubmitResult(application_id=application_id, acceptance_number=number, verification_code=code,
                                item_code=item.code, item_name=item.name, accepted_at=now, kind=item.time_limit.kind,
                                outcome="completed" if immediate else "promised", message=message,
                                promised_date=promised, agent_handled=agent is not None)
        state = "approved" if immediate else "accepted"
        decision = None
        if immediate:
            decision = m.Decision(approved=True, decided_at=now, result_name=item.result, note="即办件，当场办结")
        conn.execute("UPDATE applications SET status='submitted', acceptance_number=? WHERE application_id=?",
                     (number, application_id))
        extras = conn.execute("SELECT delivery FROM application_extras WHERE application_id=?",
                              (application_id,)).fetchone()
        choice = m.DeliveryChoice.model_validate_json(extras["delivery"]) if extras is not None and extras["delivery"] \
            else None
        delivery = delivery_for(json.loads(row["form"] or "{}"), item.kiosk.can_pickup, choice)
        delivery_terminal = choice.terminal_id if choice is not None and choice.method == "locker" else terminal_id
        conn.execute("INSERT INTO cases(acceptance_number, application_id, terminal_id, item_code, item_name, kind, "
                     "holder_id, verification_code, state, accepted_at, promised_date, agent_handled, decision, "
                     "submit_result, delivery, delivery_terminal) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (number, application_id, terminal_id, item.code, item.name, item.time_limit.kind,
                      row["holder_id"], code, state, now.isoformat(timespec="seconds"),
                      promised.isoformat() if promised else None, int(agent is not None),
                      decision.model_dump_json() if decision else None, result.model_dump_json(),
                      delivery, delivery_terminal))
        self._event(conn, number, "accepted", "已受理", via)
        if immediate:
            self._event(conn, number, "approved", "已办结", "即办件，当场办结，准予办理")
        log.info("application accepted", extra={"fields": {"acceptance_number": number, "item": item.code,
                                                           "terminal": terminal_id, "agent": agent is not None}})
        return 201, result, application_id

    def _acceptance_number(self, conn: Any, now: datetime) -> str:
        day = now.strftime("%Y%m%d")
        name = f"acceptance-{day}"
        # one statement: on PostgreSQL the row lock of the upsert orders concurrent submissions
        value = conn.execute("INSERT INTO counters(name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET "
                             "value=counters.value+1 RETURNING value", (name,)).fetchone()[0]
        return f"{DIVISION}-{day}-{value:06d}"

    def _event(self, conn: Any, number: str, state: str, title: str, detail: str = "") -> None:
        conn.execute("INSERT INTO case_events(acceptance_number, at, state, title, detail) VALUES (?,?,?,?,?)",
                     (number, self._stamp(), state, title, detail))

    # -- cases -----------------------------------------------------------------------------
    def _case(self, conn: Any, number: str) -> m.CaseStatus:
        row = conn.execute("SELECT * FROM cases WHERE acceptance_number=?", (number,)).fetchone()
        if row is None:
            raise ApiError(404, "case_not_found", "no case with this acceptance number")
        events = [m.CaseEvent(at=datetime.fromisoformat(e["at"]), state=e["state"], title=e["title"],
                              detail=e["detail"])
                  for e in conn.execute("SELECT * FROM case_events WHERE acceptance_number=? ORDER BY id", (number,))]
        pickup_row = conn.execute("SELECT * FROM pickups WHERE acceptance_number=? AND cancelled_at IS NULL "
                                  "ORDER BY issued_at DESC LIMIT 1", (number,)).fetchone()
        pickup = None
        if pickup_row is not None:
            pickup = m.PickupInfo(terminal_id=pickup_row["terminal_id"], door=pickup_row["door"],
                                  issued_at=datetime.fromisoformat(pickup_row["issued_at"]),
                                  picked_up_at=datetime.fromisoformat(pickup_row["picked_up_at"])
                                  if pickup_row["picked_up_at"] else None)
        return m.CaseStatus(acceptance_number=number, item_code=row["item_code"], item_name=row["item_name"],
                            state=row["state"], state_text=m.CASE_STATE_TEXT[row["state"]],
                            accepted_at=datetime.fromisoformat(row["accepted_at"]), kind=row["kind"],
                            promised_date=date.fromisoformat(row["promised_date"]) if row["promised_date"] else None,
                            agent_handled=bool(row["agent_handled"]), timeline=events,
                            decision=m.Decision.model_validate_json(row["decision"]) if row["decision"] else None,
                            pickup=pickup, **case_extras(conn, row, self._item_or_none(row["item_code"])))

    def _item_or_none(self, code: str) -> m.ServiceItem | None:
        try:
            return self.item(code)
        except ApiError:
            return None

    def _check_attempts(self, conn: Any, terminal_id: str, kind: str) -> None:
        cutoff = self.clock() - FAILED_ATTEMPTS_WINDOW
        conn.execute("DELETE FROM failed_attempts WHERE at < ?", (cutoff,))
        count, oldest = conn.execute("SELECT COUNT(*), MIN(at) FROM failed_attempts WHERE terminal_id=? AND kind=?",
                                     (terminal_id, kind)).fetchone()
        if count >= FAILED_ATTEMPTS_LIMIT:
            # the oldest counted try leaves the window first: that is when one more try is allowed
            wait = max(1, math.ceil(oldest + FAILED_ATTEMPTS_WINDOW - self.clock()))
            raise ApiError(429, "too_many_attempts", "too many wrong codes from this terminal; try again in "
                                                     "a few minutes", retry_after_seconds=wait)

    def _fail_attempt(self, terminal_id: str, kind: str) -> None:
        with self.tx() as conn:
            conn.execute("INSERT INTO failed_attempts(terminal_id, kind, at) VALUES (?,?,?)",
                         (terminal_id, kind, self.clock()))

    def case_by_number(self, terminal_id: str, query: m.CaseQuery) -> m.CaseStatus:
        """A case by number and 查询码, or by number and its holder's ID (read from the card)."""
        with self.tx() as conn:
            self._check_attempts(conn, terminal_id, "case")
            row = conn.execute("SELECT verification_code, holder_id FROM cases WHERE acceptance_number=?",
                               (query.acceptance_number,)).fetchone()
            if row is None:
                ok = False
            elif query.holder is not None:
                ok = secrets.compare_digest(row["holder_id"], query.holder.id_number)
            else:
                ok = secrets.compare_digest(row["verification_code"], query.verification_code or "")
            if ok:
                return self._case(conn, query.acceptance_number)
        self._fail_attempt(terminal_id, "case")
        raise ApiError(404, "case_not_found", "no case with this acceptance number and verification code")

    def cases_by_holder(self, query: m.HolderQuery) -> m.CaseList:
        with self.db.read() as conn:
            rows = conn.execute("SELECT acceptance_number, item_name, state, accepted_at FROM cases "
                                      "WHERE holder_id=? ORDER BY accepted_at DESC, acceptance_number DESC LIMIT 50",
                                      (query.id_number,)).fetchall()
        return m.CaseList(cases=[m.CaseSummary(acceptance_number=r["acceptance_number"], item_name=r["item_name"],
                                               state=r["state"], state_text=m.CASE_STATE_TEXT[r["state"]],
                                               accepted_at=datetime.fromisoformat(r["accepted_at"])) for r in rows])

    # -- back office -----------------------------------------------------------------------
    def clerk_cases(self, state: str | None = None, holder_id_number: str | None = None) -> m.ClerkCaseList:
        query = ("SELECT c.*, a.applicant, a.agent, (SELECT COUNT(*) FROM pages p WHERE p.application_id = "
                 "c.application_id) AS page_count FROM cases c JOIN applications a USING (application_id)")
        where, args = [], []
        if state:
            where.append("c.state=?")
            args.append(state)
        if holder_id_number:
            where.append("c.holder_id=?")
            args.append(holder_id_number.strip().upper())
        if where:
            query += " WHERE " + " AND ".join(where)
        with self.db.read() as conn:
            rows = conn.execute(query + " ORDER BY c.accepted_at DESC, c.acceptance_number DESC LIMIT 500",
                                      args).fetchall()
        cases = []
        for r in rows:
            applicant = m.Person.model_validate_json(r["applicant"])
            agent = m.GridWorker.model_validate_json(r["agent"]) if r["agent"] else None
            cases.append(m.ClerkCase(
                acceptance_number=r["acceptance_number"], item_code=r["item_code"], item_name=r["item_name"],
                state=r["state"], state_text=m.CASE_STATE_TEXT[r["state"]],
                accepted_at=datetime.fromisoformat(r["accepted_at"]),
                promised_date=date.fromisoformat(r["promised_date"]) if r["promised_date"] else None,
                applicant_masked=f"{mask_name(applicant.name)} {mask_id_number(applicant.id_number)}",
                agent_masked=f"{mask_name(agent.name)}（{agent.worker_id}）" if agent else "", agent=agent,
                pages=r["page_count"], holder=m.Holder(id_type=applicant.id_type, id_number=applicant.id_number,
                                                       name=applicant.name)))
        return m.ClerkCaseList(cases=cases)

    def clerk_case(self, number: str) -> m.CaseStatus:
        with self.db.read() as conn:
            return self._case(conn, number)

    def clerk_case_detail(self, number: str) -> dict[str, Any]:
        """Everything the clerk's page shows about a case, including the applicant in full."""
        with self.db.read() as conn:
            case = self._case(conn, number)
            row = conn.execute("SELECT a.*, c.verification_code FROM applications a JOIN cases c "
                                     "USING (application_id) WHERE c.acceptance_number=?", (number,)).fetchone()
            pages = conn.execute("SELECT material_index, page_no, content_type, size FROM pages "
                                       "WHERE application_id=? ORDER BY material_index, page_no",
                                       (row["application_id"],)).fetchall()
            pickup = conn.execute("SELECT pickup_code, terminal_id, door, picked_up_at FROM pickups WHERE "
                                        "acceptance_number=? AND cancelled_at IS NULL ORDER BY issued_at DESC LIMIT 1",
                                        (number,)).fetchone()
            extras = conn.execute("SELECT * FROM application_extras WHERE application_id=?",
                                        (row["application_id"],)).fetchone()
            licences = {}
            if extras is not None:
                for provision in json.loads(extras["materials"]):
                    if provision.get("licence_id"):
                        found = conn.execute("SELECT * FROM licences WHERE licence_id=?",
                                                   (provision["licence_id"],)).fetchone()
                        if found is not None:
                            licences[provision["licence_id"]] = self._licence(found)
        return {"case": case, "applicant": m.Person.model_validate_json(row["applicant"]),
                "agent": m.GridWorker.model_validate_json(row["agent"]) if row["agent"] else None,
                "form": json.loads(row["form"]), "pages": [dict(p) for p in pages],
                "pickup": dict(pickup) if pickup else None,
                "provisions": [m.MaterialProvision.model_validate(x) for x in json.loads(extras["materials"])]
                if extras is not None else [],
                "consent": m.ConsentRecord.model_validate_json(extras["consent"])
                if extras is not None and extras["consent"] else None,
                "delivery": m.DeliveryChoice.model_validate_json(extras["delivery"])
                if extras is not None and extras["delivery"] else None,
                "licences": licences}

    def _lock_case(self, conn: Any, number: str) -> None:
        """Two clerks acting on one case through different workers take turns (PostgreSQL)."""
        self.db.lock(conn, f"case:{number}")

    def decide(self, number: str, decision: m.ClerkDecision) -> m.CaseStatus:
        with self.tx() as conn:
            self._lock_case(conn, number)
            case = self._case(conn, number)
            if case.state not in ("accepted", "reviewing"):
                raise ApiError(409, "already_decided", f"the case is {case.state_text}; only 已受理 and 审查中 cases "
                                                       "are decided")
            now = self.now()
            item_result = ""
            try:
                item_result = self.item(case.item_code).result
            except ApiError:
                pass
            if decision.approve:
                record = m.Decision(approved=True, decided_at=now, result_name=decision.result_name or item_result,
                                    note=decision.note)
                conn.execute("UPDATE cases SET state='approved', decision=? WHERE acceptance_number=?",
                             (record.model_dump_json(), number))
                self._event(conn, number, "approved", "审核通过，准予办理",
                            f"办理结果：{record.result_name}" if record.result_name else "")
            else:
                remedies = list(decision.remedies) if decision.remedies else list(DEFAULT_REMEDIES)
                record = m.Decision(approved=False, decided_at=now, reasons=[r.strip() for r in decision.reasons
                                                                             if r.strip()],
                                    remedies=remedies, note=decision.note)
                conn.execute("UPDATE cases SET state='rejected', decision=? WHERE acceptance_number=?",
                             (record.model_dump_json(), number))
                told = "；".join(f"{r.kind}：{r.time_limit}向{r.authority}提出" for r in remedies)
                self._event(conn, number, "rejected", "不予批准", "理由：" + "；".join(record.reasons) +
                            (f"。如不服，可{told}" if told else ""))
            log.info("case decided", extra={"fields": {"acceptance_number": number, "approved": decision.approve}})
            return self._case(conn, number)

    def issue(self, number: str, issue: m.ClerkIssue) -> m.IssuedPickup:
        with self.tx() as conn:
            self._lock_case(conn, number)
            case = self._case(conn, number)
            if case.state != "approved":
                raise ApiError(409, "not_ready", f"the case is {case.state_text}; only approved cases are issued")
            return self._issue_into(conn, case, issue)

    def _issue_into(self, conn: Any, case: m.CaseStatus, issue: m.ClerkIssue) -> m.IssuedPickup:
        """Register the result of ``case`` behind a free door of a terminal (inside a transaction)."""
        number = case.acceptance_number
        self.db.lock(conn, f"doors:{issue.terminal_id}")  # one door, one result, whichever worker issues
        terminal = self._terminal(conn, issue.terminal_id)
        if issue.door > terminal["doors"]:
            raise ApiError(422, "no_such_door", f"terminal {issue.terminal_id} has doors 1 to {terminal['doors']}",
                           [m.FieldProblem(field="door", problem=f"at most {terminal['doors']}")])
        busy = conn.execute("SELECT acceptance_number FROM pickups WHERE terminal_id=? AND door=? AND "
                            "picked_up_at IS NULL AND cancelled_at IS NULL",
                            (issue.terminal_id, issue.door)).fetchone()
        if busy is not None:
            raise ApiError(409, "door_occupied", f"door {issue.door} still holds a result that was not collected")
        taken = {r[0] for r in conn.execute("SELECT pickup_code FROM pickups WHERE terminal_id=? AND "
                                            "picked_up_at IS NULL AND cancelled_at IS NULL", (issue.terminal_id,))}
        code = f"{secrets.randbelow(10 ** 6):06d}"
        while code in taken:
            code = f"{secrets.randbelow(10 ** 6):06d}"
        now = self.now()
        pickup_id = "PU" + uuid.uuid4().hex[:20].upper()
        result_name = case.decision.result_name if case.decision else ""
        conn.execute("INSERT INTO pickups(pickup_id, acceptance_number, terminal_id, door, pickup_code, "
                     "result_name, issued_at) VALUES (?,?,?,?,?,?,?)",
                     (pickup_id, number, issue.terminal_id, issue.door, code, result_name or case.item_name,
                      now.isoformat(timespec="seconds")))
        conn.execute("UPDATE cases SET state='ready_for_pickup' WHERE acceptance_number=?", (number,))
        self._event(conn, number, "ready_for_pickup", "待取件",
                    f"结果已放入{terminal['name']}（{issue.terminal_id}）{issue.door}号柜门，"
                    f"凭身份证或取件码自助领取")
        log.info("result issued to a locker", extra={"fields": {"acceptance_number": number,
                                                                "terminal": issue.terminal_id, "door": issue.door}})
        return m.IssuedPickup(pickup_id=pickup_id, acceptance_number=number, terminal_id=issue.terminal_id,
                              door=issue.door, pickup_code=code, issued_at=now)

    def terminals(self) -> list[m.TerminalInfo]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM terminals ORDER BY terminal_id").fetchall()
            doors = {}
            for r in conn.execute("SELECT terminal_id, door FROM pickups WHERE picked_up_at IS NULL "
                                        "AND cancelled_at IS NULL ORDER BY door"):
                doors.setdefault(r["terminal_id"], []).append(r["door"])
        infos = []
        for r in rows:
            beat = m.Heartbeat.model_validate_json(r["last_heartbeat"]) if r["last_heartbeat"] else None
            registered = doors.get(r["terminal_id"], [])
            infos.append(m.TerminalInfo(terminal_id=r["terminal_id"], name=r["name"],
                                        last_heartbeat_at=datetime.fromisoformat(r["last_heartbeat_at"])
                                        if r["last_heartbeat_at"] else None,
                                        last_heartbeat=beat, doors=r["doors"], occupied_doors=registered,
                                        **self.door_flags(r["doors"], registered, beat.locker if beat else None)))
        return infos

    # -- pickups ---------------------------------------------------------------------------
    def _slot(self, row: Any) -> m.PickupSlot:
        return m.PickupSlot(pickup_id=row["pickup_id"], acceptance_number=row["acceptance_number"],
                            item_name=row["item_name"], result_name=row["result_name"], door=row["door"],
                            issued_at=datetime.fromisoformat(row["issued_at"]))

    def waiting_pickups(self, terminal_id: str) -> m.PickupList:
        with self.db.read() as conn:
            rows = conn.execute("SELECT p.*, c.item_name FROM pickups p JOIN cases c USING (acceptance_number) "
                                      "WHERE p.terminal_id=? AND p.picked_up_at IS NULL AND p.cancelled_at IS NULL "
                                      "ORDER BY p.door",
                                      (terminal_id,)).fetchall()
        return m.PickupList(terminal_id=terminal_id, slots=[self._slot(r) for r in rows])

    def verify_pickup(self, terminal_id: str, request: m.PickupVerify) -> m.PickupMatches:
        with self.tx() as conn:
            if request.method != "id_card":  # codes can be guessed, a card on the reader cannot
                self._check_attempts(conn, terminal_id, "pickup")
            base = ("SELECT p.*, c.item_name FROM pickups p JOIN cases c USING (acceptance_number) "
                    "WHERE p.terminal_id=? AND p.picked_up_at IS NULL AND p.cancelled_at IS NULL")
            if request.method == "id_card":
                rows = conn.execute(base + " AND c.holder_id=? ORDER BY p.door",
                                    (terminal_id, (request.id_number or "").strip().upper())).fetchall()
            elif request.method == "receipt":
                rows = conn.execute(base + " AND c.acceptance_number=? AND c.verification_code=? ORDER BY p.door",
                                    (terminal_id, request.acceptance_number, request.verification_code)).fetchall()
            else:
                rows = conn.execute(base + " AND p.pickup_code=? ORDER BY p.door",
                                    (terminal_id, request.pickup_code)).fetchall()
        if not rows and request.method != "id_card":  # a wrong code counts; a card with nothing waiting not
            self._fail_attempt(terminal_id, "pickup")
        return m.PickupMatches(matches=[self._slot(r) for r in rows])

    def confirm_pickup(self, conn: Any, terminal_id: str, pickup_id: str,
                       request: m.PickupConfirm) -> tuple[int, m.PickupRecord, str]:
        row = conn.execute("SELECT * FROM pickups WHERE pickup_id=? AND terminal_id=?" + self.db.for_update,
                           (pickup_id, terminal_id)).fetchone()
        if row is None:
            raise ApiError(404, "pickup_not_found", "no result with this pickup id waits at this terminal")
        if row["picked_up_at"] is not None:
            raise ApiError(409, "already_picked_up", "this result was already collected")
        if row["cancelled_at"] is not None:
            raise ApiError(409, "pickup_cancelled", "a clerk re-issued this result; this pickup is no longer valid")
        if row["door"] != request.door:
            raise ApiError(409, "door_mismatch", f"this result is behind door {row['door']}, not {request.door}")
        photo = None
        if request.photo_jpeg_base64:
            try:
                photo = base64.b64decode(request.photo_jpeg_base64, validate=True)
            except ValueError:
                raise ApiError(422, "bad_photo", "photo_jpeg_base64 is not base64") from None
            check_page("image/jpeg", photo)
            photo = self.files.put_photo(pickup_id, photo)  # the file store, 0600; the row keeps the path
        number = row["acceptance_number"]
        conn.execute("UPDATE pickups SET picked_up_at=?, door_closed=?, door_closed_at=?, verified_by=?, photo_path=? "
                     "WHERE pickup_id=?", (request.picked_up_at.isoformat(), int(request.door_closed),
                                           request.door_closed_at.isoformat() if request.door_closed_at else None,
                                           request.verified_by, photo, pickup_id))
        conn.execute("UPDATE cases SET state='closed' WHERE acceptance_number=?", (number,))
        how = {"id_card": "身份证", "pickup_code": "取件码", "receipt": "受理回执"}[request.verified_by]
        door_text = "柜门已关闭" if request.door_closed else "柜门未关闭，已通知工作人员"
        self._event(conn, number, "closed", "已取件，办结",
                    f"凭{how}在自助终端 {terminal_id} {row['door']}号柜门取件，{door_text}")
        if not request.door_closed:
            log.warning("pickup confirmed with the door left open", extra={"fields": {"terminal": terminal_id,
                                                                                     "door": row["door"]}})
        record = m.PickupRecord(pickup_id=pickup_id, acceptance_number=number, door=row["door"],
                                picked_up_at=request.picked_up_at, door_closed=request.door_closed,
                                case_state="closed")
        return 200, record, pickup_id

    # -- ratings and heartbeats ------------------------------------------------------------
    def rate(self, conn: Any, terminal_id: str, request: m.RatingCreate) -> tuple[int, m.RatingReceipt, str]:
        number = request.acceptance_number
        if not number:
            ref = conn.execute("SELECT ref FROM idempotency WHERE terminal_id=? AND key=? AND endpoint=?",
                               (terminal_id, request.application_key, "POST /api/v1/applications")).fetchone()
            if ref is None:
                raise ApiError(404, "case_not_found", "no application was created with this key from this terminal")
            app_row = conn.execute("SELECT acceptance_number FROM applications WHERE application_id=?",
                                   (ref["ref"],)).fetchone()
            if app_row is None or not app_row["acceptance_number"]:
                raise ApiError(409, "not_submitted", "the application was not submitted, so there is no case to rate")
            number = app_row["acceptance_number"]
        elif conn.execute("SELECT 1 FROM cases WHERE acceptance_number=?", (number,)).fetchone() is None:
            raise ApiError(404, "case_not_found", "no case with this acceptance number")
        rating_id = "RT" + uuid.uuid4().hex[:20].upper()
        now = self.now()
        conn.execute("INSERT INTO ratings(rating_id, acceptance_number, terminal_id, level, reasons, comment, "
                     "recorded_at) VALUES (?,?,?,?,?,?,?)",
                     (rating_id, number, terminal_id, request.level, json.dumps(list(request.reasons)),
                      request.comment, now.isoformat(timespec="seconds")))
        return 201, m.RatingReceipt(rating_id=rating_id, acceptance_number=number, level=request.level,
                                    recorded_at=now), rating_id

    def ratings(self, number: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM ratings WHERE acceptance_number=? "
                                                        "ORDER BY recorded_at", (number,))]

    def heartbeat(self, terminal_id: str, beat: m.Heartbeat) -> m.HeartbeatAck:
        with self.tx() as conn:
            self._terminal(conn, terminal_id)
            conn.execute("UPDATE terminals SET last_heartbeat_at=?, last_heartbeat=? WHERE terminal_id=?",
                         (self._stamp(), beat.model_dump_json(), terminal_id))
            waiting = conn.execute("SELECT COUNT(*) FROM pickups WHERE terminal_id=? AND picked_up_at IS NULL "
                                   "AND cancelled_at IS NULL", (terminal_id,)).fetchone()[0]
            version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM catalog_items").fetchone()[0]
        return m.HeartbeatAck(server_time=self.now(), catalog_version=version, pickups_waiting=waiting)

    # -- identity codes (电子身份码) ---------------------------------------------------------
    def register_identity_code(self, code: str, person: m.Person, expires_at: datetime) -> None:
        """Make ``code`` resolve to ``person`` until ``expires_at`` (an existing code is replaced)."""
        m.IdentityCodeQuery(code=code)  # the same format the terminals send
        with self.tx() as conn:
            conn.execute("INSERT INTO identity_codes(code_hash, person, expires_at, created_at) VALUES (?,?,?,?) "
                         "ON CONFLICT (code_hash) DO UPDATE SET person=excluded.person, expires_at=excluded.expires_at, "
                         "created_at=excluded.created_at", (_code_hash(code), person.model_dump_json(),
                                              expires_at.isoformat(), self._stamp()))

    def resolve_identity(self, terminal_id: str, query: m.IdentityCodeQuery) -> m.ResolvedIdentity:
        with self.tx() as conn:
            self._check_attempts(conn, terminal_id, "identity")
            row = conn.execute("SELECT person, expires_at FROM identity_codes WHERE code_hash=?",
                               (_code_hash(query.code),)).fetchone()
        if row is None:
            self._fail_attempt(terminal_id, "identity")
            raise ApiError(404, "identity_code_unknown", "this identity code is not known")
        expires_at = datetime.fromisoformat(row["expires_at"])
        if expires_at <= self.now():
            raise ApiError(410, "identity_code_expired", "this identity code has expired; the holder can show a "
                                                         "fresh one")
        log.info("identity code resolved", extra={"fields": {"terminal": terminal_id}})
        return m.ResolvedIdentity(person=m.Person.model_validate_json(row["person"]), expires_at=expires_at)

    # -- grid workers (网格员) ----------------------------------------------------------------
    def register_grid_worker(self, worker: m.GridWorker, pin: str, staff_code: str | None = None,
                             id_number: str | None = None) -> None:
        """Add or update a grid worker with a new PIN (6 digits); unlocks the worker."""
        if not (isinstance(pin, str) and re.fullmatch(r"[0-9]{6}", pin)):
            raise ValueError("a grid worker's PIN is 6 digits")
        if staff_code is not None and not re.fullmatch(m.STAFF_CODE_PATTERN, staff_code):
            raise ValueError("a staff code is HYBSTAFF: followed by 8–64 letters, digits, _ or -")
        if id_number is not None:
            id_number = id_number.strip().upper()
            if not re.fullmatch(m.STAFF_CARD_PATTERN, id_number):
                raise ValueError("a staff card is given by its 18-character ID number")
        pin_hash = hash_pin(pin)
        try:
            with self.tx() as conn:
                conn.execute("INSERT INTO grid_workers(worker_id, name, phone, staff_code, id_number, pin_hash, "
                             "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(worker_id) DO UPDATE SET "
                             "name=excluded.name, phone=excluded.phone, staff_code=excluded.staff_code, "
                             "id_number=excluded.id_number, pin_hash=excluded.pin_hash, failed_pins=0, "
                             "locked_until=0", (worker.worker_id, worker.name, worker.phone, staff_code, id_number,
                                                pin_hash, self._stamp()))
        except self.db.IntegrityError:
            raise ValueError("another grid worker already has this staff code or staff card") from None

    def _locked(self, worker_id: str, locked_until: float, now: float) -> ApiError:
        wait = max(1, math.ceil(locked_until - now))
        return ApiError(423, "pin_locked", f"too many wrong PINs: this grid worker can sign in again in {wait} s",
                        attempts_left=0, retry_after_seconds=wait)

    def staff_sign_in(self, terminal_id: str, request: m.StaffSignIn) -> m.GridWorker:
        """The grid worker for a credential and PIN; 5 wrong PINs in a row lock the worker for 15 minutes."""
        credential = request.credential
        column = "staff_code" if credential.kind == "staff_code" else "id_number"
        value = credential.value if credential.kind == "staff_code" else credential.value.upper()
        with self.tx() as conn:
            self._check_attempts(conn, terminal_id, "staff")
            row = conn.execute(f"SELECT * FROM grid_workers WHERE {column}=?", (value,)).fetchone()
        if row is None:
            self._fail_attempt(terminal_id, "staff")
            raise ApiError(404, "unknown_staff", "no grid worker has this staff code or staff card")
        worker_id = row["worker_id"]
        if row["locked_until"] > self.clock():
            raise self._locked(worker_id, row["locked_until"], self.clock())
        right = pin_matches(request.pin, row["pin_hash"])  # slow on purpose: outside the lock
        refusal: ApiError | None = None
        with self.tx() as conn:
            now = self.clock()
            current = conn.execute("SELECT failed_pins, locked_until FROM grid_workers WHERE worker_id=?"
                                   + self.db.for_update, (worker_id,)).fetchone()
            if current["locked_until"] > now:
                refusal = self._locked(worker_id, current["locked_until"], now)
            elif right:
                conn.execute("UPDATE grid_workers SET failed_pins=0, locked_until=0 WHERE worker_id=?", (worker_id,))
            else:
                failed = current["failed_pins"] + 1
                if failed >= m.PIN_ATTEMPTS:
                    conn.execute("UPDATE grid_workers SET failed_pins=0, locked_until=? WHERE worker_id=?",
                                 (now + m.PIN_LOCK_SECONDS, worker_id))
                    refusal = self._locked(worker_id, now + m.PIN_LOCK_SECONDS, now)
                    log.warning("grid worker locked after wrong PINs", extra={"fields": {
                        "worker_id": worker_id, "terminal": terminal_id, "minutes": m.PIN_LOCK_SECONDS // 60}})
                else:
                    conn.execute("UPDATE grid_workers SET failed_pins=? WHERE worker_id=?", (failed, worker_id))
                    left = m.PIN_ATTEMPTS - failed
                    refusal = ApiError(403, "wrong_pin", f"wrong PIN; {left} attempt(s) left before the grid worker "
                                                         f"is locked", attempts_left=left)
        if refusal is not None:
            raise refusal
        log.info("grid worker signed in", extra={"fields": {"worker_id": worker_id, "terminal": terminal_id,
                                                            "by": credential.kind}})
        return m.GridWorker(worker_id=worker_id, name=row["name"], phone=row["phone"])

    # -- staff calls (呼叫工作人员) -------------------------------------------------------------
    def staff_call(self, conn: Any, terminal_id: str,
                   request: m.StaffCallCreate) -> tuple[int, m.StaffCallReceipt, str]:
        terminal = self._terminal(conn, terminal_id)
        call_id = "SC" + uuid.uuid4().hex[:20].upper()
        now = self.now()
        conn.execute("INSERT INTO staff_calls(call_id, terminal_id, terminal_name, screen, called_at, recorded_at, "
                     "alert, door) VALUES (?,?,?,?,?,?,?,?)",
                     (call_id, terminal_id, terminal["name"], request.screen, request.called_at.isoformat(),
                      now.isoformat(timespec="seconds"), request.alert, request.door))
        log.warning("staff called to a terminal", extra={"fields": {"terminal": terminal_id,
                                                                    "screen": request.screen,
                                                                    "alert": request.alert or "",
                                                                    "door": request.door}})
        return 201, m.StaffCallReceipt(call_id=call_id, screen=request.screen, called_at=request.called_at,
                                       recorded_at=now, alert=request.alert, door=request.door), call_id

    @staticmethod
    def _staff_call(row: Any) -> m.StaffCall:
        return m.StaffCall(call_id=row["call_id"], terminal_id=row["terminal_id"],
                           terminal_name=row["terminal_name"], screen=row["screen"],
                           called_at=datetime.fromisoformat(row["called_at"]),
                           recorded_at=datetime.fromisoformat(row["recorded_at"]),
                           handled_at=datetime.fromisoformat(row["handled_at"]) if row["handled_at"] else None,
                           alert=row["alert"], door=row["door"])

    def staff_calls(self, open_only: bool = True) -> m.StaffCallList:
        """Open calls oldest first; with ``open_only=False`` the last 200 calls, newest first."""
        query = ("SELECT * FROM staff_calls WHERE handled_at IS NULL ORDER BY recorded_at, call_id" if open_only
                 else "SELECT * FROM staff_calls ORDER BY recorded_at DESC, call_id LIMIT 200")
        with self.db.read() as conn:
            rows = conn.execute(query).fetchall()
        return m.StaffCallList(calls=[self._staff_call(r) for r in rows])

    def handle_staff_call(self, call_id: str) -> m.StaffCall:
        """Mark a call handled (已处理); marking it again changes nothing."""
        with self.tx() as conn:
            conn.execute("UPDATE staff_calls SET handled_at=? WHERE call_id=? AND handled_at IS NULL",
                         (self._stamp(), call_id))
            row = conn.execute("SELECT * FROM staff_calls WHERE call_id=?", (call_id,)).fetchone()
        if row is None:
            raise ApiError(404, "staff_call_not_found", "no staff call with this id")
        return self._staff_call(row)

    # -- technicians' audit trail (issue 13) -----------------------------------------------
    def audit(self, conn: Any, terminal_id: str,
              request: m.AuditEventCreate) -> tuple[int, m.AuditReceipt, str]:
        self._terminal(conn, terminal_id)
        audit_id = "AU" + uuid.uuid4().hex[:20].upper()
        now = self.now()
        conn.execute("INSERT INTO audit_events(audit_id, terminal_id, event, at, recorded_at, action, device, detail, "
                     "outcome) VALUES (?,?,?,?,?,?,?,?,?)",
                     (audit_id, terminal_id, request.event, request.at.isoformat(), now.isoformat(timespec="seconds"),
                      request.action, request.device, request.detail, request.outcome))
        log.info("technician event", extra={"fields": {"terminal": terminal_id, "event": request.event,
                                                       "action": request.action}})
        return 201, m.AuditReceipt(audit_id=audit_id, recorded_at=now), audit_id

    def audit_events(self, terminal_id: str | None = None, limit: int = 200) -> m.AuditList:
        """The newest technician events first, of one terminal or of all."""
        query = "SELECT * FROM audit_events" + (" WHERE terminal_id=?" if terminal_id else "")
        query += " ORDER BY recorded_at DESC, at DESC, audit_id LIMIT ?"
        with self.db.read() as conn:
            rows = conn.execute(query, ((terminal_id,) if terminal_id else ()) + (limit,)).fetchall()
        return m.AuditList(events=[m.AuditRecord(audit_id=r["audit_id"], terminal_id=r["terminal_id"],
                                                 event=r["event"], at=datetime.fromisoformat(r["at"]),
                                                 recorded_at=datetime.fromisoformat(r["recorded_at"]),
                                                 action=r["action"], device=r["device"], detail=r["detail"],
                                                 outcome=r["outcome"]) for r in rows])

    # -- counts for tests and the clerk page -----------------------------------------------
    def count(self, table: str, where: str = "", args: tuple = ()) -> int:
        if table not in {"applications", "cases", "pages", "pickups", "ratings", "case_events", "staff_calls",
                         "grid_workers", "identity_codes", "licences", "application_extras", "audit_events"}:
            raise ValueError(table)
        with self.db.read() as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {table}" + (f" WHERE {where}" if where else ""),
                                      args).fetchone()[0]


def check_page(content_type: str, data: bytes) -> None:
    """A page is a real JPEG or PDF of a sensible size, or it is refused with a reason."""
    if content_type not in ("image/jpeg", "application/pdf"):
        raise ApiError(415, "unsupported_media_type", "a page is image/jpeg or application/pdf")
    if not data:
        raise ApiError(422, "empty_page", "the page is empty")
    if len(data) > MAX_PAGE_BYTES:
        raise ApiError(413, "page_too_large", f"a page is at most {MAX_PAGE_BYTES // (1024 * 1024)} MB")
    if content_type == "application/pdf":
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
            raise ApiError(422, "not_a_pdf", "the page is not a complete PDF file")
        return
    if not data.startswith(b"\xff\xd8\xff"):
        raise ApiError(422, "not_a_jpeg", "the page is not a JPEG image")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(422, "not_a_jpeg", "the JPEG image cannot be read") from None
    if width < 200 or height < 200:
        raise ApiError(422, "image_too_small", "the image is smaller than 200×200 pixels; capture it again")
