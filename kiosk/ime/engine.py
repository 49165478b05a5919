"""The pinyin input method: typed letters → ranked candidates, and the composition state.

``ImeEngine.candidates("zhengming")`` gives 证明 first; "zm" gives the common words with
those initials (怎么, 这么, 证明 …); "wangxiuying" gives a whole-phrase guess assembled from
words (王秀英) and then shorter choices that take only the first syllables (王, 网 …).
Candidates are ranked by frequency; in an address field Hekou's place names and address
words are ranked far up, elsewhere place names a little (see ``assets/ime/context_words.toml``).
The kiosk never learns from what residents type: the next resident must not see a
previous resident's name among the candidates.

``Composer`` is what the keyboard drives: letters in, a page of candidates out, a choice
commits text (or, when it covers only the first syllables, keeps composing the rest).
"""
from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable

from kiosk.ime.lexicon import TAG_ADDRESS, TAG_DOMAIN, TAG_EXTRA, TAG_PLACE, Entry, Lexicon
from kiosk.ime.syllables import SYLLABLES, Token, segmentations

MAX_LETTERS = 48
MAX_CANDIDATES = 300
CONTEXTS = ("general", "address", "name", "search")

# score multipliers by context and tag (address words / place names / catalogue words)
_BOOSTS = {
    "general": {TAG_PLACE: 3.0, TAG_DOMAIN: 6.0},
    "name": {},
    "address": {TAG_ADDRESS: 40.0, TAG_PLACE: 200.0},
    "search": {TAG_PLACE: 3.0, TAG_EXTRA: 30.0, TAG_DOMAIN: 6.0},
}
_PREFIX_ONLY = 0.02   # "ta" reaching tang: far below 他/她/它
_ABBREVIATED = 0.5    # a word matched through an initial ("zm" → 证明)
_LOG_CORPUS = 18.0
_MIN_SENTENCE_SCORE = 5.0
_SINGLE = 4.0         # extra cost of a one-character word inside a composed phrase


@dataclass(frozen=True)
class Candidate:
    text: str
    consumed: int        # how many typed characters (letters and ') the candidate stands for
    pinyin: str = ""
    score: float = 0.0


class ImeEngine:
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self._memo: OrderedDict[tuple[str, str], list[Candidate]] = OrderedDict()
        self._span_memo: OrderedDict[tuple, list[tuple[float, Entry]]] = OrderedDict()

    def warm_up(self) -> None:
        """Load the single-letter keys (the largest) so that the first keys typed are quick."""
        for letter in "abcdefghjklmnopqrstwxyz":
            self.lexicon.entries(letter)

    # -- matching --------------------------------------------------------------------------
    def _score(self, entry: Entry, tokens: tuple[Token, ...], context: str) -> float:
        score = float(entry.freq) * _BOOSTS.get(context, {}).get(entry.tag, 1.0)
        last = tokens[-1]
        if last.kind == "partial" and last.text in SYLLABLES and entry.syllables[-1] != last.text:
            score *= _PREFIX_ONLY
        if any(t.kind == "abbr" for t in tokens):
            score *= _ABBREVIATED
        return score

    def _matches(self, tokens: tuple[Token, ...], context: str) -> list[tuple[float, Entry]]:
        key = (tuple((t.text, t.kind) for t in tokens), context)
        memo = self._span_memo.get(key)
        if memo is not None:
            self._span_memo.move_to_end(key)
            return memo
        initials = "".join(t.text[0] for t in tokens)
        found = []
        for entry in self.lexicon.entries(initials):
            if all(t.matches(s) for t, s in zip(tokens, entry.syllables)):
                found.append((self._score(entry, tokens, context), entry))
        found.sort(key=lambda f: (-f[0], f[1].word))
        self._span_memo[key] = found
        if len(self._span_memo) > 2048:
            self._span_memo.popitem(last=False)
        return found

    def _sentence(self, tokens: tuple[Token, ...], context: str) -> list[tuple[str, int]] | None:
        """The likeliest way to cover every token with words (Viterbi over word spans), as
        (word, number of tokens) pairs; None when one word covers them all best."""
        n = len(tokens)
        best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for i in range(n):
            if best[i] is None:
                continue
            for j in range(i + 1, min(n, i + 6) + 1):
                matches = self._matches(tokens[i:j], context)
                if not matches or matches[0][0] < _MIN_SENTENCE_SCORE:
                    continue  # no guess built from characters nobody uses
                score, entry = matches[0]
                # unigram log-probability: log f - log N (N ≈ 6e7 words in jieba's corpus); a lone
                # character costs more, so that 身份+证明 beats 身份证+名
                value = best[i][0] + math.log(max(score, 1.0)) - _LOG_CORPUS - (_SINGLE if j - i == 1 else 0.0)
                if best[j] is None or value > best[j][0]:
                    best[j] = (value, best[i][1] + [(entry.word, j - i)])
        if best[n] is None or len(best[n][1]) < 2:
            return None
        return best[n][1]

    # -- candidates ------------------------------------------------------------------------
    def candidates(self, letters: str, context: str = "general") -> list[Candidate]:
        """Ranked candidates for the typed ``letters`` (a–z and '); [] when not pinyin."""
        letters = letters.lower()[:MAX_LETTERS]
        key = (letters, context)
        memo = self._memo.get(key)
        if memo is not None:
            return memo
        splits = segmentations(letters, limit=4)
        out: list[Candidate] = []
        if splits:
            best_cost = _cost(splits[0])
            chosen = [s for s in splits if _cost(s) == best_cost][:2]
            out = self._build(letters, chosen, context)
        self._memo[key] = out
        if len(self._memo) > 256:
            self._memo.popitem(last=False)
        return out

    def _build(self, letters: str, splits: list[tuple[Token, ...]], context: str) -> list[Candidate]:
        seen: set[str] = set()
        out: list[Candidate] = []

        def push(text: str, consumed: int, pinyin: str, score: float) -> None:
            if text not in seen and len(out) < MAX_CANDIDATES:
                seen.add(text)
                out.append(Candidate(text, consumed, pinyin, score))

        full: list[tuple[float, Entry]] = []
        for tokens in splits:
            full.extend(self._matches(tokens, context))
        full.sort(key=lambda f: -f[0])
        tokens = splits[0]
        sentence = self._sentence(tokens, context) if len(tokens) >= 2 else None
        total = len(letters)
        # every lexicon word that covers all the letters typed comes before a phrase composed
        # from parts (身份证明 before 身份证名); words reached only as a prefix (ta → tang) after it
        whole = [(score, entry) for score, entry in full if _covers(entry, tokens)]
        for score, entry in whole:
            push(entry.word, total, "'".join(entry.syllables), score)
        if sentence:
            push("".join(word for word, _n in sentence), total, "", 0.0)
        for score, entry in full:
            push(entry.word, total, "'".join(entry.syllables), score)
        if sentence:
            # the guess's first words, longest first: 王秀英 of 王秀英街道
            ends = list(itertools.accumulate(n for _word, n in sentence))[:-1]
            for count in range(len(ends), 0, -1):
                consumed = tokens[ends[count - 1] - 1].end
                while consumed < total and letters[consumed] in "' ":
                    consumed += 1
                push("".join(word for word, _n in sentence[:count]), consumed, "", 0.0)
        # then words for the first syllables only; the rest stays to be typed
        for k in range(len(tokens) - 1, 0, -1):
            head = tokens[:k]
            consumed = head[-1].end
            while consumed < total and letters[consumed] in "' ":
                consumed += 1
            for score, entry in self._matches(head, context):
                push(entry.word, consumed, "'".join(entry.syllables), score)
        return out


