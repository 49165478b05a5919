"""The everyday-words table: what residents say → words in official item names.

Kept as data in ``assets/catalog/synonyms.toml``, so that staff can add "盖房子 →
宅基地" without programming::

    stopwords = ["我要", "怎么办", …]      # words that say nothing about the item

    [[synonym]]
    everyday = ["盖房子", "建房"]          # what a resident types
    official = ["宅基地", "建房"]          # found in item names, keywords or results
    events = ["住房"]                      # optional: items of these life events too

An item whose name, keywords or result contains an ``official`` word (or which is tagged
with one of ``events``) answers to every ``everyday`` word of the group, at the
"synonym" rank.
"""
from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SYNONYMS_PATH = Path(__file__).resolve().parent.parent.parent / "assets" / "catalog" / "synonyms.toml"


class SynonymError(Exception):
    """A synonyms file that cannot be used, with a message for whoever edits it."""


@dataclass(frozen=True)
class SynonymGroup:
    everyday: tuple[str, ...]
    official: tuple[str, ...]
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class SynonymTable:
    groups: tuple[SynonymGroup, ...] = ()
    stopwords: frozenset[str] = frozenset()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _words(value, where: str, key: str, required: bool) -> tuple[str, ...]:
    if value is None:
        if required:
            raise SynonymError(f"{where}: \"{key}\" is missing; expected a list of words")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SynonymError(f"{where}: \"{key}\" must be a list of words in quotes")
    words = tuple(dict.fromkeys(w for w in (_norm(v) for v in value) if w))
    if required and not words:
        raise SynonymError(f"{where}: \"{key}\" is empty")
    return words


def parse_synonyms(text: str, source: str = "<synonyms>") -> SynonymTable:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SynonymError(f"{source}: TOML syntax error: {exc}") from None
    unknown = set(data) - {"stopwords", "synonym"}
    if unknown:
        raise SynonymError(f"{source}: unknown key {sorted(unknown)[0]!r}; expected \"stopwords\" and [[synonym]] groups")
    stopwords = frozenset(_words(data.get("stopwords"), source, "stopwords", required=False))
    groups = data.get("synonym", [])
    if not isinstance(groups, list):
        raise SynonymError(f"{source}: \"synonym\" must be written as [[synonym]] groups")
    parsed = []
    for number, group in enumerate(groups, start=1):
        where = f"{source}: synonym group {number}"
        if not isinstance(group, dict):
            raise SynonymError(f"{where}: not a table")
        extra = set(group) - {"everyday", "official", "events"}
        if extra:
            raise SynonymError(f"{where}: unknown key {sorted(extra)[0]!r}; expected everyday, official, events")
        everyday = _words(group.get("everyday"), where, "everyday", required=True)
        official = _words(group.get("official"), where, "official", required=False)
        events = _words(group.get("events"), where, "events", required=False)
        if not official and not events:
            raise SynonymError(f"{where}: give \"official\" words or \"events\" for {everyday[0]!r}")
        parsed.append(SynonymGroup(everyday, official, events))
    return SynonymTable(tuple(parsed), stopwords)


def load_synonyms(path: Path | str = DEFAULT_SYNONYMS_PATH) -> SynonymTable:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SynonymError(f"{path}: the synonyms file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymError(f"{path}: cannot be read ({exc})") from None
    return parse_synonyms(text, str(path))
