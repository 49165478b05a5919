"""The pinyin input lexicon: words and characters with their readings and frequencies.

Built once — at install (``kiosk ime build``) or on the first start — from jieba's
frequency dictionary (≈349,000 words; those seen at least ``min_freq`` times and up to six
characters are kept), each word read in context by pypinyin (证明 → zheng'ming), each
character under every reading in use, plus every other CJK character pypinyin knows (so a
rare character in a resident's name can still be typed), plus the district's place names
and address words from ``assets/ime/context_words.toml``, tagged to be ranked up.

It is stored as one SQLite table keyed by the words' initials (证明 → "zm") in the cache
folder: a lookup is one indexed query, opening it costs nothing, and memory holds only the
keys recently used.
"""
from __future__ import annotations

import itertools
import logging
import math
import os
import sqlite3
import threading
import time
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.ime.readings import char_readings, is_hanzi, quick_phrase_reading
from kiosk.ime.syllables import SYLLABLES

log = logging.getLogger(__name__)

LEXICON_FILE = "pinyin_lexicon.sqlite3"
LEXICON_VERSION = "4"  # 4: every jieba word of up to four hanzi (360,390 entries); 3 had 153,152
CONTEXT_WORDS_PATH = Path(__file__).resolve().parent.parent.parent / "assets" / "ime" / "context_words.toml"
TAG_NONE, TAG_ADDRESS, TAG_PLACE, TAG_EXTRA, TAG_DOMAIN = 0, 1, 2, 3, 4
PLACE_FREQ = 60000
ADDRESS_FREQ = 2000   # a floor for address words jieba lacks (号楼); the context does the rest
DEFAULT_MIN_FREQ = 5
MAX_WORD_LEN = 6


class LexiconError(Exception):
    """The lexicon cannot be built or opened; the message says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    syllables: tuple[str, ...]
    word: str
    freq: int
    tag: int = TAG_NONE


@dataclass(frozen=True)
class BuildReport:
    path: Path
    rows: int
    seconds: float
    bytes: int


def jieba_dictionary() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def load_context_words(path: Path = CONTEXT_WORDS_PATH) -> dict[str, int]:
    """word → tag, from the context words file (places win over address words)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: cannot be read ({exc})") from None
    words: dict[str, int] = {}
    for key, tag in (("address", TAG_ADDRESS), ("places", TAG_PLACE)):
        values = data.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise LexiconError(f"{path}: \"{key}\" must be a list of words in quotes")
        for word in values:
            if word.strip():
                words[word.strip()] = tag
    return words


def domain_words(catalog: Path | None = None) -> frozenset[str]:
    """Words of two to four hanzi in the catalogue's item names and guide texts (cut by jieba)."""
    import json

    import jieba

    path = catalog or Path(__file__).resolve().parents[2] / "assets" / "catalog" / "hekou_items.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    records = records.get("items", []) if isinstance(records, dict) else records
    texts = []
    for record in records:
        for key in ("name", "conditions", "materials", "process", "result", "keywords", "time_limit"):
            value = record.get(key)
            texts.append(json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)
    jieba.setLogLevel(60)
    return frozenset(w for w in jieba.cut("\n".join(t for t in texts if t), HMM=False)
                     if 2 <= len(w) <= 4 and all(is_hanzi(ch) for ch in w))


def reading_of(word: str) -> tuple[str, ...] | None:
    """The syllables of a word in context, or None when one is not plain pinyin."""
    syllables = tuple(quick_phrase_reading(word))
    if len(syllables) != len(word) or not all(s in SYLLABLES for s in syllables):
        return None
    return syllables


def readings_of(word: str, limit: int = 8) -> list[tuple[str, ...]]:
    """Every reading of a word the kiosk adds itself (a place name, a catalogue word), its
    likeliest first: pypinyin reads 长护险 as zhang hu xian, residents type chang."""
    likeliest = reading_of(word)
    per_char = [[r for r in char_readings(ch) if r in SYLLABLES] for ch in word]
    if any(not options for options in per_char):
        return [likeliest] if likeliest else []
    found = [likeliest] if likeliest else []
    for combo in itertools.islice(itertools.product(*per_char), limit * 4):
        if combo not in found:
            found.append(combo)
        if len(found) >= limit:
            break
    return found


