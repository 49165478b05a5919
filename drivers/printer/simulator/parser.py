"""Splits an ESC/POS byte stream into commands, incrementally (bytes arrive in any chunks).

``EscPosParser.feed(data)`` returns the commands complete so far and keeps an incomplete
tail for the next call; ``finish()`` returns that tail as a ``truncated`` command. Every
byte ends up in exactly one command: text runs, known commands (``kind`` names them) and
``unknown`` ones, so nothing is silently dropped. Lengths follow the ESC/POS reference,
including the ``pL pH`` length-prefixed ``GS (``, ``ESC (`` and ``FS (`` families, so an
unknown function of those families is skipped as a whole and the stream stays in step.
Besides text and modes, it recognises barcodes (``GS k`` formats A and B and their ``GS H h w
f`` settings), QR and PDF417 (``GS ( k`` cn 49 and 48), pictures (``GS v 0``, ``ESC *``,
``GS ( L`` and ``GS 8 L``), cuts (``GS V``, ``ESC i``, ``ESC m``) and the fixed-length commands
of the Epson reference that print nothing visible (reported as ``ignored``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# Known commands with a fixed number of bytes (including the prefix) and no rendering
# effect the simulator models: they are reported as "ignored", by name.
_FIXED_IGNORED = {
    (ESC, ord(" ")): (3, "ESC SP right-side character spacing"),
    (ESC, ord("$")): (4, "ESC $ absolute print position"),
    (ESC, ord("\\")): (4, "ESC \\ relative print position"),
    (ESC, ord("V")): (3, "ESC V 90° rotation"),
    (ESC, ord("p")): (5, "ESC p cash drawer pulse"),
    (ESC, ord("=")): (3, "ESC = select peripheral device"),
    (ESC, ord("U")): (3, "ESC U unidirectional printing"),
    (ESC, ord("c")): (4, "ESC c paper sensor / panel settings"),
    (ESC, ord("r")): (3, "ESC r print colour"),
    (ESC, ord("e")): (3, "ESC e reverse feed"),
    (ESC, ord("B")): (4, "ESC B buzzer"),
    (ESC, ord("%")): (3, "ESC % user-defined character set"),
    (ESC, ord("?")): (3, "ESC ? cancel user-defined character"),
    (ESC, ord("L")): (2, "ESC L page mode"),
    (ESC, ord("S")): (2, "ESC S standard mode"),
    (ESC, ord("T")): (3, "ESC T page-mode print direction"),
    (ESC, ord("W")): (10, "ESC W page-mode print area"),
    (ESC, ord("u")): (3, "ESC u peripheral status"),
    (ESC, ord("v")): (2, "ESC v paper sensor status"),
    (ESC, ord("K")): (3, "ESC K reverse feed"),
    (GS, ord("a")): (3, "GS a automatic status back"),
    (GS, ord("I")): (3, "GS I transmit printer ID"),
    (GS, ord("L")): (4, "GS L left margin"),
    (GS, ord("W")): (4, "GS W print area width"),
    (GS, ord("P")): (4, "GS P motion units"),
    (GS, ord("/")): (3, "GS / print downloaded bit image"),
    (GS, ord("$")): (4, "GS $ page-mode vertical position"),
    (GS, ord("\\")): (4, "GS \\ page-mode relative vertical position"),
    (GS, ord("E")): (3, "GS E print density"),
    (GS, ord("T")): (3, "GS T line start"),
    (GS, ord("^")): (5, "GS ^ execute macro"),
    (GS, ord(":")): (2, "GS : macro definition"),
    (GS, ord("b")): (3, "GS b smoothing"),
    (GS, ord("c")): (2, "GS c print counter"),
    (GS, ord("j")): (3, "GS j automatic ink status back"),
    (GS, ord("z")): (5, "GS z 0 online recovery wait"),
    (GS, ord("g")): (6, "GS g maintenance counter"),
    (FS, ord("C")): (3, "FS C Kanji code system"),
    (FS, ord("S")): (4, "FS S Kanji character spacing"),
    (FS, ord("W")): (3, "FS W Kanji quadruple size"),
    (FS, ord("p")): (4, "FS p print NV bit image"),
    (FS, ord("?")): (4, "FS ? cancel user-defined Kanji"),
    (FS, ord("2")): (76, "FS 2 define user-defined Kanji (24×24)"),
}


@dataclass(frozen=True)
class Command:
    kind: str  # "text", "lf", "bold", … "unknown", "ignored", "truncated"
    raw: bytes
    offset: int  # position of the first byte in the whole stream
    value: int = 0
    data: bytes = b""
    label: str = ""  # for unknown / ignored: what it is, for a person

    def hex(self) -> str:
        return self.raw[:24].hex(" ") + (" …" if len(self.raw) > 24 else "")


#: the largest command the simulator waits for: a 80 mm raster 20 m long is about 1.5 MB; a
#: header declaring more (GS 8 L takes four length bytes: up to 4 GB) is reported as
#: ``oversized`` and its declared data is not waited for
MAX_COMMAND_BYTES = 8 * 1024 * 1024


@dataclass
class EscPosParser:
    offset: int = 0  # stream position of the start of ``_buffer``
    _buffer: bytearray = field(default_factory=bytearray)
    #: how many bytes the incomplete command at the start of the buffer needs in all, when its
    #: header says so: the buffer is not parsed again before then, so a large raster arriving
    #: in small pieces costs linear time, not quadratic
    _waiting_for: int = 0

    def feed(self, data: bytes) -> list[Command]:
        self._buffer.extend(data)
        if len(self._buffer) < self._waiting_for:
            return []
        self._waiting_for = 0
        commands: list[Command] = []
        position = 0
        buffer = bytes(self._buffer)
        while position < len(buffer):
            parsed = _parse_one(buffer, position, self.offset + position)
            if isinstance(parsed, _Need):
                self._waiting_for = parsed - position
                break
            if parsed is None:
                break
            command, position = parsed
            commands.append(command)
        del self._buffer[:position]
        self.offset += position
        return commands

    def finish(self) -> list[Command]:
        """The incomplete tail (if any) as one ``truncated`` command; resets the parser."""
        if not self._buffer:
            return []
        tail = bytes(self._buffer)
        self._buffer.clear()
        self._waiting_for = 0
        command = Command("truncated", tail, self.offset, label="stream ended inside a command")
        self.offset += len(tail)
        return [command]

    @property
    def pending(self) -> int:
        return len(self._buffer)


class _Need(int):
    """An incomplete command whose header says where it ends: the buffer position needed."""


def _u16(buffer: bytes, at: int) -> int:
    return buffer[at] | buffer[at + 1] << 8


def _parse_one(buf: bytes, i: int, offset: int) -> tuple[Command, int] | None:
    """The command starting at ``buf[i]`` and where the next one starts; None if incomplete."""
    first = buf[i]

    def take(length: int, kind: str, value: int = 0, data: bytes = b"", label: str = ""):
        if length > MAX_COMMAND_BYTES:  # a header declaring an absurd size: report it, do not wait for it
            header = buf[i:i + 8]
            return Command("oversized", header, offset, length, label=f"declares {length} bytes "
                                                                      f"(at most {MAX_COMMAND_BYTES})"), i + len(header)
        if i + length > len(buf):
            return _Need(i + length)
        return Command(kind, buf[i:i + length], offset, value, data, label), i + length

    if first >= 0x20 and first != 0x7F:
        end = i
        while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F:
            end += 1
        return Command("text", buf[i:end], offset, data=buf[i:end]), end
    if first == 0x0A:
        return take(1, "lf")
    if first == 0x0D:
        return take(1, "cr")
    if first == 0x09:
        return take(1, "ht")
    if first == 0x0C:
        return take(1, "ff")
    if first == DLE:
        return _parse_dle(buf, i, take)
    if first == ESC:
        return _parse_esc(buf, i, take)
    if first == GS:
        return _parse_gs(buf, i, take)
    if first == FS:
        return _parse_fs(buf, i, take)
    return take(1, "unknown", label=f"control byte 0x{first:02x}")


def _parse_dle(buf, i, take):
    if i + 1 >= len(buf):
        return None
    second = buf[i + 1]
    if second == 0x04:  # DLE EOT n
        if i + 2 >= len(buf):
            return None
        n = buf[i + 2]
        if 1 <= n <= 4:
            return take(3, "status", n)
        if n in (7, 8, 18):
            return take(4, "unknown", label=f"DLE EOT {n} (extended status)")
        return take(3, "unknown", label=f"DLE EOT {n}")
    if second == 0x05:
        return take(3, "unknown", label="DLE ENQ real-time request")
    if second == 0x14:
        if i + 2 >= len(buf):
            return None
        fn = buf[i + 2]
        length = {1: 5, 2: 5, 3: 5, 7: 4, 8: 10}.get(fn, 3)
        return take(length, "unknown", label=f"DLE DC4 fn {fn}")
    return take(1, "unknown", label="DLE (0x10) not followed by a known real-time command")


def _parse_esc(buf, i, take):
    if i + 1 >= len(buf):
        return None
    op = buf[i + 1]
    one = {ord("E"): "bold", ord("G"): "double_strike", ord("-"): "underline", ord("a"): "align",
           ord("!"): "print_mode", ord("3"): "line_spacing", ord("d"): "feed_lines", ord("J"): "feed_dots",
           ord("M"): "font", ord("t"): "code_page", ord("{"): "upside_down", ord("R"): "intl_charset"}
    if op == ord("@"):
        return take(2, "init")
    if op == ord("2"):
        return take(2, "line_spacing_default")
    if op in (ord("i"), ord("m")):  # old-style cuts: i full, m partial
        return take(2, "cut", 0 if op == ord("i") else 1)
    if op == ord("*"):  # bit image, column format: ESC * m nL nH d1…dk
        if i + 4 >= len(buf):
            return None
        m, columns = buf[i + 2], _u16(buf, i + 3)
        per_column = 3 if m in (32, 33) else 1
        length = 5 + columns * per_column
        if i + length > len(buf):
            return _Need(i + length)
        return take(length, "bit_image", m, data=buf[i + 5:i + length])
    if op == ord("D"):  # horizontal tab positions, ended by NUL (at most 32)
        end = buf.find(b"\x00", i + 2, i + 35)
        if end < 0:
            return None if len(buf) - i < 35 else take(2, "unknown", label="ESC D without its NUL")
        return take(end + 1 - i, "tabs", data=buf[i + 2:end])
    if op == ord("&"):  # user-defined characters: ESC & y c1 c2 [x d1…d(y×x)]…
        if i + 4 >= len(buf):
            return None
        y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
        position = i + 5
        for _ in range(max(0, c2 - c1 + 1)):
            if position >= len(buf):
                return None
            position += 1 + y * buf[position]
        if position > len(buf):
            return None
        return take(position - i, "ignored", label="ESC & define user-defined characters")
    if op in one:
        if i + 2 >= len(buf):
            return None
        return take(3, one[op], buf[i + 2])
    if op == ord("(") and i + 4 < len(buf):
        length = _u16(buf, i + 3)
        return take(5 + length, "unknown", label=f"ESC ( {chr(buf[i + 2]) if 32 < buf[i + 2] < 127 else buf[i + 2]}")
    if op == ord("("):
        return None
    if (ESC, op) in _FIXED_IGNORED:
        length, label = _FIXED_IGNORED[(ESC, op)]
        return take(length, "ignored", label=label)
    return take(2, "unknown", label=f"ESC {_show(op)}")


def _parse_fs(buf, i, take):
    if i + 1 >= len(buf):
        return None
    op = buf[i + 1]
    if op == ord("&"):
        return take(2, "chinese_on")
    if op == ord("."):
        return take(2, "chinese_off")
    if op in (ord("!"), ord("-")):
        if i + 2 >= len(buf):
            return None
        return take(3, "kanji_mode" if op == ord("!") else "kanji_underline", buf[i + 2])
    if op == ord("("):
        if i + 4 >= len(buf):
            return None
        fn_class = buf[i + 2]
        length = _u16(buf, i + 3)
        if i + 5 + length > len(buf):
            return _Need(i + 5 + length)
        body = buf[i + 5:i + 5 + length]
        if fn_class == ord("C") and length == 2 and body[0] == 0x30:  # select character encoding
            return take(5 + length, "select_encoding", body[1])
        return take(5 + length, "unknown", label=f"FS ( {_show(fn_class)}")
    if (FS, op) in _FIXED_IGNORED:
        length, label = _FIXED_IGNORED[(FS, op)]
        return take(length, "ignored", label=label)
    return take(2, "unknown", label=f"FS {_show(op)}")


def _parse_gs(buf, i, take):
    if i + 1 >= len(buf):
        return None
    op = buf[i + 1]
    one = {ord("!"): "size", ord("B"): "reverse", ord("H"): "barcode_hri", ord("h"): "barcode_height",
           ord("w"): "barcode_width", ord("f"): "barcode_font"}
    if op in one:
        if i + 2 >= len(buf):
            return None
        return take(3, one[op], buf[i + 2])
    if op == ord("8") and i + 2 < len(buf) and buf[i + 2] == ord("L"):  # GS 8 L p1 p2 p3 p4 m fn …
        if i + 6 >= len(buf):
            return None
        length = buf[i + 3] | buf[i + 4] << 8 | buf[i + 5] << 16 | buf[i + 6] << 24
        if 7 + length > MAX_COMMAND_BYTES:
            return take(7 + length, "graphics")
        if i + 7 + length > len(buf):
            return _Need(i + 7 + length)
        body = buf[i + 7:i + 7 + length]
        return take(7 + length, "graphics", body[1] if len(body) > 1 else 0, data=body)
    if op == ord("V"):
        if i + 2 >= len(buf):
            return None
        m = buf[i + 2]
        if m in (0, 1, 48, 49):
            return take(3, "cut", m)
        if m in (65, 66, 97, 98, 103, 104):
            return take(4, "cut", m, data=buf[i + 3:i + 4])
        return take(3, "unknown", label=f"GS V {m}")
    if op == ord("v"):
        if i + 7 >= len(buf):
            return None
        if buf[i + 2] != ord("0"):
            return take(3, "unknown", label=f"GS v {_show(buf[i + 2])}")
        width_bytes, height = _u16(buf, i + 4), _u16(buf, i + 6)
        length = 8 + width_bytes * height
        if length > MAX_COMMAND_BYTES:
            return take(length, "raster")
        if i + length > len(buf):
            return _Need(i + length)
        return take(length, "raster", buf[i + 3], data=buf[i + 8:i + length])
    if op == ord("("):
        if i + 4 >= len(buf):
            return None
        fn_class = buf[i + 2]
        length = _u16(buf, i + 3)
        if i + 5 + length > len(buf):
            return _Need(i + 5 + length)
        body = buf[i + 5:i + 5 + length]
        if fn_class == ord("k") and length >= 2 and body[0] == 49:  # cn = 49: QR code
            return take(5 + length, "qr", body[1], data=body[2:])
        if fn_class == ord("k") and length >= 2 and body[0] == 48:  # cn = 48: PDF417
            return take(5 + length, "pdf417", body[1], data=body[2:])
        if fn_class == ord("L") and length >= 2:  # graphics: m fn …
            return take(5 + length, "graphics", body[1], data=body)
        return take(5 + length, "unknown", label=f"GS ( {_show(fn_class)}")
    if op == ord("r"):
        if i + 2 >= len(buf):
            return None
        return take(3, "paper_sensor", buf[i + 2])
    if op == ord("k"):
        return _parse_barcode(buf, i, take)
    if op == ord("*"):
        if i + 3 >= len(buf):
            return None
        return take(4 + buf[i + 2] * buf[i + 3] * 8, "unknown", label="GS * define downloaded bit image")
    if (GS, op) in _FIXED_IGNORED:
        length, label = _FIXED_IGNORED[(GS, op)]
        return take(length, "ignored", label=label)
    return take(2, "unknown", label=f"GS {_show(op)}")


def _parse_barcode(buf, i, take):
    if i + 2 >= len(buf):
        return None
    m = buf[i + 2]
    if m <= 6:  # format A: data ends with NUL
        end = buf.find(b"\x00", i + 3)
        if end < 0:
            return None
        return take(end + 1 - i, "barcode", m, data=buf[i + 3:end])
    if i + 3 >= len(buf):
        return None
    return take(4 + buf[i + 3], "barcode", m, data=buf[i + 4:i + 4 + buf[i + 3]])


def _show(byte: int) -> str:
    return chr(byte) if 0x21 <= byte <= 0x7E else f"0x{byte:02x}"
