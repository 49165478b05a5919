"""Draw the pictures the apply scenarios lay under the simulated camera (``camera show FILE``).

Run from the repository root: ``.venv/bin/python tests/scenarios/pictures/make_pictures.py``.
Each is a made-up document (marked 样例) photographed from above on a desk, as a 高拍仪 sees
it: a bank card, the back of a bank card, and an A4 letter.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from drivers.camera.scene import render_desk

HERE = Path(__file__).resolve().parent
FONTS = HERE.parents[2] / "assets" / "fonts"
WIDTH, HEIGHT = 1920, 1080


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("NotoSansSC-Bold.otf" if bold else "NotoSansSC-Regular.otf")), size)


def bank_card(back: bool = False) -> np.ndarray:
    card = Image.new("RGB", (856, 540), "#1D4ED8")
    draw = ImageDraw.Draw(card)
    for i in range(0, 540, 6):  # a gentle gradient
        draw.line((0, i, 856, i), fill=(29 + i // 12, 78 + i // 10, 216))
    if back:
        draw.rectangle((0, 60, 856, 150), fill="#111827")
        draw.rectangle((60, 210, 620, 270), fill="#F8FAFC")
        draw.text((70, 220), "授权签名  样例", font=font(34), fill="#111827")
        draw.text((60, 330), "客服电话 95588（样例）", font=font(36), fill="white")
    else:
        draw.text((50, 40), "河口农商银行 · 社会保障卡（样例）", font=font(44, True), fill="white")
        draw.rounded_rectangle((70, 170, 190, 260), radius=14, fill="#EAB308", outline="#854D0E", width=3)
        draw.text((60, 330), "6217  8888  0000  1234", font=font(56, True), fill="white")
        draw.text((60, 430), "持卡人  欧阳娜娜（样例）", font=font(36), fill="#E0E7FF")
    return cv2.cvtColor(np.asarray(card), cv2.COLOR_RGB2BGR)


def letter() -> np.ndarray:
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    draw.text((620, 120), "困难情况证明（样例）", font=font(64, True), fill="black", anchor="mt")
    y = 300
    for row in range(22):
        draw.line((140, y, 1100 - (row % 4) * 90, y), fill="#374151", width=6)
        y += 56
    draw.ellipse((820, 1420, 1080, 1680), outline="#DC2626", width=10)
    draw.text((950, 1550), "样例", font=font(60, True), fill="#DC2626", anchor="mm")
    return cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)


def on_desk(document: np.ndarray, seed: int, scale: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    desk = render_desk(rng, WIDTH, HEIGHT, "wood")
    h, w = document.shape[:2]
    target_h = HEIGHT * scale
    target_w = target_h * w / h
    cx, cy = WIDTH / 2 + rng.uniform(-60, 60), HEIGHT / 2 + rng.uniform(-30, 30)
    angle = np.deg2rad(rng.uniform(-5, 5))
    corners = np.array([[-target_w / 2, -target_h / 2], [target_w / 2, -target_h / 2],
                        [target_w / 2, target_h / 2], [-target_w / 2, target_h / 2]])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = (corners @ rotation.T + [cx, cy]).astype(np.float32)
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(source, quad)
    warped = cv2.warpPerspective(document, matrix, (WIDTH, HEIGHT))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (WIDTH, HEIGHT))
    out = desk.copy()
    out[mask > 0] = warped[mask > 0]
    return out


def main() -> None:
    pictures = {"bank-card.jpg": on_desk(bank_card(), 11, 0.55), "bank-card-back.jpg": on_desk(bank_card(True), 12, 0.55),
                "letter.jpg": on_desk(letter(), 13, 0.9)}
    for name, image in pictures.items():
        cv2.imwrite(str(HERE / name), image, [cv2.IMWRITE_JPEG_QUALITY, 82])
        print(HERE / name)


if __name__ == "__main__":
    main()
