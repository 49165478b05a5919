"""Pinyin IME quality: the right word first / in the first five, against jieba-frequency ranking.

    .venv/bin/python benchmarks/ime.py [--cache-dir DIR] [--context general]

Words: the held-apart item names in ``benchmarks/data/ime_heldout.txt`` (written before the
ranking was tuned; the lexicon is not built from them) cut by jieba into distinct words of
2–4 hanzi; and, printed apart, the same from the demo catalogue's item names (the tuning
set). Each word is typed as full pinyin (pypinyin's reading of the word, no separators).
Compared in the same run: **jieba frequency** — among the words of jieba's dictionary whose
pinyin is exactly the typed letters, the most frequent first.
Prints top-1 and top-5 for both, and the median ms per word for the IME.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.ime.engine import ImeEngine  # noqa: E402
from kiosk.ime.lexicon import LEXICON_FILE, Lexicon, build_lexicon  # noqa: E402


def words_of(names: list[str]) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    out = []
    for name in names:
        for word in jieba.cut(name, HMM=False):
            if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word) and word not in out:
                out.append(word)
    return out


def typed(word: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


def jieba_table() -> dict[str, list[str]]:
    """pinyin letters → jieba's words with that reading, most frequent first."""
    import jieba
    from pypinyin import Style, lazy_pinyin

    rows = defaultdict(list)
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, freq = line.split()[:2]
            if 1 <= len(word) <= 6 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                rows["".join(lazy_pinyin(word, style=Style.NORMAL))].append((int(freq), word))
    return {key: [w for _, w in sorted(v, key=lambda fw: -fw[0])] for key, v in rows.items()}


def score(words, rank) -> tuple[int, int]:
    top1 = top5 = 0
    for word in words:
        ranked = rank(word)
        top1 += bool(ranked) and ranked[0] == word
        top5 += word in ranked[:5]
    return top1, top5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="a folder holding pinyin_lexicon.sqlite3 (built when missing)")
    parser.add_argument("--context", default="general")
    args = parser.parse_args()
    folder = Path(args.cache_dir or tempfile.mkdtemp(prefix="ime-bench-"))
    path = folder / LEXICON_FILE
    if not path.exists():
        build_lexicon(path)
    engine = ImeEngine(Lexicon(path))
    table = jieba_table()
    held = [line.strip() for line in (ROOT / "benchmarks" / "data" / "ime_heldout.txt").read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    catalogue = [item["name"] for item in json.loads((ROOT / "assets" / "catalog" / "hekou_items.json").read_text("utf-8"))]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; context {args.context!r}")
    for label, names in (("held-apart item names", held), ("demo catalogue names (tuning set)", catalogue)):
        words = words_of(names)
        ms = []

        def ime_rank(word):
            started = time.perf_counter()
            ranked = [c.text for c in engine.candidates(typed(word), args.context) if c.consumed >= len(typed(word))]
            ms.append((time.perf_counter() - started) * 1000)
            return ranked

        ime1, ime5 = score(words, ime_rank)
        base1, base5 = score(words, lambda word: table.get(typed(word), []))
        n = len(words)
        print(f"{label}: {n} distinct words of 2–4 hanzi typed as full pinyin")
        print(f"  IME             top-1 {ime1:4d} = {100 * ime1 / n:5.1f} %   top-5 {ime5:4d} = {100 * ime5 / n:5.1f} %"
              f"   median {statistics.median(ms):.2f} ms per word")
        print(f"  jieba frequency top-1 {base1:4d} = {100 * base1 / n:5.1f} %   top-5 {base5:4d} = {100 * base5 / n:5.1f} %")


if __name__ == "__main__":
    main()
