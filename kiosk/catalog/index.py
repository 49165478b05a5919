"""The catalogue search index: find a service item however a resident types it.

Every text that can lead to an item — its name, its keywords and result, the everyday
words of the synonyms table that point at it, its life events, its department — is kept
once (``_Text``) with, per character, every pinyin reading (``heteronym``) and every
beginning of a reading. Inverted bitsets (one Python int per key: a character, a first
letter, an initial zh/ch/sh, a full syllable) narrow a query down to a few candidate texts
in microseconds; the candidates are then checked exactly.

A query matches a text by
- characters: the text equals it, begins with it, contains it, or it contains the text;
- pinyin: letters and characters in any mix ("shenfenzheng", "shen fen zheng", "sfz",
  "身份zheng"), every reading of a polyphone counting;
- a typo: one edit of the pinyin, one wrong character, or the same sound with other
  characters (身分证).
Chinese queries are also cut into words (jieba's dictionary, ``wordcut``); an item matching every word ranks as its
weakest word, one matching some words ranks as fuzzy, by the share matched.

A Chinese query that finds fewer than ``limit`` items above the synonym rank is also
scored against every text of every item — name, keywords, everyday words, life events and
the guide's conditions, materials, steps and fees — with synonyms from the thesaurus
(``guidetext``).

Ranking, strongest first: exact name > name prefix > word (name contains the query or its
words; keywords next) > pinyin > synonym (everyday words, life events) > guide (by its
BM25 score) > fuzzy; equal ranks by popularity plus local clicks. The guide's best item,
when its texts answer every word of a query of two words or more, ranks first among the
synonym matches (those answer one phrase of the query: 孩子上学 brings the whole life
event 上学). Each result says which part of the name matched.
"""
from __future__ import annotations

import itertools
import logging
import math
import re
import threading
from functools import lru_cache
from dataclasses import dataclass, replace
from typing import Callable, Iterable

from kiosk.catalog.guidetext import GuideScorer
from kiosk.catalog.items import CatalogItem
from kiosk.catalog.query import WordSplitter, has_hanzi, normalize_query
from kiosk.catalog.synonyms import SynonymTable
from kiosk.catalog.thesaurus import Thesaurus
from kiosk.catalog.typos import typo_variants
from kiosk.ime.readings import char_readings, is_hanzi, reading_prefixes
from kiosk.ime.syllables import Token, segmentations

log = logging.getLogger(__name__)

EXACT, PREFIX, WORD, PINYIN, SYNONYM, GUIDE, FUZZY = 7, 6, 5, 4, 3, 2, 1
TIER_NAMES = {EXACT: "exact", PREFIX: "prefix", WORD: "word", PINYIN: "pinyin", SYNONYM: "synonym",
              GUIDE: "guide", FUZZY: "fuzzy"}

NAME, KEYWORD, ALIAS, EVENT, DEPARTMENT, GUIDE_TEXT = 0, 1, 2, 3, 4, 5
FIELD_NAMES = ("name", "keyword", "synonym", "life_event", "department", "guide")

_MAX_SEQUENCES = 8
#: typo and sound-alike matching runs when fewer items than this matched exactly
FUZZY_BELOW = 3
_MAX_REVERSE_LEN = 16
_LETTERS_RUN = re.compile(r"[a-z]+(?:['\s]+[a-z]+)*")


def click_boost(clicks: int) -> float:
    """Popularity points a locally much-used item gains: +8 for the first click, capped at +30."""
    return min(30.0, 8.0 * math.log2(1 + max(0, clicks)))


@dataclass(frozen=True)
class SearchResult:
    item: CatalogItem
    match: str                          # exact | prefix | word | pinyin | synonym | fuzzy
    spans: tuple[tuple[int, int], ...]  # the parts of item.name that matched, [start, end)
    via: str = ""                       # the keyword / everyday word / department that matched
    via_field: str = ""                 # "" when the name itself matched
    rank: float = 0.0

    def to_json(self) -> dict:
        return {"code": self.item.code, "name": self.item.name}


