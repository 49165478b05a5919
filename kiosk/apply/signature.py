"""A 告知承诺 signed on the screen, kept as a page image with the application.

The signature pad hands over its strokes as lists of points in the pad's own unit square
(x to the right, y downwards, both 0–1). ``render_commitment`` draws the commitment as the
clerk will read it — title, item, the text, who signs (and, in 代办, which grid worker
assisted), the signature itself and the date — into a JPEG page like a photographed material.
``has_ink`` says whether the strokes amount to a signature at all (a stray touch does not).
"""
from __future__ import annotations

import datetime as dt
import io
import math
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
PAGE_WIDTH = 1240
MARGIN = 80
PAD_HEIGHT = 420
Stroke = Sequence[tuple[float, float]]


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / ("NotoSansSC-Bold.otf" if bold else "NotoSansSC-Regular.otf")), size)


def ink_length(strokes: Sequence[Stroke]) -> float:
    """Total length of the strokes, in pad widths."""
    total = 0.0
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            total += math.hypot(x1 - x0, y1 - y0)
    return total


def has_ink(strokes: Sequence[Stroke]) -> bool:
    """True when the strokes are long enough to be a signature (more than a tap or a slip)."""
    return ink_length(strokes) >= 0.25


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if font.getlength(line + char) > width and line:
                lines.append(line)
                line = char
            else:
                line += char
        lines.append(line)
    return lines


def render_commitment(title: str, item_name: str, text: str, signer: str, strokes: Sequence[Stroke],
                      signed_at: dt.datetime, assisted_by: str = "", quality: int = 85) -> bytes:
    """The signed commitment as JPEG bytes."""
    body = _font(34)
    lines = _wrap(text, body, PAGE_WIDTH - 2 * MARGIN)
    height = MARGIN + 70 + 60 + 20 + len(lines) * 52 + 40 + 56 + (56 if assisted_by else 0) + PAD_HEIGHT + 70 + MARGIN
    page = Image.new("RGB", (PAGE_WIDTH, height), "white")
    draw = ImageDraw.Draw(page)
    y = MARGIN
    draw.text((PAGE_WIDTH // 2, y), title, font=_font(52, True), fill="black", anchor="mt")
    y += 70 + 10
    draw.text((MARGIN, y), f"办理事项：{item_name}", font=_font(34, True), fill="black")
    y += 60 + 20
    for line in lines:
        draw.text((MARGIN, y), line, font=body, fill="black")
        y += 52
    y += 40
    draw.text((MARGIN, y), f"承诺人：{signer}", font=body, fill="black")
    y += 56
    if assisted_by:
        draw.text((MARGIN, y), f"代办网格员：{assisted_by}", font=body, fill="black")
        y += 56
    draw.text((MARGIN, y), "签名：", font=body, fill="black")
    pad_left, pad_top = MARGIN + 120, y
    pad_width = PAGE_WIDTH - MARGIN - pad_left
    draw.rectangle((pad_left, pad_top, pad_left + pad_width, pad_top + PAD_HEIGHT - 20), outline="#9CA3AF", width=2)
    for stroke in strokes:
        points = [(pad_left + max(0.0, min(1.0, x)) * pad_width, pad_top + max(0.0, min(1.0, yy)) * (PAD_HEIGHT - 20))
                  for x, yy in stroke]
        if len(points) == 1:
            x, yy = points[0]
            draw.ellipse((x - 3, yy - 3, x + 3, yy + 3), fill="black")
        elif points:
            draw.line(points, fill="black", width=6, joint="curve")
    y = pad_top + PAD_HEIGHT
    draw.text((PAGE_WIDTH - MARGIN, y), f"{signed_at.year}年{signed_at.month}月{signed_at.day}日 "
                                        f"{signed_at:%H:%M}", font=body, fill="black", anchor="rt")
    out = io.BytesIO()
    page.save(out, "JPEG", quality=quality, dpi=(150, 150))
    return out.getvalue()
