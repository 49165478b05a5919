"""Receipts as data: a small layout model, and the one function that turns it into ESC/POS.

A ``Receipt`` is a list of elements — ``Text``, ``Field`` (label: value with a hanging
indent), ``Columns`` (left and right on one line), ``Separator``, ``Qr``, ``Logo``,
``Ruler``, ``Feed``, ``Cut``. Templates build these from plain data; ``compile_receipt``
lays them out for a ``Target`` (paper width, encoding, native QR or not, cutter) and
returns the bytes plus the exact text lines printed, which tests compare with what the
simulator prints back.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

from PIL import Image, ImageDraw

from drivers.printer import commands
from drivers.printer.commands import Align, CutMode, EscPosWriter, QrErrorLevel, TextStyle
from drivers.printer.raster import qr_raster_bytes, raster_bytes
from kiosk.receipts.wrapping import pad_between, text_width, wrap

log = logging.getLogger(__name__)

AlignName = Literal["left", "center", "right"]
_ALIGN = {"left": Align.LEFT, "center": Align.CENTER, "right": Align.RIGHT}


@dataclass(frozen=True)
class Text:
    text: str
    align: AlignName = "left"
    bold: bool = False
    size: int = 1  # 1–3: width and height multiplier
    underline: bool = False


@dataclass(frozen=True)
class Field:
    label: str  # e.g. "受理编号"
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Columns:
    left: str
    right: str
    bold: bool = False


@dataclass(frozen=True)
class Separator:
    char: str = "-"  # one ASCII character repeated across the paper


@dataclass(frozen=True)
class Qr:
    data: str
    module_size: int = 6
    level: Literal["L", "M", "Q", "H"] = "M"
    caption: str = ""


@dataclass(frozen=True)
class Logo:
    path: str  # a PNG; centred, shrunk only when wider than ``max_width`` of the print area
    max_width: float = 1.0


@dataclass(frozen=True)
class Ruler:
    """A dot ruler (a tick every mm, longer every 5 and 10 mm) and a column ruler."""


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = True


Element = Union[Text, Field, Columns, Separator, Qr, Logo, Ruler, Feed, Cut]


@dataclass(frozen=True)
class Receipt:
    kind: str  # "acceptance", "pickup", "test", "diagnostics"
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Target:
    """What the layout needs to know about the printer."""

    paper_width: int = 80
    encoding: str = "gb18030"
    native_qr: bool = True
    can_cut: bool = True

    @property
    def columns(self) -> int:
        return {58: 32, 80: 48}[self.paper_width]

    @property
    def dots(self) -> int:
        return {58: 384, 80: 576}[self.paper_width]

    @classmethod
    def for_printer(cls, printer) -> "Target":
        return cls(printer.paper_width, printer.encoding, printer.native_qr, printer.profile.can_cut)


@dataclass(frozen=True)
class CompiledReceipt:
    kind: str
    data: bytes
    lines: tuple[str, ...]  # every text line, as printed (after wrapping), in order
    qr_payloads: tuple[str, ...] = field(default=())


def compile_receipt(receipt: Receipt, target: Target) -> CompiledReceipt:
    writer = EscPosWriter(target.encoding).initialize()
    lines: list[str] = []
    payloads: list[str] = []

    def emit(text: str, align: Align = Align.LEFT, style: TextStyle = TextStyle()) -> None:
        writer.set_align(align).set_style(style).line(text)
        lines.append(text)

    for element in receipt.elements:
        if isinstance(element, Text):
            size = max(1, min(3, element.size))
            style = TextStyle(bold=element.bold, underline=1 if element.underline else 0, width=size, height=size)
            for line in wrap(element.text, target.columns // size):
                emit(line, _ALIGN[element.align], style)
        elif isinstance(element, Field):
            for line in _field_lines(element, target.columns):
                emit(line, Align.LEFT, TextStyle(bold=element.bold))
        elif isinstance(element, Columns):
            for line in _column_lines(element, target.columns):
                emit(line, Align.LEFT, TextStyle(bold=element.bold))
        elif isinstance(element, Separator):
            char = element.char if len(element.char) == 1 and " " <= element.char <= "~" else "-"
            emit(char * target.columns)
        elif isinstance(element, Qr):
            data = element.data.encode("utf-8")
            level = QrErrorLevel[element.level]
            writer.set_style(TextStyle()).set_align(Align.CENTER).raw(commands.feed_dots(12))  # breathing room
            if target.native_qr:
                writer.raw(commands.qr_native(data, element.module_size, level))
            else:
                writer.raw(qr_raster_bytes(data, element.module_size, level, target.dots))
            writer.raw(commands.LF)
            lines.append("")
            payloads.append(element.data)
            if element.caption:
                for line in wrap(element.caption, target.columns):
                    emit(line, Align.CENTER)
        elif isinstance(element, Logo):
            image = _load_logo(element.path)
            if image is not None:
                width = min(image.width, int(target.dots * element.max_width))
                if image.width > width:
                    image = image.resize((width, max(1, round(image.height * width / image.width))), Image.LANCZOS)
                writer.set_style(TextStyle()).set_align(Align.CENTER).raw(raster_bytes(image, target.dots))
        elif isinstance(element, Ruler):
            writer.set_style(TextStyle()).set_align(Align.LEFT).raw(raster_bytes(_dot_ruler(target.dots), target.dots))
            for line in _column_ruler(target.columns):
                emit(line)
        elif isinstance(element, Feed):
            writer.raw(commands.feed_lines(max(0, min(255, element.lines))))
        elif isinstance(element, Cut):
            writer.raw(commands.feed_lines(3))
            if target.can_cut:
                writer.raw(commands.cut(CutMode.PARTIAL if element.partial else CutMode.FULL, 0))
            else:
                writer.raw(commands.feed_lines(3))
        else:
            raise TypeError(f"not a receipt element: {element!r}")
    return CompiledReceipt(receipt.kind, writer.getvalue(), tuple(lines), tuple(payloads))


def _field_lines(element: Field, columns: int) -> list[str]:
    label = element.label + "："
    indent = text_width(label)
    if indent > columns // 2:  # a long label: the value goes underneath, indented by two
        return wrap(label, columns) + ["  " + line for line in wrap(element.value or "-", columns - 2)]
    body = wrap(element.value or "-", columns - indent)
    return [label + body[0]] + [" " * indent + line for line in body[1:]]


def _column_lines(element: Columns, columns: int) -> list[str]:
    one_line = pad_between(element.left, element.right, columns)
    if one_line is not None:
        return [one_line]
    lines = wrap(element.left, columns)
    for line in wrap(element.right, columns):
        lines.append(" " * (columns - text_width(line)) + line)
    return lines


def _column_ruler(columns: int) -> list[str]:
    tens = "".join(str(i // 10 % 10) if i % 10 == 0 else " " for i in range(1, columns + 1))
    units = "".join(str(i % 10) for i in range(1, columns + 1))
    return [tens.rstrip() or " ", units]


def _dot_ruler(dots: int) -> Image.Image:
    """Ticks every millimetre (8 dots), longer every 5 mm, longest every 10 mm; edges marked."""
    image = Image.new("1", (dots, 28), 1)
    draw = ImageDraw.Draw(image)
    draw.line([(0, 0), (dots - 1, 0)], fill=0)
    for x in range(0, dots, 8):
        mm = x // 8
        length = 24 if mm % 10 == 0 else 14 if mm % 5 == 0 else 7
        draw.line([(x, 0), (x, length)], fill=0, width=2 if mm % 10 == 0 else 1)
    draw.line([(dots - 2, 0), (dots - 2, 27)], fill=0, width=2)
    return image


def _load_logo(path: str) -> Image.Image | None:
    """The logo, or None (logged) when the file is missing or not an image: the receipt still prints."""
    if not path or path == "none":
        return None
    try:
        with Image.open(Path(path)) as image:
            image.load()
            return image.copy()
    except (OSError, ValueError) as exc:
        log.warning("receipt logo cannot be used; printing without it",
                    extra={"fields": {"file_name": str(path), "error": str(exc)[:120]}})
        return None
