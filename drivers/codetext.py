"""The one decoder for the text inside a code: a code's bytes in, trustworthy text or a refusal out.

Every path that reads a code turns its bytes into text here and nowhere else: the serial and
HID scanners (``drivers.scanner``), the camera (``drivers.camera.scanner`` and
``kiosk.vision.codes``) and the payload classifier (``kiosk.payloads``). So a code reads the
same whether it was scanned or photographed.

A QR code's byte mode carries no reliable charset: most Chinese payloads are UTF-8 without an
ECI marker, some older systems write GB18030 (GBK), and zbar guesses Shift-JIS for many short
UTF-8 strings and returns mojibake ('河易办' → '豐ｳ譏灘萱'), which a reader built on zbar
passes on as UTF-8. A wrong text must never come out as a success, so when the bytes could
mean two things the decoder refuses. ``decode_code_text(raw)`` applies these rules in order:

1. no bytes, or only a UTF-8 byte-order mark: refused as ``empty``; after a byte-order mark
   only rule 3 applies (the mark is dropped);
2. ASCII is ASCII;
3. valid UTF-8 is UTF-8 — unless it is zbar's Shift-JIS mojibake: text that, written back
   as Shift-JIS, is valid UTF-8 again with non-ASCII characters in it. Then that UTF-8 text
   is returned if it is common Chinese (see below; encoding ``"utf-8 (shift-jis repaired)"``),
   and otherwise the payload is refused as ``undecodable``;
4. bytes that are not UTF-8 are GB18030 only with evidence: they decode as GB18030 and every
   non-ASCII character is common Chinese;
5. anything else is refused as ``undecodable``;
6. a decoded text with a control character (line breaks and tabs too), a surrogate, a
   private-use or unassigned code point, or U+FFFD is refused as ``garbage``: binary data, or
   a charset guessed wrong.

"Common Chinese" means text with at least one hanzi in which every non-ASCII character is in
GB 2312 (the 6,763 everyday hanzi and its symbols) or is CJK / full-width punctuation. Rarer
characters (䶮, 喆) therefore come through in UTF-8 codes only.

Only the bytes count: a decoder's own conversion (zxing-cpp's text, an ECI marker) is not
used, so a code that declares another charset (ISO 8859-1, Shift-JIS) is refused for now.
The charset rules are the functions in ``CHARSET_RULES``, tried in order; the first whose
charset the bytes are written in decides. A new rule (an ECI marker, Shift-JIS payloads) is one
more function there.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

ASCII, UTF8, GB18030, SJIS_REPAIRED = "ascii", "utf-8", "gb18030", "utf-8 (shift-jis repaired)"
EMPTY, UNDECODABLE, GARBAGE = "empty", "undecodable", "garbage"

_BOM = b"\xef\xbb\xbf"
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


@dataclass(frozen=True, repr=False)
class CodeText:
    """What a code's bytes say: ``text`` and its ``encoding``, or ``text=None`` and a ``problem``."""

    text: str | None
    encoding: str = ""  # ascii | utf-8 | gb18030 | utf-8 (shift-jis repaired); "" when refused
    problem: str = ""  # "" | empty | undecodable | garbage

    @property
    def ok(self) -> bool:
        return self.text is not None

    def __repr__(self) -> str:  # the text of a scanned code may be personal: never in a log line
        if self.ok:
            return f"CodeText({len(self.text)} chars, encoding={self.encoding!r})"
        return f"CodeText(refused, problem={self.problem!r})"


def _refused(problem: str) -> CodeText:
    return CodeText(None, "", problem)


def readable(text: str) -> bool:
    """True when ``text`` has no control character, surrogate, private-use/unassigned code point or U+FFFD."""
    return not any(unicodedata.category(ch) in _BAD_CATEGORIES or ch == "\ufffd" for ch in text)


def common_chinese(text: str) -> bool:
    """True when ``text`` has a hanzi and every non-ASCII character is in GB 2312 or CJK / full-width punctuation."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return False
    for ch in text:
        if ch.isascii():
            continue
        code = ord(ch)
        if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E:
            continue
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            return False
    return True


def _shift_jis_round_trip(text: str) -> str | None:
    """``text`` written back as Shift-JIS and read as UTF-8, when that works and is not plain ASCII."""
    for codec in ("shift_jis", "cp932"):
        try:
            again = text.encode(codec)
        except UnicodeEncodeError:
            continue
        if again.isascii():
            return None
        try:
            return again.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def looks_like_mojibake(text: str) -> bool:
    """True for text that is what zbar makes of UTF-8 when it guesses Shift-JIS."""
    return bool(text) and not text.isascii() and _shift_jis_round_trip(text) is not None


# -- the charset rules: each returns None (not its charset) or the decision ------------------------


def _ascii_rule(body: bytes) -> CodeText | None:
    return CodeText(body.decode("ascii"), ASCII) if body.isascii() else None


def _utf8_rule(body: bytes) -> CodeText | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    original = _shift_jis_round_trip(text)
    if original is None:
        return CodeText(text, UTF8)
    if common_chinese(original) and readable(original):
        return CodeText(original, SJIS_REPAIRED)
    return _refused(UNDECODABLE)  # mojibake of something we cannot vouch for


def _gb18030_rule(body: bytes) -> CodeText | None:
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return CodeText(text, GB18030) if common_chinese(text) else None


CHARSET_RULES: tuple[Callable[[bytes], CodeText | None], ...] = (_ascii_rule, _utf8_rule, _gb18030_rule)


def decode_code_text(raw: bytes) -> CodeText:
    """The text inside a code's bytes, or the reason there is none (see the module docstring)."""
    body = bytes(raw)
    rules = CHARSET_RULES
    if body.startswith(_BOM):  # a byte-order mark says UTF-8, and only UTF-8
        body, rules = body[len(_BOM):], (_utf8_rule,)
    if not body:
        return _refused(EMPTY)
    for rule in rules:
        decided = rule(body)
        if decided is None:
            continue
        if decided.ok and not readable(decided.text):
            return _refused(GARBAGE)
        return decided
    return _refused(UNDECODABLE)
