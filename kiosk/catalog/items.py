"""Service items (事项) of the catalogue, read from the schema's dicts or from a file.

The catalogue comes as dicts following /work/catalog-schema.md — from the backend's
catalogue cache later, from a JSON array or JSON Lines file now. Only ``code`` and
``name`` are required; every other guide field is optional. ``items_from_dicts`` keeps
every usable item and reports, one line each, what it had to skip or ignore (an item
without a code, a duplicate code, a field of the wrong type), so one bad record never
takes search away from the whole kiosk.
"""
from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger(__name__)

PERSONAL_OBJECTS = ("自然人",)
LEGAL_OBJECTS = ("法人", "非法人组织")


class CatalogError(Exception):
    """A catalogue file or record that cannot be used, with a message for a technician."""


@dataclass(frozen=True)
class CatalogItem:
    code: str
    name: str
    department: str = ""
    type: str = ""
    level: str = ""
    service_objects: tuple[str, ...] = ()
    life_events: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    result: str = ""
    popularity: float = 0.0
    can_apply: bool = False
    can_pickup: bool = False
    #: the record as received, for the guide (conditions, materials, fees, …)
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: what the kiosk asks for when applying here (a ``kiosk.backend.models.ApplicationSpec``), or None
    application: Any = field(default=None, compare=False, repr=False)

    @property
    def can_apply_here(self) -> bool:
        """The item may be applied for at a terminal *and* carries a valid application definition."""
        return self.can_apply and self.application is not None

    @property
    def for_persons(self) -> bool:
        return any(o in PERSONAL_OBJECTS for o in self.service_objects)

    @property
    def for_organisations(self) -> bool:
        return any(o in LEGAL_OBJECTS for o in self.service_objects)


@dataclass
class LoadReport:
    items: list[CatalogItem]
    problems: list[str]


def clean_text(value: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def _text_list(value: Any, where: str, key: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(f"{where}: {key} should be a list of text; ignored")
        return ()
    out = []
    for entry in value:
        if isinstance(entry, str) and clean_text(entry):
            out.append(clean_text(entry))
        elif entry not in (None, ""):
            problems.append(f"{where}: {key} has an entry that is not text; ignored")
    return tuple(out)


def _text(value: Any, where: str, key: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: {key} should be text; ignored")
        return ""
    return clean_text(value)


def item_from_dict(record: Any, where: str, problems: list[str]) -> CatalogItem | None:
    """One item from one schema dict, or None (with the reason in ``problems``)."""
    if not isinstance(record, dict):
        problems.append(f"{where}: not an object; skipped")
        return None
    code, name = record.get("code"), record.get("name")
    if not isinstance(code, str) or not clean_text(code):
        problems.append(f"{where}: no \"code\"; skipped")
        return None
    if not isinstance(name, str) or not clean_text(name):
        problems.append(f"{where} ({clean_text(code)}): no \"name\"; skipped")
        return None
    where = f"{where} ({clean_text(code)})"
    popularity = record.get("popularity", 0)
    if isinstance(popularity, bool) or not isinstance(popularity, (int, float)) or popularity != popularity:
        if popularity is not None:
            problems.append(f"{where}: popularity should be a number 0–100; taken as 0")
        popularity = 0
    kiosk = record.get("kiosk") if isinstance(record.get("kiosk"), dict) else {}
    return CatalogItem(
        code=clean_text(code),
        name=clean_text(name),
        department=_text(record.get("department"), where, "department", problems),
        type=_text(record.get("type"), where, "type", problems),
        level=_text(record.get("level"), where, "level", problems),
        service_objects=_text_list(record.get("service_objects"), where, "service_objects", problems),
        life_events=_text_list(record.get("life_events"), where, "life_events", problems),
        keywords=_text_list(record.get("keywords"), where, "keywords", problems),
        result=_text(record.get("result"), where, "result", problems),
        popularity=float(min(100.0, max(0.0, popularity))),
        can_apply=kiosk.get("can_apply") is True,
        can_pickup=kiosk.get("can_pickup") is True,
        data=record,
        application=_application(record, where, problems),
    )


def _application(record: dict, where: str, problems: list[str]) -> Any:
    """The item's application definition, checked against the item; None (with the problem
    noted) when it does not hold together — the item then stays window-only."""
    raw = record.get("application")
    if raw is None:
        return None
    from pydantic import ValidationError

    from kiosk.backend.models import ApplicationSpec, application_problems

    try:
        spec = ApplicationSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "(the definition)"
        problems.append(f"{where}: application.{location}: {first['msg']}; the item is not offered for applying "
                        "at the kiosk")
        return None
    materials = record.get("materials") if isinstance(record.get("materials"), list) else []
    objects = record.get("service_objects") if isinstance(record.get("service_objects"), list) else []
    kiosk = record.get("kiosk") if isinstance(record.get("kiosk"), dict) else {}
    found = application_problems(spec, [m for m in materials if isinstance(m, dict)], kiosk.get("can_apply") is True,
                                 [o for o in objects if isinstance(o, str)])
    if found:
        problems.extend(f"{where}: application: {problem}; the item is not offered for applying at the kiosk"
                        for problem in found)
        return None
    return spec


def items_from_dicts(records: Iterable[Any], label: str = "item") -> LoadReport:
    """Every usable item of ``records`` (first of a duplicated code wins) and the problems."""
    items: list[CatalogItem] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for number, record in enumerate(records, start=1):
        where = f"{label} {number}"
        item = item_from_dict(record, where, problems)
        if item is None:
            continue
        if item.code in seen:
            problems.append(f"{where}: code {item.code} already used by {seen[item.code]}; skipped")
            continue
        seen[item.code] = where
        items.append(item)
    return LoadReport(items, problems)


def load_catalog_file(path: Path | str) -> LoadReport:
    """Read a JSON array (or {"items": [...]}) or JSON Lines file of item dicts."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"{path}: the catalogue file does not exist") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError(f"{path}, line {line}: not UTF-8 text") from None
    stripped = text.lstrip()
    if not stripped:
        raise CatalogError(f"{path}: the file is empty")
    if stripped[0] == "[" or (stripped[0] == "{" and _is_single_document(stripped)):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if isinstance(data, dict):
            if isinstance(data.get("items"), list):
                data = data["items"]
            elif "code" in data:
                data = [data]
            else:
                raise CatalogError(f"{path}: expected a JSON array of items (or an object with \"items\")")
        report = items_from_dicts(data, label="item")
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise CatalogError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
        report = LoadReport([], [])
        seen: dict[str, int] = {}
        for number, record in records:
            item = item_from_dict(record, f"line {number}", report.problems)
            if item is None:
                continue
            if item.code in seen:
                report.problems.append(f"line {number}: code {item.code} already used on line {seen[item.code]}; "
                                       "skipped")
                continue
            seen[item.code] = number
            report.items.append(item)
    if not report.items:
        detail = f" ({report.problems[0]})" if report.problems else ""
        raise CatalogError(f"{path}: no usable item in the file{detail}")
    for problem in report.problems:
        log.warning("catalogue record problem", extra={"fields": {"file": str(path), "problem": problem}})
    return report


def _is_single_document(text: str) -> bool:
    """True when ``text`` starting with "{" is one JSON object rather than JSON Lines."""
    try:
        json.loads(text)
        return True
    except json.JSONDecodeError:
        return False
