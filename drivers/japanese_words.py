"""Japanese words written in katakana, for telling half-width katakana from GB 2312 hanzi.

The bytes of half-width katakana are often also the bytes of GB 2312 hanzi (ｵｵｻｶ = 档欢), and
no decoder knows both charsets (``drivers.codetext._collision``). Whether the katakana spell a
Japanese word is evidence from the bytes themselves: random GB 2312 hanzi seldom spell one.

``is_word(run)`` answers for one run of katakana (half- or full-width, three kana or more). The
list is the lemma readings (lForm) of UniDic 2.1.2, the dictionary of contemporary written
Japanese (the UniDic Consortium, under the BSD licence: ``data/UNIDIC-LICENSE``), kept only
where the word written in half-width katakana is also a string of GB 2312 hanzi — the only
place it is asked: 66,322 words, read once when first needed. Regenerate from the dictionary's
``sys.dic`` (``pip install --target DIR unidic-lite==1.0.8`` gives
``DIR/unidic_lite/dicdir/sys.dic``)::

    python -m drivers.japanese_words DIR/unidic_lite/dicdir/sys.dic
"""
from __future__ import annotations

import functools
import gzip
import struct
import sys
import unicodedata
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("data") / "japanese_katakana_words.txt.gz"
MIN_KANA = 3  # two kana are a syllable pair, not evidence: most of them are some word's reading


@functools.lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    try:
        with gzip.open(WORDS_FILE, "rt", encoding="utf-8") as lines:
            return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    except (OSError, EOFError):
        return frozenset()


def available() -> bool:
    """True when the word list could be read."""
    return bool(_words())


def is_word(katakana: str) -> bool:
    """True when ``katakana`` (half- or full-width) is one Japanese word of three kana or more."""
    full = unicodedata.normalize("NFKC", katakana)
    return len(full) >= MIN_KANA and full in _words()


# -- regenerating the list (a maintenance step, not run by the kiosk) ---------------------------------

def _halfwidth_table() -> dict[str, str]:
    table = {}
    for code in range(0xFF61, 0xFFA0):
        table.setdefault(unicodedata.normalize("NFD", unicodedata.normalize("NFKC", chr(code))), chr(code))
    table["\u3099"], table["\u309a"] = "ﾞ", "ﾟ"  # the combining voicing marks of NFD
    return table


def to_halfwidth(katakana: str) -> str | None:
    """``katakana`` in half-width katakana (ガ → ｶﾞ), or None when a character has no half-width form."""
    table = _halfwidth_table()
    out = []
    for ch in unicodedata.normalize("NFD", katakana):
        if ch not in table:
            return None
        out.append(table[ch])
    return "".join(out)


def _also_gb2312_hanzi(katakana: str) -> bool:
    half = to_halfwidth(katakana)
    if half is None:
        return False
    try:
        hanzi = half.encode("cp932").decode("gb2312")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return all("\u4e00" <= ch <= "\u9fff" for ch in hanzi)


def readings_in(sys_dic: bytes) -> set[str]:
    """The lemma readings in a UniDic MeCab ``sys.dic`` (header, double array, tokens, features)."""
    dsize, tsize, fsize = struct.unpack("<3I", sys_dic[24:36])
    charset = sys_dic[40:72].split(b"\0")[0].decode("ascii") or "utf-8"
    start = 72 + dsize + tsize
    readings = set()
    for feature in sys_dic[start:start + fsize].split(b"\0"):
        fields = feature.decode(charset, "replace").split(",")
        if len(fields) > 6 and fields[6] != "*":  # UniDic's lForm: the lemma in katakana
            readings.add(fields[6])
    return readings


def generate(sys_dic_path: str | Path) -> list[str]:
    words = readings_in(Path(sys_dic_path).read_bytes())
    return sorted(w for w in words if len(w) >= MIN_KANA and _also_gb2312_hanzi(w))


def main(argv: list[str]) -> int:  # pragma: no cover - a maintenance helper
    if len(argv) != 1:
        print(__doc__)
        return 2
    words = generate(argv[0])
    header = ("# Lemma readings (katakana) of UniDic 2.1.2 whose half-width katakana bytes are also\n"
              "# GB 2312 hanzi. Copyright (c) 2011-2017, The UniDic Consortium; BSD licence, see\n"
              "# UNIDIC-LICENSE next to this file. Made by drivers/japanese_words.py.\n")
    with gzip.GzipFile(WORDS_FILE, "wb", mtime=0) as out:
        out.write((header + "\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} words → {WORDS_FILE}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
