"""Rebuild the bundled simplified-Chinese font files from Debian's fonts-noto-cjk.

Kivy opens only the first face of a .ttc collection, and in Noto Sans CJK that face is
Japanese (令 骨 写 角 直 come out in Japanese shapes). This script extracts the SC face and
drops the Hangul blocks, which a Hekou kiosk never shows, keeping every other mapped
character (all of GB2312, the whole CJK Unified Ideographs block, Extension A, the
full-width forms and the Latin the UI needs).

    apt-get install fonts-noto-cjk
    .venv/bin/python assets/fonts/make_fonts.py
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = Path("/usr/share/fonts/opentype/noto")
HERE = Path(__file__).resolve().parent
SC_FACE_INDEX = 2  # JP, KR, SC, TC, HK, ... in the Noto CJK collection
HANGUL = [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)]


def _kept(codepoint: int) -> bool:
    return not any(lo <= codepoint <= hi for lo, hi in HANGUL)


def build(weight: str) -> Path:
    collection = TTCollection(str(SOURCE / f"NotoSansCJK-{weight}.ttc"))
    face = collection.fonts[SC_FACE_INDEX]
    unicodes = [cp for cp in face.getBestCmap() if _kept(cp)]
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(face)
    out = HERE / f"NotoSansSC-{weight}.otf"
    face.save(str(out))
    return out


if __name__ == "__main__":
    for weight in ("Regular", "Bold"):
        path = build(weight)
        print(path, path.stat().st_size, file=sys.stderr)
