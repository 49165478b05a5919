"""What each kind of input field accepts, and which keyboard page it opens with.

- ``chinese``: anything; opens on the 拼音 page;
- ``english``: anything; opens on the English page;
- ``digits``: 0–9 only (a count, a code); digits page only;
- ``phone``: 0–9 and "-" (0546-1234567), at most 20; digits page only;
- ``id_number``: a resident identity number: 17 digits then a digit or X (a typed x
  becomes X; X only as the 18th character); digits page only, with an X key.

``accept`` is applied to every insertion (a key, a candidate, a paste), so a field never
holds what it cannot take.
"""
from __future__ import annotations

KINDS = ("chinese", "english", "digits", "phone", "id_number")
NUMERIC_KINDS = ("digits", "phone", "id_number")
ID_NUMBER_LENGTH = 18
PHONE_MAX = 20


def first_page(kind: str) -> str:
    if kind in NUMERIC_KINDS:
        return "digits"
    return "english" if kind == "english" else "pinyin"


def accept(kind: str, text: str, cursor: int, insert: str, max_length: int = 0) -> str:
    """The part of ``insert`` a field of ``kind`` holding ``text`` takes at ``cursor``."""
    cursor = max(0, min(cursor, len(text)))
    if kind == "digits":
        insert = "".join(ch for ch in insert if "0" <= ch <= "9")
    elif kind == "phone":
        insert = "".join(ch for ch in insert if "0" <= ch <= "9" or ch == "-")
        max_length = min(max_length or PHONE_MAX, PHONE_MAX)
    elif kind == "id_number":
        kept = []
        position = cursor
        for ch in insert.upper():
            if "0" <= ch <= "9" or (ch == "X" and position == ID_NUMBER_LENGTH - 1 and
                                    cursor == len(text)):
                kept.append(ch)
                position += 1
        insert = "".join(kept)
        max_length = ID_NUMBER_LENGTH
    if max_length:
        insert = insert[:max(0, max_length - len(text))]
    return insert
