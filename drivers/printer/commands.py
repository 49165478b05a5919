"""ESC/POS command encoder: every byte the receipt printer driver sends is built here.

Each function returns the exact bytes of one command, so tests can compare them byte for
byte against the ESC/POS reference. ``EscPosWriter`` strings them together for a job and
writes text itself: ASCII as single bytes, everything else inside Chinese mode
(``FS &`` … ``FS .``) in the configured encoding (GB18030, GBK or UTF-8). It never relies
on python-escpos' automatic text path, which sends strings made only of Chinese punctuation
("：，。") as ``?``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\x0a"

ENCODINGS = ("gb18030", "gbk", "utf-8")


class Align(enum.IntEnum):
    LEFT = 0
    CENTER = 1
    RIGHT = 2


class QrErrorLevel(enum.IntEnum):
    """``GS ( k`` function 169 values (48 + level)."""

    L = 48
    M = 49
    Q = 50
    H = 51


class CutMode(enum.Enum):
    FULL = 65  # GS V function B, m = 65
    PARTIAL = 66  # GS V function B, m = 66


class StatusRequest(enum.IntEnum):
    """``DLE EOT n``: real-time status transmission."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


def _byte(value: int, name: str, low: int = 0, high: int = 255) -> bytes:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return bytes([value])


def _u16(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"length {value} does not fit in two bytes")
    return bytes([value & 0xFF, value >> 8])


# ---------------------------------------------------------------------------------------
# One function per command


def initialize() -> bytes:
    """ESC @: clear the print buffer and reset every mode to its power-on value."""
    return ESC + b"@"


def bold(on: bool) -> bytes:
    """ESC E n: emphasized (bold) on/off; applies to ASCII and Chinese characters."""
    return ESC + b"E" + (b"\x01" if on else b"\x00")


def underline(dots: int) -> bytes:
    """ESC - n (ASCII) followed by FS - n (Chinese): underline 0 (off), 1 or 2 dots thick."""
    value = _byte(dots, "underline", 0, 2)
    return ESC + b"-" + value + FS + b"-" + value


def align(where: Align) -> bytes:
    """ESC a n: justification of text, rasters and QR codes on the following lines."""
    return ESC + b"a" + bytes([Align(where).value])


def character_size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: character width and height multipliers (1–8 each)."""
    _byte(width, "width", 1, 8)
    _byte(height, "height", 1, 8)
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def line_spacing(dots: int | None) -> bytes:
    """ESC 3 n sets the line spacing in dots; ``None`` is ESC 2, the default spacing."""
    if dots is None:
        return ESC + b"2"
    return ESC + b"3" + _byte(dots, "line spacing")


def feed_lines(lines: int) -> bytes:
    """ESC d n: print the buffer and feed n lines."""
    return ESC + b"d" + _byte(lines, "lines")


def feed_dots(dots: int) -> bytes:
    """ESC J n: print the buffer and feed n dots."""
    return ESC + b"J" + _byte(dots, "dots")


def chinese_mode_on() -> bytes:
    """FS &: select Chinese (Kanji) character mode."""
    return FS + b"&"


def chinese_mode_off() -> bytes:
    """FS .: cancel Chinese character mode."""
    return FS + b"."


def select_utf8() -> bytes:
    """FS ( C fn 48: select UTF-8 as the character encoding (printers that support it)."""
    return FS + b"(C" + _u16(2) + b"\x30\x02"


def _qr_function(fn: int, payload: bytes, m: bytes = b"") -> bytes:
    # GS ( k pL pH cn fn [m] data — cn = 49 (QR); pL pH count cn + fn + m + data
    return GS + b"(k" + _u16(len(payload) + len(m) + 2) + b"1" + bytes([fn]) + m + payload


def qr_model(model: int = 2) -> bytes:
    """GS ( k fn 165: select QR model 1 or 2."""
    return _qr_function(65, bytes([48 + _byte(model, "QR model", 1, 2)[0], 0]))


def qr_module_size(dots: int) -> bytes:
    """GS ( k fn 167: module (cell) size in dots, 1–16."""
    return _qr_function(67, _byte(dots, "QR module size", 1, 16))


def qr_error_level(level: QrErrorLevel) -> bytes:
    """GS ( k fn 169: error-correction level L, M, Q or H."""
    return _qr_function(69, bytes([QrErrorLevel(level).value]))


def qr_store(data: bytes) -> bytes:
    """GS ( k fn 180: store the symbol's data (m = 48)."""
    if not data:
        raise ValueError("a QR code needs some data")
    if len(data) > 7089:
        raise ValueError(f"QR data of {len(data)} bytes is more than a QR code holds")
    return _qr_function(80, data, b"0")


def qr_print() -> bytes:
    """GS ( k fn 181: print the stored symbol (m = 48)."""
    return _qr_function(81, b"", b"0")


def qr_native(data: bytes, module_size: int = 6, level: QrErrorLevel = QrErrorLevel.M) -> bytes:
    """The whole native QR sequence: model 2, module size, EC level, store, print."""
    return qr_model(2) + qr_module_size(module_size) + qr_error_level(level) + qr_store(data) + qr_print()


def raster(width_bytes: int, height: int, rows: bytes) -> bytes:
    """GS v 0 m xL xH yL yH d…: one raster band, ``width_bytes`` × 8 dots wide, normal density."""
    if len(rows) != width_bytes * height:
        raise ValueError(f"raster needs {width_bytes * height} bytes, got {len(rows)}")
    return GS + b"v0\x00" + _u16(width_bytes) + _u16(height) + rows


def cut(mode: CutMode = CutMode.PARTIAL, feed: int = 0) -> bytes:
    """GS V m n (function B): feed to the cutter plus ``feed`` dots, then cut."""
    return GS + b"V" + bytes([CutMode(mode).value]) + _byte(feed, "cut feed")


def status_request(which: StatusRequest) -> bytes:
    """DLE EOT n: ask for one real-time status byte."""
    return DLE + EOT + bytes([StatusRequest(which).value])


def paper_sensor_request() -> bytes:
    """GS r 1: paper sensor status, answered only once everything before it is processed.

    Used as the end-of-job marker: its answer means the job before it has been printed.
    """
    return GS + b"r\x01"


# ---------------------------------------------------------------------------------------
# Text


def text_width(text: str) -> int:
    """Columns ``text`` takes on a printer: ASCII one column, everything printed in Chinese mode two."""
    return sum(1 if " " <= ch <= "~" else 2 for ch in text if ch != "\n")


def encode_text(text: str, encoding: str = "gb18030") -> bytes:
    """Encode one line of text: ASCII runs as is, other runs inside FS & … FS .

    Characters the encoding cannot represent print as "?" (and control characters, which
    would be read as commands, are dropped).
    """
    encoding = encoding.lower()
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported printer encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    out = bytearray()
    wide = bytearray()

    def flush_wide() -> None:
        if wide:
            out.extend(chinese_mode_on() + bytes(wide) + chinese_mode_off())
            wide.clear()

    for ch in text:
        if " " <= ch <= "~":
            flush_wide()
            out.append(ord(ch))
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            continue
        else:
            try:
                wide.extend(ch.encode(encoding))
            except UnicodeEncodeError:
                flush_wide()
                out.extend(b"?")
    flush_wide()
    return bytes(out)


@dataclass(frozen=True)
class TextStyle:
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1


class EscPosWriter:
    """Accumulates one job's bytes, sending a mode command only when the mode changes."""

    def __init__(self, encoding: str = "gb18030"):
        encoding = encoding.lower()
        if encoding not in ENCODINGS:
            raise ValueError(f"unsupported printer encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
        self._out = bytearray()
        self._style = TextStyle()
        self._align = Align.LEFT
        self._spacing: int | None = None

    def raw(self, data: bytes) -> "EscPosWriter":
        self._out.extend(data)
        return self

    def initialize(self) -> "EscPosWriter":
        self._out.extend(initialize())
        if self.encoding == "utf-8":
            self._out.extend(select_utf8())
        self._style, self._align, self._spacing = TextStyle(), Align.LEFT, None
        return self

    def set_align(self, where: Align) -> "EscPosWriter":
        if where != self._align:
            self._out.extend(align(where))
            self._align = Align(where)
        return self

    def set_style(self, style: TextStyle) -> "EscPosWriter":
        current = self._style
        if style.bold != current.bold:
            self._out.extend(bold(style.bold))
        if style.underline != current.underline:
            self._out.extend(underline(style.underline))
        if (style.width, style.height) != (current.width, current.height):
            self._out.extend(character_size(style.width, style.height))
        self._style = style
        return self

    def set_line_spacing(self, dots: int | None) -> "EscPosWriter":
        if dots != self._spacing:
            self._out.extend(line_spacing(dots))
            self._spacing = dots
        return self

    def text(self, text: str) -> "EscPosWriter":
        self._out.extend(encode_text(text, self.encoding))
        return self

    def line(self, text: str = "") -> "EscPosWriter":
        return self.text(text).raw(LF)

    def feed(self, lines: int = 1) -> "EscPosWriter":
        return self.raw(feed_lines(lines))

    def getvalue(self) -> bytes:
        return bytes(self._out)

    def __len__(self) -> int:
        return len(self._out)
