"""How the back office shortens a name or an ID number on its lists (the case page shows them whole).

The same rules as the kiosk's log masking (``张*三``, ``3705**********1234``), kept here so that
the reference backend shares nothing with the kiosk but the contract.
"""
from __future__ import annotations


def mask_id_number(value: str) -> str:
    value = str(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    value = str(value).strip()
    if not value:
        return value
    if " " in value or value.isascii():  # Latin names: keep initials only
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in value.split())
    if len(value) <= 2:
        return value[0] + "*" if len(value) == 2 else "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
