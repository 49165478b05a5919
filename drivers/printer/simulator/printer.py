"""``PrinterSimulator``: a thermal receipt printer that consumes ESC/POS and prints on ``Paper``.

It executes what the driver sends (text with GB18030/GBK/UTF-8 Chinese, sizes, bold,
underline, alignment, line spacing, feeds, ``GS v 0`` rasters, ``GS ( k`` QR codes drawn with
the ``qrcode`` library as real symbols, cuts), answers ``DLE EOT 1–4`` and ``GS r`` with the
real status bytes, and lists every command it does not model (``unknown`` and ``ignored``)
instead of dropping it.

Faults on command — from Python, from a tester's control connection (``server.py``):
``set_paper("near_end"|"out"|"ok")``, ``run_out_after(dots)`` (the roll ends part-way through
the next job: what fits is printed, the rest is lost, as on a printer whose buffer is
cleared when it stops), ``set_cover(open)``, ``set_online(False)``, ``unplug()``. While the
printer is stopped, real-time status requests are still answered; everything else is
counted in ``dropped_bytes``.
"""
from __future__ import annotations

import codecs
import unicodedata
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageOps

from drivers.printer.commands import ENCODINGS, QrErrorLevel
from drivers.printer.raster import qr_image
from drivers.printer.simulator.paper import Cell, Paper, Strip
from drivers.printer.simulator.parser import Command, EscPosParser
from drivers.printer.status import Paper as PaperState
from drivers.printer.status import encode_paper_sensor, encode_status

log = logging.getLogger(__name__)

