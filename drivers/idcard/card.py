"""What an ID card holds once read: one ``IdCard`` for all four card types.

The holder's data never appears in ``repr()`` (so it cannot slip into a log line through an
f-string); ``to_json()`` gives the documented JSON shape of ``kiosk idcard read --json``.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

LONG_TERM = "长期"


class CardType(str, enum.Enum):
    RESIDENT = "resident"  # 居民身份证
    HK_MO_TW_PERMIT = "hk_mo_tw_permit"  # 港澳台居民居住证 (flag 'J')
    FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"  # 外国人永久居留身份证, 2017 (flag 'I')
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"  # 外国人永久居留身份证, 2023 (flag 'Y')


@dataclass(frozen=True, repr=False)
class IdCard:
    card_type: CardType
    chinese_name: str = ""
    english_name: str = ""
    gender_code: str = ""
    gender: str = ""  # 男 / 女 / 未知 / 未说明
    nation_code: str = ""
    nation: str = ""
    birth_date: str = ""  # YYYY-MM-DD
    address: str = ""
    id_number: str = ""  # the card's number: citizen number, permit number or card number
    issuer: str = ""
    valid_from: str = ""  # YYYY-MM-DD
    valid_to: str = ""  # YYYY-MM-DD or 长期
    nationality: str = ""  # GB/T 2659 alpha-3
    pass_number: str = ""  # HK/MO/TW permit: 通行证号码
    issue_count: int | None = None  # HK/MO/TW permit: 签发次数
    renewal_count: int | None = None  # 2023 foreign card: 换证次数
    card_version: str = ""  # 2017 foreign card
    authority_code: str = ""  # 2017 foreign card: 受理机关代码
    old_card_link: str = ""  # 2023 foreign card: link to the previous card's number
    photo_wlt: bytes = field(default=b"")
    fingerprint: bytes = field(default=b"")
    appended_address: str = ""  # 追加住址 (30 03), when the card has one

    @property
    def name(self) -> str:
        """The Chinese name where the card carries one, else the English name."""
        return self.chinese_name or self.english_name

    def is_expired(self, today: dt.date | None = None) -> bool:
        if not self.valid_to or self.valid_to == LONG_TERM:
            return False
        return dt.date.fromisoformat(self.valid_to) < (today or dt.date.today())

    def __repr__(self) -> str:  # never the holder's data
        return f"IdCard(card_type={self.card_type.value!r}, photo={len(self.photo_wlt)} bytes)"

    __str__ = __repr__

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``kiosk idcard read --json``.

        Keys every card type has are always present (``null`` where the card has no such
        field, e.g. ``nation`` on a foreign card); the others only where the card has them.
        """
        def value(text: str) -> str | None:
            return text or None

        result: dict[str, Any] = {
            "card_type": self.card_type.value,
            "name": self.name,
            "gender": self.gender,
            "nation": value(self.nation),
            "birth_date": value(self.birth_date),
            "address": value(self.address),
            "id_number": self.id_number,
            "issuer": value(self.issuer),
            "valid_from": value(self.valid_from),
            "valid_to": value(self.valid_to),
        }
        if self.english_name:
            result["english_name"] = self.english_name
        if self.nationality:
            result["nationality"] = self.nationality
        if self.pass_number:
            result["pass_number"] = self.pass_number
        if self.issue_count is not None:
            result["issue_count"] = self.issue_count
        if self.renewal_count is not None:
            result["renewal_count"] = self.renewal_count
        if self.card_version:
            result["card_version"] = self.card_version
        if self.authority_code:
            result["authority_code"] = self.authority_code
        if self.old_card_link:
            result["old_card_link"] = self.old_card_link
        if self.appended_address:
            result["appended_address"] = self.appended_address
        result["photo_wlt_bytes"] = len(self.photo_wlt)
        return result
