"""Width-aware line breaking for receipt paper.

A printer's column is one ASCII character (12 dots); every other character is printed in
Chinese mode and takes two columns (24 dots). 58 mm paper has 32 columns (384 dots), 80 mm
has 48 (576 dots). ``wrap`` breaks Chinese anywhere, keeps Latin words and numbers whole
when it can, and never starts a line with closing punctuation (，。、：；！？）」》…), the
way Chinese typesetting does.
"""
from __future__ import annotations

NO_LINE_START = set("，。、：；！？）】」』》〉”’%‰・·…—,.:;!?)]}>")
NO_LINE_END = set("（【「『《〈“‘([{<")


def char_width(char: str) -> int:
    return 1 if " " <= char <= "~" else 2


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def _tokens(text: str) -> list[str]:
    """Latin words/numbers (with what sticks to them) stay together; each other char is a token."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if "!" <= char <= "~":
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most ``columns`` columns; explicit newlines are kept; never returns []."""
    if columns < 2:
        raise ValueError("a line needs at least 2 columns")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, columns))
    return lines


def _wrap_paragraph(text: str, columns: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        if text_width(current) + text_width(token) <= columns:
            current += token
            continue
        if token == " ":  # a space at a break disappears
            lines.append(current.rstrip())
            current = ""
            continue
        if text_width(token) > columns:  # a word longer than a line: break it by characters
            for char in token:
                if text_width(current) + char_width(char) > columns:
                    lines.append(current.rstrip())
                    current = ""
                current += char
            continue
        carried = ""
        if token[0] in NO_LINE_START and current:  # pull the last character down with the punctuation
            carried, current = current[-1], current[:-1]
        while current and current[-1] in NO_LINE_END:
            carried, current = current[-1] + carried, current[:-1]
        if current.strip():
            lines.append(current.rstrip())
        current = (carried + token).lstrip(" ")
        if text_width(current) > columns:  # pathological punctuation runs: hard break
            lines.append(current[:columns // 2])
            current = current[columns // 2:]
    lines.append(current.rstrip())
    return lines


def pad_between(left: str, right: str, columns: int) -> str | None:
    """``left`` and ``right`` on one line with spaces between, or None if they do not fit."""
    gap = columns - text_width(left) - text_width(right)
    if gap < 1:
        return None
    return left + " " * gap + right


def fit(text: str, columns: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to ``columns`` columns, marking the cut."""
    if text_width(text) <= columns:
        return text
    out = ""
    for char in text:
        if text_width(out) + char_width(char) + text_width(ellipsis) > columns:
            break
        out += char
    return out + ellipsis
