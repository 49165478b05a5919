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
