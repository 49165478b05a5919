"""The slips of following and collecting a case: the acceptance receipt printed again (补打) and
the pickup slip (取件凭证), filled from what the backend says about the case.

``follow_link(number, code)`` is what a receipt's QR code holds: a link whose last path segment is
the acceptance number and whose ``c`` parameter is the 查询码. Scanned at the kiosk, the link
opens the case at once (``receipt_code`` reads the 查询码 back out of a scanned text); scanned with
a phone, it opens the service platform's page for the case.

``CaseSlips`` knows the terminal (id, name, hotline) and the logo; its methods return layouts
(``kiosk.receipts.layout.Receipt``). Names are masked by the templates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kiosk.receipts.layout import Receipt
from kiosk.receipts.templates import AcceptanceData, Material, PickupData, acceptance_receipt, pickup_slip

FOLLOW_BASE = "https://zwfw.hekou.example.gov.cn/q/"
_CODE_KEYS = ("c", "code", "vc", "cxm", "verification_code")
DELIVERY_TEXT = {"terminal": "办结后放入自助终端柜门，凭身份证或取件码自助领取",
                 "counter": "办结后到便民服务中心窗口领取",
                 "post": "办结后免费邮寄"}


def follow_link(acceptance_number: str, verification_code: str = "") -> str:
    """The QR payload of a receipt: ``…/q/<number>?c=<查询码>``."""
    return FOLLOW_BASE + acceptance_number + (f"?c={verification_code}" if verification_code else "")


def receipt_code(text: str) -> str:
    """The 6-digit 查询码 inside a scanned receipt link (``?c=123456``), or "" when it has none."""
    try:
        query = urlsplit(text.strip()).query
    except ValueError:
        return ""
    for key, value in parse_qsl(query):
        if key.lower() in _CODE_KEYS and re.fullmatch(r"\d{6}", value):
            return value
    return ""


@dataclass(frozen=True)
class CaseSlips:
    terminal_id: str
    terminal_name: str
    service_phone: str
    logo: str = ""

    @classmethod
    def from_settings(cls, settings: Any) -> "CaseSlips":
        return cls(settings.terminal.id, settings.terminal.name, settings.terminal.service_phone,
                   settings.devices.printer.logo)

    def acceptance_again(self, case: Any, resident_name: str = "") -> Receipt:
        """The acceptance receipt of ``case`` (a ``CaseStatus``), marked 补打."""
        promised = case.promised_date
        days = _working_days(case.accepted_at.date(), promised) if promised else 0
        data = AcceptanceData(
            terminal_id=self.terminal_id, terminal_name=self.terminal_name,
            accepted_at=case.accepted_at.replace(tzinfo=None),  # as the backend says: China time
            resident_name=resident_name or case.applicant_masked, item_name=case.item_name,
            acceptance_number=case.acceptance_number, department=case.department or "东营市河口区政务服务中心",
            materials=tuple(Material(m.name, m.pages) for m in case.materials), promised_date=promised,
            working_days=days, pickup_method=DELIVERY_TEXT.get(case.delivery, DELIVERY_TEXT["counter"]),
            follow_url=follow_link(case.acceptance_number, case.verification_code or ""),
            service_phone=self.service_phone, verification_code=case.verification_code or "", reprint=True)
        return acceptance_receipt(data, self.logo)

    def pickup(self, slot: Any, resident_name: str, door: int, picked_up_at: datetime) -> Receipt:
        """The pickup slip for a result (a ``PickupSlot``) taken from ``door``."""
        data = PickupData(terminal_id=self.terminal_id, terminal_name=self.terminal_name,
                          picked_up_at=picked_up_at.replace(second=0, microsecond=0), resident_name=resident_name,
                          item_name=slot.item_name, acceptance_number=slot.acceptance_number,
                          results=(f"{slot.result_name} 1份",), locker_door=f"{door}号",
                          follow_url=follow_link(slot.acceptance_number), service_phone=self.service_phone)
        return pickup_slip(data, self.logo)


def _working_days(start, end) -> int:
    """Monday–Friday days after ``start`` up to ``end`` (how the backend counts a promised date)."""
    from datetime import timedelta

    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days
