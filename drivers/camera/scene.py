"""Synthetic camera scenes: documents in perspective on desks, QR codes held up, and the ways
real frames go wrong (blur, noise, shadows, glare, a hand over an edge, JPEG artefacts).

The camera simulator draws its frames with this module, and the labelled test material
(tests/vision_material.py) is built from it, so every scene comes with its ground truth: the
page's corners in image pixels (TL, TR, BR, BL of the page itself) or the code's text.
Everything is driven by a ``numpy.random.Generator``, so a seed gives the same pictures.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"

A4_ASPECT = 297 / 210  # height / width of a portrait A4 page
ID_CARD_ASPECT = 54 / 85.6  # height / width of an ID-1 card (landscape)

# Common characters for page text (a governmental form reads like this).
_HANZI = ("河口区人民政府便民服务中心申请表办理事项材料身份证明户口簿居住证营业执照不动产登记社会保险医疗救助"
          "低保养老退休补贴证明经办受理审核结果领取地址电话日期签字盖章本人承诺以上信息真实有效如有虚假愿承担"
          "法律责任街道社区村委会东营市山东省年月日号第一二三四五六七八九十条款规定依据办事指南时限收费标准")


@functools.lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "NotoSansSC-Bold.otf" if bold else "NotoSansSC-Regular.otf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default()


def _words(rng: np.random.Generator, n: int) -> str:
    return "".join(_HANZI[i] for i in rng.integers(0, len(_HANZI), n))


# ---------------------------------------------------------------------------------------
# Pages


def _stamp(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    red = (200, 30, 40)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(3, r // 12))
    points = []
    for k in range(10):
        radius = r * (0.32 if k % 2 == 0 else 0.13)
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=red)
    label = "专用章"
    f = font(max(10, r // 4), True)
    w = draw.textlength(label, font=f)
    draw.text((cx - w / 2, cy + r * 0.35), label, fill=red, font=f)


def _portrait(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    photo = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(60, 140, 3)) if rng.random() < 0.5
                      else (70, 120, 190))
    draw = ImageDraw.Draw(photo)
    skin = (int(rng.integers(190, 235)), int(rng.integers(150, 190)), int(rng.integers(120, 160)))
    draw.ellipse((width * 0.25, height * 0.62, width * 0.75 + 1, height * 1.3), fill=(40, 40, 60))
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.68), fill=skin)
    draw.chord((width * 0.28, height * 0.12, width * 0.72, height * 0.5), 180, 360, fill=(30, 25, 25))
    return photo


def render_page(kind: str, rng: np.random.Generator, width: int = 900) -> np.ndarray:
    """A flat page as BGR: ``text`` (a letter with a stamp), ``form`` (a table with a photo) or ``id_card``."""
    if kind == "id_card":
        return _render_card(rng, width)
    height = int(round(width * A4_ASPECT))
    tint = int(rng.integers(238, 256))
    page = Image.new("RGB", (width, height), (tint, tint, max(220, tint - int(rng.integers(0, 12)))))
    draw = ImageDraw.Draw(page)
    margin = width // 10
    unit = width / 900
    title = "关于" + _words(rng, 6) + ("的通知" if kind == "text" else "申请表")
    f_title = font(int(40 * unit), True)
    tw = draw.textlength(title, font=f_title)
    draw.text(((width - tw) / 2, margin * 0.9), title, fill=(15, 15, 15), font=f_title)
    y = margin * 0.9 + 90 * unit
    f_body = font(int(24 * unit))
    line_h = int(42 * unit)
    if kind == "text":
        chars_per_line = int((width - 2 * margin) / (24 * unit))
        for paragraph in range(int(rng.integers(4, 7))):
            lines = int(rng.integers(2, 5))
            for i in range(lines):
                indent = 2 if i == 0 else 0
                n = chars_per_line - indent if i < lines - 1 else int(rng.integers(5, chars_per_line - indent))
                draw.text((margin + indent * 24 * unit, y), _words(rng, n), fill=(25, 25, 25), font=f_body)
                y += line_h
                if y > height - margin * 3:
                    break
            y += line_h // 3
        _stamp(draw, int(width * 0.7), int(height - margin * 2.2), int(85 * unit))
        draw.text((width * 0.55, height - margin * 1.6), "2024年6月1日", fill=(25, 25, 25), font=f_body)
    else:
        labels = ["姓名", "性别", "民族", "出生日期", "身份证号", "住址", "联系电话", "申请事项", "申请理由", "备注"]
        left, right = margin, width - margin
        split = left + int((right - left) * 0.28)
        photo_w = int((right - left) * 0.22)
        row_h = int(64 * unit)
        top = int(y)
        for i, label in enumerate(labels):
            row_top = top + i * row_h
            draw.line((left, row_top, right, row_top), fill=(30, 30, 30), width=max(1, int(2 * unit)))
            draw.text((left + 10 * unit, row_top + 16 * unit), label, fill=(20, 20, 20), font=f_body)
            value_right = right - photo_w if i < 4 else right
            draw.text((split + 12 * unit, row_top + 16 * unit), _words(rng, int(rng.integers(2, 9))),
                      fill=(20, 40, 120), font=f_body)
            if i == 3:
                draw.line((value_right, top, value_right, top + 4 * row_h), fill=(30, 30, 30),
                          width=max(1, int(2 * unit)))
        bottom = top + len(labels) * row_h
        draw.line((left, bottom, right, bottom), fill=(30, 30, 30), width=max(1, int(2 * unit)))
        for x in (left, split, right):
            draw.line((x, top, x, bottom), fill=(30, 30, 30), width=max(1, int(2 * unit)))
        photo = _portrait(photo_w - int(16 * unit), 4 * row_h - int(16 * unit), rng)
        page.paste(photo, (right - photo_w + int(8 * unit), top + int(8 * unit)))
        sig_y = bottom + int(80 * unit)
        draw.text((left, sig_y), "申请人签字：", fill=(20, 20, 20), font=f_body)
        xs = np.linspace(left + 170 * unit, left + 380 * unit, 30)
        ys = sig_y + 18 * unit + 14 * unit * np.sin(np.linspace(0, 9, 30) + rng.random() * 3)
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=(10, 10, 80), width=max(2, int(3 * unit)))
        _stamp(draw, int(width * 0.72), int(sig_y + 120 * unit), int(80 * unit))
    return cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)


def _render_card(rng: np.random.Generator, width: int) -> np.ndarray:
    height = int(round(width * ID_CARD_ASPECT))
    gradient = np.linspace(0, 1, width)[None, :, None]
    base = np.array([236, 238, 226], np.float32) * (1 - gradient) + np.array([214, 230, 240], np.float32) * gradient
    card = np.repeat(base, height, axis=0).astype(np.uint8)
    image = Image.fromarray(card)
    draw = ImageDraw.Draw(image)
    unit = width / 856
    for k in range(12):  # guilloche-like pattern
        r = (140 + 22 * k) * unit
        draw.ellipse((width * 0.35 - r, height * 0.5 - r * 0.6, width * 0.35 + r, height * 0.5 + r * 0.6),
                     outline=(205, 215, 225), width=1)
    f = font(int(30 * unit))
    fb = font(int(34 * unit), True)
    x0 = int(60 * unit)
    rows = [("姓名", _words(rng, 3)), ("性别", "男" if rng.random() < 0.5 else "女"),
            ("出生", "1968年3月12日"), ("住址", _words(rng, 11))]
    y = int(50 * unit)
    for label, value in rows:
        draw.text((x0, y), label, fill=(60, 110, 170), font=f)
        draw.text((x0 + 100 * unit, y - 2 * unit), value, fill=(15, 15, 15), font=fb)
        y += int(70 * unit)
    draw.text((x0, height - 90 * unit), "公民身份号码", fill=(60, 110, 170), font=f)
    digits = "".join(str(d) for d in rng.integers(0, 10, 18))
    draw.text((x0 + 220 * unit, height - 94 * unit), digits, fill=(15, 15, 15), font=fb)
    photo = _portrait(int(230 * unit), int(290 * unit), rng)
    image.paste(photo, (int(width - 290 * unit), int(60 * unit)))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


# ---------------------------------------------------------------------------------------
# Backgrounds


DESKS = ("wood", "dark", "light", "cluttered", "fabric")


def render_desk(rng: np.random.Generator, width: int, height: int, style: str | None = None) -> np.ndarray:
    style = style or str(rng.choice(DESKS))
    if style == "wood":
        base = np.array([60, 100, 150], np.float32) + rng.normal(0, 10, 3)
        ys = np.arange(height, dtype=np.float32)[:, None]
        xs = np.arange(width, dtype=np.float32)[None, :]
        grain = np.sin(ys / (7 + rng.random() * 5) + 3 * np.sin(xs / (160 + rng.random() * 80))) * 12
        desk = base[None, None, :] + grain[..., None] * np.array([0.6, 0.8, 1.0])
    elif style == "dark":
        desk = np.full((height, width, 3), rng.integers(25, 70), np.float32) + rng.normal(0, 4, 3)
    elif style == "light":  # a pale desk: low contrast against paper
        level = rng.integers(175, 205)
        desk = np.full((height, width, 3), level, np.float32) + rng.normal(0, 4, 3)
    elif style == "fabric":
        colour = rng.integers(40, 160, 3).astype(np.float32)
        desk = np.full((height, width, 3), 0, np.float32) + colour
        weave = (np.indices((height, width)).sum(0) % 6 < 3).astype(np.float32) * 10
        desk += weave[..., None]
    else:  # cluttered: a mid-tone desk with pens, coins, sticky notes and a keyboard edge
        desk = np.full((height, width, 3), rng.integers(90, 150), np.float32) + rng.normal(0, 8, 3)
    desk = np.clip(desk + rng.normal(0, 3, (height, width, 1)), 0, 255).astype(np.uint8)
    if style == "cluttered":
        for _ in range(int(rng.integers(4, 9))):
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            kind = rng.integers(0, 3)
            x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
            if kind == 0:
                length = int(rng.integers(width // 10, width // 4))
                angle = rng.random() * math.pi
                cv2.line(desk, (x, y), (int(x + length * math.cos(angle)), int(y + length * math.sin(angle))),
                         colour, int(rng.integers(6, 16)), cv2.LINE_AA)
            elif kind == 1:
                cv2.circle(desk, (x, y), int(rng.integers(15, 40)), colour, -1, cv2.LINE_AA)
            else:
                s = int(rng.integers(40, 110))
                cv2.rectangle(desk, (x, y), (x + s, y + s), colour, -1)
    return desk


# ---------------------------------------------------------------------------------------
# Geometry and compositing


def random_quad(rng: np.random.Generator, width: int, height: int, aspect: float, *, min_fill: float = 0.45,
                max_fill: float = 0.85, max_rotation: float = 20.0, perspective: float = 0.06,
                margin: float = 0.02) -> np.ndarray:
    """Corners (TL, TR, BR, BL of the page) of a page with ``aspect`` = height/width, inside the frame."""
    for _ in range(200):
        fill = rng.uniform(min_fill, max_fill)
        page_h = fill * height if aspect >= 1 else fill * height * 0.8
        page_w = page_h / aspect
        if page_w > width * 0.95:
            page_w = width * 0.9 * fill
            page_h = page_w * aspect
        angle = math.radians(rng.uniform(-max_rotation, max_rotation))
        cx = rng.uniform(0.3, 0.7) * width
        cy = rng.uniform(0.35, 0.65) * height
        base = np.array([[-page_w / 2, -page_h / 2], [page_w / 2, -page_h / 2], [page_w / 2, page_h / 2],
                         [-page_w / 2, page_h / 2]])
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        quad = base @ rot.T + [cx, cy]
        quad += rng.uniform(-perspective, perspective, (4, 2)) * [page_w, page_h]
        mx, my = margin * width, margin * height
        if (quad[:, 0].min() > mx and quad[:, 0].max() < width - mx and quad[:, 1].min() > my
                and quad[:, 1].max() < height - my):
            return quad.astype(np.float32)
    raise RuntimeError("no quad fits the frame")


def paste(background: np.ndarray, picture: np.ndarray, quad: np.ndarray, *, drop_shadow: bool = True) -> np.ndarray:
    """Warp ``picture`` onto ``background`` so that its corners land on ``quad``."""
    h, w = picture.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    size = (background.shape[1], background.shape[0])
    warped = cv2.warpPerspective(picture, matrix, size, flags=cv2.INTER_AREA if w > size[0] else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, size, flags=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32)[..., None] / 255.0
    out = background.astype(np.float32)
    if drop_shadow:
        shadow = cv2.GaussianBlur(np.roll(mask, (6, 4), axis=(0, 1)), (0, 0), 6).astype(np.float32)[..., None]
        out *= 1.0 - 0.35 * shadow / 255.0
    out = out * (1 - alpha) + warped.astype(np.float32) * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------
# Degradations


def add_shadow(image: np.ndarray, rng: np.random.Generator, strength: float | None = None) -> np.ndarray:
    h, w = image.shape[:2]
    strength = strength if strength is not None else rng.uniform(0.25, 0.5)
    mask = np.zeros((h, w), np.uint8)
    x0 = int(rng.integers(0, w))
    pts = np.array([[x0, 0], [x0 + rng.integers(w // 4, w // 2), 0],
                    [int(rng.integers(0, w)), h], [int(rng.integers(0, w // 2)), h]], np.int32)
    cv2.fillPoly(mask, [pts], 255)
    soft = cv2.GaussianBlur(mask, (0, 0), max(h, w) / 40).astype(np.float32)[..., None] / 255.0
    return np.clip(image.astype(np.float32) * (1 - strength * soft), 0, 255).astype(np.uint8)


def add_glare(image: np.ndarray, rng: np.random.Generator, centre: tuple[float, float] | None = None,
              strength: float = 1.1) -> np.ndarray:
    h, w = image.shape[:2]
    cx, cy = centre if centre is not None else (rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rx, ry = rng.uniform(0.06, 0.15) * w, rng.uniform(0.05, 0.12) * h
    blob = np.exp(-(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2))
    return np.clip(image.astype(np.float32) + 255 * strength * blob[..., None], 0, 255).astype(np.uint8)


def add_hand(image: np.ndarray, rng: np.random.Generator, quad: np.ndarray) -> np.ndarray:
    """A hand pressing the page down, covering part of one edge (never a whole corner region)."""
    out = image.copy()
    side = int(rng.integers(0, 4))
    a, b = quad[side], quad[(side + 1) % 4]
    t = rng.uniform(0.3, 0.7)
    px, py = a + (b - a) * t
    edge = b - a
    normal = np.array([edge[1], -edge[0]]) / (np.linalg.norm(edge) + 1e-6)  # points outwards for TL,TR,BR,BL
    size = np.linalg.norm(edge) * rng.uniform(0.12, 0.2)
    centre = np.array([px, py]) + normal * size * 0.9
    skin = tuple(int(c) for c in (rng.integers(120, 160), rng.integers(150, 185), rng.integers(200, 235)))
    angle = math.degrees(math.atan2(normal[1], normal[0]))
    cv2.ellipse(out, (int(centre[0]), int(centre[1])), (int(size * 1.2), int(size * 0.8)), angle, 0, 360, skin, -1,
                cv2.LINE_AA)
    for k in (-1.5, -0.5, 0.5, 1.5):  # fingers reaching onto the page
        offset = np.array([-normal[1], normal[0]]) * size * 0.35 * k
        start = centre + offset
        end = centre + offset - normal * size * rng.uniform(1.4, 1.9)
        cv2.line(out, (int(start[0]), int(start[1])), (int(end[0]), int(end[1])), skin, max(3, int(size * 0.28)),
                 cv2.LINE_AA)
    return out


def add_blur(image: np.ndarray, rng: np.random.Generator, sigma: float | None = None) -> np.ndarray:
    sigma = sigma if sigma is not None else rng.uniform(0.6, 2.0)
    if rng.random() < 0.3:  # motion blur
        k = max(3, int(sigma * 4) | 1)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        kernel /= max(kernel.sum(), 1e-6)
        return cv2.filter2D(image, -1, kernel)
    return cv2.GaussianBlur(image, (0, 0), sigma)


def add_noise(image: np.ndarray, rng: np.random.Generator, sigma: float | None = None) -> np.ndarray:
    sigma = sigma if sigma is not None else rng.uniform(2, 8)
    noise = rng.normal(0, sigma, image.shape[:2] + (1,)).astype(np.float32)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def jpeg_artefacts(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else image


def vignette(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
    r = np.sqrt(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2)
    gain = 1.0 - rng.uniform(0.15, 0.35) * np.clip(r / 0.7, 0, 1) ** 2
    return np.clip(image.astype(np.float32) * gain[..., None], 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------
# Scenes


@dataclass
class DocumentScene:
    image: np.ndarray
    quad: np.ndarray | None  # TL, TR, BR, BL of the page in image pixels; None: no document
    kind: str
    desk: str
    effects: list[str] = field(default_factory=list)
    page: np.ndarray | None = None  # the flat page, for checking a rectification


EFFECTS = ("shadow", "glare", "hand", "blur", "noise", "jpeg", "vignette")


def document_scene(rng: np.random.Generator, width: int, height: int, *, kind: str | None = None,
                   desk: str | None = None, effects: list[str] | tuple[str, ...] | None = None,
                   page_width: int | None = None, max_rotation: float = 20.0,
                   perspective: float = 0.06) -> DocumentScene:
    """A page (or an empty desk when ``kind == "none"``) with the given or random effects."""
    kind = kind or str(rng.choice(["text", "form", "id_card"], p=[0.4, 0.35, 0.25]))
    desk = desk or str(rng.choice(DESKS))
    if effects is None:
        effects = [e for e in EFFECTS if rng.random() < {"shadow": 0.3, "glare": 0.2, "hand": 0.2, "blur": 0.4,
                                                          "noise": 0.5, "jpeg": 0.5, "vignette": 0.3}[e]]
    background = render_desk(rng, width, height, desk)
    quad = None
    page = None
    image = background
    if kind != "none":
        aspect = ID_CARD_ASPECT if kind == "id_card" else A4_ASPECT
        if page_width is None:
            page_width = int(min(1400, max(500, height * (0.9 if kind != "id_card" else 0.7) / aspect * 1.2)))
        page = render_page(kind, rng, page_width)
        fill = (0.35, 0.6) if kind == "id_card" else (0.6, 0.92)
        quad = random_quad(rng, width, height, aspect, min_fill=fill[0], max_fill=fill[1], max_rotation=max_rotation,
                           perspective=perspective)
        image = paste(background, page, quad)
    if "hand" in effects and quad is not None:
        image = add_hand(image, rng, quad)
    if "shadow" in effects:
        image = add_shadow(image, rng)
    if "vignette" in effects:
        image = vignette(image, rng)
    if "glare" in effects:
        centre = None
        if quad is not None:  # glare on the page, where it hurts
            t = rng.uniform(0.2, 0.8, 2)
            top = quad[0] + (quad[1] - quad[0]) * t[0]
            bottom = quad[3] + (quad[2] - quad[3]) * t[0]
            centre = tuple(top + (bottom - top) * t[1])
        image = add_glare(image, rng, centre)
    if "blur" in effects:
        image = add_blur(image, rng)
    if "noise" in effects:
        image = add_noise(image, rng)
    if "jpeg" in effects:
        image = jpeg_artefacts(image, int(rng.integers(35, 80)))
    return DocumentScene(image, quad, kind, desk, list(effects), page)


def qr_matrix(data: str | bytes, error_correction: str = "M") -> np.ndarray:
    """The QR code for ``data`` as a uint8 image (one pixel per module, 4-module quiet zone).

    Text is written as plain UTF-8 in byte mode (the qrcode library never switches to Kanji
    mode, unlike segno); bytes are written as they are (for GB18030 payloads).
    """
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    levels = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels[error_correction], box_size=1, border=4)
    code.add_data(data.encode("utf-8") if isinstance(data, str) else data, optimize=0)
    code.make(fit=True)
    return np.where(np.array(code.get_matrix(), bool), 0, 255).astype(np.uint8)


def qr_card(data: str | bytes, rng: np.random.Generator, carrier: str, module_px: int = 8,
            matrix: np.ndarray | None = None) -> np.ndarray:
    """The QR on what holds it: ``paper`` (a slip), ``phone`` (a screen in a dark frame) or ``receipt``.

    ``matrix``: a ready symbol (one pixel per module, as ``qr_matrix`` makes), e.g. one with an ECI.
    """
    matrix = qr_matrix(data) if matrix is None else matrix
    code = cv2.resize(matrix, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    code = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    size = code.shape[0]
    if carrier == "phone":
        pad = size // 10
        screen = np.full((size + 6 * pad, size + 2 * pad, 3), 250, np.uint8)
        screen[pad * 3:pad * 3 + size, pad:pad + size] = code
        cv2.rectangle(screen, (0, 0), (screen.shape[1], pad * 2), (200, 120, 40), -1)
        body = np.full((screen.shape[0] + 2 * pad, screen.shape[1] + pad, 3), 20, np.uint8)
        body[pad:pad + screen.shape[0], pad // 2:pad // 2 + screen.shape[1]] = screen
        return body
    if carrier == "receipt":
        width = int(size * 1.3)
        slip = Image.new("RGB", (width, int(size * 1.9)), (236, 236, 230))
        draw = ImageDraw.Draw(slip)
        f = font(max(12, size // 12), True)
        fs = font(max(10, size // 18))
        draw.text((width * 0.08, size * 0.05), "河易办 受理回执", fill=(20, 20, 20), font=f)
        draw.text((width * 0.08, size * 0.22), "事项：居住证申领", fill=(20, 20, 20), font=fs)
        draw.text((width * 0.08, size * 0.32), "受理时间：2024-06-01 09:30", fill=(20, 20, 20), font=fs)
        slip_np = cv2.cvtColor(np.asarray(slip), cv2.COLOR_RGB2BGR).copy()
        y0, x0 = int(size * 0.45), (width - size) // 2
        faded = np.where(code < 128, int(rng.integers(20, 70)), 236).astype(np.uint8)  # thermal print is grey
        slip_np[y0:y0 + size, x0:x0 + size] = faded
        return slip_np
    border = size // 8
    paper = np.full((size + 2 * border, size + 2 * border, 3), int(rng.integers(225, 255)), np.uint8)
    paper[border:border + size, border:border + size] = code
    return paper


@dataclass
class CodeScene:
    image: np.ndarray
    payload: str | bytes
    text: str  # what a correct decoder must return
    carrier: str
    quad: np.ndarray
    effects: list[str] = field(default_factory=list)


def code_scene(rng: np.random.Generator, width: int, height: int, payload: str | bytes, text: str, *,
               carrier: str | None = None, effects: list[str] | tuple[str, ...] | None = None,
               background: np.ndarray | None = None, matrix: np.ndarray | None = None) -> CodeScene:
    carrier = carrier or str(rng.choice(["paper", "phone", "receipt"]))
    if effects is None:
        effects = [e for e in ("blur", "noise", "jpeg", "glare", "shadow", "dim")
                   if rng.random() < {"blur": 0.45, "noise": 0.5, "jpeg": 0.5, "glare": 0.2, "shadow": 0.25,
                                      "dim": 0.25}[e]]
    module_px = 8
    card = qr_card(payload, rng, carrier, module_px, matrix)
    bg = background if background is not None else render_desk(rng, width, height, str(
        rng.choice(["cluttered", "fabric", "wood", "dark"])))
    aspect = card.shape[0] / card.shape[1]
    # a code held up at arm's length or close: 14–50 % of the frame height, turned up to ±35°
    fill = rng.uniform(0.14, 0.5) if carrier != "receipt" else rng.uniform(0.3, 0.75)
    quad = random_quad(rng, width, height, aspect, min_fill=fill, max_fill=fill + 0.01, max_rotation=35.0,
                       perspective=0.05)
    image = paste(bg, card, quad)
    if "shadow" in effects:
        image = add_shadow(image, rng, rng.uniform(0.2, 0.4))
    if "dim" in effects:
        image = np.clip(image.astype(np.float32) * rng.uniform(0.35, 0.6) + rng.uniform(0, 30), 0, 255).astype(
            np.uint8)
    if "glare" in effects:
        image = add_glare(image, rng, tuple(quad.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * (quad[2] - quad[0])),
                          strength=rng.uniform(0.35, 0.8))
    if "blur" in effects:
        image = add_blur(image, rng, rng.uniform(0.8, 2.2))
    if "noise" in effects:
        image = add_noise(image, rng)
    if "jpeg" in effects:
        image = jpeg_artefacts(image, int(rng.integers(30, 75)))
    return CodeScene(image, payload, text, carrier, quad, list(effects))
