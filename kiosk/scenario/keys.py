"""The notation of a ``type`` step: which keys of the on-screen keyboard to press.

Each character is the key that shows that character on the keyboard's current page
(``a`` … ``z``, digits and ``X`` on the 123 page, ``，。？`` on the symbols page, capitals on
the English page after ``{shift}``). A space is the space key, ``'`` the pinyin separator.
Special keys are written in braces:

``{back}`` backspace · ``{enter}`` the enter key (搜索/确定; while composing it takes the first
candidate) · ``{space}`` · ``{shift}`` · ``{hide}`` (收起) · ``{1}`` … ``{9}`` the N-th
candidate on the candidate bar · ``{next}`` / ``{prev}`` the candidate bar's ▶ / ◀ ·
``{pinyin}``, ``{english}``, ``{digits}`` (or ``{123}``), ``{symbols}``, ``{letters}``: switch
to that page with the page key shown (nothing is pressed when the page already shows).
Any special key may repeat: ``{back*3}``.

The keyboard has no brace keys, so a brace always starts a special key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PAGES = ("pinyin", "english", "digits", "symbols", "letters")
SIMPLE = ("back", "enter", "space", "shift", "hide", "next", "prev")
ALIASES = {"backspace": "back", "123": "digits", "abc": "letters", "return": "enter"}
MAX_REPEAT = 50


class KeyNotationError(ValueError):
    """A ``type`` text that does not name keys; the message says what is wrong."""


@dataclass(frozen=True)
class Key:
    action: str     # "char" | "sep" | "candidate" | "page" | one of SIMPLE
    value: str = ""  # the character, the candidate number (as text) or the page

    def written(self) -> str:
        """How the notation writes this key (for messages)."""
        if self.action == "char":
            return self.value
        if self.action == "sep":
            return "'"
        if self.action in ("candidate", "page"):
            return "{" + self.value + "}"
        return "{" + self.action + "}"


_SPECIAL = re.compile(r"\{([^{}]*)\}")


def parse_keys(text: str) -> tuple[Key, ...]:
    """``"gaoling{1}{enter}"`` → the keys to press, in order. Raises ``KeyNotationError``."""
    keys: list[Key] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "{":
            match = _SPECIAL.match(text, position)
            if match is None:
                raise KeyNotationError(f"a brace opened at character {position + 1} is not closed "
                                       "(special keys are written like {enter})")
            keys.extend(_special(match.group(1)))
            position = match.end()
            continue
        if char == "}":
            raise KeyNotationError(f"a closing brace at character {position + 1} has no opening brace")
        if char in "\n\r\t":
            raise KeyNotationError("line breaks and tabs are not keys; write {enter} for the enter key")
        if char == " ":
            keys.append(Key("space"))
        elif char == "'":
            keys.append(Key("sep"))
        else:
            keys.append(Key("char", char))
        position += 1
    if not keys:
        raise KeyNotationError("no keys to press")
    return tuple(keys)


def _special(body: str) -> list[Key]:
    name, _, count = body.strip().partition("*")
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    repeat = 1
    if count:
        if not count.strip().isdigit() or not 1 <= int(count) <= MAX_REPEAT:
            raise KeyNotationError(f"{{{body}}}: the repeat count after * must be a whole number from 1 to "
                                   f"{MAX_REPEAT}")
        repeat = int(count)
    if name in SIMPLE:
        key = Key(name)
    elif name in PAGES:
        key = Key("page", name)
    elif name.isdigit() and 1 <= int(name) <= 9:
        key = Key("candidate", name)
    else:
        raise KeyNotationError(
            f"{{{body}}} is not a special key; known: " + ", ".join("{" + k + "}" for k in SIMPLE + PAGES)
            + ", {1} … {9} (the N-th candidate), {123}; repeat with {back*3}")
    return [key] * repeat
