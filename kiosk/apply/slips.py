"""What an application prints: the acceptance receipt (受理回执) and the 一次性告知单.

``acceptance_slip`` is the receipt of a submitted application: the acceptance number, the
item, the date, 即办 or the promised date, the materials received and how, the delivery
choice, a QR code to follow the case (the number and its verification code, as a link the
follow journey reads), and the hotline. When the network was down (or too slow) the same
receipt says **网络恢复后自动提交** and carries the local reference instead of a number.

``notice_slip`` lists, at once, every required material the resident does not have yet and
where to get it, so they come back only once (一次性告知).

The applicant's name is masked on paper (张*三); no ID number is printed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kiosk.privacy import mask_name
from kiosk.receipts.layout import Columns, Cut, Feed, Field, Logo, Qr, Receipt, Separator, Text
from kiosk.receipts.templates import BUNDLED_LOGO

FOLLOW_URL = "https://zwfw.hekou.example.gov.cn/q/{number}?c={code}"
WEEKDAYS = "一二三四五六日"


def follow_link(number: str, code: str) -> str:
    """The QR payload of a receipt: where the resident follows the case."""
    return FOLLOW_URL.format(number=number, code=code)


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def _logo(path: str) -> list:
    return [] if path == "none" else [Logo(path or BUNDLED_LOGO)]


@dataclass(frozen=True)
class SlipMaterial:
    name: str
    how: str  # "照片 2 页", "已读取身份证", "电子证照", "告知承诺（已签名）"


@dataclass(frozen=True)
class ApplicationSlip:
    terminal_id: str
    terminal_name: str
    service_phone: str
    item_name: str
    department: str
    applicant_name: str  # full; masked on paper
    agent_name: str  # "" unless a grid worker applied (代办)
    materials: tuple[SlipMaterial, ...]
    delivery: str  # one line: how the result is received
    submitted_at: dt.datetime
    # delivered: the backend's answer
    acceptance_number: str = ""
    verification_code: str = ""
    kind: str = ""  # 即办件 | 承诺件
    promised_date: dt.date | None = None
    working_days: int = 0
    # waiting in the outbox
    local_reference: str = ""

    @property
    def waiting(self) -> bool:
        return not self.acceptance_number


def acceptance_slip(data: ApplicationSlip, logo: str = "") -> Receipt:
    heading = "受理回执" if not data.waiting else "申请回执（待提交）"
    elements: list = [*_logo(logo), Text(heading, align="center", bold=True, size=2),
                      Text(data.department, align="center"), Separator("=")]
    if data.waiting:
        elements += [Text("网络恢复后自动提交", align="center", bold=True, size=2),
                     Field("本机编号", data.local_reference, bold=True),
                     Text("申请已保存在本机，网络恢复后自动提交，只提交一次。受理编号将以短信告知，"
                          "也可凭身份证在本机查询办理进度。")]
    else:
        elements += [Field("受理编号", data.acceptance_number, bold=True),
                     Field("查询码", data.verification_code)]
    elements += [Field("办理事项", data.item_name),
                 Field("申请人", mask_name(data.applicant_name))]
    if data.agent_name:
        elements.append(Field("代办网格员", mask_name(data.agent_name)))
    elements += [Field("提交时间", data.submitted_at.strftime("%Y-%m-%d %H:%M")),
                 Field("受理终端", f"{data.terminal_id} {data.terminal_name}"),
                 Separator(), Columns("已收材料", "方式", bold=True)]
    for number, material in enumerate(data.materials, start=1):
        elements.append(Columns(f"{number}. {material.name}", material.how))
    elements.append(Separator())
    if not data.waiting:
        if data.kind == "即办件":
            elements.append(Field("办理结果", "即办件，已当场办结", bold=True))
        elif data.promised_date is not None:
            elements.append(Field("承诺办结", f"{_day(data.promised_date)}前，{data.working_days}个工作日内",
                                  bold=True))
    elements.append(Field("领取方式", data.delivery))
    elements.append(Separator())
    if not data.waiting:
        elements.append(Qr(follow_link(data.acceptance_number, data.verification_code), module_size=6, level="M",
                           caption="微信或支付宝扫码，随时查看办理进度"))
        elements.append(Separator())
    elements += [Text("请妥善保管本回执，凭本回执或身份证查询、取件。"),
                 Field("服务热线", data.service_phone),
                 Text(f"打印时间 {dt.datetime.now():%Y-%m-%d %H:%M}", align="right"), Cut()]
    return Receipt("acceptance", tuple(elements))


@dataclass(frozen=True)
class MissingMaterial:
    name: str
    where: str  # where to get it ("" when the catalogue does not say)
    note: str = ""


@dataclass(frozen=True)
class NoticeSlip:
    terminal_id: str
    terminal_name: str
    service_phone: str
    item_name: str
    department: str
    phone: str  # the item's own phone
    missing: tuple[MissingMaterial, ...]
    ready: tuple[str, ...] = field(default=())  # what the resident already has
    locations: tuple[str, ...] = field(default=())
    printed_at: dt.datetime = field(default_factory=dt.datetime.now)


def notice_slip(data: NoticeSlip, logo: str = "") -> Receipt:
    elements: list = [*_logo(logo), Text("一次性告知单", align="center", bold=True, size=2),
                      Text(data.department, align="center"), Separator("="),
                      Field("办理事项", data.item_name, bold=True),
                      Text("您还缺少以下材料，备齐后即可在本机或窗口申请：", bold=True)]
    for number, material in enumerate(data.missing, start=1):
        elements.append(Text(f"{number}. {material.name}", bold=True))
        if material.note:
            elements.append(Text(f"   {material.note}"))
        if material.where:
            elements.append(Text(f"   去哪里办：{material.where}"))
    if data.ready:
        elements += [Separator(), Text("已备齐：" + "、".join(data.ready))]
    if data.locations:
        elements += [Separator(), Text("也可以到窗口办理：", bold=True)]
        elements += [Text(f"· {place}") for place in data.locations[:3]]
    elements += [Separator(), Field("咨询电话", data.phone or data.service_phone),
                 Field("服务热线", data.service_phone),
                 Text("本告知单列明了全部所缺材料，工作人员不会再要求其他材料。"),
                 Text(f"{data.terminal_id} {data.printed_at:%Y-%m-%d %H:%M}", align="right"), Feed(1), Cut()]
    return Receipt("notice", tuple(elements))
