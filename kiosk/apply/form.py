"""The application form: fields from the item's definition, pre-filled from the identity, checked
one by one with the reason in plain words.

``prefill(fields, identity)`` gives the starting values: the card's name, ID number, address,
birth date and gender (shown in full to the resident, the first four read-only unless the
definition says otherwise), the phone when the identity brought one (an identity code), and
empty typed fields. ``check(field, text)`` returns ``(value, problem)``: the value as it is
kept (a typed date ``20270315`` becomes ``2027-03-15``, spaces trimmed, an ID number upper
case) and, when it cannot be taken, a ``Problem`` — a translation key and its values, e.g.
``apply.field_phone`` — for the screen.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from drivers.idcard.codes import gb11643_valid

PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


@dataclass(frozen=True)
class Problem:
    key: str
    values: dict[str, Any] = field(default_factory=dict)


def source_value(source: str, identity: Any) -> str:
    """What the identity holds for a field's ``source`` ("" for typed fields or when unknown)."""
    if identity is None or source == "typed":
        return ""
    if source == "id.gender":
        return str(getattr(identity, "extra", {}).get("gender", "") or "")
    attribute = {"id.name": "name", "id.id_number": "id_number", "id.address": "address",
                 "id.birth_date": "birth_date", "id.phone": "phone"}.get(source, "")
    return str(getattr(identity, attribute, "") or "") if attribute else ""


def prefill(fields: list[Any], identity: Any) -> dict[str, str]:
    """The starting value of every field (by key)."""
    return {spec.key: source_value(spec.source, identity) for spec in fields}


def check(spec: Any, text: str) -> tuple[str, Problem | None]:
    """The value to keep for ``text`` typed (or chosen) in field ``spec``, and what is wrong with it."""
    value = (text or "").strip()
    label = spec.label
    if spec.type == "id_number":
        value = value.upper()
    if not value:
        if spec.required:
            key = "apply.field_choose" if spec.type == "choice" else "apply.field_required"
            return value, Problem(key, {"label": label})
        return value, None
    if spec.type == "phone":
        if not PHONE.fullmatch(value):
            return value, Problem("apply.field_phone", {"label": label})
    elif spec.type == "id_number":
        if not gb11643_valid(value):
            return value, Problem("apply.field_id_number", {"label": label})
    elif spec.type == "digits":
        if not value.isdigit():
            return value, Problem("apply.field_digits", {"label": label})
    elif spec.type == "date":
        parsed = parse_date(value)
        if parsed is None:
            return value, Problem("apply.field_date", {"label": label})
        value = parsed.isoformat()
    elif spec.type == "choice":
        if value not in spec.options:
            return value, Problem("apply.field_choose", {"label": label})
    if len(value) < spec.min_length:
        return value, Problem("apply.field_too_short", {"label": label, "n": spec.min_length})
    if len(value) > spec.max_length:
        return value, Problem("apply.field_too_long", {"label": label, "n": spec.max_length})
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return value, Problem("apply.field_pattern", {"label": label, "hint": spec.pattern_hint or label})
    return value, None


def parse_date(text: str) -> dt.date | None:
    """``20270315``, ``2027-03-15`` or ``2027.3.15`` → a date; None when it is no real date."""
    digits = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    parts = digits.groups() if digits else re.fullmatch(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?", text)
    if parts is None:
        return None
    if not isinstance(parts, tuple):
        parts = parts.groups()
    try:
        day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2100 else None


def shown(spec: Any, value: str) -> str:
    """How a kept value reads on the review page (a date as 2027年3月15日)."""
    if spec.type == "date" and value:
        day = parse_date(value)
        if day is not None:
            return f"{day.year}年{day.month}月{day.day}日"
    return value
