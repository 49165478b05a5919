"""Conditions of an item that the ID card can prove: the applicant's age.

``first_refusal(conditions, birth_date, today)`` returns the first condition the applicant
does not meet, as a translation key with values — for an applicant who is too young, the
date from which they may apply (``from_month_start``: from the first day of the month in
which they reach the age, 当月可申请) — or None. An identity without a known birth date
proves nothing here: the application goes on and the back office checks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Refusal:
    key: str
    values: dict[str, Any]
    eligible_from: dt.date | None = None


def birthday_at(birth: dt.date, years: int) -> dt.date:
    """The day ``years`` after ``birth`` (29 February → 1 March in other years)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def first_refusal(conditions: list[Any], birth_date: str, today: dt.date) -> Refusal | None:
    try:
        birth = dt.date.fromisoformat(birth_date) if birth_date else None
    except ValueError:
        birth = None
    if birth is None:
        return None
    for condition in conditions:
        if condition.kind == "min_age":
            start = birthday_at(birth, condition.years)
            if condition.from_month_start:
                start = start.replace(day=1)
            if today < start:
                return Refusal("apply.too_young", {"years": condition.years, "date": chinese_date(start),
                                                   "condition": condition.text}, start)
        elif condition.kind == "max_age":
            limit = birthday_at(birth, condition.years + 1)
            if today >= limit:
                return Refusal("apply.too_old", {"years": condition.years, "condition": condition.text})
    return None
