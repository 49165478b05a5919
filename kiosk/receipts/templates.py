"""The kiosk's slips as layouts: acceptance receipt, pickup slip, test page, diagnostics slip.

Each template takes plain data and returns a ``Receipt``. Personal data is masked here,
through ``kiosk.privacy``: a receipt shows the resident's name as 张*三, never the ID number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from kiosk import __version__
from kiosk.privacy import mask_name
from kiosk.receipts.layout import (Columns, Cut, Feed, Field, Logo, Qr, Receipt, Ruler, Separator, Text)

BUNDLED_LOGO = str(Path(__file__).resolve().parents[2] / "assets" / "images" / "receipt-logo.png")
WEEKDAYS = "一二三四五六日"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _day(day: date) -> str:
    return f"{day:%Y-%m-%d}（星期{WEEKDAYS[day.weekday()]}）"


def _logo(path: str) -> list:
    if path == "none":
        return []
    return [Logo(path or BUNDLED_LOGO)]


@dataclass(frozen=True)
class Material:
    name: str
    pages: int
    form: str = ""  # "原件", "复印件", "电子件"…


@dataclass(frozen=True)
class AcceptanceData:
    terminal_id: str
    terminal_name: str
    accepted_at: datetime
    resident_name: str  # full name; masked on the receipt
    item_name: str
    acceptance_number: str
    department: str
    materials: tuple[Material, ...]
    promised_date: date | None  # None for a 即办件 (decided on the spot)
    working_days: int
    pickup_method: str
    follow_url: str  # the QR payload: where the resident follows the case
    service_phone: str
    verification_code: str = ""  # 查询码: with the acceptance number, follows the case without the ID card
    reprint: bool = False  # printed again later (补打), e.g. from 办件查询


def acceptance_receipt(data: AcceptanceData, logo: str = "") -> Receipt:
    total = sum(material.pages for material in data.materials)
    promised = (f"{_day(data.promised_date)}，{data.working_days}个工作日内"
                if data.promised_date is not None and data.working_days > 0 else "即办件，当场办结")
    elements: list = [*_logo(logo),
                      Text("受理回执（补打）" if data.reprint else "受理回执", align="center", bold=True, size=2),
                      Text(data.department, align="center"),
                      Separator("="),
                      Field("受理编号", data.acceptance_number, bold=True),
                      *([Field("查询码", data.verification_code, bold=True)] if data.verification_code else []),
                      Field("办理事项", data.item_name),
                      Field("申请人", mask_name(data.resident_name)),
                      Field("受理时间", _when(data.accepted_at)),
                      Field("受理终端", f"{data.terminal_id} {data.terminal_name}"),
                      Separator(),
                      Columns("已收材料", "页数", bold=True)]
    for number, material in enumerate(data.materials, start=1):
        name = f"{number}. {material.name}" + (f"（{material.form}）" if material.form else "")
        elements.append(Columns(name, f"{material.pages}页"))
    elements += [Columns("", f"共{len(data.materials)}项 {total}页", bold=True),
                 Separator(),
                 Field("承诺办结", promised, bold=True),
                 Field("取件方式", data.pickup_method),
                 Separator(),
                 Qr(data.follow_url, module_size=6, level="M", caption="微信或支付宝扫码，随时查看办理进度"),
                 Separator(),
                 Text("请妥善保管本回执，凭本回执或身份证查询、取件。"),
                 Field("服务热线", data.service_phone),
                 Text(f"打印时间 {_when(data.accepted_at)}", align="right"),
                 Cut()]
    return Receipt("acceptance", tuple(elements))


@dataclass(frozen=True)
class PickupData:
    terminal_id: str
    terminal_name: str
    picked_up_at: datetime
    resident_name: str
    item_name: str
    acceptance_number: str
    results: tuple[str, ...]  # what was collected: "不动产权证书 1本"
    locker_door: str
    follow_url: str
    service_phone: str


def pickup_slip(data: PickupData, logo: str = "") -> Receipt:
    elements: list = [*_logo(logo),
                      Text("取件凭证", align="center", bold=True, size=2),
                      Separator("="),
                      Field("受理编号", data.acceptance_number, bold=True),
                      Field("办理事项", data.item_name),
                      Field("取件人", mask_name(data.resident_name)),
                      Field("取件时间", _when(data.picked_up_at)),
                      Field("取件终端", f"{data.terminal_id} {data.terminal_name}"),
                      Field("柜门", data.locker_door),
                      Separator(),
                      Text("领取材料", bold=True)]
    elements += [Text(f"{number}. {result}") for number, result in enumerate(data.results, start=1)]
    elements += [Separator(),
                 Text("请当场核对证照信息，如有错漏请联系工作人员。"),
                 Qr(data.follow_url, module_size=5, level="M", caption="扫码查看办件记录"),
                 Field("服务热线", data.service_phone),
                 Cut()]
    return Receipt("pickup", tuple(elements))


@dataclass(frozen=True)
class PrinterTestData:
    terminal_id: str
    printed_at: datetime
    printer_model: str  # vendor and model from the profile
    profile: str
    transport: str
    paper_width: int
    encoding: str
    qr_mode: str  # "native (GS ( k)" or "raster (GS v 0)"
    status: str  # what the printer reported, or "unknown (cannot read back)"


CHARSET_SAMPLES = (
    "ASCII: !\"#$%&'()*+,-./0123456789:;<=>?",
    "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    "常用字：河口区政务服务中心 东营市 山东省",
    "标点：，。、；：？！“”‘’（）《》【】…—·",
    "全角：０１２３ＡＢＣ　数字：①②③④⑤ ￥¥",
    "生僻字：䶮 㐂 堃 犇 淼 喆 昇 珺",
)


def printer_test_page(data: PrinterTestData, logo: str = "") -> Receipt:
    elements: list = [*_logo(logo),
                      Text("打印机测试页", align="center", bold=True, size=2),
                      Text("PRINTER TEST PAGE", align="center"),
                      Separator("="),
                      Field("终端", data.terminal_id),
                      Field("时间", _when(data.printed_at)),
                      Field("型号", data.printer_model),
                      Field("配置", data.profile),
                      Field("连接", data.transport),
                      Field("纸宽", f"{data.paper_width} mm"),
                      Field("编码", data.encoding),
                      Field("二维码", data.qr_mode),
                      Field("状态", data.status, bold=True),
                      Separator(),
                      Text("字符集", bold=True)]
    elements += [Text(sample) for sample in CHARSET_SAMPLES]
    elements += [Separator(),
                 Text("左对齐 left"),
                 Text("居中 center", align="center"),
                 Text("右对齐 right", align="right"),
                 Text("加粗 bold", bold=True),
                 Text("下划线 underline", underline=True),
                 Text("倍宽倍高 2x", size=2),
                 Text("三倍 3x", size=3),
                 Separator(),
                 Text("标尺 ruler（每格1毫米）", bold=True),
                 Ruler(),
                 Separator(),
                 Qr(f"KIOSK-TEST {data.terminal_id} {data.printed_at:%Y%m%d%H%M}", module_size=5, level="M",
                    caption="扫码应读出终端编号与时间"),
                 Text(f"kiosk {__version__}", align="center"),
                 Cut()]
    return Receipt("test", tuple(elements))


@dataclass(frozen=True)
class DeviceLine:
    name: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class DiagnosticsData:
    terminal_id: str
    terminal_name: str
    printed_at: datetime
    devices: tuple[DeviceLine, ...]
    network: str
    notes: tuple[str, ...] = field(default=())


def diagnostics_slip(data: DiagnosticsData) -> Receipt:
    elements: list = [Text("设备诊断单", align="center", bold=True, size=2),
                      Text("DIAGNOSTICS", align="center"),
                      Separator("="),
                      Field("终端", f"{data.terminal_id} {data.terminal_name}"),
                      Field("时间", _when(data.printed_at)),
                      Field("软件", f"kiosk {__version__}"),
                      Field("网络", data.network),
                      Separator(),
                      Columns("设备", "状态", bold=True)]
    for device in data.devices:
        elements.append(Columns(device.name, device.state))
        if device.detail:
            elements.append(Text("  " + device.detail))
    if data.notes:
        elements += [Separator(), *[Text(note) for note in data.notes]]
    elements += [Separator(), Text("本单仅供技术人员使用，不含个人信息。"), Feed(1), Cut()]
    return Receipt("diagnostics", tuple(elements))
