"""Turn the bytes inside a QR code into text — or refuse to.

QR byte mode carries no reliable charset: most Chinese payloads are UTF-8 without an ECI
marker, some older systems write GB18030 (GBK), and zbar guesses Shift-JIS for many short
UTF-8 strings and returns mojibake ('河易办' → '豐ｳ譏灘萱'). The rules here:

1. plain printable ASCII is ASCII;
2. UTF-8 first: bytes that are valid UTF-8 and decode to printable text;
3. GB18030 only where the bytes say so: not valid UTF-8, valid GB18030, and every non-ASCII
   character a common Chinese character (GB2312) or Chinese/full-width punctuation;
4. anything else is *undecodable*: a payload that would come out as mojibake is a failure,
   never a success.
"""
from __future__ import annotations

import unicodedata

_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def _printable(text: str) -> bool:
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co", "Cn") or ch == "\ufffd":
            return False
    return True


def _common_chinese(ch: str) -> bool:
    if ch.isascii():
        return True
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        pass
    code = ord(ch)
    return 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E  # CJK and full-width punctuation


def decode_payload(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding) for the bytes of a code, or None when no trustworthy text is in them."""
    if not raw:
        return None
    if raw.isascii():
        text = raw.decode("ascii")
        return (text, "ascii") if _printable(text) else None
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return (text, "utf-8") if _printable(text) else None
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    if _printable(text) and all(_common_chinese(ch) for ch in text):
        return text, "gb18030"
    return None


def looks_like_mojibake(text: str) -> bool:
    """True for text that is what zbar makes of UTF-8 Chinese when it guesses Shift-JIS."""
    if not text or text.isascii():
        return False
    try:
        again = text.encode("shift_jis")
    except UnicodeEncodeError:
        try:
            again = text.encode("cp932")
        except UnicodeEncodeError:
            return False
    try:
        again.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not again.isascii()


def repair_shift_jis(text: str) -> str | None:
    """The UTF-8 text zbar turned into Shift-JIS mojibake, when the round trip is exact."""
    for codec in ("shift_jis", "cp932"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return None
