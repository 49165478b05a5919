"""One-edit typos in pinyin: the spellings one keystroke away that read as real pinyin.

"shenfenzhen" (a letter missing), "shengfenzheng" (one too many), "shenfwnzheng" (a wrong
key), "shenfnezheng" (two swapped): every deletion, insertion, substitution and
transposition of the typed letters is tried, and only those that split into complete
syllables (the last may be unfinished) are kept. A variant is checked around the edit
only — what lies before and after it was checked once for the whole input — so the
≈700 variants of a 12-letter query cost a few milliseconds.
"""
from __future__ import annotations

from kiosk.ime.syllables import MAX_SYLLABLE, PREFIXES, SYLLABLES

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MIN_LETTERS = 4


def _forward(text: str) -> list[bool]:
    """ok[i]: text[:i] splits into complete syllables."""
    n = len(text)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1):
            piece = text[i:j]
            if piece not in PREFIXES:
                break
            if piece in SYLLABLES:
                ok[j] = True
    return ok


def _backward(text: str) -> list[bool]:
    """ok[j]: text[j:] splits into syllables, the last one possibly unfinished."""
    n = len(text)
    ok = [False] * (n + 1)
    ok[n] = True
    for j in range(n - 1, -1, -1):
        for k in range(j + 1, min(n, j + MAX_SYLLABLE) + 1):
            piece = text[j:k]
            if piece not in PREFIXES:
                break
            if (k == n) or (piece in SYLLABLES and ok[k]):
                ok[j] = True
                break
    return ok


def _bridges(variant: str, start: int, stop: int, tail_ok, shift: int) -> bool:
    """Whether syllables lead from ``start`` in ``variant`` past ``stop`` to a position
    whose remainder (checked in the original via ``tail_ok``) splits too."""
    n = len(variant)
    reach = {start}
    frontier = [start]
    while frontier:
        i = frontier.pop()
        for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1):
            piece = variant[i:j]
            if piece not in PREFIXES:
                break
            if j == n:
                return True  # the last syllable may be unfinished
            if piece in SYLLABLES and j not in reach:
                if j >= stop and tail_ok[j - shift]:
                    return True
                if j < stop + MAX_SYLLABLE:
                    reach.add(j)
                    frontier.append(j)
    return False


def typo_variants(letters: str) -> list[str]:
    """The one-edit variants of ``letters`` (a–z only) that read as pinyin."""
    n = len(letters)
    if n < MIN_LETTERS:
        return []
    head_ok = _forward(letters)
    tail_ok = _backward(letters)
    seen = {letters}
    out: list[str] = []

    def consider(a: int, mid: str, b: int) -> None:
        variant = letters[:a] + mid + letters[b:]
        if variant in seen:
            return
        seen.add(variant)
        stop = a + len(mid)
        shift = len(mid) - (b - a)  # position in variant = position in letters + shift
        for p in range(max(0, a - MAX_SYLLABLE + 1), a + 1):
            if head_ok[p] and _bridges(variant, p, stop, tail_ok, shift):
                out.append(variant)
                return

    for a in range(n + 1):
        # quick necessary test: a syllable boundary shortly before the edit and a
        # splittable remainder shortly after it
        if not any(head_ok[p] for p in range(max(0, a - MAX_SYLLABLE + 1), a + 1)):
            continue
        after = any(tail_ok[r] for r in range(a, min(n, a + MAX_SYLLABLE + 2) + 1))
        if not after:
            continue
        for ch in ALPHABET:
            consider(a, ch, a)  # insertion
        if a < n:
            consider(a, "", a + 1)  # deletion
            for ch in ALPHABET:
                if ch != letters[a]:
                    consider(a, ch, a + 1)  # substitution
            if a + 1 < n and letters[a] != letters[a + 1]:
                consider(a, letters[a + 1] + letters[a], a + 2)  # transposition
    return out