DEFAULT_SPACING = 30  # ESC 2: 3.75 mm at 8 dots/mm
NEAR_END_DOTS = 400  # the near-end sensor sees the last 5 cm of the roll
#: ESC t n → Python codec (the Epson table; 1 is half-width katakana, JIS X 0201)
CODE_PAGES = {0: "cp437", 1: "katakana", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 13: "cp857", 14: "cp737",
              15: "iso8859_7", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858", 21: "cp874", 32: "cp720",
              33: "cp775", 34: "cp855", 35: "cp861", 36: "cp862", 37: "cp864", 38: "cp869", 39: "iso8859_2",
              40: "iso8859_15", 44: "cp1125", 45: "cp1250", 46: "cp1251", 47: "cp1253", 48: "cp1254",
              49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258", 53: "kz1048"}
PAPER_DOTS = {58: 384, 80: 576}


@dataclass
class _Style:
    bold: bool = False
    underline: int = 0
    kanji_underline: int = 0
    width: int = 1
    height: int = 1
    kanji_width: int = 1
    kanji_height: int = 1
    font_b: bool = False
    align: int = 0
    spacing: int = DEFAULT_SPACING
    chinese: bool = False
    code_page: int = 0
    reverse: bool = False
    barcode_hri: int = 0  # GS H: 0 none, 1 above, 2 below, 3 both
    barcode_height: int = 162  # GS h, dots
    barcode_width: int = 3  # GS w, dots per module
    barcode_font_b: bool = False  # GS f


def _decode_code_page(data: bytes, page: int) -> str:
    codec = CODE_PAGES.get(page, "cp437")
    if codec == "katakana":  # JIS X 0201: ASCII below 0x80, half-width katakana at 0xA1–0xDF
        return "".join(chr(b) if b < 0x80 else (chr(0xFF61 + b - 0xA1) if 0xA1 <= b <= 0xDF else "?") for b in data)
    return data.decode(codec, "replace")


def _looks_chinese(data: bytes) -> bool:
    """Bytes that are GB18030 and read as common Chinese (``drivers.codetext.common_chinese``)."""
    from drivers.codetext import common_chinese

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return common_chinese(text)


#: how much of the roll the simulator keeps in memory: the last cut pieces, printed lines and
#: reported commands (a kiosk prints all day; each piece is an image)
KEEP_PIECES, KEEP_LINES, KEEP_REPORTS = 50, 5000, 1000


class PrinterSimulator:
    def __init__(self, paper_width: int = 80, encoding: str = "gb18030", chinese_default: bool = False,
                 out_dir: str | Path | None = None, name: str = "simulated printer", chinese_auto: bool = False):
        """``chinese_auto``: text outside ``FS &`` whose bytes read as common Chinese in GB18030 is
        printed as Chinese (streams from programs that rely on a printer's Chinese default, such
        as python-escpos); other high bytes use the code page (``kiosk printer render``)."""
        if paper_width not in PAPER_DOTS:
            raise ValueError(f"paper width must be 58 or 80 mm, got {paper_width}")
        if encoding.lower() not in ENCODINGS:
            raise ValueError(f"unsupported encoding {encoding!r}")
        self.name = name
        self.paper_width = paper_width
        self.encoding = encoding.lower()
        self.chinese_default = chinese_default
        self.chinese_auto = chinese_auto
        self.out_dir = Path(out_dir) if out_dir else None
        self._lock = threading.RLock()
        self.on_cut: list[Callable[[Image.Image], None]] = []
        self.connected = True
        #: the control interface's answer faults (no answer, garbage, slow): given each batch of
        #: answers before it is queued, returns what the host gets instead (``b""``: nothing)
        self.answer_filter: Callable[[bytes], bytes] | None = None
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Power-cycle with a fresh roll: clears the paper, faults, counters and lists."""
        with self._lock:
            self.paper = Paper(PAPER_DOTS[self.paper_width])
            self.parser = EscPosParser()
            self.style = _Style(chinese=self.chinese_default)
            self.active_encoding = self.encoding
            self._decoder = codecs.getincrementaldecoder(self.active_encoding)("replace")
            self.output = bytearray()
            self.unknown: list[Command] = []
            self.ignored: list[Command] = []
            self.dropped_bytes = 0
            self.bytes_received = 0
            self.cuts = 0
            self.paper_state = PaperState.OK
            self.paper_remaining: int | None = None
            self.cover_open = False
            self.online = True
            self.cutter_error = False
            self._qr = {"size": 3, "level": QrErrorLevel.L, "data": b"", "model": 2}
            self._pdf417 = {"columns": 0, "rows": 0, "module": 3, "row_height": 3, "level": 1, "ratio": None,
                            "truncated": False, "data": b""}
            self._graphics: Image.Image | None = None
            self.codes: list[dict] = []  # every QR, PDF417 and barcode printed: kind, data, for testers
            self._piece_start = 0
            self._piece_text = (0, 0)  # where the current piece's text lines and codes begin
            self._piece_starts: list[int] = []  # where each piece after a cut begins on the roll
            self.saved: list[Path] = []
            self._receipt_number = 0  # the last receipt-NNNN saved in out_dir

    @property
    def stopped(self) -> bool:
        return self.paper_state is PaperState.OUT or self.cover_open or not self.online or self.cutter_error

    def status_bytes(self) -> bytes:
        with self._lock:
            return encode_status(online=not self.stopped, cover_open=self.cover_open, paper=self.paper_state,
                                 paper_stopped_printing=self.paper_state is PaperState.OUT,
                                 autocutter_error=self.cutter_error)

    # -- faults -----------------------------------------------------------------------------
    def set_paper(self, state: str | PaperState) -> None:
        with self._lock:
            state = PaperState(state)
            if state is PaperState.OUT:
                self._paper_out(mid_job=False)
                return
            if self.paper_state is PaperState.OUT:
                self.paper.strips.append(Strip(marker="new-roll", label="换纸 new paper roll"))
                self._piece_start = len(self.paper.strips)
            self.paper_state = state
            self.paper_remaining = None if state is PaperState.OK else NEAR_END_DOTS

    def load_paper(self) -> None:
        self.set_paper(PaperState.OK)

    def run_out_after(self, dots: int) -> None:
        """The roll ends after ``dots`` more dots of paper (near end is reported from 400 dots)."""
        with self._lock:
            self.paper_remaining = max(0, int(dots))
            self.paper_state = PaperState.NEAR_END if self.paper_remaining < NEAR_END_DOTS else PaperState.OK
            if self.paper_remaining == 0:
                self._paper_out(mid_job=False)

    def set_cover(self, open_: bool) -> None:
        with self._lock:
            self.cover_open = bool(open_)

    def set_online(self, online: bool) -> None:
        with self._lock:
            self.online = bool(online)

    def set_cutter_error(self, error: bool) -> None:
        with self._lock:
            self.cutter_error = bool(error)

    def unplug(self) -> None:
        self.connected = False

    def plug(self) -> None:
        self.connected = True

    def _paper_out(self, mid_job: bool) -> None:
        if self.paper_state is not PaperState.OUT:
            label = "纸尽：打印中断 paper ran out mid-job" if mid_job else "纸尽 paper out"
            self.paper.strips.append(Strip(marker="paper-out", label=label))
        self.paper_state = PaperState.OUT
        self.paper_remaining = 0
        self.paper.line.clear()

    # -- the byte stream --------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        """Consume bytes from the host; returns (and queues) what the printer answers."""
        with self._lock:
            self.bytes_received += len(data)
            answers = bytearray()
            for command in self.parser.feed(bytes(data)):
                answer = self._execute(command)
                if answer:
                    answers += answer
        answered = bytes(answers)
        if answered and self.answer_filter is not None:
            answered = self.answer_filter(answered)  # may hold the answer back, garble it or take its time
        if answered:
            with self._lock:
                self.output += answered
        return answered

    def finish(self) -> None:
        """End of a stream (file, closed connection): an incomplete command is listed."""
        with self._lock:
            for command in self.parser.finish():
                self.unknown.append(command)

    def answer_later(self, data: bytes) -> None:
        """Queue an answer that left the printer late (the control interface's ``slow`` fault)."""
        with self._lock:
            self.output += data

    def take_output(self, count: int) -> bytes:
        with self._lock:
            data = bytes(self.output[:count])
            del self.output[:count]
            return data

    def _execute(self, command: Command) -> bytes:
        kind = command.kind
        if kind == "status":
            return self.status_bytes()[command.value - 1:command.value]
        if self.stopped:
            self.dropped_bytes += len(command.raw)
            return b""
        if kind == "paper_sensor":
            if command.value in (1, 49):
                return bytes([encode_paper_sensor(self.paper_state)])
            if command.value in (2, 50):
                return b"\x00"
            self.unknown.append(command)
            return b""
        handler = getattr(self, f"_do_{kind}", None)
        if handler is None:
            (self.ignored if kind == "ignored" else self.unknown).append(command)
            return b""
        handler(command)
        return b""

    # -- text -------------------------------------------------------------------------------
    def _do_text(self, command: Command) -> None:
        style = self.style
        if self.active_encoding == "utf-8" or style.chinese:
            text = self._decoder.decode(command.data)
        elif self.chinese_auto and max(command.data) >= 0x80 and _looks_chinese(command.data):
            text = command.data.decode("gb18030")
        else:
            text = _decode_code_page(command.data, style.code_page)
        for char in text:
            self._add_char(char)

    def _add_char(self, char: str) -> None:
        style = self.style
        if ord(char) < 0x80 or unicodedata.east_asian_width(char) not in ("W", "F"):  # one code-page cell
            base_w, base_h = (9, 17) if style.font_b else (12, 24)
            width, height, underline = style.width, style.height, style.underline
        else:
            base_w, base_h = 24, 24
            width, height = max(style.width, style.kanji_width), max(style.height, style.kanji_height)
            underline = style.kanji_underline or style.underline
        cell = Cell("?" if char == "\ufffd" else char, base_w * width, base_h * height, base_w, base_h,
                    style.bold, underline, reverse=style.reverse)
        for strip in self.paper.add_cell(cell, style.align, style.spacing):
            self._emit(strip)

    def _flush_decoder(self) -> None:
        for char in self._decoder.decode(b"", final=True):
            self._add_char(char)
        self._decoder.reset()

    def _print_line(self, extra_feed: int = 0, spacing: int | None = None) -> None:
        self._emit(self.paper.print_line(self.style.align, self.style.spacing if spacing is None else spacing,
                                         extra_feed))

    def _do_lf(self, _command: Command) -> None:
        self._flush_decoder()
        self._print_line()

    _do_ff = _do_lf

    def _do_cr(self, _command: Command) -> None:
        pass  # no automatic line feed: CR is ignored, as on Epson printers

    def _do_ht(self, _command: Command) -> None:
        column = self.paper.line_width // 12
        for _ in range(8 - column % 8):
            self._add_char(" ")

    # -- modes ------------------------------------------------------------------------------
    def _do_init(self, _command: Command) -> None:
        self._flush_decoder()
        self.paper.line.clear()  # ESC @ clears the print buffer
        self.style = _Style(chinese=self.chinese_default)
        self._set_encoding(self.encoding)

    def _do_bold(self, command: Command) -> None:
        self.style.bold = bool(command.value & 1)

    _do_double_strike = _do_bold

    def _do_underline(self, command: Command) -> None:
        self.style.underline = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(command.value, self.style.underline)

    def _do_kanji_underline(self, command: Command) -> None:
        self.style.kanji_underline = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(command.value, 0)

    def _do_align(self, command: Command) -> None:
        if command.value in (0, 1, 2, 48, 49, 50):
            self.style.align = command.value % 48
        else:
            self.unknown.append(command)

    def _do_print_mode(self, command: Command) -> None:
        n = command.value
        self.style.font_b = bool(n & 0x01)
        self.style.bold = bool(n & 0x08)
        self.style.height = 2 if n & 0x10 else 1
        self.style.width = 2 if n & 0x20 else 1
        self.style.underline = 1 if n & 0x80 else 0

    def _do_size(self, command: Command) -> None:
        width, height = (command.value >> 4) + 1, (command.value & 0x0F) + 1
        if width > 8 or height > 8:
            self.unknown.append(command)
            return
        self.style.width, self.style.height = width, height

    def _do_kanji_mode(self, command: Command) -> None:
        n = command.value
        self.style.kanji_width = 2 if n & 0x04 else 1
        self.style.kanji_height = 2 if n & 0x08 else 1
        self.style.kanji_underline = 1 if n & 0x80 else 0

    def _do_font(self, command: Command) -> None:
        self.style.font_b = command.value in (1, 49)

    def _do_code_page(self, command: Command) -> None:
        if command.value not in CODE_PAGES:
            self.ignored.append(Command("ignored", command.raw, command.offset,
                                        label=f"ESC t {command.value}: code page not simulated, using PC437"))
        self.style.code_page = command.value

    def _do_reverse(self, command: Command) -> None:
        self.style.reverse = bool(command.value & 1)

    def _do_upside_down(self, command: Command) -> None:
        if command.value & 1:
            self.ignored.append(Command("ignored", command.raw, command.offset,
                                        label="ESC { upside-down printing (drawn upright)"))

    def _do_intl_charset(self, command: Command) -> None:
        if command.value not in (0, 15):  # USA; China uses the same ASCII
            self.ignored.append(Command("ignored", command.raw, command.offset,
                                        label=f"ESC R {command.value}: international characters drawn as USA"))

    def _do_tabs(self, _command: Command) -> None:
        pass  # HT moves to the next multiple of 8 columns (the printer's default stops)

    def _do_barcode_hri(self, command: Command) -> None:
        self.style.barcode_hri = command.value % 48 if command.value in (0, 1, 2, 3, 48, 49, 50, 51) else 0

    def _do_barcode_height(self, command: Command) -> None:
        self.style.barcode_height = max(1, command.value)

    def _do_barcode_width(self, command: Command) -> None:
        if 1 <= command.value <= 6 or 68 <= command.value <= 76:
            self.style.barcode_width = command.value if command.value <= 6 else command.value - 66
        else:
            self.unknown.append(command)

    def _do_barcode_font(self, command: Command) -> None:
        self.style.barcode_font_b = command.value in (1, 49)

    def _do_line_spacing(self, command: Command) -> None:
        self.style.spacing = command.value

    def _do_line_spacing_default(self, _command: Command) -> None:
        self.style.spacing = DEFAULT_SPACING

    def _do_chinese_on(self, _command: Command) -> None:
        self._flush_decoder()
        self.style.chinese = True

    def _do_chinese_off(self, _command: Command) -> None:
        self._flush_decoder()
        self.style.chinese = False

    def _do_select_encoding(self, command: Command) -> None:
        if command.value in (2, 50):
            self._set_encoding("utf-8")
        elif command.value in (1, 49):
            self._set_encoding(self.encoding if self.encoding != "utf-8" else "gb18030")
        else:
            self.unknown.append(command)

    def _set_encoding(self, encoding: str) -> None:
        self._flush_decoder()
        self.active_encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")

    # -- paper movement ---------------------------------------------------------------------
    def _do_feed_lines(self, command: Command) -> None:
        self._flush_decoder()
        lines = command.value
        if self.paper.line:
            self._print_line(extra_feed=max(0, lines - 1) * self.style.spacing)
        elif lines:
            self._emit(self.paper.blank(lines * self.style.spacing))

    def _do_feed_dots(self, command: Command) -> None:
        self._flush_decoder()
        if self.paper.line:
            self._print_line(spacing=0)
        if command.value:
            self._emit(self.paper.blank(command.value))

    def _do_cut(self, command: Command) -> None:
        self._flush_decoder()
        if self.paper.line:
            self._print_line()
        m = command.value
        if m in (65, 66, 97, 98, 103, 104) and command.data and command.data[0]:
            self._emit(self.paper.blank(command.data[0]))
            if self.stopped:
                return
        partial = m in (1, 49, 66, 98, 104)
        self.cuts += 1
        label = "✂ 半切 partial cut" if partial else "✂ 全切 full cut"
        self.paper.strips.append(Strip(marker="cut-partial" if partial else "cut-full", label=label))
        self._finish_piece()

    # -- pictures ---------------------------------------------------------------------------
    def _do_raster(self, command: Command) -> None:
        self._flush_decoder()
        if self.paper.line:
            self._print_line()
        width_bytes = command.raw[4] | command.raw[5] << 8
        height = command.raw[6] | command.raw[7] << 8
        if not width_bytes or not height:
            return
        packed = Image.frombytes("1", (width_bytes * 8, height), command.data)
        image = ImageOps.invert(packed.convert("L")).convert("1", dither=Image.Dither.NONE)  # 1 bits are black
        mode = command.value % 48
        scale_w, scale_h = (2 if mode in (1, 3) else 1), (2 if mode in (2, 3) else 1)
        if (scale_w, scale_h) != (1, 1):
            image = image.resize((image.width * scale_w, image.height * scale_h), Image.NEAREST)
        self._emit(self.paper.picture(image, self.style.align))

    def _do_qr(self, command: Command) -> None:
        fn, data = command.value, command.data
        if fn == 65 and data and data[0] in (49, 50):
            self._qr["model"] = data[0] - 48
            if data[0] == 49:
                self.ignored.append(Command("ignored", command.raw, command.offset,
                                            label="GS ( k: QR model 1 drawn as model 2"))
        elif fn == 67 and data and 1 <= data[0] <= 16:
            self._qr["size"] = data[0]
        elif fn == 69 and data and 48 <= data[0] <= 51:
            self._qr["level"] = QrErrorLevel(data[0])
        elif fn == 80 and data[:1] == b"0":
            self._qr["data"] = bytes(data[1:])
        elif fn == 81 and data[:1] == b"0":
            self._flush_decoder()
            if self.paper.line:
                self._print_line()
            if not self._qr["data"]:
                self.unknown.append(Command("unknown", command.raw, command.offset,
                                            label="GS ( k print: no QR data stored"))
                return
            try:
                image = qr_image(self._qr["data"], self._qr["size"], self._qr["level"], border=0)
            except Exception as exc:  # data too long for any QR version
                self.unknown.append(Command("unknown", command.raw, command.offset,
                                            label=f"GS ( k print: cannot encode stored data ({exc})"))
                return
            if image.width > self.paper.dots:
                self.unknown.append(Command("unknown", command.raw, command.offset,
                                            label="GS ( k print: symbol wider than the paper, not printed"))
                return
            self.codes.append({"kind": "QR", "data": self._qr["data"].decode("utf-8", "replace")})
            self._emit(self.paper.picture(image, self.style.align))
        else:
            self.unknown.append(Command("unknown", command.raw, command.offset,
                                        label=f"GS ( k QR function {fn}"))

    def _picture_now(self, image: Image.Image) -> None:
        self._flush_decoder()
        if self.paper.line:
            self._print_line()
        self._emit(self.paper.picture(image, self.style.align))

    def _do_barcode(self, command: Command) -> None:
        from drivers.printer.simulator.barcodes import NAMES, BarcodeError, encode
        from drivers.printer.simulator.graphics import bars

        name = NAMES.get(command.value, f"barcode system {command.value}")
        try:
            modules, hri = encode(command.value, command.data)
        except BarcodeError as exc:
            self.unknown.append(Command("unknown", command.raw, command.offset, label=f"GS k {name}: {exc}"))
            return
        style = self.style
        image = bars(modules, style.barcode_width, style.barcode_height)
        if image.width > self.paper.dots:
            self.unknown.append(Command("unknown", command.raw, command.offset,
                                        label=f"GS k {name}: {image.width} dots wide, wider than the paper"))
            return
        self.codes.append({"kind": name, "data": command.data.decode("latin-1"), "hri": hri})
        if style.barcode_hri in (1, 3):
            self._hri_line(hri)
        self._picture_now(image)
        if style.barcode_hri in (2, 3):
            self._hri_line(hri)

    def _hri_line(self, text: str) -> None:
        saved = (self.style.font_b, self.style.width, self.style.height, self.style.bold, self.style.underline,
                 self.style.reverse)
        self.style.font_b, self.style.width, self.style.height = self.style.barcode_font_b, 1, 1
        self.style.bold = self.style.reverse = False
        self.style.underline = 0
        for char in text:
            self._add_char(char)
        self._print_line(spacing=0)
        (self.style.font_b, self.style.width, self.style.height, self.style.bold, self.style.underline,
         self.style.reverse) = saved

    def _do_bit_image(self, command: Command) -> None:
        from drivers.printer.simulator.graphics import BIT_IMAGE_MODES, bit_image

        if command.value not in BIT_IMAGE_MODES:
            self.unknown.append(Command("unknown", command.raw, command.offset,
                                        label=f"ESC * mode {command.value}"))
            return
        if not command.data:
            return
        image = bit_image(command.value, command.data)
        self._flush_decoder()
        cell = Cell("", image.width, image.height, image.width, image.height, False, 0, image=image)
        for strip in self.paper.add_cell(cell, self.style.align, self.style.spacing):
            self._emit(strip)

    def _do_graphics(self, command: Command) -> None:
        from drivers.printer.simulator.graphics import GraphicsError, raster_graphics

        body, fn = command.data, command.value
        if len(body) < 2 or body[0] not in (48, 0):
            self.unknown.append(Command("unknown", command.raw, command.offset, label="GS ( L: unknown m"))
            return
        if fn == 112:
            try:
                self._graphics = raster_graphics(body)
            except GraphicsError as exc:
                self.unknown.append(Command("unknown", command.raw, command.offset, label=str(exc)))
            return
        if fn in (2, 50):
            if self._graphics is None:
                self.unknown.append(Command("unknown", command.raw, command.offset,
                                            label="GS ( L 50: no graphics stored"))
                return
            image, self._graphics = self._graphics, None
            if image.width > self.paper.dots:
                image = image.crop((0, 0, self.paper.dots, image.height))
            self._picture_now(image)
            return
        if fn in (0, 48, 1, 49):  # transmit NV capacity / set reference dot density
            self.ignored.append(Command("ignored", command.raw, command.offset, label=f"GS ( L function {fn}"))
            return
        self.unknown.append(Command("unknown", command.raw, command.offset,
                                    label=f"GS ( L function {fn} (NV / download graphics not simulated)"))

    def _do_pdf417(self, command: Command) -> None:
        from drivers.printer.simulator.graphics import GraphicsError, pdf417

        fn, data, state = command.value, command.data, self._pdf417
        if fn == 65 and data:
            state["columns"] = data[0] if data[0] <= 30 else 0
        elif fn == 66 and data:
            state["rows"] = data[0] if data[0] == 0 or 3 <= data[0] <= 90 else 0
        elif fn == 67 and data and 1 <= data[0] <= 8:
            state["module"] = max(2, data[0])
        elif fn == 68 and data and 2 <= data[0] <= 8:
            state["row_height"] = data[0]
        elif fn == 69 and len(data) >= 2:
            if data[0] == 48 and 48 <= data[1] <= 56:
                state["level"], state["ratio"] = data[1] - 48, None
            elif data[0] == 49 and 1 <= data[1] <= 40:
                state["level"], state["ratio"] = None, data[1]
        elif fn == 70 and data:
            state["truncated"] = bool(data[0] & 1)
        elif fn == 80 and data[:1] == b"0":
            state["data"] = bytes(data[1:])
        elif fn == 81 and data[:1] == b"0":
            if not state["data"]:
                self.unknown.append(Command("unknown", command.raw, command.offset,
                                            label="GS ( k PDF417 print: no data stored"))
                return
            try:
                image = pdf417(state["data"], state["columns"], state["rows"], state["module"], state["row_height"],
                               state["level"], state["ratio"], state["truncated"], self.paper.dots)
            except GraphicsError as exc:
                self.unknown.append(Command("unknown", command.raw, command.offset, label=str(exc)))
                return
            self.codes.append({"kind": "PDF417", "data": state["data"].decode("latin-1")})
            self._picture_now(image)
        elif fn == 82:
            self.ignored.append(Command("ignored", command.raw, command.offset, label="GS ( k PDF417 size request"))
        else:
            self.unknown.append(Command("unknown", command.raw, command.offset, label=f"GS ( k PDF417 function {fn}"))

    # -- paper accounting -------------------------------------------------------------------
    def _emit(self, strip: Strip) -> None:
        """Put a printed band on the paper, running out of paper part-way if the roll ends."""
        if self.stopped:
            return
        height = strip.height
        if self.paper_remaining is not None and height > self.paper_remaining:
            if self.paper_remaining:
                image = strip.image
                strip = Strip(image.crop((0, 0, image.width, self.paper_remaining)))
                self.paper.strips.append(strip)
            self._paper_out(mid_job=True)
            return
        self.paper.strips.append(strip)
        self.paper.fed_dots += height
        if self.paper_remaining is not None:
            self.paper_remaining -= height
            if self.paper_remaining < NEAR_END_DOTS and self.paper_state is PaperState.OK:
                self.paper_state = PaperState.NEAR_END

    def _finish_piece(self) -> None:
        strips = self.paper.strips[self._piece_start:]
        lines = self.paper.line_text[self._piece_text[0]:]
        codes = self.codes[self._piece_text[1]:]
        self._piece_start = len(self.paper.strips)
        self._piece_starts.append(self._piece_start)
        self._forget_old_pieces()
        self._piece_text = (len(self.paper.line_text), len(self.codes))
        if not self.on_cut and self.out_dir is None:
            return
        piece = Paper(self.paper.dots, [s for s in strips if s.is_paper] + strips[-1:])
        image = piece.render()
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self._next_receipt_path()
            image.save(path)
            # what a person reads on it, and the codes' contents: a tester (and the privacy audit)
            # can search the paper without reading pictures
            path.with_suffix(".txt").write_text(
                "\n".join(lines + [f"[{code['kind']}] {code['data']}" for code in codes]) + "\n", "utf-8")
            self.saved.append(path)
        for listener in list(self.on_cut):
            listener(image)

    def _next_receipt_path(self) -> Path:
        """``receipt-NNNN.png`` with the first number not taken: a simulator started again on the
        same folder (each scenario's kiosk) adds its receipts after the earlier ones."""
        self._receipt_number += 1
        while (self.out_dir / f"receipt-{self._receipt_number:04d}.png").exists():
            self._receipt_number += 1
        return self.out_dir / f"receipt-{self._receipt_number:04d}.png"

    def _forget_old_pieces(self) -> None:
        """Keep the last ``KEEP_PIECES`` pieces of the roll, lines and reports in memory."""
        if len(self._piece_starts) > KEEP_PIECES:
            drop = self._piece_starts[-KEEP_PIECES - 1]
            del self.paper.strips[:drop]
            self._piece_starts = [start - drop for start in self._piece_starts[-KEEP_PIECES:]]
            self._piece_start -= drop
        for kept, limit in ((self.paper.line_text, KEEP_LINES), (self.unknown, KEEP_REPORTS),
                            (self.ignored, KEEP_REPORTS), (self.codes, KEEP_REPORTS), (self.saved, KEEP_REPORTS)):
            if len(kept) > limit:
                del kept[:len(kept) - limit]

    # -- for people -------------------------------------------------------------------------
    def render(self, path: str | Path | None = None, scale: int = 1) -> Image.Image:
        with self._lock:
            image = self.paper.render(scale)
        if path is not None:
            image.save(path)
        return image

    @property
    def text_lines(self) -> list[str]:
        return list(self.paper.line_text)

    def report(self) -> dict:
        with self._lock:
            return {
                "paper_width_mm": self.paper_width,
                "paper": self.paper_state.value,
                "paper_remaining_dots": self.paper_remaining,
                "cover": "open" if self.cover_open else "closed",
                "online": not self.stopped,
                "bytes_received": self.bytes_received,
                "dropped_bytes": self.dropped_bytes,
                "cuts": self.cuts,
                "lines_printed": len(self.paper.line_text),
                "status_bytes": self.status_bytes().hex(" "),
                "unknown": [f"@{c.offset}: {c.label or c.kind} [{c.hex()}]" for c in self.unknown],
                "ignored": [f"@{c.offset}: {c.label} [{c.hex()}]" for c in self.ignored],
            }
