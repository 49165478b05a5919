"""Seed data for the reference backend: the demo service catalogue and the demo people.

- ``load_catalog_file`` reads ``assets/catalog/hekou_items.json`` into contract models;
- ``load_people_file`` reads ``demo_people.json`` (next to this file): the demo grid worker
  (staff code, staff card, PIN), the demo personal identity codes (one already expired) and
  the demo electronic licences (电子证照) that replace materials when applying;
  ``seed_people`` puts them into a store.

A bad entry is reported by its position, its code and the field at fault, so the person
editing the JSON file can find it; nothing is loaded until every entry is valid.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kiosk.backend.models import GridWorker, IdentityCodeQuery, Licence, Person, ServiceItem, StaffCredential

if TYPE_CHECKING:
    from refbackend.store import ReferenceStore

DEMO_PEOPLE_PATH = Path(__file__).resolve().parent / "demo_people.json"

DEMO_CATALOG_PATH = Path(__file__).resolve().parent.parent / "assets" / "catalog" / "hekou_items.json"


class CatalogFileError(Exception):
    """The catalogue file cannot be used; the message says where and why."""


def load_catalog_file(path: Path | str = DEMO_CATALOG_PATH) -> list[ServiceItem]:
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CatalogFileError(f"{path}: the catalogue file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise CatalogFileError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, list):
        raise CatalogFileError(f"{path}: expected a JSON array of service items")
    items: list[ServiceItem] = []
    seen: set[str] = set()
    for position, entry in enumerate(data):
        code = entry.get("code", "?") if isinstance(entry, dict) else "?"
        try:
            item = ServiceItem.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(the entry)"
            raise CatalogFileError(f"{path}: item #{position + 1} ({code}): {where}: {first['msg']} "
                                   f"({exc.error_count()} problem(s) in this item)") from None
        if item.code in seen:
            raise CatalogFileError(f"{path}: item #{position + 1}: code {item.code} appears twice")
        seen.add(item.code)
        items.append(item)
    return items


class PeopleFileError(CatalogFileError):
    """The demo people file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class SeedWorker:
    worker: GridWorker
    pin: str = field(repr=False)
    staff_code: str | None
    id_number: str | None


@dataclass(frozen=True)
class SeedIdentity:
    code: str
    person: Person
    valid_days: int


@dataclass(frozen=True)
class SeedLicence:
    holder_id: str
    licence: "Licence"
    number: str = field(repr=False)


@dataclass(frozen=True)
class DemoPeople:
    workers: list[SeedWorker]
    identities: list[SeedIdentity]
    licences: list[SeedLicence] = field(default_factory=list)


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc']) or '(the entry)'}: {first['msg']}"


def load_people_file(path: Path | str = DEMO_PEOPLE_PATH) -> DemoPeople:
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise PeopleFileError(f"{path}: the people file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PeopleFileError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise PeopleFileError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise PeopleFileError(f"{path}: expected a JSON object with grid_workers and identity_codes")
    workers: list[SeedWorker] = []
    for position, entry in enumerate(_entries(data, "grid_workers", path)):
        where = f"{path}: grid_workers #{position + 1}"
        try:
            worker = GridWorker.model_validate({k: entry.get(k, "") for k in ("worker_id", "name", "phone")})
            staff_code = entry.get("staff_code") or None
            id_number = entry.get("id_number") or None
            if staff_code:
                StaffCredential(kind="staff_code", value=staff_code)
            if id_number:
                StaffCredential(kind="id_card", value=id_number)
        except ValidationError as exc:
            raise PeopleFileError(f"{where}: {_problem(exc)}") from None
        pin = entry.get("pin")
        if not (isinstance(pin, str) and re.fullmatch(r"[0-9]{6}", pin)):
            raise PeopleFileError(f"{where}: pin must be 6 digits, as text")
        workers.append(SeedWorker(worker, pin, staff_code, id_number))
    identities: list[SeedIdentity] = []
    for position, entry in enumerate(_entries(data, "identity_codes", path)):
        where = f"{path}: identity_codes #{position + 1}"
        try:
            code = IdentityCodeQuery(code=entry.get("code", "")).code
            person = Person.model_validate(entry.get("person"))
        except ValidationError as exc:
            raise PeopleFileError(f"{where}: {_problem(exc)}") from None
        days = entry.get("valid_days")
        if not isinstance(days, int) or isinstance(days, bool):
            raise PeopleFileError(f"{where}: valid_days must be a whole number of days")
        identities.append(SeedIdentity(code, person, days))
    licences: list[SeedLicence] = []
    for position, entry in enumerate(_entries(data, "licences", path)):
        where = f"{path}: licences #{position + 1}"
        try:
            holder = Person.model_validate({"id_number": entry.get("holder_id_number", ""), "name": "持证人"}).id_number
            licence = Licence.model_validate({k: v for k, v in entry.items() if k not in ("holder_id_number", "number")}
                                             | {"number_masked": ""})
        except ValidationError as exc:
            raise PeopleFileError(f"{where}: {_problem(exc)}") from None
        number = entry.get("number")
        if not isinstance(number, str) or not number.strip():
            raise PeopleFileError(f"{where}: number must be the licence's number, as text")
        licences.append(SeedLicence(holder, licence, number))
    return DemoPeople(workers, identities, licences)


def _entries(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PeopleFileError(f"{path}: {key} must be a list of objects")
    return entries


def seed_people(store: "ReferenceStore", people: DemoPeople) -> None:
    """Register the grid workers (PINs hashed) and identity codes; expiry counts from now."""
    now = datetime.fromtimestamp(store.clock(), timezone.utc)
    for entry in people.workers:
        store.register_grid_worker(entry.worker, entry.pin, entry.staff_code, entry.id_number)
    for identity in people.identities:
        store.register_identity_code(identity.code, identity.person, now + timedelta(days=identity.valid_days))
    for entry in people.licences:
        store.register_licence(entry.holder_id, entry.licence, entry.number)
