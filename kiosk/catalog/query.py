"""Turning what a resident typed into something the index can match.

``normalize_query`` folds full-width characters, case and punctuation, and caps the
length (a query of 10,000 characters costs no more than one of 64). ``WordSplitter``
cuts a Chinese query into words (``wordcut.WordCutter``: jieba's dictionary and method,
the dictionary in an SQLite file in the kiosk's cache folder), with the catalogue's own
vocabulary added, so "生二胎" or "个体工商户" stay one word — and drops words that say
nothing about the item ("我想", "怎么办").
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path
from typing import Iterable

from kiosk.catalog.wordcut import WORDS_FILE, WordCutter, default_words_path
from kiosk.ime.readings import is_hanzi

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 64
MAX_VOCABULARY_LEN = 3
_KEEP = re.compile(r"[^0-9a-z'\-\u3400-\u4dbf\u4e00-\u9fff]+")


def normalize_query(text: str) -> str:
    """Lower-case, NFKC, ü→v, punctuation → space, single spaces, at most 64 characters."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text).lower().replace("ü", "v")
    text = _KEEP.sub(" ", text)
    text = re.sub(r"(?<![0-9a-z])[-']+|[-']+(?![0-9a-z])", " ", text)
    return " ".join(text.split())[:MAX_QUERY_CHARS].strip()


def has_hanzi(text: str) -> bool:
    return any(is_hanzi(ch) for ch in text)


_cutters: dict[str, WordCutter] = {}
_cutters_lock = threading.Lock()


def _cutter(cache_dir: Path | None) -> WordCutter:
    """The word cutter over ``cache_dir``'s word dictionary, one per process and folder."""
    path = (cache_dir / WORDS_FILE) if cache_dir is not None else default_words_path()
    with _cutters_lock:
        cutter = _cutters.get(str(path))
        if cutter is None:
            cutter = _cutters[str(path)] = WordCutter(path)
    return cutter


class WordSplitter:
    """Word segmentation for queries; the dictionary is opened (or first built) on first use."""

    def __init__(self, cache_dir: Path | str | None = None, vocabulary: Iterable[str] = (),
                 stopwords: Iterable[str] = ()):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.vocabulary: list[str] = []
        self.stopwords = frozenset(stopwords)
        self._tokenizer = None
        self._lock = threading.Lock()
        self.extend(vocabulary)

    def load(self):
        with self._lock:
            if self._tokenizer is None:
                tokenizer = _cutter(self.cache_dir).load()
                tokenizer.add_words(self.vocabulary, min_freq=1000)
                tokenizer.add_words(w for w in self.stopwords if len(w) >= 2)
                self._tokenizer = tokenizer
        return self._tokenizer

    def extend(self, vocabulary: Iterable[str] = (), stopwords: Iterable[str] = ()) -> None:
        """Add catalogue words (kept whole when cutting) and words to drop."""
        # short words only: the cutter cuts 居民养老保险 into words a name may contain, which the
        # whole keyword would hide
        words = {w for w in vocabulary if 2 <= len(w) <= MAX_VOCABULARY_LEN and all(is_hanzi(c) for c in w)}
        words -= set(self.vocabulary)
        self.stopwords = self.stopwords | frozenset(stopwords)
        with self._lock:
            self.vocabulary = sorted(set(self.vocabulary) | words)
            if self._tokenizer is not None:
                self._tokenizer.add_words(sorted(words), min_freq=1000)

    @property
    def loaded(self) -> bool:
        return self._tokenizer is not None

    def terms(self, query: str) -> list[str]:
        """The meaningful words of a normalized query: Chinese parts cut into words, other
        parts (pinyin, mixed, digits) kept whole, stopwords dropped."""
        terms: list[str] = []
        for part in query.split():
            if has_hanzi(part) and all(is_hanzi(ch) for ch in part) and len(part) >= 3:
                words = [w for w in self.load().cut(part) if w.strip()]
            else:
                words = [part]
            terms.extend(w for w in words if w not in self.stopwords)
        return terms
