"""Find items by what their guide says: BM25 over every text of an item, with synonyms.

A resident often describes the need in words that the item's name does not use
("小孩刚生下来上户口" for 出生登记). This scorer indexes, per item, the words of its name
(weight 3), keywords, result and the everyday words of the synonyms table linked to it
(2), life events (1.5) and its guide: conditions, materials (name, sample, note),
process steps and fees (1). Texts are cut into words (``WordCutter``) and, inside each
word of three or more hanzi, its two-character pieces, so 户口簿 also answers 户口.

A query is cut the same way, without stopwords; each query word also brings in the
catalogue words the thesaurus relates to it (at half weight). Items are ranked by BM25
(k1 = 1.2, b = 0.5 over the weighted lengths); an item must answer at least a third of the
query's own words (weighted by their rarity; synonyms count towards it). ``SearchIndex`` uses these as "guide"
matches, below every match on names, keywords and the synonyms table.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from kiosk.catalog.items import CatalogItem
from kiosk.catalog.thesaurus import Thesaurus
from kiosk.ime.readings import is_hanzi

K1 = 1.2
B = 0.5
SYNONYM_WEIGHT = 0.5
MIN_SHARE = 0.34  # an item must answer at least this share of the query's weight
COMMON_SHARE = 0.2  # terms found in more than this share of the items (and 50) are not scored

NAME_WEIGHT, KEYWORD_WEIGHT, EVENT_WEIGHT, GUIDE_WEIGHT = 3.0, 2.0, 1.5, 1.0


@dataclass(frozen=True)
class GuideHit:
    item: int
    score: float
    share: float                 # share of the query's words (by weight) the item answers
    words: tuple[str, ...]       # the query words (or their synonyms) found


def guide_texts(item: CatalogItem) -> list[str]:
    """The plain-language texts of an item's guide (conditions, materials, steps, fees)."""
    data = item.data or {}
    texts: list[str] = []
    for key in ("conditions", "process"):
        value = data.get(key)
        if isinstance(value, list):
            texts.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            texts.append(value)
    for material in data.get("materials") or ():
        if isinstance(material, dict):
            texts.extend(str(material.get(k) or "") for k in ("name", "sample", "note"))
        elif isinstance(material, str):
            texts.append(material)
    fees = data.get("fees")
    if isinstance(fees, dict) and isinstance(fees.get("description"), str):
        texts.append(fees["description"])
    return [t for t in texts if t]


def _hanzi_runs(text: str) -> list[str]:
    runs, current = [], []
    for ch in text:
        if is_hanzi(ch):
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


class GuideScorer:
    def __init__(self, items: list[CatalogItem], cut: Callable[[str], list[str]],
                 aliases: dict[int, list[str]] | None = None, stopwords: Iterable[str] = (),
                 thesaurus: Thesaurus | None = None):
        self.cut = cut
        self.stopwords = frozenset(stopwords)
        self.thesaurus = thesaurus or Thesaurus()
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._lengths: list[float] = []
        aliases = aliases or {}
        memo: dict[str, list[str]] = {}  # catalogues repeat texts (居民身份证, 户口簿): cut each once
        for i, item in enumerate(items):
            weights: Counter[str] = Counter()
            fields = [(NAME_WEIGHT, [item.name]),
                      (KEYWORD_WEIGHT, list(item.keywords) + ([item.result] if item.result else [])
                       + aliases.get(i, [])),
                      (EVENT_WEIGHT, list(item.life_events)),
                      (GUIDE_WEIGHT, guide_texts(item))]
            for weight, texts in fields:
                for text in texts:
                    terms = memo.get(text)
                    if terms is None:
                        terms = memo[text] = self.terms(text)
                    for term in terms:
                        weights[term] += weight
            self._lengths.append(float(sum(weights.values())))
            for term, weight in weights.items():
                self._postings.setdefault(term, []).append((i, weight))
        self._count = len(items)
        # a term in most items says nothing and costs the most to score: left out of queries
        self._common = max(50, int(COMMON_SHARE * self._count))
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0

    @property
    def vocabulary(self) -> set[str]:
        return set(self._postings)

    def terms(self, text: str) -> list[str]:
        """Words of two or more hanzi, and the two-character pieces of the longer ones."""
        out = []
        for run in _hanzi_runs(text):
            for word in self.cut(run) if len(run) > 1 else ():
                if len(word) < 2 or word in self.stopwords:
                    continue
                out.append(word)
                if len(word) >= 3:
                    out.extend(word[k:k + 2] for k in range(len(word) - 1))
        return out

    def _idf(self, term: str) -> float:
        n = len(self._postings.get(term, ()))
        return math.log(1 + (self._count - n + 0.5) / (n + 0.5)) if n else 0.0

    def query_words(self, query: str) -> list[str]:
        """The words of a query that are scored: cut, without stopwords."""
        words = [w for run in _hanzi_runs(query) for w in (self.cut(run) if len(run) > 1 else [run])]
        return [w for w in words if w not in self.stopwords]

    def search(self, query: str, limit: int = 10) -> list[GuideHit]:
        """Items for a Chinese query, best first (only those answering enough of it)."""
        query_terms: dict[str, float] = {}
        direct: set[str] = set()
        words = self.query_words(query)
        for word in words:
            pieces = [word] if len(word) >= 2 else []
            if len(word) >= 3:
                pieces += [word[k:k + 2] for k in range(len(word) - 1)]
            for piece in pieces:
                query_terms[piece] = max(query_terms.get(piece, 0.0), 1.0 if piece == word else 0.5)
                direct.add(piece)
            for related in self.thesaurus.expand(word) if len(word) >= 2 else ():
                query_terms[related] = max(query_terms.get(related, 0.0), SYNONYM_WEIGHT)
        if not query_terms:
            return []
        scores: dict[int, float] = {}
        answered: dict[int, dict[str, float]] = {}
        total = 0.0
        for term, q_weight in query_terms.items():
            postings = self._postings.get(term)
            if postings is not None and len(postings) > self._common:
                continue
            idf = self._idf(term)
            if term in direct:
                total += q_weight * idf
            if not postings:
                continue
            for item, tf in postings:
                norm = K1 * (1 - B + B * self._lengths[item] / self._average)
                scores[item] = scores.get(item, 0.0) + q_weight * idf * tf * (K1 + 1) / (tf + norm)
                answered.setdefault(item, {})[term] = q_weight * idf
        if total <= 0:
            return []
        hits = []
        for item, score in scores.items():
            share = min(1.0, sum(answered[item].values()) / total)
            if share >= MIN_SHARE:
                found = tuple(sorted(answered[item], key=lambda t: -answered[item][t]))
                hits.append(GuideHit(item, score, round(share, 3), found))
        hits.sort(key=lambda h: (-h.score, h.item))
        return hits[:limit]
