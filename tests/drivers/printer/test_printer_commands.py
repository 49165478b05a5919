"""Byte-exact checks of every ESC/POS command the driver emits, against the ESC/POS reference."""
from __future__ import annotations

import pytest
from PIL import Image

from drivers.printer import commands as c
from drivers.printer.raster import qr_raster_bytes, raster_bytes


@pytest.mark.parametrize("produced, expected", [
    (c.initialize(), b"\x1b\x40"),
    (c.bold(True), b"\x1b\x45\x01"),
    (c.bold(False), b"\x1b\x45\x00"),
    (c.underline(1), b"\x1b\x2d\x01\x1c\x2d\x01"),
    (c.underline(2), b"\x1b\x2d\x02\x1c\x2d\x02"),
    (c.underline(0), b"\x1b\x2d\x00\x1c\x2d\x00"),
    (c.align(c.Align.LEFT), b"\x1b\x61\x00"),
    (c.align(c.Align.CENTER), b"\x1b\x61\x01"),
    (c.align(c.Align.RIGHT), b"\x1b\x61\x02"),
    (c.character_size(1, 1), b"\x1d\x21\x00"),
    (c.character_size(2, 2), b"\x1d\x21\x11"),
    (c.character_size(3, 1), b"\x1d\x21\x20"),
    (c.character_size(8, 8), b"\x1d\x21\x77"),
    (c.line_spacing(None), b"\x1b\x32"),
    (c.line_spacing(40), b"\x1b\x33\x28"),
    (c.feed_lines(3), b"\x1b\x64\x03"),
    (c.feed_dots(24), b"\x1b\x4a\x18"),
    (c.chinese_mode_on(), b"\x1c\x26"),
    (c.chinese_mode_off(), b"\x1c\x2e"),
    (c.select_utf8(), b"\x1c\x28\x43\x02\x00\x30\x02"),
    (c.cut(c.CutMode.PARTIAL), b"\x1d\x56\x42\x00"),
    (c.cut(c.CutMode.FULL, 10), b"\x1d\x56\x41\x0a"),
    (c.status_request(c.StatusRequest.PRINTER), b"\x10\x04\x01"),
    (c.status_request(c.StatusRequest.OFFLINE_CAUSE), b"\x10\x04\x02"),
    (c.status_request(c.StatusRequest.ERROR_CAUSE), b"\x10\x04\x03"),
    (c.status_request(c.StatusRequest.PAPER_SENSOR), b"\x10\x04\x04"),
    (c.paper_sensor_request(), b"\x1d\x72\x01"),
])
def test_single_commands_are_byte_exact(produced, expected):
    assert produced == expected


def test_native_qr_sequence_is_byte_exact():
    data = b"https://x.cn/q/1"
    expected = (b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"  # model 2
                b"\x1d\x28\x6b\x03\x00\x31\x43\x06"  # module size 6
                b"\x1d\x28\x6b\x03\x00\x31\x45\x31"  # EC level M
                + b"\x1d\x28\x6b" + bytes([len(data) + 3, 0]) + b"\x31\x50\x30" + data  # store
                + b"\x1d\x28\x6b\x03\x00\x31\x51\x30")  # print
    assert c.qr_native(data, 6, c.QrErrorLevel.M) == expected
    assert c.qr_error_level(c.QrErrorLevel.H) == b"\x1d\x28\x6b\x03\x00\x31\x45\x33"
    assert c.qr_error_level(c.QrErrorLevel.L) == b"\x1d\x28\x6b\x03\x00\x31\x45\x30"


def test_qr_store_length_uses_both_length_bytes():
    data = b"A" * 300
    command = c.qr_store(data)
    assert command[3:5] == (303).to_bytes(2, "little")
    assert command.endswith(data)


