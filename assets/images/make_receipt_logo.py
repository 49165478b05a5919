"""Draws assets/images/receipt-logo.png, the black-and-white 河易办 logo printed on receipts.

Run once after changing the design: ``python assets/images/make_receipt_logo.py``. The logo
is 1-bit on purpose: a thermal printer prints dots, not greys.
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONT = HERE.parent / "fonts" / "NotoSansSC-Bold.otf"
SMALL_FONT = HERE.parent / "fonts" / "NotoSansSC-Regular.otf"


def draw_logo() -> Image.Image:
    width, height = 360, 92
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    # emblem: a ring with three waves (河, the Yellow River delta)
    cx, cy, r = 46, 46, 40
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=0, width=6)
    for y in (30, 46, 62):
        half = r - 12 if y == 46 else r - 17
        points = [(cx + x, y + 5 * math.sin(x / half * math.pi * 1.5)) for x in range(-half, half + 1, 2)]
        draw.line(points, fill=0, width=5, joint="curve")
    title = ImageFont.truetype(str(FONT), 50)
    draw.text((100, 50), "河易办", font=title, fill=0, anchor="lm")
    small = ImageFont.truetype(str(SMALL_FONT), 17)
    draw.text((258, 32), "河口区", font=small, fill=0, anchor="lm")
    draw.text((258, 62), "政务服务", font=small, fill=0, anchor="lm")
    return image.point(lambda v: 0 if v < 128 else 255).convert("1", dither=Image.Dither.NONE)


if __name__ == "__main__":
    draw_logo().save(HERE / "receipt-logo.png", optimize=True)
    print(HERE / "receipt-logo.png")