def _covers(entry: Entry, tokens: tuple[Token, ...]) -> bool:
    """The entry's syllables are the typed ones, the last one complete (not a longer syllable)."""
    last = tokens[-1]
    return len(entry.syllables) == len(tokens) and not (
        last.kind == "partial" and last.text in SYLLABLES and entry.syllables[-1] != last.text)


def _cost(tokens: tuple[Token, ...]) -> tuple[int, int]:
    return (sum(1 for t in tokens if t.kind == "abbr"), len(tokens))


@dataclass
class Composer:
    """One composition on the keyboard: typed letters, chosen words, the page shown."""

    engine: ImeEngine | None
    page_size: int = 8
    context: str = "general"
    letters: str = ""
    page: int = 0
    chosen: list[tuple[str, str]] = field(default_factory=list)  # (text, the letters it took)

    @property
    def active(self) -> bool:
        return bool(self.letters or self.chosen)

    @property
    def preedit(self) -> str:
        """What the candidate bar shows as being composed: chosen words then letters."""
        return "".join(text for text, _ in self.chosen) + self.letters

    def candidates(self) -> list[Candidate]:
        if not self.letters or self.engine is None:
            return []
        return self.engine.candidates(self.letters, self.context)

    def page_candidates(self) -> list[Candidate]:
        start = self.page * self.page_size
        return self.candidates()[start:start + self.page_size]

    @property
    def has_next_page(self) -> bool:
        return (self.page + 1) * self.page_size < len(self.candidates())

    @property
    def has_previous_page(self) -> bool:
        return self.page > 0

    def next_page(self) -> None:
        if self.has_next_page:
            self.page += 1

    def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1

    def type(self, letter: str) -> None:
        letter = letter.lower()
        if len(self.letters) >= MAX_LETTERS or not (("a" <= letter <= "z") or letter == "'"):
            return
        if letter == "'" and (not self.letters or self.letters.endswith("'")):
            return
        self.letters += letter
        self.page = 0

    def backspace(self) -> bool:
        """Remove the last letter (or undo the last choice); False when nothing is composed."""
        self.page = 0
        if self.letters:
            self.letters = self.letters[:-1]
            return True
        if self.chosen:
            _text, letters = self.chosen.pop()
            self.letters = letters
            return True
        return False

    def choose(self, index_on_page: int) -> str:
        """Pick a candidate of the current page; returns the text to commit ("" while the
        rest of the letters are still being composed)."""
        page = self.page_candidates()
        if not 0 <= index_on_page < len(page):
            return ""
        candidate = page[index_on_page]
        taken, self.letters = self.letters[:candidate.consumed], self.letters[candidate.consumed:].lstrip("'")
        self.chosen.append((candidate.text, taken))
        self.page = 0
        if self.letters and self.candidates():
            return ""
        text = "".join(t for t, _ in self.chosen) + self.letters
        self.reset()
        return text

    def commit_first(self) -> str:
        """Space / 确定 while composing: the first candidate, or the letters if none."""
        if self.letters and self.candidates():
            self.page = 0
            text = self.choose(0)
            while not text and self.letters and self.candidates():
                text = self.choose(0)
            return text or self.commit_raw()
        return self.commit_raw()

    def commit_raw(self) -> str:
        text = "".join(t for t, _ in self.chosen) + self.letters.replace("'", "")
        self.reset()
        return text

    def reset(self) -> None:
        self.letters = ""
        self.page = 0
        self.chosen = []


def type_text(composer: Composer, letters: Iterable[str]) -> None:
    for letter in letters:
        composer.type(letter)
