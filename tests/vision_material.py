"""Labelled test material for the vision pipeline, generated with a fixed seed.

Nothing is stored in git: tests and ``benchmarks/vision.py`` call these functions and get
the same pictures every time.

- ``document_set``: camera frames of text pages, forms and ID cards in random perspective
  on wood, dark, pale, cloth and cluttered desks, with blur, noise, shadows, glare, a hand
  over an edge and JPEG artefacts; some frames show an empty desk (truth: no document).
- ``code_set``: QR codes held up on paper, on a phone screen and on printed receipts,
  with short random Chinese payloads (the ones zbar misreads as Shift-JIS), ASCII, mixed
  text, receipt numbers/URLs, and a few GB18030-encoded payloads, under the same kinds of
  degradation.

Printed-receipt codes are drawn here as receipt-like slips (text + a grey thermal-print QR).
When the printer simulator lands, its rendered receipts can be added as another carrier.
"""
from __future__ import annotations

import cv2
import numpy as np

from drivers.camera import scene

# 常用字: frequent characters (GB2312 level 1), the ones residents' payloads are made of
COMMON_HANZI = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
                "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点"
                "从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原"
                "又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革"
                "位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强"
                "放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交"
                "受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八"
                "离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布"
                "复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
                "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照"
                "参红细引听该铁价严河")
RECEIPT_PAYLOADS = ("https://zwfw.hekou.gov.cn/c/HK{n}?k={k}", "HYB:RCPT:HK{n}:{k}", "河易办受理回执|HK{n}|{k}",
                    "取件码 {k} 柜门 {d}")


def _chinese(rng: np.random.Generator, lo: int = 2, hi: int = 12) -> str:
    n = int(rng.integers(lo, hi + 1))
    return "".join(COMMON_HANZI[i] for i in rng.integers(0, len(COMMON_HANZI), n))


def _ascii(rng: np.random.Generator) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789-_:/."
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), int(rng.integers(6, 40))))


def payload(rng: np.random.Generator, kind: str) -> tuple[str | bytes, str]:
    """(what is encoded, the text a correct reader returns)."""
    if kind == "chinese":
        text = _chinese(rng)
        return text, text
    if kind == "mixed":
        text = f"{_chinese(rng, 2, 6)}-{int(rng.integers(1000, 99999))} {_chinese(rng, 1, 4)}"
        return text, text
    if kind == "receipt":
        template = RECEIPT_PAYLOADS[int(rng.integers(0, len(RECEIPT_PAYLOADS)))]
        text = template.format(n=int(rng.integers(10 ** 12, 10 ** 13)), k="".join(
            "0123456789abcdef"[i] for i in rng.integers(0, 16, 8)), d=int(rng.integers(1, 40)))
        return text, text
    if kind == "gb18030":
        text = _chinese(rng, 3, 10)
        return text.encode("gb18030"), text
    text = _ascii(rng)
    return text, text


def document_set(n: int = 60, seed: int = 6, size: tuple[int, int] = (1280, 720),
                 empty_share: float = 0.15) -> list[scene.DocumentScene]:
    rng = np.random.default_rng(seed)
    width, height = size
    out = []
    for i in range(n):
        kind = "none" if rng.random() < empty_share else None
        out.append(scene.document_scene(rng, width, height, kind=kind))
    return out


def code_set(n: int = 100, seed: int = 66, size: tuple[int, int] = (1920, 1080)) -> list[scene.CodeScene]:
    rng = np.random.default_rng(seed)
    width, height = size
    kinds = ["chinese"] * 4 + ["ascii"] * 2 + ["mixed"] * 2 + ["receipt"] * 2 + ["gb18030"]
    out = []
    for i in range(n):
        kind = kinds[int(rng.integers(0, len(kinds)))]
        data, text = payload(rng, kind)
        carrier = "receipt" if kind == "receipt" else None
        out.append(scene.code_scene(rng, width, height, data, text, carrier=carrier))
    return out


# -- issue 16: charsets with and without ECI, 1-D barcodes, code-free textures -----------------------

CODE_CLASSES = ("utf-8", "gb18030", "gb18030+eci", "shift_jis", "shift_jis+eci", "iso-8859-1", "ascii", "1-d",
                "no code")


def _segno_matrix(text: str, codec: str, eci: bool) -> np.ndarray:
    import segno

    data = text if eci else text.encode(codec)
    kwargs = {"encoding": codec, "eci": True} if eci else {"mode": "byte"}
    symbol = segno.make(data, micro=False, error=str(np.random.default_rng(len(text)).choice(["m", "q"])), **kwargs)
    modules = np.array(symbol.matrix, dtype=bool)
    return np.pad(np.where(modules, 0, 255).astype(np.uint8), 4, constant_values=255)


