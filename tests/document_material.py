"""Harder labelled document frames, by difficulty class (issue 16), generated from a seed.

``hard_document_set(n_per_class, seed)`` returns ``(class, scene)`` pairs. The classes:

- ``standard``: the original generator (``scene.document_scene``): pages and cards on the
  usual desks with blur, noise, glare, a hand, shadows, JPEG;
- ``small``: a page or card covering only 5–10 % of the frame, on a dark or textured desk
  (a phone photo from afar, a 高拍仪 zoomed out);
- ``dark_textured``: granite, dark wood, plaid cloth, printed desk mats, leather;
- ``clutter``: books, pens, phones and other sheets touching or overlapping the page's
  edges, a second sheet under it;
- ``card_among``: an ID card among other rectangles (bank cards, a phone, a notebook,
  receipts) of similar size, some touching it;
- ``shadow``: strong shadows, hard-edged (the camera arm, a hand) and soft, across the
  page and the desk;
- ``empty``: no document, but clutter and rectangles that are not pages (truth: None).

Pages carry real content (letters with stamps, forms with photos, ID cards). The seeds
used for tuning and for measuring are kept apart by ``benchmarks/vision.py``.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from drivers.camera import scene

DOC_CLASSES = ("standard", "small", "dark_textured", "clutter", "card_among", "shadow", "empty")
TEXTURES = ("granite", "dark_wood", "plaid", "print_mat", "leather", "dark_fabric")


def textured_desk(rng: np.random.Generator, width: int, height: int, style: str | None = None) -> np.ndarray:
    """A dark or busy desk: granite, dark wood, plaid cloth, printed mat, leather, dark fabric."""
    style = style or str(rng.choice(TEXTURES))
    if style == "granite":
        base = rng.uniform(30, 110, 3).astype(np.float32)
        desk = np.zeros((height, width, 3), np.float32) + base
        for scale, amp in ((1, 40), (3, 30), (9, 18)):
            blob = rng.normal(0, 1, (height // scale + 1, width // scale + 1)).astype(np.float32)
            blob = cv2.resize(blob, (width, height), interpolation=cv2.INTER_LINEAR)
            desk += blob[..., None] * amp * rng.uniform(0.5, 1.0)
        specks = rng.random((height, width)) < 0.02
        desk[specks] += rng.uniform(60, 140)
    elif style == "dark_wood":
        base = np.array([25, 45, 75], np.float32) * rng.uniform(0.6, 1.3)
        ys = np.arange(height, dtype=np.float32)[:, None]
        xs = np.arange(width, dtype=np.float32)[None, :]
        angle = rng.uniform(-0.4, 0.4)
        t = ys * math.cos(angle) + xs * math.sin(angle)
        grain = np.sin(t / rng.uniform(3, 8) + 4 * np.sin(xs / rng.uniform(80, 200))) * rng.uniform(8, 20)
        planks = ((t // rng.uniform(90, 200)) % 2) * rng.uniform(5, 15)
        desk = base[None, None, :] + (grain + planks)[..., None] * np.array([0.5, 0.7, 1.0])
    elif style == "plaid":
        colours = [rng.uniform(20, 200, 3) for _ in range(3)]
        period = int(rng.integers(30, 90))
        xs = (np.arange(width) // (period // 3)) % 3
        ys = (np.arange(height) // (period // 3)) % 3
        desk = np.zeros((height, width, 3), np.float32)
        for k, colour in enumerate(colours):
            desk += ((xs[None, :] == k) | (ys[:, None] == k))[..., None] * colour / 2
    elif style == "print_mat":  # a desk mat printed with text and lines, on grey
        level = rng.uniform(90, 170)
        desk = np.full((height, width, 3), level, np.float32)
        page = scene.render_page(str(rng.choice(["text", "form"])), rng, width=max(400, width // 2))
        tile = cv2.resize(page, (width, int(width * page.shape[0] / page.shape[1])))[:height]
        tile = cv2.resize(tile, (width, height)).astype(np.float32)
        desk = desk * 0.5 + tile * 0.5 * (level / 255)
    elif style == "leather":
        base = rng.uniform(20, 90, 3).astype(np.float32)
        blob = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 2.5)
        desk = base[None, None, :] + blob[..., None] * 25
    else:  # dark_fabric: a coarse weave
        colour = rng.uniform(15, 80, 3).astype(np.float32)
        period = int(rng.integers(4, 9))
        weave = ((np.indices((height, width)).sum(0) // period) % 2).astype(np.float32) * rng.uniform(10, 30)
        desk = colour[None, None, :] + weave[..., None]
    desk = desk + rng.normal(0, 3, (height, width, 1))
    return np.clip(desk, 0, 255).astype(np.uint8)


def _page_quad(rng, width, height, kind, area_range, max_rotation=25.0, perspective=0.06):
    aspect = scene.ID_CARD_ASPECT if kind == "id_card" else scene.A4_ASPECT
    for _ in range(400):
        area = rng.uniform(*area_range) * width * height
        page_w = math.sqrt(area / aspect)
        page_h = page_w * aspect
        angle = math.radians(rng.uniform(-max_rotation, max_rotation)) + (math.pi / 2 if rng.random() < 0.25 else 0)
        cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        base = np.array([[-page_w / 2, -page_h / 2], [page_w / 2, -page_h / 2], [page_w / 2, page_h / 2],
                         [-page_w / 2, page_h / 2]])
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        quad = base @ rot.T + [cx, cy] + rng.uniform(-perspective, perspective, (4, 2)) * [page_w, page_h]
        if quad[:, 0].min() > 0.03 * width and quad[:, 0].max() < 0.97 * width and \
                quad[:, 1].min() > 0.03 * height and quad[:, 1].max() < 0.97 * height:
            return quad.astype(np.float32)
    raise RuntimeError("no quad fits")


def _rect_object(rng, kind: str) -> np.ndarray:
    """A flat object seen from above: bank card, phone, notebook, receipt, book."""
    if kind == "bank_card":
        w, h = 428, 270
        card = np.zeros((h, w, 3), np.uint8) + rng.integers(30, 220, 3).astype(np.uint8)
        cv2.rectangle(card, (40, 90), (110, 140), (60, 180, 210), -1)  # the chip
        for k in range(4):
            cv2.putText(card, str(int(rng.integers(1000, 9999))), (40 + 95 * k, 200), cv2.FONT_HERSHEY_SIMPLEX,
                        0.9, (240, 240, 240), 2, cv2.LINE_AA)
        return card
    if kind == "phone":
        w, h = 300, 620
        phone = np.full((h, w, 3), 20, np.uint8)
        cv2.rectangle(phone, (14, 40), (w - 14, h - 40), tuple(int(c) for c in rng.integers(40, 250, 3)), -1)
        return phone
    if kind == "notebook":
        w, h = int(rng.integers(300, 420)), int(rng.integers(380, 520))
        book = np.zeros((h, w, 3), np.uint8) + rng.integers(20, 200, 3).astype(np.uint8)
        cv2.rectangle(book, (0, 0), (24, h), (30, 30, 30), -1)
        return book
    if kind == "receipt":
        w, h = 230, int(rng.integers(420, 700))
        slip = np.full((h, w, 3), int(rng.integers(215, 245)), np.uint8)
        for y in range(30, h - 20, 26):
            cv2.line(slip, (15, y), (int(rng.integers(80, w - 15)), y), (120, 120, 120), 3)
        return slip
    w, h = int(rng.integers(350, 500)), int(rng.integers(450, 650))  # book
    book = np.zeros((h, w, 3), np.uint8) + rng.integers(40, 230, 3).astype(np.uint8)
    cv2.putText(book, "BOOK", (40, h // 2), cv2.FONT_HERSHEY_DUPLEX, 2.0, (250, 250, 250), 3)
    return book


def _object_quad(rng, obj: np.ndarray, centre, scale: float) -> np.ndarray:
    h, w = obj.shape[:2]
    angle = rng.uniform(0, math.pi)
    pw, ph = w * scale, h * scale
    base = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return (base @ rot.T + centre).astype(np.float32)


def _point_on_edge(rng, quad, outside: float) -> np.ndarray:
    side = int(rng.integers(0, 4))
    a, b = quad[side], quad[(side + 1) % 4]
    t = rng.uniform(0.15, 0.85)
    edge = b - a
    normal = np.array([edge[1], -edge[0]]) / (np.linalg.norm(edge) + 1e-6)
    return a + edge * t + normal * outside


def hard_shadow(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dark band with a sharp edge (the camera's arm or a leaning person) plus a soft one."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    x0, x1 = int(rng.integers(0, w)), int(rng.integers(0, w))
    width = int(rng.integers(w // 6, w // 2))
    pts = np.array([[x0, 0], [x0 + width, 0], [x1 + width, h], [x1, h]], np.int32)
    cv2.fillPoly(mask, [pts], 255)
    soft = cv2.GaussianBlur(mask, (0, 0), rng.uniform(1.0, 6.0)).astype(np.float32)[..., None] / 255.0
    strength = rng.uniform(0.45, 0.7)
    out = image.astype(np.float32) * (1 - strength * soft)
    return scene.add_shadow(np.clip(out, 0, 255).astype(np.uint8), rng, rng.uniform(0.3, 0.55))


def _finish(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.4:
        image = scene.add_blur(image, rng, rng.uniform(0.5, 1.6))
    if rng.random() < 0.6:
        image = scene.add_noise(image, rng)
    if rng.random() < 0.3:
        image = scene.vignette(image, rng)
    if rng.random() < 0.6:
        image = scene.jpeg_artefacts(image, int(rng.integers(40, 85)))
    return image


def hard_document_scene(rng: np.random.Generator, cls: str, width: int = 1280,
                        height: int = 720) -> scene.DocumentScene:
    if cls == "standard":
        return scene.document_scene(rng, width, height, kind=str(rng.choice(["text", "form", "id_card"])))
    kind = "id_card" if cls == "card_among" else str(rng.choice(["text", "form", "id_card"], p=[0.4, 0.35, 0.25]))
    if cls in ("small", "dark_textured", "empty") or rng.random() < 0.5:
        desk_name = str(rng.choice(TEXTURES))
        desk = textured_desk(rng, width, height, desk_name)
    else:
        desk_name = str(rng.choice(scene.DESKS))
        desk = scene.render_desk(rng, width, height, desk_name)
    effects: list[str] = []
    if cls == "empty":
        image = desk
        for _ in range(int(rng.integers(2, 6))):
            obj = _rect_object(rng, str(rng.choice(["phone", "notebook", "receipt", "book"])))
            centre = np.array([rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height])
            image = scene.paste(image, obj, _object_quad(rng, obj, centre, rng.uniform(0.25, 0.5) * height / 600))
        return scene.DocumentScene(_finish(image, rng), None, "none", desk_name, ["objects"], None)
    area = {"small": (0.05, 0.10), "card_among": (0.04, 0.10)}.get(cls, (0.10, 0.35) if kind == "id_card"
                                                                      else (0.12, 0.33))
    quad = _page_quad(rng, width, height, kind, area)
    page_width = int(min(1400, max(500, math.sqrt(area[1] * width * height) * 1.6)))
    page = scene.render_page(kind, rng, page_width)
    image = desk
    if cls == "clutter" and rng.random() < 0.6:  # another sheet under the page, sticking out
        under = scene.render_page(str(rng.choice(["text", "form"])), rng, page_width)
        shift = rng.uniform(-0.25, 0.25, 2) * [np.ptp(quad[:, 0]), np.ptp(quad[:, 1])]
        rotate = cv2.getRotationMatrix2D(tuple(quad.mean(axis=0)), rng.uniform(-15, 15), 1.0)
        under_quad = (np.hstack([quad, np.ones((4, 1))]) @ rotate.T + shift).astype(np.float32)
        image = scene.paste(image, under, under_quad)
        effects.append("sheet_under")
    image = scene.paste(image, page, quad)
    if cls == "card_among":
        card_w = np.linalg.norm(quad[1] - quad[0])
        for _ in range(int(rng.integers(2, 5))):
            obj = _rect_object(rng, str(rng.choice(["bank_card", "bank_card", "phone", "notebook", "receipt"])))
            for _try in range(30):
                centre = np.array([rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height])
                oq = _object_quad(rng, obj, centre, card_w / 428 * rng.uniform(0.9, 1.1))
                touching = rng.random() < 0.3
                # other objects lie beside the card (sometimes touching it), never on it
                inside = cv2.pointPolygonTest(quad.reshape(-1, 1, 2), tuple(map(float, centre)), True)
                if touching and -card_w * 0.9 < inside < -card_w * 0.4 or not touching and inside < -card_w * 0.9:
                    if all(0 <= x < width and 0 <= y < height for x, y in oq):
                        break
            else:
                continue
            image = scene.paste(image, obj, oq)
            # repaint the card on top where an object overlapped it
            image = scene.paste(image, page, quad, drop_shadow=False)
        effects.append("rectangles")
    if cls == "clutter":
        side_len = np.linalg.norm(quad[1] - quad[0])
        for _ in range(int(rng.integers(2, 5))):
            what = str(rng.choice(["book", "notebook", "phone", "pen", "pen"]))
            if what == "pen":
                start = _point_on_edge(rng, quad, rng.uniform(-0.1, 0.1) * side_len)
                angle = rng.uniform(0, math.pi)
                length = side_len * rng.uniform(0.3, 0.7)
                end = start + length * np.array([math.cos(angle), math.sin(angle)])
                colour = tuple(int(c) for c in rng.integers(0, 256, 3))
                cv2.line(image, tuple(int(v) for v in start), tuple(int(v) for v in end), colour,
                         int(rng.integers(5, 12)), cv2.LINE_AA)
                continue
            obj = _rect_object(rng, what)
            scale = side_len * rng.uniform(0.4, 0.8) / max(obj.shape[:2])
            centre = _point_on_edge(rng, quad, max(obj.shape[:2]) * scale * rng.uniform(0.45, 0.6))
            image = scene.paste(image, obj, _object_quad(rng, obj, centre, scale))
        effects.append("objects_touching")
    if cls == "shadow":
        image = hard_shadow(image, rng)
        effects.append("hard_shadow")
    elif rng.random() < 0.25:
        image = scene.add_shadow(image, rng)
        effects.append("shadow")
    if cls != "shadow" and rng.random() < 0.15:
        image = scene.add_hand(image, rng, quad)
        effects.append("hand")
    return scene.DocumentScene(_finish(image, rng), quad, kind, desk_name, effects, page)


def hard_document_set(n_per_class: int = 20, seed: int = 9100, width: int = 1280, height: int = 720,
                      classes: tuple[str, ...] = DOC_CLASSES) -> list[tuple[str, scene.DocumentScene]]:
    rng = np.random.default_rng(seed)
    return [(cls, hard_document_scene(rng, cls, width, height)) for cls in classes for _ in range(n_per_class)]