@dataclass
class _Hit:
    tier: int
    field: int
    spans: tuple[tuple[int, int], ...] = ()
    via: str = ""
    coverage: float = 1.0

    def key(self) -> tuple:
        return (self.tier, self.coverage, -self.field, len(self.spans) > 0)


@dataclass(frozen=True)
class _Text:
    """A searchable text without its punctuation ("占用、挖掘" is matched as "占用挖掘")."""

    text: str                        # letters, digits and characters only: what is matched
    shown: str                       # as written (normalized), for "via" and highlighting
    positions: tuple[int, ...]       # where each character of ``text`` is in ``shown``
    readings: tuple[tuple[str, ...], ...]
    prefixes: tuple[frozenset[str], ...]

    def shown_span(self, start: int, end: int) -> tuple[int, int]:
        return self.positions[start], self.positions[end - 1] + 1


@dataclass(frozen=True)
class _Matcher:
    """One query position: a literal character, a syllable, a reading's beginning, or a
    set of syllables (the sounds of a character typed with the wrong character)."""

    kind: str  # "char" | "full" | "prefix" | "sounds"
    value: object
    key: str   # bitset key (or "" for "sounds": several keys)

    def fits(self, text: _Text, k: int) -> bool:
        if self.kind == "char":
            return text.text[k] == self.value
        if self.kind == "full":
            return self.value in text.readings[k]
        if self.kind == "prefix":
            return self.value in text.prefixes[k]
        return not self.value.isdisjoint(text.readings[k])  # type: ignore[union-attr]


@dataclass
class _Link:
    item: int
    field: int
    anchor: str = ""  # for synonyms: the official word found in the item's name


