"""Draw the example pictures shown next to each material on the kiosk's capture screen.

Run from the repository root: ``.venv/bin/python assets/apply/examples/make_examples.py``.
Every picture is a plain drawing marked 样例 (sample) with made-up content: it shows a resident
what to lay under the camera, never anyone's real data.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONTS = HERE.parents[2] / "assets" / "fonts"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("NotoSansSC-Bold.otf" if bold else "NotoSansSC-Regular.otf")), size)


def sample_mark(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.text((width - 16, height - 12), "样例", font=font(30, True), fill="#C8102E", anchor="rb")


def card(colour: str, title: str, lines: list[str], photo: bool = True, chip: bool = False) -> Image.Image:
    image = Image.new("RGB", (420, 270), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 415, 265), radius=22, fill=colour, outline="#334155", width=3)
    draw.text((24, 20), title, font=font(28, True), fill="#0F172A")
    y = 74
    for line in lines:
        draw.text((24, y), line, font=font(22), fill="#1E293B")
        y += 36
    if photo:
        draw.rounded_rectangle((300, 70, 392, 190), radius=8, fill="#E2E8F0", outline="#64748B", width=2)
        draw.ellipse((326, 88, 366, 128), fill="#94A3B8")
        draw.pieslice((312, 128, 380, 200), 180, 360, fill="#94A3B8")
    if chip:
        draw.rounded_rectangle((300, 92, 360, 136), radius=6, fill="#EAB308", outline="#854D0E", width=2)
    sample_mark(draw, 420, 270)
    return image


def page(title: str, rows: int, table: bool = False) -> Image.Image:
    image = Image.new("RGB", (300, 420), "#F1F5F9")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 289, 409), fill="white", outline="#64748B", width=2)
    draw.text((150, 28), title, font=font(24, True), fill="#0F172A", anchor="mt")
    y = 78
    for row in range(rows):
        if table:
            draw.rectangle((28, y, 271, y + 34), outline="#94A3B8", width=1)
            draw.line((110, y, 110, y + 34), fill="#94A3B8")
            y += 34
        else:
            draw.line((30, y + 10, 270 - (row % 3) * 30, y + 10), fill="#94A3B8", width=4)
            y += 26
    sample_mark(draw, 300, 420)
    return image


def portrait() -> Image.Image:
    image = Image.new("RGB", (260, 350), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 239, 309), fill="#DBEAFE", outline="#64748B", width=2)
    draw.ellipse((80, 70, 180, 180), fill="#F1C27D")
    draw.pieslice((50, 180, 210, 340), 180, 360, fill="#1E3A8A")
    draw.text((130, 322), "正面免冠 · 白或蓝底", font=font(20), fill="#0F172A", anchor="mt")
    sample_mark(draw, 260, 310)
    return image


def booklet(colour: str, title: str) -> Image.Image:
    image = Image.new("RGB", (420, 290), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 415, 285), radius=10, fill=colour, outline="#450A0A", width=3)
    draw.line((210, 10, 210, 280), fill="#450A0A", width=2)
    draw.text((312, 120), title, font=font(30, True), fill="#FDE68A", anchor="mm")
    draw.ellipse((282, 160, 342, 220), outline="#FDE68A", width=3)
    draw.text((106, 60), "打开后拍内页", font=font(22), fill="#FEF3C7", anchor="mm")
    draw.rectangle((40, 100, 172, 250), outline="#FEF3C7", width=2)
    sample_mark(draw, 420, 290)
    return image


def main() -> None:
    pictures = {
        "id_card": card("#E0F2FE", "居民身份证", ["姓名  张小三", "出生  1950年1月1日", "住址  河口区××路1号"]),
        "bank_card": card("#BFDBFE", "银行卡 或 社会保障卡", ["6217 **** **** 1234", "持卡人  张小三"], photo=False,
                          chip=True),
        "disability_card": card("#FECACA", "中华人民共和国残疾人证", ["姓名  张小三", "类别  肢体", "等级  二级"]),
        "portrait": portrait(),
        "hukou_page": page("常住人口登记卡", 8, table=True),
        "marriage_certificate": booklet("#B91C1C", "结婚证"),
        "a4_letter": page("申请书 / 证明", 12),
    }
    for name, image in pictures.items():
        image.save(HERE / f"{name}.png", optimize=True)
        print(HERE / f"{name}.png")


if __name__ == "__main__":
    main()