def _linear_card(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    import zxingcpp

    kind = str(rng.choice(["EAN13", "Code128", "Code39"]))
    if kind == "EAN13":
        body = "69" + "".join(str(d) for d in rng.integers(0, 10, 10))
        total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
        text = body + str((10 - total % 10) % 10)
    elif kind == "Code128":
        text = "HK" + "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(6, 14))))
    else:
        text = "".join("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[i] for i in rng.integers(0, 34, int(rng.integers(5, 10))))
    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, kind))
    image = np.asarray(barcode.to_image(scale=int(rng.integers(3, 5)), add_quiet_zones=True))
    image = cv2.copyMakeBorder(image, 30, 50, 20, 20, cv2.BORDER_CONSTANT, value=245)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), text


def textured_desk(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A code-free frame that provokes 1-D false positives: stripes, weave, grilles, text and grain."""
    style = str(rng.choice(["stripes", "grille", "weave", "page", "desk"]))
    if style in ("stripes", "grille"):
        xs = np.arange(width, dtype=np.float32)[None, :]
        period = rng.uniform(4, 14)
        wave = np.sin(xs / period * 2 * np.pi + np.sin(xs / rng.uniform(30, 90)) * rng.uniform(0, 3))
        base = (wave > rng.uniform(-0.4, 0.4)).astype(np.float32) * rng.uniform(60, 160) + rng.uniform(20, 80)
        image = np.repeat(np.repeat(base, height, axis=0)[..., None], 3, axis=2)
        if style == "grille":
            image[(np.arange(height) % int(rng.integers(20, 60))) < 6] = 40
        angle = rng.uniform(-30, 30)
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        image = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    elif style == "weave":
        image = scene.render_desk(rng, width, height, "fabric")
    elif style == "page":
        image = scene.document_scene(rng, width, height, kind=str(rng.choice(["text", "form"]))).image
    else:
        image = scene.render_desk(rng, width, height, str(rng.choice(["wood", "cluttered"])))
    return scene.add_blur(image, rng, rng.uniform(0.5, 1.5)) if rng.random() < 0.5 else image


def charset_code_set(n_per_class: int = 20, seed: int = 1616, size: tuple[int, int] = (1280, 720),
                     part: str = "held") -> list[tuple[str, scene.CodeScene | None, np.ndarray, str | None]]:
    """(class, scene or None, image, the text a correct reader returns or None for no code) per frame.

    Texts come from ``tests.charset_material`` (``part`` of its word lists); codes are encoded
    with segno in byte mode (with or without an ECI), printed on a slip, a phone or a receipt,
    photographed in perspective with blur, noise, glare, shadow, dimming and JPEG artefacts.
    """
    from tests.charset_material import payload_text

    rng = np.random.default_rng(seed)
    width, height = size
    out = []
    for cls in CODE_CLASSES:
        for _ in range(n_per_class):
            if cls == "no code":
                out.append((cls, None, textured_desk(rng, width, height), None))
                continue
            if cls == "1-d":
                card, text = _linear_card(rng)
                bg = scene.render_desk(rng, width, height, str(rng.choice(["cluttered", "fabric", "wood", "dark"])))
                quad = scene.random_quad(rng, width, height, card.shape[0] / card.shape[1], min_fill=0.25,
                                         max_fill=0.45, max_rotation=12.0, perspective=0.03)
                image = scene.paste(bg, card, quad)
                for effect in ("blur", "noise", "jpeg"):
                    if rng.random() < 0.4:
                        image = {"blur": lambda im: scene.add_blur(im, rng, rng.uniform(0.6, 1.4)),
                                 "noise": lambda im: scene.add_noise(im, rng),
                                 "jpeg": lambda im: scene.jpeg_artefacts(im, int(rng.integers(40, 80)))}[effect](image)
                out.append((cls, None, image, text))
                continue
            charset, eci = cls.split("+")[0], cls.endswith("+eci")
            if charset == "ascii":
                data, text = payload(rng, str(rng.choice(["ascii", "receipt"])))
                if not text.isascii():
                    text = data = _ascii(rng)
                matrix = None
            else:
                text = payload_text(rng, charset, part)
                codec = "cp932" if charset == "shift_jis" and not eci else charset
                matrix = _segno_matrix(text, codec, eci)
                data = text
            item = scene.code_scene(rng, width, height, data, text, matrix=matrix)
            out.append((cls, item, item.image, text))
    return out