class SearchIndex:
    def __init__(self, items: Iterable[CatalogItem], synonyms: SynonymTable | None = None,
                 splitter: WordSplitter | None = None,
                 clicks: Callable[[], dict[str, int]] | None = None):
        self.items: list[CatalogItem] = list(items)
        self.synonyms = synonyms or SynonymTable()
        self._clicks = clicks or (lambda: {})
        self._texts: list[_Text] = []
        self._text_ids: dict[str, int] = {}
        self._links: list[list[_Link]] = []
        self._link_keys: list[set[tuple[int, int]]] = []
        self._postings: dict[str, list[int]] = {}
        self._bits: dict[str, int] = {}
        self._names: list[str] = []
        self._codes = {item.code.lower(): i for i, item in enumerate(self.items)}
        self._aliases: dict[int, list[str]] = {}
        self._guide: GuideScorer | None = None
        self._guide_lock = threading.Lock()
        self._build()
        vocabulary = [w for item in self.items for w in item.keywords + item.life_events]
        vocabulary += [w for group in self.synonyms.groups for w in group.everyday + group.official]
        self.splitter = splitter or WordSplitter()
        self.splitter.extend(vocabulary, self.synonyms.stopwords)

    # ------------------------------------------------------------------ building
    def _add_text(self, text: str, link: _Link) -> None:
        shown = normalize_text(text)
        positions = [i for i, ch in enumerate(shown) if _searchable(ch)]
        text = "".join(shown[i] for i in positions)
        if not text:
            return
        text_id = self._text_ids.get(text)
        if text_id is None:
            text_id = len(self._texts)
            self._text_ids[text] = text_id
            self._texts.append(_Text(text, shown, tuple(positions), tuple(char_readings(ch) for ch in text),
                                     tuple(reading_prefixes(ch) for ch in text)))
            self._links.append([])
            self._link_keys.append(set())
            keys: set[str] = set()
            for ch in text:
                keys.add("c" + ch)
                for reading in char_readings(ch):
                    keys.add("s" + reading)
                    keys.add("f" + reading[0])
                    if reading[:2] in ("zh", "ch", "sh"):
                        keys.add("i" + reading[:2])
            for key in keys:
                self._postings.setdefault(key, []).append(text_id)
        seen = self._link_keys[text_id]
        if (link.item, link.field) not in seen:
            seen.add((link.item, link.field))
            self._links[text_id].append(link)

    def _build(self) -> None:
        for i, item in enumerate(self.items):
            name = normalize_text(item.name)
            self._names.append(name if len(name) == len(item.name) else "")
            self._add_text(item.name, _Link(i, NAME))
            for keyword in item.keywords + ((item.result,) if item.result else ()):
                self._add_text(keyword, _Link(i, KEYWORD))
        self._freeze()
        by_event: dict[str, list[int]] = {}
        for i, item in enumerate(self.items):
            for event in item.life_events:
                by_event.setdefault(normalize_text(event), []).append(i)
        for group in self.synonyms.groups:
            linked: dict[int, str] = {}
            for word in group.official:
                for text_id in self._literal_candidates(word):
                    if word not in self._texts[text_id].text:
                        continue
                    for link in self._links[text_id]:
                        if link.field in (NAME, KEYWORD):
                            anchor = word if word in self._names[link.item] else ""
                            if not linked.get(link.item):
                                linked[link.item] = anchor
            for event in group.events:
                for i in by_event.get(event, ()):
                    linked.setdefault(i, "")
            for i, anchor in linked.items():
                self._aliases.setdefault(i, []).extend(group.everyday)
                for phrase in group.everyday:
                    self._add_text(phrase, _Link(i, ALIAS, anchor))
        for i, item in enumerate(self.items):
            for event in item.life_events:
                self._add_text(event, _Link(i, EVENT))
            if item.department:
                self._add_text(item.department, _Link(i, DEPARTMENT))
        self._freeze()

    def guide_scorer(self) -> GuideScorer:
        """The guide-text scorer, built on first use (it cuts every guide text into words)."""
        with self._guide_lock:
            if self._guide is None:
                cutter = self.splitter.load()
                scorer = GuideScorer(self.items, cutter.cut, self._aliases, self.synonyms.stopwords)
                scorer.thesaurus = Thesaurus.for_vocabulary(scorer.vocabulary, self.splitter.cache_dir)
                self._guide = scorer
            return self._guide

    def _freeze(self) -> None:
        size = (len(self._texts) + 8) // 8
        for key, ids in self._postings.items():
            buffer = bytearray(size)
            for text_id in ids:
                buffer[text_id >> 3] |= 1 << (text_id & 7)
            self._bits[key] = int.from_bytes(buffer, "little")

    @property
    def text_count(self) -> int:
        return len(self._texts)

    # ------------------------------------------------------------------ candidates
    @staticmethod
    def _ids(bits: int) -> list[int]:
        if not bits:
            return []
        flags = format(bits, "b")[::-1]
        out = []
        i = flags.find("1")
        while i >= 0:
            out.append(i)
            i = flags.find("1", i + 1)
        return out

    def _literal_candidates(self, text: str) -> list[int]:
        bits = -1
        for ch in set(text):
            if ch == " ":
                continue
            bits &= self._bits.get("c" + ch, 0)
            if not bits:
                return []
        return self._ids(bits) if bits != -1 else []

    def _matcher_bits(self, matcher: _Matcher) -> int:
        if matcher.kind == "sounds":
            bits = 0
            for syllable in matcher.value:  # type: ignore[union-attr]
                bits |= self._bits.get("s" + syllable, 0)
            return bits
        return self._bits.get(matcher.key, 0)

    def _sequence_candidates(self, matchers: list[_Matcher]) -> list[int]:
        bits = -1
        for matcher in matchers:
            bits &= self._matcher_bits(matcher)
            if not bits:
                return []
        return self._ids(bits)

    @staticmethod
    def _walk(text: _Text, matchers: list[_Matcher]) -> int:
        """Where the matchers fit consecutive characters of the text, or -1."""
        m = len(matchers)
        first = matchers[0]
        for start in range(len(text.text) - m + 1):
            if not first.fits(text, start):
                continue
            if all(matchers[k].fits(text, start + k) for k in range(1, m)):
                return start
        return -1

    # ------------------------------------------------------------------ matching one term
    def _record(self, hits: dict[int, _Hit], text_id: int, tier_for_name: int, tier_for_other: int,
                span: tuple[int, int] | None, fuzzy: bool = False, coverage: float = 1.0) -> None:
        entry = self._texts[text_id]
        text = entry.shown
        if span is not None:
            span = entry.shown_span(*span)
        for link in self._links[text_id]:
            if link.field == NAME:
                tier = tier_for_name
                old = hits.get(link.item)
                if old is not None and (old.tier, old.coverage, -old.field) > (tier, coverage, -NAME):
                    if span and not old.spans:
                        old.spans = (span,)
                    continue  # already better (the common case for a word in many names)
                spans = (span,) if span else ()
                via = ""
            else:
                tier = tier_for_other if link.field == KEYWORD else (FUZZY if fuzzy else SYNONYM)
                if link.field == DEPARTMENT:
                    tier = FUZZY
                via = text
                spans = ()
                if link.field == ALIAS and link.anchor:
                    start = self._names[link.item].find(link.anchor)
                    if start >= 0:
                        spans = ((start, start + len(link.anchor)),)
                elif link.field == KEYWORD:
                    start = self._names[link.item].find(text)
                    if start >= 0:  # the keyword is part of the name: mark the matched piece
                        offset = span or (0, len(text))
                        spans = ((start + offset[0], start + offset[1]),)
            hit = _Hit(tier, link.field, spans, via, coverage)
            old = hits.get(link.item)
            if old is None or hit.key() > old.key():
                if old is not None and old.spans and not hit.spans:
                    hit.spans = old.spans  # found by a keyword, but show where the name matched too
                hits[link.item] = hit
            elif spans and not old.spans:
                old.spans = spans

    def _match_literal(self, term: str, hits: dict[int, _Hit]) -> None:
        compact = term.replace(" ", "")
        code = self._codes.get(compact)
        if code is not None:
            name = self._names[code]
            hits[code] = _Hit(EXACT, NAME, ((0, len(name)),) if name else ())
        if " " not in term:
            for text_id in self._literal_candidates(term):
                text = self._texts[text_id].text
                start = text.find(term)
                if start < 0:
                    continue
                if text == term:
                    tier = EXACT
                elif start == 0:
                    tier = PREFIX
                else:
                    tier = WORD
                self._record(hits, text_id, tier, WORD, (start, start + len(term)))
        # the query contains a whole text: "我想开店" contains the everyday word "开店"
        if has_hanzi(compact):
            n = len(compact)
            for length in range(min(n - 1, _MAX_REVERSE_LEN), 1, -1):
                for start in range(0, n - length + 1):
                    text_id = self._text_ids.get(compact[start:start + length])
                    if text_id is not None:
                        # a text inside a longer query says less than one matching it whole
                        self._record(hits, text_id, WORD, WORD, (0, length), coverage=round(length / n, 2))

    def _sequences(self, term: str) -> list[tuple[list[_Matcher], int]]:
        """Matcher sequences for a query of letters and characters, with their count of
        abbreviations; [] when the query has no letters or has other characters."""
        if not any("a" <= ch <= "z" for ch in term):
            return []
        parts: list[list[list[_Matcher]]] = []
        pos = 0
        while pos < len(term):
            ch = term[pos]
            if ch == " " or ch == "'":
                pos += 1
                continue
            if is_hanzi(ch):
                parts.append([[_Matcher("char", ch, "c" + ch)]])
                pos += 1
                continue
            run = _LETTERS_RUN.match(term, pos)
            if not run:
                return []
            splits = segmentations(run.group(0), limit=4)
            if not splits:
                return []
            parts.append([[_token_matcher(t) for t in split] for split in splits])
            pos = run.end()
        sequences = []
        for combo in itertools.islice(itertools.product(*parts), _MAX_SEQUENCES * 4):
            matchers = [m for part in combo for m in part]
            abbreviations = sum(1 for m in matchers if m.kind == "prefix" and len(m.value) <= 2)
            sequences.append((matchers, abbreviations))
        sequences.sort(key=lambda s: (s[1], len(s[0])))
        return sequences[:_MAX_SEQUENCES]

    def _match_pinyin(self, term: str, hits: dict[int, _Hit]) -> None:
        for matchers, _abbr in self._sequences(term):
            self._match_sequence(matchers, hits, PINYIN, PINYIN)

    def _match_sequence(self, matchers: list[_Matcher], hits: dict[int, _Hit], tier_name: int,
                        tier_other: int, fuzzy: bool = False) -> None:
        for text_id in self._sequence_candidates(matchers):
            start = self._walk(self._texts[text_id], matchers)
            if start >= 0:
                self._record(hits, text_id, tier_name, tier_other, (start, start + len(matchers)), fuzzy)

    def _match_fuzzy(self, term: str, hits: dict[int, _Hit]) -> None:
        letters = term.replace(" ", "").replace("'", "")
        if letters.isascii() and letters.isalpha():
            for variant in typo_variants(letters):
                for split in segmentations(variant, limit=2, allow_abbr=False):
                    self._match_sequence([_token_matcher(t) for t in split], hits, FUZZY, FUZZY, fuzzy=True)
            return
        if not (has_hanzi(letters) and all(is_hanzi(ch) for ch in letters)):
            return
        # the same sounds written with other characters (身分证 for 身份证)
        if len(letters) >= 2:
            sounds = [_Matcher("sounds", frozenset(char_readings(ch)), "") for ch in letters]
            if all(m.value for m in sounds):
                self._match_sequence(sounds, hits, FUZZY, FUZZY, fuzzy=True)
        # one wrong character (营业执造 for 营业执照)
        n = len(letters)
        if n >= 3:
            candidates: set[int] = set()
            for skip in range(n):
                candidates.update(self._literal_candidates(letters[:skip] + letters[skip + 1:]))
            for text_id in candidates:
                text = self._texts[text_id].text
                for start in range(len(text) - n + 1):
                    if sum(1 for k in range(n) if text[start + k] != letters[k]) <= 1:
                        self._record(hits, text_id, FUZZY, FUZZY, (start, start + n), fuzzy=True)
                        break

    def _match_term(self, term: str, limit: int) -> dict[int, _Hit]:
        hits: dict[int, _Hit] = {}
        self._match_literal(term, hits)
        self._match_pinyin(term, hits)
        if sum(1 for h in hits.values() if h.tier > FUZZY) < min(limit, FUZZY_BELOW):
            self._match_fuzzy(term, hits)
        return hits

    # ------------------------------------------------------------------ searching
    def search(self, query: str, limit: int = 10,
               clicks: dict[str, int] | None = None) -> list[SearchResult]:
        """The best ``limit`` items for ``query``; [] for an empty or meaningless query.
        ``clicks`` (item code → count) overrides the index's own click source."""
        q = normalize_query(query)
        if not q or limit <= 0:
            return []
        hits = self._match_term(q, limit)
        spaced_pinyin = not has_hanzi(q) and any(h.tier > FUZZY for h in hits.values())
        if not spaced_pinyin and (" " in q or (has_hanzi(q) and len(q) >= 3)):
            # "shen fen zheng" is one phrase; "补领身份证" and "身份证 补领" are two words
            terms = [t for t in dict.fromkeys(self.splitter.terms(q)) if t]
            if terms and terms != [q]:
                self._combine_terms(terms, hits, limit)
        if has_hanzi(q) and len(q.replace(" ", "")) >= 2 and sum(1 for h in hits.values() if h.tier > SYNONYM) < limit:
            self._match_guide(q, hits, limit)
        return self._rank(hits, limit, clicks)

    def _match_guide(self, query: str, hits: dict[int, _Hit], limit: int) -> None:
        found = self.guide_scorer().search(query, limit)
        if not found:
            return
        best = found[0].score
        words = set(self.guide_scorer().query_words(query))
        for hit in found:
            old = hits.get(hit.item)
            # the best guide hit that answers every word of a query of several words ranks with
            # (and first among) the synonyms table's matches, which answer only a phrase of it
            whole = hit is found[0] and len(words) >= 2 and words <= set(hit.words)
            if whole and old is not None and old.tier == SYNONYM:
                hits[hit.item] = replace(old, coverage=1.01)  # found both ways: first among synonyms
                continue
            if old is not None and old.tier >= (SYNONYM if whole else GUIDE):
                continue
            if whole:
                hits[hit.item] = _Hit(SYNONYM, GUIDE_TEXT, old.spans if old else (), " ".join(hit.words[:3]), 1.01)
            else:
                hits[hit.item] = _Hit(GUIDE, GUIDE_TEXT, old.spans if old else (), " ".join(hit.words[:3]),
                                      round(hit.score / best, 2))

    def _combine_terms(self, terms: list[str], hits: dict[int, _Hit], limit: int) -> None:
        per_term = [self._match_term(term, limit) for term in terms]
        weights = [len(term) for term in terms]
        total = float(sum(weights))
        found: set[int] = set(per_term[0]).intersection(*per_term[1:])
        if len(found) < limit:  # partial matches only when the full ones are too few
            found = set().union(*(h.keys() for h in per_term))
        for item in found:
            matched = [h[item] for h in per_term if item in h]
            coverage = sum(w for w, h in zip(weights, per_term) if item in h) / total
            spans = tuple(sorted({s for h in matched for s in h.spans}))
            if len(matched) == len(terms):
                weakest = min(matched, key=lambda h: (h.tier, -h.field))
                hit = _Hit(min(weakest.tier, WORD), weakest.field, spans,
                           next((h.via for h in matched if h.via), ""))
            else:
                if coverage < 0.5:
                    continue
                hit = _Hit(FUZZY, max(h.field for h in matched), spans,
                           next((h.via for h in matched if h.via), ""), coverage)
            old = hits.get(item)
            if old is None or hit.key() > old.key():
                hits[item] = hit

    def _rank(self, hits: dict[int, _Hit], limit: int, clicks: dict[str, int] | None) -> list[SearchResult]:
        if clicks is None:
            clicks = self._clicks() if hits else {}
        ranked = []
        for i, hit in hits.items():
            item = self.items[i]
            popularity = item.popularity + click_boost(clicks.get(item.code, 0))
            ranked.append(((-hit.tier, -round(hit.coverage, 2), hit.field, -popularity, len(item.name), item.code),
                           i, hit, popularity))
        ranked.sort(key=lambda r: r[0])
        return [SearchResult(self.items[i], TIER_NAMES[hit.tier], _merge(hit.spans) if self._names[i] else (),
                             hit.via, FIELD_NAMES[hit.field] if hit.field != NAME else "",
                             hit.tier * 1000 + popularity)
                for _key, i, hit, popularity in ranked[:limit]]


def _searchable(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("0" <= ch <= "9") or is_hanzi(ch)


def normalize_text(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).strip().lower().replace("ü", "v")


@lru_cache(maxsize=8192)
def _token_matcher(token: Token) -> _Matcher:
    text = token.text
    if token.kind == "full":
        return _Matcher("full", text, "s" + text)
    key = "i" + text[:2] if text[:2] in ("zh", "ch", "sh") else "f" + text[0]
    return _Matcher("prefix", text, key)


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)