@pytest.mark.parametrize("bad", [lambda: c.qr_module_size(0), lambda: c.qr_module_size(17),
                                 lambda: c.character_size(9, 1), lambda: c.underline(3),
                                 lambda: c.feed_lines(256), lambda: c.qr_store(b""),
                                 lambda: c.qr_store(b"x" * 8000), lambda: c.raster(2, 2, b"\x00")])
def test_out_of_range_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_raster_is_gs_v_0_with_little_endian_sizes_and_black_as_one():
    image = Image.new("1", (10, 2), 1)  # white
    image.putpixel((0, 0), 0)  # one black dot, top left
    image.putpixel((9, 1), 0)  # one black dot, bottom right
    data = raster_bytes(image, 576)
    assert data == b"\x1d\x76\x30\x00\x02\x00\x02\x00" + bytes([0x80, 0x00, 0x00, 0x40])


def test_raster_is_split_into_bands_and_shrunk_to_the_paper():
    tall = Image.new("1", (800, 600), 0)
    data = raster_bytes(tall, 384)
    # 800 wide shrinks to 384 dots = 48 bytes a row; 288 rows = bands of 256 + 32
    assert data.count(b"\x1d\x76\x30\x00") == 2
    assert data[4:8] == bytes([48, 0, 0, 1])


def test_raster_qr_fallback_fits_the_paper():
    data = qr_raster_bytes(b"x" * 200, 8, c.QrErrorLevel.H, 384)
    assert data.startswith(b"\x1d\x76\x30\x00")
    width_bytes = data[4] | data[5] << 8
    assert width_bytes * 8 <= 384 + 7


def test_chinese_punctuation_only_text_is_sent_as_gb18030_in_chinese_mode_not_question_marks():
    # python-escpos' automatic path prints this string as "???"
    assert c.encode_text("：，。") == b"\x1c\x26" + "：，。".encode("gb18030") + b"\x1c\x2e"
    assert b"?" not in c.encode_text("①②（）《》")


def test_mixed_text_switches_chinese_mode_only_around_non_ascii_runs():
    assert c.encode_text("编号：HK-01 张*三") == (
        b"\x1c\x26" + "编号：".encode("gb18030") + b"\x1c\x2e" + b"HK-01 "
        + b"\x1c\x26" + "张".encode("gb18030") + b"\x1c\x2e" + b"*"
        + b"\x1c\x26" + "三".encode("gb18030") + b"\x1c\x2e")


def test_encodings_differ_where_they_should():
    assert c.encode_text("河", "gbk") == b"\x1c\x26" + "河".encode("gbk") + b"\x1c\x2e"
    assert c.encode_text("河", "utf-8") == b"\x1c\x26\xe6\xb2\xb3\x1c\x2e"
    # U+4DAE is in GB18030 (four bytes) but not in GBK: GBK printers get "?"
    assert c.encode_text("䶮", "gb18030") == b"\x1c\x26" + "䶮".encode("gb18030") + b"\x1c\x2e"
    assert c.encode_text("䶮", "gbk") == b"?"
    with pytest.raises(ValueError):
        c.encode_text("x", "big5")


def test_control_characters_in_text_are_dropped_so_they_cannot_become_commands():
    assert c.encode_text("a\x1b@b\x10\x04\x01c") == b"a@b\x01c".replace(b"\x01", b"")


def test_text_width_counts_chinese_as_two_columns():
    assert c.text_width("abc") == 3
    assert c.text_width("受理：A") == 7


def test_writer_sends_mode_changes_only_and_utf8_selection_after_init():
    writer = c.EscPosWriter("gb18030").initialize()
    writer.set_style(c.TextStyle(bold=True)).set_style(c.TextStyle(bold=True)).line("A")
    writer.set_align(c.Align.CENTER).set_align(c.Align.CENTER).line("B")
    assert writer.getvalue() == b"\x1b@" + b"\x1bE\x01" + b"A\n" + b"\x1ba\x01" + b"B\n"
    utf8 = c.EscPosWriter("utf-8").initialize().getvalue()
    assert utf8 == b"\x1b@" + c.select_utf8()
