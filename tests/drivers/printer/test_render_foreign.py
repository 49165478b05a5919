"""`kiosk printer render` on streams this project did not write.

Two sources: python-escpos' own output (its text, set, barcode, qr and image functions), and
streams built byte by byte from the Epson ESC/POS command reference. Every text line must come
out in the text file, and every QR code, PDF417 and barcode must decode from the PNG.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from kiosk.cli import main

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"


def render(tmp_path, capsys, data: bytes, *extra):
    source = tmp_path / "job.bin"
    source.write_bytes(data)
    png, txt = tmp_path / "out.png", tmp_path / "out.txt"
    code = main(["printer", "render", str(source), "--png", str(png), "--text", str(txt), *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    with open(txt, encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")[:-1]
    return Image.open(png).convert("L"), lines, err


def decoded(image: Image.Image) -> set[tuple[str, str]]:
    results = zxingcpp.read_barcodes(np.asarray(image))
    return {(r.format.name, r.text) for r in results}


def picture() -> Image.Image:
    image = Image.new("1", (240, 48), 1)
    ImageDraw.Draw(image).rectangle([8, 8, 231, 39], fill=0)
    return image


def black_bands(image: Image.Image) -> int:
    """How many separate solid black bars (rows with an unbroken run of 200 dark pixels) are printed."""
    dark = np.asarray(image) < 128
    window = np.cumsum(np.pad(dark, ((0, 0), (1, 0))), axis=1)
    rows = ((window[:, 200:] - window[:, :-200]) == 200).any(axis=1)
    starts = np.flatnonzero(rows[1:] & ~rows[:-1]) + 1
    ends = np.flatnonzero(rows[:-1] & ~rows[1:]) + 1
    return sum(1 for start, end in zip(starts, ends) if end - start >= 10)  # not an underline


@pytest.fixture
def escpos_printer(monkeypatch):
    from escpos.printer import Dummy

    return Dummy(profile="default")


def test_python_escpos_text_code_pages_sizes_codes_and_images(tmp_path, capsys, escpos_printer):
    p = escpos_printer
    p.text("Receipt No. 42\n")
    p.text("Größe café naïve\n")          # code page (PC437/PC850 chosen by python-escpos)
    p.text("Ελληνικά και Русский\n")      # two more code pages, switched inside one line
    p.text("河易办 受理回执\n")             # GB18030, sent without FS & (a Chinese printer's default mode)
    p.set(bold=True, double_height=True, double_width=True)
    p.text("TOTAL 12.50\n")
    p.set(align="center", underline=1)
    p.text("centred, underlined\n")
    p.set_with_default()
    p.barcode("4006381333931", "EAN13")
    p.barcode("{BKIOSK-2026", "CODE128", function_type="B")
    p.barcode("HEKOU-13", "CODE39")
    p.barcode("03600029145", "UPC-A")
    p.qr("https://example.gov.cn/case?no=370503-20260612-000123", native=True, size=5)
    p.qr("河易办：受理回执", native=True, size=6)
    p.image(picture(), impl="bitImageColumn")
    p.image(picture(), impl="graphics")
    p.image(picture(), impl="bitImageRaster")
    p.cut()
    image, lines, err = render(tmp_path, capsys, p.output)
    assert lines == ["Receipt No. 42", "Größe café naïve", "Ελληνικά και Русский", "河易办 受理回执",
                     "TOTAL 12.50", "centred, underlined", "4006381333931", "KIOSK-2026", "*HEKOU-13*",
                     "036000291452"]
    found = decoded(image)
    assert ("QRCode", "https://example.gov.cn/case?no=370503-20260612-000123") in found
    assert ("QRCode", "河易办：受理回执") in found
    assert ("EAN13", "4006381333931") in found and ("Code128", "KIOSK-2026") in found
    assert ("Code39", "HEKOU-13") in found
    assert {text for fmt, text in found if fmt in ("UPCA", "EAN13")} >= {"036000291452", "0036000291452"} & \
        {text for fmt, text in found}
    assert black_bands(image) == 3  # the picture, through ESC *, GS ( L and GS v 0
    assert "unknown" not in err


def test_python_escpos_pdf417_is_not_native_but_its_image_fallback_renders(tmp_path, capsys, escpos_printer):
    p = escpos_printer
    p.qr("fallback image QR", native=False, size=4)
    image, _lines, _err = render(tmp_path, capsys, p.output)
    assert ("QRCode", "fallback image QR") in decoded(image)


def gs_k_qr(data: bytes, size: int = 6) -> bytes:
    def fn(body: bytes) -> bytes:
        return GS + b"(k" + struct.pack("<H", len(body)) + body
    return (fn(b"1A2\x00") + fn(b"1C" + bytes([size])) + fn(b"1E1") + fn(b"1P0" + data) + fn(b"1Q0"))


def gs_k_pdf417(data: bytes) -> bytes:
    def fn(body: bytes) -> bytes:
        return GS + b"(k" + struct.pack("<H", len(body)) + body
    return (fn(b"0A\x04") + fn(b"0C\x03") + fn(b"0D\x03") + fn(b"0E02") + fn(b"0F\x00") + fn(b"0P0" + data)
            + fn(b"0Q0"))


def gs_l_raster(image: Image.Image) -> bytes:
    width, height = image.size
    packed = np.packbits(np.asarray(image.convert("L")) < 128, axis=1).tobytes()
    body = b"0p" + b"0" + b"\x01\x01" + b"1" + struct.pack("<HH", width, height) + packed
    return GS + b"(L" + struct.pack("<H", len(body)) + body + GS + b"(L\x02\x0002"


def gs_8_l_raster(image: Image.Image) -> bytes:
    width, height = image.size
    packed = np.packbits(np.asarray(image.convert("L")) < 128, axis=1).tobytes()
    body = b"0p" + b"0" + b"\x02\x01" + b"1" + struct.pack("<HH", width, height) + packed
    return GS + b"8L" + struct.pack("<I", len(body)) + body + GS + b"(L\x02\x0002"


def esc_star_24(image: Image.Image) -> bytes:
    """ESC * 33 bands of 24 dots, each followed by LF, with line spacing 24 (as the reference shows)."""
    ink = np.asarray(image.convert("L")) < 128
    width, height = image.size
    out = ESC + b"3\x18"
    for top in range(0, height, 24):
        band = np.zeros((24, width), dtype=bool)
        part = ink[top:top + 24]
        band[:part.shape[0]] = part
        columns = np.packbits(band.T, axis=1).tobytes()  # 3 bytes per column, MSB on top
        out += ESC + b"*\x21" + struct.pack("<H", width) + columns + b"\n"
    return out + ESC + b"2"


def gs_v_0(image: Image.Image) -> bytes:
    width, height = image.size
    packed = np.packbits(np.asarray(image.convert("L")) < 128, axis=1).tobytes()
    return GS + b"v0\x00" + struct.pack("<HH", (width + 7) // 8, height) + packed


def test_streams_built_from_the_command_reference(tmp_path, capsys):
    stream = b"".join([
        ESC + b"@",
        ESC + b"a\x01", ESC + b"!\x38", b"RECEIPT\n", ESC + b"!\x00",          # emphasized, double height+width
        ESC + b"a\x00", GS + b"!\x11", b"2x2\n", GS + b"!\x00",
        ESC + b"E\x01", b"bold ", ESC + b"E\x00", ESC + b"-\x01", b"underlined\n", ESC + b"-\x00",
        GS + b"B\x01", b" REVERSED \n", GS + b"B\x00",
        ESC + b"M\x01", b"font B line\n", ESC + b"M\x00",
        ESC + b"t\x10", "Café £5 – naïve".encode("cp1252"), b"\n",                 # WPC1252
        ESC + b"t\x11", "Привет мир".encode("cp866"), b"\n",                        # PC866
        ESC + b"t\x00",
        FS + b"&", "东营市河口区 䶮".encode("gb18030"), FS + b".", b"\n",            # 4-byte GB18030 too
        FS + b"&", FS + b"!\x0c", "大字".encode("gb18030"), FS + b"!\x00", FS + b".", b"\n",
        ESC + b"3\x40", b"wide spacing\n", ESC + b"2",
        b"col1\tcol2\n",
        ESC + b"d\x02",
        GS + b"H\x02", GS + b"h\x50", GS + b"w\x02",
        GS + b"kI\x0c{C\x0c\x22\x38{Babc-9",                                         # CODE128, sets C then B
        GS + b"kE\x07KIOSK-1",                                                      # CODE39, format B
        GS + b"k\x05" + b"12345678\x00",                                            # ITF, format A
        GS + b"k\x06" + b"A40156B\x00",                                             # CODABAR
        GS + b"kD\x07" + b"9638507",                                                 # EAN8, check digit added
        ESC + b"a\x01",
        gs_k_qr("https://hekou.example/track/370503-20260612-000123".encode()),
        gs_k_pdf417(b"PDF417 HEKOU 370503-20260612-000123"),
        ESC + b"a\x00",
        esc_star_24(picture()), gs_l_raster(picture()), gs_8_l_raster(picture()), gs_v_0(picture()),
        ESC + b"(A\x04\x00\x30\x00\x01\x01",                                     # a buzzer: not modelled
        GS + b"V\x42\x03",
    ])
    image, lines, err = render(tmp_path, capsys, stream, "--width", "80")
    assert lines[:11] == ["RECEIPT", "2x2", "bold underlined", " REVERSED ", "font B line", "Café £5 – naïve",
                          "Привет мир", "东营市河口区 䶮", "大字", "wide spacing", "col1    col2"]
    assert lines[11:] == ["123456abc-9", "*KIOSK-1*", "12345678", "A40156B", "96385074"]
    found = decoded(image)
    assert ("QRCode", "https://hekou.example/track/370503-20260612-000123") in found
    assert ("PDF417", "PDF417 HEKOU 370503-20260612-000123") in found
    assert {("Code128", "123456abc-9"), ("Code39", "KIOSK-1"), ("ITF", "12345678"), ("Codabar", "A40156B"),
            ("EAN8", "96385074")} <= found
    assert black_bands(image) == 4  # ESC *, GS ( L, GS 8 L, GS v 0
    assert "ESC ( A" in err and "unknown" in err


def test_58mm_paper_and_an_unreadable_file(tmp_path, capsys):
    image, lines, _err = render(tmp_path, capsys, ESC + b"@" + b"x" * 40 + b"\n", "--width", "58")
    assert lines == ["x" * 32, "x" * 8]  # 32 columns of font A on 58 mm paper
    assert main(["printer", "render", str(tmp_path / "missing.bin"), "--png", str(tmp_path / "x.png")]) == 2


def test_a_barcode_the_printer_would_refuse_is_listed_not_drawn(tmp_path, capsys):
    image, lines, err = render(tmp_path, capsys, GS + b"kC\x05" + b"12345" + b"hello\n")
    assert lines == ["hello"] and "EAN13 takes 12 or 13 digits" in err
