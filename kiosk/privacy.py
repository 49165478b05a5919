"""The one place where personal data is masked before it is written anywhere.

Logs, diagnostics and printed slips call these functions; nothing else decides how an
ID number, a phone number or a name is shortened.

- ID numbers: ``370502199001011234`` → ``3705**********1234`` (first 4, last 4 kept)
- phone numbers: ``13812345678`` → ``138****5678``
- names: ``张三`` → ``张*``, ``张小三`` → ``张*三``, ``欧阳小明`` → ``欧**明``
- addresses: only the first 6 characters are kept
- identity and staff codes (``HYBID:…``, ``HYBSTAFF:…``, which stand for a person): the prefix and
  the last 4 characters, ``HYBID:****0001``
"""
from __future__ import annotations

import re
from typing import Any

_ID_18 = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9A-Za-z])")
_ID_15 = re.compile(r"(?<![0-9])\d{15}(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0\d{2,3}-?\d{7,8}(?![0-9])")
_PERSON_CODE = re.compile(r"(?<![A-Za-z0-9])(HYBID|HYBSTAFF):([A-Za-z0-9_-]+)")
# "姓名：张三", "name=张三", "\"name\": \"张三\"" inside free text
_NAMED_VALUE = re.compile(
    r"(?P<key>姓名|名字|(?:[a-z_]*_)?name|holder|address|住址|地址)(?P<sep>\"?\s*[:=：]\s*\"?)(?P<value>[^\s\"',，;；}]+)",
    re.IGNORECASE)

NAME_KEYS = frozenset({"name", "holder_name", "resident_name", "chinese_name", "english_name", "姓名"})
ADDRESS_KEYS = frozenset({"address", "住址", "地址"})
ID_KEYS = frozenset({"id_number", "idcard", "id_card", "card_number", "pass_number", "身份证号"})
PHONE_KEYS = frozenset({"phone", "mobile", "tel", "电话", "手机"})


def mask_id_number(value: str) -> str:
    value = str(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    digits = str(value)
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    value = str(value).strip()
    if not value:
        return value
    if " " in value or value.isascii():  # Latin names: keep initials only
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in value.split())
    if len(value) == 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(value: str) -> str:
    value = str(value)
    return value[:6] + ("*" * min(len(value) - 6, 8) if len(value) > 6 else "")


def mask_text(text: str) -> str:
    """Mask every ID number, phone number and labelled name/address inside free text."""
    if not text:
        return text
    text = _PERSON_CODE.sub(lambda m: f"{m.group(1)}:****{m.group(2)[-4:]}", text)
    text = _NAMED_VALUE.sub(_mask_named_value, text)
    text = _ID_18.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _ID_15.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)
    return text


def _mask_named_value(match: re.Match) -> str:
    key = match.group("key")
    value = match.group("value")
    lowered = key.lower()
    if lowered in ADDRESS_KEYS or key in ADDRESS_KEYS:
        masked = mask_address(value)
    else:
        masked = mask_name(value)
    return f"{key}{match.group('sep')}{masked}"


def mask_field(key: str, value: Any) -> Any:
    """Mask a structured field by what its key says it holds, then by what its text looks like."""
    lowered = key.lower()
    if isinstance(value, dict):
        return {k: mask_field(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_field(key, v) for v in value]
    if not isinstance(value, str):
        return value
    if lowered in NAME_KEYS or lowered.endswith("_name") and lowered not in {"item_name", "screen_name",
                                                                               "device_name", "terminal_name",
                                                                               "file_name", "font_name"}:
        return mask_name(value)
    if lowered in ADDRESS_KEYS:
        return mask_address(value)
    if lowered in ID_KEYS:
        return mask_id_number(value)
    if lowered in PHONE_KEYS:
        return mask_phone(value)
    return mask_text(value)


def forbid_core_dumps() -> None:
    """No core dump of this process, ever: a core file would hold whatever was in memory — the
    card's photo, ID number, name, the pages photographed. Sets ``RLIMIT_CORE`` to 0, the hard
    limit too (the process cannot raise it again). Every ``kiosk`` command calls this first."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):  # pragma: no cover - a limit already lower than 0 does not exist
        pass
