"""Every pinyin reading of a character, toneless, ü written ``v``.

pypinyin's single, context-free reading is wrong for many names (长护险 is *chang* hu xian,
pypinyin says *zhang*), so search indexes every reading of a polyphonic character
(``heteronym=True``). ``lv``/``nv``/``lve``/``nve`` also get the ``u`` spellings residents
often type (lu, nu, lue, nue). Latin letters read as themselves so "B超" answers "bchao".

pypinyin also lists archaic readings (划 guo, 许 hu) that would make "guohu" find 规划许可;
a reading is kept only when it is the character's first or occurs in one of pypinyin's
≈47,000 phrases (长 keeps chang and zhang, 重 zhong and chong, 行 xing and hang).

The running kiosk reads these readings from ``assets/ime/char_readings.txt``, a table
generated from pypinyin by ``python -m kiosk.ime.readings --write`` (a test checks that it
still matches the installed pypinyin): importing pypinyin costs ≈55 MB of memory, which
only the lexicon build (``kiosk ime build``, a separate process) and ``phrase_reading`` pay.
"""
from __future__ import annotations

import sys
import threading
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "ime" / "char_readings.txt"

_U_SPELLINGS = {"lv": "lu", "nv": "nu", "lve": "lue", "nve": "nue"}


def is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_phrase_readings: dict[str, set[str]] | None = None
_phrase_lock = threading.Lock()
_table: str | None = None


def _readings_in_phrases() -> dict[str, set[str]]:
    """Toned readings each character has in pypinyin's phrase dictionary (built once, ~0.2 s)."""
    global _phrase_readings
    with _phrase_lock:
        if _phrase_readings is None:
            from pypinyin.phrases_dict import phrases_dict

            seen: dict[str, set[str]] = {}
            for phrase, readings in phrases_dict.items():
                if len(phrase) == len(readings):
                    for ch, reading in zip(phrase, readings):
                        seen.setdefault(ch, set()).add(reading[0])
            _phrase_readings = seen
    return _phrase_readings


def computed_readings(ch: str) -> tuple[str, ...]:
    """The readings of one hanzi as pypinyin gives them today (what the table is made of)."""
    from pypinyin import Style, pinyin
    from pypinyin.style import convert

    found = pinyin(ch, style=Style.TONE, heteronym=True, errors="ignore")
    toned = found[0] if found else []
    in_phrases = _readings_in_phrases().get(ch, set())
    readings: list[str] = []
    for number, tone_reading in enumerate(toned):
        if number > 0 and tone_reading not in in_phrases:
            continue
        reading = convert(tone_reading, Style.NORMAL, strict=False).replace("ü", "v")
        if reading.isascii() and reading.isalpha() and reading not in readings:
            readings.append(reading)
    return tuple(readings)


def table_text() -> str:
    """The whole readings table as written to ``TABLE_PATH``: one hanzi a line, then its readings."""
    from pypinyin.pinyin_dict import pinyin_dict

    lines = ["# Pinyin readings of each hanzi, the most common first, toneless, ü as v.",
             "# Generated from pypinyin (MIT licence; its data comes from the MIT-licensed",
             "# pinyin-data and phrase-pinyin-data projects) by `python -m kiosk.ime.readings --write`.",
             "# A reading other than the first is kept only when a pypinyin phrase uses it."]
    for code in sorted(pinyin_dict):
        ch = chr(code)
        if is_hanzi(ch):
            readings = computed_readings(ch)
            if readings:
                lines.append(f"{ch}\t{' '.join(readings)}")
    return "\n".join(lines) + "\n"


def _table_lookup(ch: str) -> tuple[str, ...]:
    global _table
    if _table is None:
        _table = "\n" + TABLE_PATH.read_text(encoding="utf-8")
    start = _table.find("\n" + ch + "\t")
    if start < 0:
        return ()
    start += len(ch) + 2
    end = _table.find("\n", start)
    return tuple(_table[start:end].split())


@lru_cache(maxsize=None)
def char_readings(ch: str) -> tuple[str, ...]:
    """The readings of one character in use, the most common first; () for punctuation/digits."""
    if "a" <= ch <= "z":
        return (ch,)
    if "A" <= ch <= "Z":
        return (ch.lower(),)
    if not is_hanzi(ch):
        return ()
    readings = list(_table_lookup(ch))
    for reading in list(readings):
        extra = _U_SPELLINGS.get(reading)
        if extra and extra not in readings:
            readings.append(extra)
    return tuple(readings)


@lru_cache(maxsize=None)
def reading_prefixes(ch: str) -> frozenset[str]:
    """Every beginning of every reading of ``ch`` ("z", "zh", "zhe", "zhen", "zheng")."""
    return frozenset(r[:i] for r in char_readings(ch) for i in range(1, len(r) + 1))


def phrase_reading(text: str) -> list[str]:
    """The most likely reading of a phrase in context (one syllable per character; imports pypinyin)."""
    from pypinyin import Style, lazy_pinyin

    return [r.replace("ü", "v") for r in lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: list(s))]


@lru_cache(maxsize=None)
def _toneless(toned: str) -> str:
    from pypinyin import Style
    from pypinyin.style import convert

    return convert(toned, Style.NORMAL, strict=False).replace("ü", "v")


_phrases: dict | None = None
_phrase_max = 0


def _phrase_table() -> tuple[dict, int]:
    global _phrases, _phrase_max
    with _phrase_lock:
        if _phrases is None:
            from pypinyin.phrases_dict import phrases_dict

            _phrase_max = max(len(p) for p in phrases_dict)
            _phrases = phrases_dict
    return _phrases, _phrase_max


def quick_phrase_reading(text: str) -> list[str]:
    """``phrase_reading`` for many words at once (building the IME lexicon): the same
    data — pypinyin's phrase dictionary, longest phrase first, else each character's
    first reading — without pypinyin's per-call overhead (≈10× faster)."""
    phrases, longest = _phrase_table()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for j in range(min(n, i + longest), i + 1, -1):
            readings = phrases.get(text[i:j])
            if readings is not None and len(readings) == j - i:
                out.extend(_toneless(r[0]) for r in readings)
                i = j
                break
        else:
            first = char_readings(text[i])
            out.append(first[0] if first else text[i])
            i += 1
    return out


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m kiosk.ime.readings --write   (regenerates " + str(TABLE_PATH) + ")")
    TABLE_PATH.write_text(table_text(), encoding="utf-8")
    print(f"wrote {TABLE_PATH}")