def build_lexicon(path: Path | str, source: Path | str | None = None, context: Path = CONTEXT_WORDS_PATH,
                  min_freq: int = DEFAULT_MIN_FREQ, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build the lexicon file at ``path`` (written next to it, then renamed into place)."""
    started = time.perf_counter()
    path = Path(path)
    source = Path(source) if source else jieba_dictionary()
    entries: dict[tuple[tuple[str, ...], str], list[int]] = {}

    def add(syllables: tuple[str, ...], word: str, freq: int, tag: int = TAG_NONE) -> None:
        slot = entries.get((syllables, word))
        if slot is None:
            entries[(syllables, word)] = [freq, tag]
        else:
            slot[0] = max(slot[0], freq)
            slot[1] = max(slot[1], tag)

    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LexiconError(f"{source}: cannot read the frequency dictionary ({exc.strerror})") from None
    for line in lines:
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        word, freq = parts[0], int(parts[1])
        if len(word) > MAX_WORD_LEN or not all(is_hanzi(ch) for ch in word):
            continue
        if len(word) == 1:
            for number, reading in enumerate(char_readings(word)):
                if reading in SYLLABLES:
                    add((reading,), word, max(1, freq if number == 0 else freq // 4))
            continue
        if freq < min_freq and len(word) > 4:
            continue  # every word of up to four hanzi is kept: 补领, 随迁, 扶助金 are rare in jieba's corpus
        syllables = reading_of(word)
        if syllables:
            add(syllables, word, freq)
    if progress:
        progress(f"{len(entries)} words and characters from {source.name}")
    # every other character pypinyin knows, rarely used but typeable (names!)
    from pypinyin.pinyin_dict import pinyin_dict

    known_chars = {word for (_s, word) in entries if len(word) == 1}
    for code in pinyin_dict:
        ch = chr(code)
        if ch in known_chars or not is_hanzi(ch):
            continue
        rarest = 1 if "\u3400" <= ch <= "\u4dbf" else 2  # extension A after the basic block
        for reading in char_readings(ch):
            if reading in SYLLABLES:
                add((reading,), ch, rarest)
    for word, tag in load_context_words(context).items():
        for syllables in readings_of(word):
            add(syllables, word, PLACE_FREQ if tag == TAG_PLACE else ADDRESS_FREQ, tag)
    # government-service words: the demo catalogue's names and guides cut into words (ranked up
    # a little among words that read the same: 登记 before 等级, 申领 before 神灵)
    domain = domain_words()
    for (syllables, word), slot in entries.items():
        if slot[1] == TAG_NONE and word in domain:
            slot[1] = TAG_DOMAIN

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.building")
    partial.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(str(partial))
        with db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE words (initials TEXT NOT NULL, pinyin TEXT NOT NULL, word TEXT NOT NULL, "
                       "freq INTEGER NOT NULL, tag INTEGER NOT NULL, PRIMARY KEY (initials, pinyin, word)) "
                       "WITHOUT ROWID")
            db.executemany("INSERT INTO words VALUES (?, ?, ?, ?, ?)",
                           sorted(("".join(s[0] for s in syllables), "'".join(syllables), word, freq, tag)
                                  for (syllables, word), (freq, tag) in entries.items()))
            stat = source.stat()
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("version", LEXICON_VERSION), ("source", str(source)), ("source_size", str(stat.st_size)),
                ("min_freq", str(min_freq)), ("rows", str(len(entries))),
                ("built_seconds", f"{time.perf_counter() - started:.2f}")])
        db.execute("VACUUM")
        db.close()
        os.replace(partial, path)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise LexiconError(f"{path}: cannot write the lexicon ({exc})") from None
    seconds = time.perf_counter() - started
    log.info("pinyin lexicon built", extra={"fields": {"file": str(path), "rows": len(entries),
                                                       "seconds": round(seconds, 2)}})
    return BuildReport(path, len(entries), seconds, path.stat().st_size)


class Lexicon:
    """Read access to a built lexicon; thread-safe; recently used keys kept in memory."""

    CACHE_KEYS = 512

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.is_file():
            raise LexiconError(f"{self.path}: no lexicon yet (kiosk ime build)")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
        except sqlite3.Error as exc:
            raise LexiconError(f"{self.path}: not a usable lexicon ({exc})") from None
        if meta.get("version") != LEXICON_VERSION:
            self._db.close()
            raise LexiconError(f"{self.path}: lexicon version {meta.get('version')!r}, expected {LEXICON_VERSION}")
        self.meta = meta
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[Entry]] = OrderedDict()
        self._extra: dict[str, list[Entry]] = {}
        self._extra_words: set[tuple[str, int]] = set()

    @classmethod
    def open_or_build(cls, cache_dir: Path | str, **build_options) -> "Lexicon":
        path = Path(cache_dir) / LEXICON_FILE
        try:
            return cls(path)
        except LexiconError as exc:
            log.info("building the pinyin lexicon", extra={"fields": {"reason": str(exc)}})
        build_lexicon(path, **build_options)
        return cls(path)

    def add_words(self, words: dict[str, int] | list[str], tag: int = TAG_EXTRA, freq: int = 20000) -> int:
        """Words known only while the kiosk runs (e.g. the catalogue's vocabulary)."""
        added = 0
        items = words.items() if isinstance(words, dict) else ((w, tag) for w in words)
        with self._lock:
            for word, word_tag in items:
                if not word or not all(is_hanzi(ch) for ch in word) or (word, word_tag) in self._extra_words:
                    continue
                self._extra_words.add((word, word_tag))
                for syllables in self._readings_here(word):
                    key = "".join(s[0] for s in syllables)
                    self._extra.setdefault(key, []).append(Entry(syllables, word, freq, word_tag))
                    self._cache.pop(key, None)
                added += 1
        return added

    def _readings_here(self, word: str, limit: int = 8) -> list[tuple[str, ...]]:
        """``readings_of`` without pypinyin (≈55 MB when imported): the reading this lexicon
        already holds for the word (pypinyin's, in context, at build time) first, then every
        combination of its characters' readings, the most common first. Lock held."""
        per_char = [[r for r in char_readings(ch) if r in SYLLABLES] for ch in word]
        if any(not options for options in per_char):
            return []
        combos = list(itertools.islice(itertools.product(*per_char), limit * 4))
        known = set()
        for initials in {"".join(s[0] for s in combo) for combo in combos}:
            known.update(tuple(p.split("'")) for (p,) in self._db.execute(
                "SELECT pinyin FROM words WHERE initials = ? AND word = ?", (initials, word)))
        found = sorted(known, key=lambda c: combos.index(c) if c in combos else len(combos))
        for combo in combos:
            if combo not in found:
                found.append(combo)
            if len(found) >= limit:
                break
        return found

    def entries(self, initials: str) -> list[Entry]:
        """Every entry whose syllables begin with these letters, one letter per syllable."""
        with self._lock:
            cached = self._cache.get(initials)
            if cached is not None:
                self._cache.move_to_end(initials)
                return cached
            rows = self._db.execute("SELECT pinyin, word, freq, tag FROM words WHERE initials = ?",
                                    (initials,)).fetchall()
            found = [Entry(tuple(p.split("'")), w, f, t) for p, w, f, t in rows]
            found.extend(self._extra.get(initials, ()))
            self._cache[initials] = found
            if len(self._cache) > self.CACHE_KEYS:
                self._cache.popitem(last=False)
            return found

    def close(self) -> None:
        with self._lock:
            self._db.close()


def log_freq(freq: int) -> float:
    return math.log(max(1, freq))
