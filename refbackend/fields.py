"""Numbers typed into the clerk's forms: ASCII digits only.

``str.isdigit()`` is true for '²', '٣' or '①', which ``int()`` then refuses (or reads as a
number the clerk never typed): one such form field used to end in a 500. ``ascii_int`` takes
plain 0–9 only, within bounds, and says None for anything else.
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}")


def ascii_int(text: str, low: int, high: int) -> int | None:
    """``text`` as an int when it is 1–9 ASCII digits within ``low``…``high``; otherwise None."""
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
