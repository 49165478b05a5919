"""Sample data for every slip: what `kiosk receipt render` prints, and the docs example.

The names and numbers are made up; the resident's name is masked on paper anyway.
"""
from __future__ import annotations

from datetime import date, datetime

from kiosk.receipts.templates import (AcceptanceData, DeviceLine, DiagnosticsData, Material, PickupData,
                                      PrinterTestData)

SAMPLE_TIME = datetime(2025, 3, 18, 10, 32)
FOLLOW_URL = "https://zwfw.hekou.example.gov.cn/q/HK2025031800123?c=7KQ2"


def sample_acceptance() -> AcceptanceData:
    return AcceptanceData(
        terminal_id="HK-LH-001",
        terminal_name="六合街道便民服务中心 1号机",
        accepted_at=SAMPLE_TIME,
        resident_name="张小三",
        item_name="城乡居民基本养老保险参保登记（含个人缴费档次选择）",
        acceptance_number="HK2025031800123",
        department="东营市河口区行政审批服务局",
        materials=(
            Material("居民身份证", 2, "复印件"),
            Material("户口簿首页及本人页", 2, "复印件"),
            Material("城乡居民养老保险参保登记表", 1, "原件"),
        ),
        promised_date=date(2025, 3, 25),
        working_days=5,
        pickup_method="本终端自助取件（办结后短信通知取件码）",
        follow_url=FOLLOW_URL,
        service_phone="0546-12345",
    )


def sample_pickup() -> PickupData:
    return PickupData(
        terminal_id="HK-LH-001",
        terminal_name="六合街道便民服务中心 1号机",
        picked_up_at=datetime(2025, 3, 26, 9, 5),
        resident_name="张小三",
        item_name="城乡居民基本养老保险参保登记",
        acceptance_number="HK2025031800123",
        results=("参保登记确认单 1份", "居民身份证复印件（退回） 2页"),
        locker_door="A-07",
        follow_url=FOLLOW_URL,
        service_phone="0546-12345",
    )


def sample_test_page(paper_width: int = 80, encoding: str = "gb18030", native_qr: bool = True) -> PrinterTestData:
    return PrinterTestData(
        terminal_id="HK-LH-001",
        printed_at=SAMPLE_TIME,
        printer_model="Generic ESC/POS (profile default)",
        profile="default",
        transport="sample (no printer)",
        paper_width=paper_width,
        encoding=encoding,
        qr_mode="native (GS ( k)" if native_qr else "raster (GS v 0)",
        status="not asked (sample)",
    )


def sample_diagnostics() -> DiagnosticsData:
    return DiagnosticsData(
        terminal_id="HK-LH-001",
        terminal_name="六合街道便民服务中心 1号机",
        printed_at=SAMPLE_TIME,
        devices=(DeviceLine("打印机 printer", "online", "paper near_end, cover closed"),
                 DeviceLine("身份证读卡器 idcard", "online"),
                 DeviceLine("扫码器 scanner", "no_device", "DEV-002 /dev/ttyUSB1")),
        network="backend reachable, 42 ms",
    )
