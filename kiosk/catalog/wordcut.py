"""Cut Chinese text into words without loading a dictionary into memory.

The same method as jieba's ``cut(HMM=False)``: every dictionary word found in the text is
an edge of a graph over its characters, and the cut is the path with the highest product
of word probabilities (frequency / total); a character no word covers stands alone.
The dictionary is jieba's own (``dict.txt``, 349,046 words with their frequencies, MIT
licence), copied once into an SQLite file (``words.sqlite3`` in the cache folder, 6.3 MB,
built in about a second on first use). A cut asks SQLite for all the substrings of the
text at once, so the kiosk never holds the dictionary: jieba's own tokenizer keeps ≈140 MB
of Python objects for it.

Words added at run time (the catalogue's vocabulary, stopwords) are kept in memory with a
frequency high enough to be cut whole, as jieba's ``add_word`` does.
"""
from __future__ import annotations

import fcntl
import importlib.util
import logging
import math
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

WORDS_FILE = "words.sqlite3"
FORMAT = 1
MAX_WORD = 8  # longer dictionary words are not kept (a query is cut into short words)
_BATCH = 20_000


class WordCutterError(Exception):
    """The word dictionary cannot be built or read."""


def jieba_dictionary() -> Path:
    """jieba's ``dict.txt``, found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.origin:
        raise WordCutterError("jieba is not installed: its dictionary is needed to cut words")
    return Path(spec.origin).resolve().parent / "dict.txt"


def build_words(path: Path, source: Path | None = None) -> int:
    """Write the SQLite word table from jieba's dictionary; returns the number of words."""
    source = source or jieba_dictionary()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".words-", suffix=".sqlite3", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(temp)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        total = count = 0
        batch: dict[str, int] = {}
        with open(source, encoding="utf-8") as lines:
            for line in lines:
                parts = line.split()
                if len(parts) < 2 or not parts[1].isdigit():
                    continue
                freq = int(parts[1])
                total += freq
                if len(parts[0]) <= MAX_WORD:
                    batch[parts[0]] = batch.get(parts[0], 0) + freq
                if len(batch) >= _BATCH:
                    db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", batch.items())
                    count += len(batch)
                    batch = {}
        db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", batch.items())
        count += len(batch)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", str(FORMAT)), ("total", str(total)),
                                                          ("source", str(source))])
        db.commit()
        db.close()
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


def default_words_path() -> Path:
    return Path(tempfile.gettempdir()) / f"heyiban-kiosk-{os.getuid()}" / WORDS_FILE


class WordCutter:
    """Cuts hanzi text into words (``cut``); ``add_word`` keeps a word whole."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_words_path()
        self._db: sqlite3.Connection | None = None
        self._log_total = 0.0
        self._extra: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        db = self._try_open()
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it now
                db = self._try_open()
                if db is None:
                    count = build_words(self.path)
                    log.info("word dictionary built", extra={"fields": {"words": count, "path": str(self.path)}})
                    db = self._try_open()
        if db is None:
            raise WordCutterError(f"{self.path}: the word dictionary cannot be read")
        total = int(db.execute("SELECT value FROM meta WHERE key = 'total'").fetchone()[0])
        self._log_total = math.log(max(total, 1))
        self._db = db
        return db

    def _try_open(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row and row[0] == str(FORMAT):
                return db
            db.close()
        except sqlite3.Error:
            pass
        return None

    def load(self) -> "WordCutter":
        """Open (building first if needed) the dictionary now rather than on the first cut."""
        with self._lock:
            self._open()
        return self

    @property
    def loaded(self) -> bool:
        return self._db is not None

    # -- words ----------------------------------------------------------------------------------
    def _frequencies(self, words: set[str]) -> dict[str, int]:
        found = {w: self._extra[w] for w in words if w in self._extra}
        rest = [w for w in words if w not in found]
        db = self._open()
        for start in range(0, len(rest), 900):
            chunk = rest[start:start + 900]
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT word, freq FROM words WHERE word IN ({marks})", chunk).fetchall())
        return found

    def _best_route(self, text: str, freqs: dict[str, int]) -> tuple[float, list[int]]:
        """Highest log-probability cut of ``text`` and where each word ends."""
        n = len(text)
        score = [0.0] * (n + 1)
        end = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            best, best_end = -math.inf, i + 1
            for j in range(i + 1, min(n, i + MAX_WORD) + 1):
                freq = freqs.get(text[i:j])
                if freq is None and j > i + 1:
                    continue
                value = math.log(freq or 1) - self._log_total + score[j]
                if value > best:
                    best, best_end = value, j
            score[i], end[i] = best, best_end
        return score[0], end

    def cut(self, text: str) -> list[str]:
        """The words of ``text``, in order (every character is in exactly one word)."""
        if not text:
            return []
        pieces = {text[i:j] for i in range(len(text)) for j in range(i + 1, min(len(text), i + MAX_WORD) + 1)}
        with self._lock:
            freqs = self._frequencies(pieces)
            _, end = self._best_route(text, freqs)
        words, i = [], 0
        while i < len(text):
            words.append(text[i:end[i]])
            i = end[i]
        return words

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Keep ``word`` whole from now on (with at least the frequency it needs to win its cut)."""
        if not word or len(word) > MAX_WORD:
            return
        with self._lock:
            if freq is None:
                self._extra.pop(word, None)
                pieces = {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)}
                freqs = self._frequencies(pieces)
                own = freqs.pop(word, 0)
                best, _ = self._best_route(word, freqs)
                freq = max(own, int(math.exp(best + self._log_total)) + 1)
            self._extra[word] = max(freq, self._extra.get(word, 0))

    def add_words(self, words: Iterable[str], min_freq: int = 0) -> None:
        for word in words:
            self.add_word(word)
            if min_freq and self._extra.get(word, 0) < min_freq:
                self._extra[word] = min_freq

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
