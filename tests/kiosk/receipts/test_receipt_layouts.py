"""Round trips: layout → ESC/POS bytes → simulator → PNG → the QR decodes, the Chinese reads back."""
from __future__ import annotations

import re

import pytest
import zxingcpp

from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator.parser import EscPosParser
from kiosk.receipts import samples
from kiosk.receipts.layout import (Columns, Cut, Field, Logo, Qr, Receipt, Separator, Target, Text,
                                   compile_receipt)
from kiosk.receipts.printing import KINDS, build_slip
from kiosk.receipts.templates import BUNDLED_LOGO, acceptance_receipt

CHINESE_RUN = re.compile(rb"\x1c\x26(.*?)\x1c\x2e", re.S)


def _print(data: bytes, width: int, encoding: str = "gb18030") -> PrinterSimulator:
    simulator = PrinterSimulator(width, encoding)
    simulator.feed(data)
    simulator.finish()
    return simulator


@pytest.mark.parametrize("width", [58, 80])
@pytest.mark.parametrize("native_qr", [True, False])
def test_acceptance_receipt_round_trip(width, native_qr):
    slip = build_slip("acceptance", Target(width, "gb18030", native_qr))
    simulator = _print(slip.data, width)
    image = simulator.render()
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [samples.FOLLOW_URL]
    # every line prints exactly as laid out: nothing wrapped by the printer, nothing garbled
    assert simulator.text_lines == list(slip.lines)
    assert simulator.report()["unknown"] == [] and simulator.cuts == 1
    assert "受理回执" in slip.lines[0].replace(" ", "") or "受理回执" in slip.lines


def _text_in_bytes(data: bytes, encoding: str = "gb18030") -> list[str]:
    """Decode the text of an ESC/POS stream by hand: FS & … FS . runs in ``encoding``, the rest ASCII."""
    lines, current, chinese = [], "", False
    for command in EscPosParser().feed(data):
        if command.kind == "chinese_on":
            chinese = True
        elif command.kind == "chinese_off":
            chinese = False
        elif command.kind == "text":
            current += command.data.decode(encoding if chinese else "ascii")
        elif command.kind == "lf":
            lines.append(current)
            current = ""
    return lines


def test_chinese_in_the_bytes_decodes_back_to_the_receipt_text():
    slip = build_slip("acceptance", Target(80))
    assert _text_in_bytes(slip.data) == list(slip.lines)
    chinese = "".join(run.decode("gb18030") for run in CHINESE_RUN.findall(slip.data))
    for text in ("受理回执", "城乡居民基本养老保险参保登记", "承诺办结", "服务热线", "：", "，"):
        assert text in chinese
    assert "申请人：张*三" in slip.lines
    assert "张小三".encode("gb18030") not in slip.data and "小".encode("gb18030") not in slip.data
    assert "?" not in "".join(_text_in_bytes(slip.data))  # no character was lost to "?"


def test_receipt_contents_a_resident_needs():
    slip = build_slip("acceptance", Target(58))
    text = "\n".join(slip.lines)
    for expected in ("HK-LH-001", "申请人：张*三", "HK2025031800123", "2025-03-25", "1. 居民身份证（复印件）",
                     "共3项 5页", "本终端自助取件", "0546-12345", "2025-03-18 10:32"):
        assert expected in text
    assert all(len(line.encode("gb18030")) <= 32 for line in slip.lines)  # 2 bytes = 2 columns in GB18030


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_other_printer_encodings_round_trip(encoding):
    slip = build_slip("pickup", Target(80, encoding))
    simulator = _print(slip.data, 80, encoding)
    assert simulator.text_lines == list(slip.lines)
    assert [r.text for r in zxingcpp.read_barcodes(simulator.render())] == [samples.FOLLOW_URL]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width", [58, 80])
def test_every_slip_prints_cleanly_on_both_widths(kind, width):
    slip = build_slip(kind, Target(width))
    simulator = _print(slip.data, width)
    assert simulator.text_lines == list(slip.lines)
    assert simulator.report()["unknown"] == []


def test_test_page_qr_and_rare_characters():
    slip = build_slip("test", Target(80))
    simulator = _print(slip.data, 80)
    decoded = [r.text for r in zxingcpp.read_barcodes(simulator.render())]
    assert decoded == ["KIOSK-TEST HK-LH-001 202503181032"]
    assert any("䶮" in line for line in simulator.text_lines)  # a GB18030 four-byte character


def test_layout_elements_compile_to_expected_lines():
    receipt = Receipt("x", (Text("标题", align="center", bold=True, size=2), Separator("="),
                            Field("办理事项", "城乡居民基本养老保险参保登记"), Columns("合计", "5页"),
                            Qr("abc", caption="扫码"), Cut()))
    slip = compile_receipt(receipt, Target(58))
    assert slip.lines == ("标题", "=" * 32, "办理事项：城乡居民基本养老保险参", "          保登记",
                          "合计" + " " * 25 + "5页", "", "扫码")
    assert slip.qr_payloads == ("abc",)
    assert b"\x1d!\x11" in slip.data and b"\x1dVB\x00" in slip.data


def test_missing_logo_is_skipped_not_fatal(tmp_path):
    receipt = Receipt("x", (Logo(str(tmp_path / "missing.png")), Text("ok")))
    assert compile_receipt(receipt, Target(80)).lines == ("ok",)
    with_logo = compile_receipt(Receipt("x", (Logo(BUNDLED_LOGO),)), Target(58))
    assert with_logo.data.count(b"\x1dv0") == 1


def test_no_logo_option():
    data = acceptance_receipt(samples.sample_acceptance(), logo="none")
    assert not any(isinstance(element, Logo) for element in data.elements)
