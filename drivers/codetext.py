"""The one decoder for the text inside a code: a code's bytes in, trustworthy text or a refusal out.

Every path that reads a code turns its bytes into text here and nowhere else: the serial and
HID scanners (``drivers.scanner``), the camera (``drivers.camera.scanner`` and
``kiosk.vision.codes``) and the payload classifier (``kiosk.payloads``). So a code reads the
same whether it was scanned or photographed.

``decode_code_text(raw, eci=None, readings=())`` follows ISO/IEC 18004 (QR code) §7.4:

1. no bytes, or only a UTF-8 byte-order mark: refused as ``empty``; after a byte-order mark
   the bytes must be UTF-8;
2. an **ECI designator** (``eci``, the number a decoder found in the code) says which charset
   the bytes are in, and that charset is used (``ECI_CHARSETS``: ISO 8859-x, Shift_JIS,
   UTF-8, GB18030 / GB 2312, Big5, EUC-KR, UTF-16/32 …); bytes that do not decode in it, or an
   ECI we do not know, are refused as ``undecodable``;
3. without an ECI, byte mode's default charset is ISO 8859-1 in the standard, but in practice
   encoders write UTF-8, GB18030 (GBK) or Shift_JIS without saying so. ASCII is ASCII;
   otherwise each of **UTF-8, GB18030, Shift_JIS and ISO 8859-1** is weighed by the
   *evidence in the bytes* (``_EVIDENCE``), not by order:

   - UTF-8: valid multi-byte sequences (random bytes almost never are), in a coherent set of
     scripts (GBK bytes that happen to be valid UTF-8 give a Hebrew–Greek–Armenian jumble);
     zbar's Shift-JIS mojibake of UTF-8 (text that, written back as Shift-JIS, is UTF-8
     again) counts for the repaired text, not for itself;
   - GB18030: only hanzi and Chinese punctuation, graded by how many of the hanzi are among
     the 1,500 most frequent (``drivers.hanzi_rank``) and whether all are in GB 2312;
   - Shift_JIS: only kana, kanji and Japanese punctuation; hiragana, full-width katakana or
     JIS level-1 kanji are strong evidence (as GB18030 those bytes are rare GBK hanzi);
     half-width katakana must follow Japanese spelling (a voicing mark after a kana that
     takes one, no ｰ, ﾝ or small kana starting a word);
   - ISO 8859-1: accented letters inside Latin words, a few symbols, never long runs of
     high bytes (which is what GBK or Shift_JIS bytes look like in Latin-1).

   Each readable candidate gets a level (4 proof, 3 strong, 2 plausible, 1 weak, 0 no); a
   single best level of 2 or more decides. When two charsets tie, the **readings of the
   decoders** (``readings``: zxing-cpp's and zbar's own texts for the same code) break the
   tie: the candidate that a decoder read the same way wins, if only one does.
   GB 2312 hanzi whose bytes also spell half-width katakana are the one tie the decoders
   cannot break (neither knows GB18030): there the GB18030 reading wins when its hanzi form
   Chinese words (words of two to four hanzi of jieba's dictionary); where they form none
   and are not a Chinese name (罗霞 is also ﾂﾞﾏｼ), the bytes are truly ambiguous, and the
   Shift_JIS reading wins when zxing-cpp read it so and the bytes carry three pieces of
   evidence for Japanese (spelling marks such as ﾞ ｰ ﾝ and small kana, rare or
   second-level hanzi in the GB18030 reading, two for katakana that are a word of the
   Japanese dictionary — ｵｵｻｶ, 大阪 — and one off for katakana that are none;
   ``_collision``, ``drivers.japanese_words``); the rest is refused;
4. a decoded text with a control character (line breaks and tabs too), a surrogate, a
   private-use or unassigned code point, or U+FFFD is refused as ``garbage``: binary data, or
   a charset guessed wrong.

So a wrong text is never returned as a success: bytes that could honestly be two texts are
refused (``undecodable``). ``CHARSET_RULES`` lists the charsets weighed in step 3 with their
evidence functions.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable

from drivers import japanese_words
from drivers.hanzi_rank import FREQUENT_SET

ASCII, UTF8, GB18030, SHIFT_JIS, LATIN1 = "ascii", "utf-8", "gb18030", "shift_jis", "iso-8859-1"
SJIS_REPAIRED = "utf-8 (shift-jis repaired)"
EMPTY, UNDECODABLE, GARBAGE = "empty", "undecodable", "garbage"

_BOM = b"\xef\xbb\xbf"
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})

#: ECI assignment number → Python codec (AIM ITS/04-001, as zxing-cpp and zbar read them).
ECI_CHARSETS: dict[int, str] = {
    0: "cp437", 1: "iso-8859-1", 2: "cp437", 3: "iso-8859-1", 4: "iso-8859-2", 5: "iso-8859-3",
    6: "iso-8859-4", 7: "iso-8859-5", 8: "iso-8859-6", 9: "iso-8859-7", 10: "iso-8859-8",
    11: "iso-8859-9", 12: "iso-8859-10", 13: "iso-8859-11", 15: "iso-8859-13", 16: "iso-8859-14",
    17: "iso-8859-15", 18: "iso-8859-16", 20: "shift_jis", 21: "cp1250", 22: "cp1251", 23: "cp1252",
    24: "cp1256", 25: "utf-16-be", 26: "utf-8", 27: "ascii", 28: "big5", 29: "gb18030", 30: "euc-kr",
    31: "gbk", 32: "gb18030", 33: "utf-16-le", 34: "utf-32-be", 35: "utf-32-le",
}
_CODEC_NAMES = {"iso-8859-1": LATIN1, "shift_jis": SHIFT_JIS, "gbk": GB18030, "gb18030": GB18030, "utf-8": UTF8}


@dataclass(frozen=True, repr=False)
class CodeText:
    """What a code's bytes say: ``text`` and its ``encoding``, or ``text=None`` and a ``problem``."""

    text: str | None
    encoding: str = ""  # ascii | utf-8 | gb18030 | shift_jis | iso-8859-1 | utf-8 (shift-jis repaired) | an ECI's codec
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


def _hanzi(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3134F or \
        0xF900 <= code <= 0xFAFF


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


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
        if not _in_gb2312(ch):
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


# -- evidence: how well a decoded text fits the charset it was decoded with (0 none … 3 strong) --


def _script(ch: str) -> str:
    """A coarse script class for the UTF-8 coherence test."""
    code = ord(ch)
    if code < 0x80:
        return "ascii"
    if _hanzi(ch) or 0x3000 <= code <= 0x30FF or 0xFF00 <= code <= 0xFFEF or 0x3100 <= code <= 0x31FF:
        return "cjk"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        # a script of its own: GB18030 bytes of two hanzi and a full-width colon (飓风：) are
        # valid UTF-8 as a hangul syllable next to a rare hanzi (쫷磺), which no Korean writes
        return "hangul"
    if 0xA0 <= code <= 0x24F or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    if 0x2000 <= code <= 0x2BFF or 0x1F000 <= code <= 0x1FAFF or 0xFE00 <= code <= 0xFE0F or \
            0x2E80 <= code <= 0x2FDF or 0x3200 <= code <= 0x33FF:
        return "common"  # punctuation, symbols, arrows, emoji, enclosed and CJK-compatibility forms
    if 0x391 <= code <= 0x3C9:
        return "greek"
    if 0x410 <= code <= 0x44F or code in (0x401, 0x451):
        return "cyrillic"  # the Russian alphabet; the extended letters are what GBK bytes give
    for prefix, name in (("HEBREW", "hebrew"), ("ARABIC", "arabic"),
                         ("THAI", "thai"), ("DEVANAGARI", "devanagari"), ("ARMENIAN", "armenian"),
                         ("GEORGIAN", "georgian")):
        if unicodedata.name(ch, "").startswith(prefix):
            return name
    return "other"


def _utf8_evidence(text: str) -> int:
    classes = [_script(ch) for ch in text]
    scripts = set(classes) - {"ascii", "common", "latin"}
    if "other" in scripts or len(scripts) > 1:
        return 1  # valid UTF-8, but a jumble of scripts: what other charsets' bytes look like
    if not scripts:  # Latin-1 supplement and symbols only: two-byte sequences, weaker proof
        return 3 if _latin_words_fit(text) else 1
    if scripts != {"cjk"} and ("latin" in classes or classes.count(next(iter(scripts))) < 2
                               or any(unicodedata.combining(ch) for ch in text)):
        return 1  # one Cyrillic letter among Latin ones, a lone Hebrew point: GBK bytes, most likely
    # three-byte sequences (CJK) in a coherent script: GB18030 or Shift_JIS bytes almost never are
    return 4 if any(ord(ch) >= 0x800 for ch in text) else 3


_GB_SYMBOLS = "、。·ˉˇ¨〃々—～‖…‘’“”〔〕〈〉《》「」『』〖〗【】±×÷∶∧∨∑∏∪∩∈∷√⊥∥∠⌒⊙∫∮≡≌≈∽∝≠≮≯≤≥∞∵∴♂♀°′″℃＄¤￠￡‰§№☆★○●◎◇◆□■△▲※→←↑↓〓"


def _gb_evidence(text: str) -> int:
    hanzi = frequent = outside = 0
    for ch in text:
        code = ord(ch)
        if code < 0x80:
            continue
        if _hanzi(ch):
            hanzi += 1
            frequent += ch in FREQUENT_SET
            outside += not _in_gb2312(ch)
        elif not (0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or ch in _GB_SYMBOLS
                  or 0x2460 <= code <= 0x249B or 0x2160 <= code <= 0x216B):
            return 0  # kana, Greek, Cyrillic, box drawing … out of GB18030 bytes: not Chinese text
    if not hanzi:
        return 0
    if outside:
        return 1  # characters outside GB 2312: possible (names), but no proof
    return 3 if frequent * 10 >= hanzi * 7 else 2


# Half-width katakana spelling (JIS X 0201): which kana take the voicing marks and the small
# kana, and what may not start a word.
_HW_DAKUTEN_BASE = set("ｳｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎﾜｦ")
_HW_HANDAKUTEN_BASE = set("ﾊﾋﾌﾍﾎ")
_HW_NO_START = set("ﾞﾟｰｧｨｩｪｫｬｭｮｯﾝ")
_HW_SMALL_AFTER = {  # small kana → the kana (optionally voiced) they follow in loanwords and yōon
    "ｧ": set("ﾌﾂｸｳ"), "ｨ": set("ﾃﾌｳｽﾂｸ"), "ｩ": set("ﾄｳﾌ"), "ｪ": set("ｼﾁｳﾌﾂｲｷ"), "ｫ": set("ﾌｳﾂ"),
    "ｬ": set("ｷｼﾁﾆﾋﾐﾘﾃﾌ"), "ｭ": set("ｷｼﾁﾆﾋﾐﾘﾃﾌ"), "ｮ": set("ｷｼﾁﾆﾋﾐﾘﾌ"),
}


def _halfwidth(ch: str) -> bool:
    return "\uff61" <= ch <= "\uff9f"


def _hw_kana(ch: str) -> bool:
    return "\uff66" <= ch <= "\uff9f"  # a kana or a mark (not the punctuation ｡｢｣､･)


def _halfwidth_spelling_ok(text: str) -> bool:
    """True when every run of half-width katakana in ``text`` is spelled as Japanese is."""
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else ""
        if not _hw_kana(ch):
            if _hw_kana(prev) and ch.isascii() and ch.isalnum():
                return False  # a kana glued to a Latin letter or digit
            continue
        if not _hw_kana(prev):
            if ch in _HW_NO_START or (prev.isascii() and prev.isalnum()):
                return False
            continue
        base = text[i - 2] if prev in "ﾞﾟ" and i >= 2 else prev
        if ch == "ﾞ" and prev not in _HW_DAKUTEN_BASE:
            return False
        if ch == "ﾟ" and prev not in _HW_HANDAKUTEN_BASE:
            return False
        if ch in _HW_SMALL_AFTER and base not in _HW_SMALL_AFTER[ch]:
            return False
        if ch == "ｯ" and prev in "ｯﾝｰ":
            return False
        if prev == "ｯ" and ch in "ｱｲｳｴｵﾝｰｯ":
            return False
    if any(ch == "ｯ" and not _hw_kana(text[i + 1:i + 2] or " ") for i, ch in enumerate(text)):
        return False  # a small ｯ doubles the consonant after it: it never ends a word (姿化 = ﾗﾋｻｯ)
    return True


def _sjis_evidence(text: str) -> int:
    kana = level1 = kanji = halfwidth = 0
    for ch in text:
        code = ord(ch)
        if code < 0x80:
            continue
        if 0x3041 <= code <= 0x30FF:
            kana += 1
        elif _halfwidth(ch):
            halfwidth += 1
        elif _hanzi(ch):
            kanji += 1
            try:
                lead = ch.encode("shift_jis")[0]
            except UnicodeEncodeError:
                lead = 0
            level1 += 0x88 <= lead <= 0x97 or (lead == 0x98 and ch.encode("shift_jis")[1] <= 0x72)
        elif not (0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or ch in "×÷°±§¶´¨"
                  or 0x2010 <= code <= 0x203B or 0x2190 <= code <= 0x21FF or 0x25A0 <= code <= 0x25FF
                  or 0x2605 <= code <= 0x2606):
            return 0  # Greek, Cyrillic, box drawing, user-defined … out of Shift_JIS bytes
    if halfwidth and not _halfwidth_spelling_ok(text):
        return 0
    if kanji and level1 * 2 < kanji:
        return 1  # mostly JIS level-2 kanji: what GB18030 or UTF-8 bytes look like through Shift_JIS
    if kana or kanji:
        return 3
    return 2  # half-width katakana only


_LATIN1_SYMBOLS = set("¡¢£¥§©«®°±²³µ¶·¹º»¼½¾¿\u00a0")


def _latin_words_fit(text: str) -> bool:
    """High characters are letters (each next to an ASCII letter) or a few symbols, never three in a row."""
    run = 0
    for i, ch in enumerate(text):
        if ch.isascii():
            run = 0
            continue
        run += 1
        if run > 2:
            return False
        if ch in _LATIN1_SYMBOLS:
            continue
        if not ch.isalpha() or ord(ch) > 0x24F:
            return False
        near = text[max(0, i - 1):i] + text[i + 1:i + 2]
        if not any(c.isascii() and c.isalpha() for c in near):
            return False
    return True


def _latin1_evidence(text: str) -> int:
    return 3 if _latin_words_fit(text) else 0


#: The charsets weighed when a code declares none: (encoding name, codec, evidence function).
CHARSET_RULES: tuple[tuple[str, str, Callable[[str], int]], ...] = (
    (UTF8, "utf-8", _utf8_evidence),
    (GB18030, "gb18030", _gb_evidence),
    (SHIFT_JIS, "cp932", _sjis_evidence),
    (LATIN1, "latin-1", _latin1_evidence),
)


def _candidates(body: bytes) -> list[tuple[int, CodeText]]:
    out = []
    for name, codec, evidence in CHARSET_RULES:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        if not readable(text):
            continue
        if name == UTF8:
            original = _shift_jis_round_trip(text)
            if original is not None:  # zbar's mojibake: only the repaired text counts
                if common_chinese(original) and readable(original):
                    out.append((3, CodeText(original, SJIS_REPAIRED)))
                else:  # Japanese in UTF-8, or mojibake of something we cannot vouch for
                    out.append((1, CodeText(text, name)))
                continue
        level = evidence(text)
        if name == LATIN1 and out and out[0][1].encoding in (UTF8, SJIS_REPAIRED):
            level = min(level, 1)  # 'Ã©'-style: Latin-1 text is almost never valid UTF-8 too
        if level:
            out.append((level, CodeText(text, name)))
    return out


def _by_eci(body: bytes, eci: int) -> CodeText:
    codec = ECI_CHARSETS.get(eci)
    if codec is None:
        return _refused(UNDECODABLE)
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return _refused(UNDECODABLE)
    if not text:
        return _refused(EMPTY)
    if not readable(text):
        return _refused(GARBAGE)
    return CodeText(text, ASCII if text.isascii() and codec in ("utf-8", "ascii", "iso-8859-1")
                    else _CODEC_NAMES.get(codec, codec))


def decode_code_text(raw: bytes, eci: int | None = None, readings: Iterable[str] = ()) -> CodeText:
    """The text inside a code's bytes, or the reason there is none (see the module docstring).

    ``eci``: the ECI assignment number the code declares for these bytes (None: no ECI).
    ``readings``: texts that decoders made of the same code themselves (zxing-cpp's text,
    zbar's conversion), used only to break a tie between equally plausible charsets.
    """
    body = bytes(raw)
    if eci is not None:
        return _by_eci(body, eci)
    bom = body.startswith(_BOM)
    if bom:  # a byte-order mark says UTF-8, and only UTF-8
        body = body[len(_BOM):]
    if not body:
        return _refused(EMPTY)
    if body.isascii():
        text = body.decode("ascii")
        return CodeText(text, UTF8 if bom else ASCII) if readable(text) else _refused(GARBAGE)
    if bom:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refused(UNDECODABLE)
        return CodeText(text, UTF8) if readable(text) else _refused(GARBAGE)
    try:
        if not readable(body.decode("utf-8")):
            return _refused(GARBAGE)  # valid UTF-8 (strong evidence) with a control or invalid character
    except UnicodeDecodeError:
        pass
    candidates = _candidates(body)
    if not candidates:
        return _refused(GARBAGE if _only_unreadable(body) else UNDECODABLE)
    best = max(level for level, _ in candidates)
    top = [decided for level, decided in candidates if level == best]
    if best < 4 and _gb_or_katakana(candidates):
        return _collision(candidates, readings)  # GBK hanzi or half-width katakana
    agreed = [c for c in top if c.text in set(readings)]
    if len(agreed) == 1:
        return agreed[0]
    if len(top) == 1 and best >= 2:
        return top[0]
    return _refused(UNDECODABLE)  # two equally good readings, or only weak evidence


def decode_code_segments(segments: Iterable[tuple[int | None, bytes]], readings: Iterable[str] = ()) -> CodeText:
    """The text of a code whose bytes come in ECI segments: ``[(eci or None, bytes), …]``.

    A code with one segment is ``decode_code_text(raw, eci)``. With several (a code that
    switches charset midway), each segment is decoded on its own and the texts are joined;
    one refused segment refuses the whole code.
    """
    parts = [(eci, bytes(raw)) for eci, raw in segments if raw]
    if not parts:
        return _refused(EMPTY)
    if len(parts) == 1:
        return decode_code_text(parts[0][1], parts[0][0], readings)
    texts, encodings = [], []
    for eci, raw in parts:
        decoded = decode_code_text(raw, eci)
        if not decoded.ok:
            return decoded
        texts.append(decoded.text)
        encodings.append(decoded.encoding)
    return CodeText("".join(texts), "+".join(dict.fromkeys(encodings)))


@functools.lru_cache(maxsize=1)
def _chinese_words() -> frozenset[str]:
    """Words of two to four hanzi in jieba's dictionary seen at least 3 times (read once, when first needed)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.origin:
        return frozenset()
    words = set()
    with open(os.path.join(os.path.dirname(spec.origin), "dict.txt"), encoding="utf-8") as lines:
        for line in lines:
            parts = line.split(" ", 2)
            if 2 <= len(parts[0]) <= 4 and len(parts) > 1 and int(parts[1]) >= 3:
                words.add(parts[0])
    return frozenset(words)


def _word_pairs(text: str) -> tuple[int, int]:
    """(adjacent hanzi pairs, how many of them lie inside a Chinese word of two to four hanzi).

    An idiom of four hanzi (有恃无恐) has no two-hanzi word in it, but every pair of it lies in
    the idiom."""
    words = _chinese_words()
    pairs = [i for i, (a, b) in enumerate(zip(text, text[1:])) if _hanzi(a) and _hanzi(b)]
    inside = set()
    for size in (2, 3, 4):
        for start in range(len(text) - size + 1):
            if text[start:start + size] in words:
                inside.update(range(start, start + size - 1))
    return len(pairs), sum(i in inside for i in pairs)


#: Marks of Japanese spelling in half-width katakana: voicing marks, the long-vowel mark, small
#: kana and ﾝ, which Japanese words are full of and which random GB 2312 bytes seldom spell
#: where Japanese puts them (``_halfwidth_spelling_ok`` has checked the places).
JAPANESE_MARKS = frozenset("ﾞﾟｰｯｬｭｮｧｨｩｪｫﾝ")

#: How many pieces of evidence against the Chinese reading a Shift_JIS reading needs (see
#: ``_japanese_evidence``). Measured on the tuning material only (``tests/charset_material``,
#: ``part="tune"``, and the Japanese names and loanwords in ``tests/drivers/test_codetext.py``):
#: at 3, 60,000 generated GB 2312 payloads gave 10 Shift_JIS readings at the byte level (the
#: rule before it: 9) while three times as many short katakana words were read. The Japanese
#: word list (``benchmarks/charset.py``) then took the wrong readings of generated payloads
#: to 0 and of random non-word hanzi to about half, at the same threshold.
JAPANESE_EVIDENCE_NEEDED = 3


def _japanese_evidence(gb_text: str, sjis_text: str) -> int:
    """Evidence that bytes with a GB18030 and a half-width-katakana reading are Japanese.

    One point for each Japanese spelling mark in the katakana (``JAPANESE_MARKS``), each hanzi
    of the GB18030 reading outside the 1,500 most frequent, and each hanzi of it in GB 2312's
    second level (rows 56–87: rare characters, which is what ﾘﾙﾚﾛﾜﾝﾞﾟ give as lead bytes).
    Then the katakana themselves: two points when every run of them is a Japanese word
    (``drivers.japanese_words``: ｵｵｻｶ is 大阪), one point off when one is not (random GB 2312
    hanzi spell kana that are no word: 诚惶诚 = ｳﾏｻﾌｳﾏ)."""
    marks = sum(ch in JAPANESE_MARKS for ch in sjis_text)
    rare = level2 = 0
    for ch in gb_text:
        if _hanzi(ch):
            rare += ch not in FREQUENT_SET
            level2 += ch.encode("gb18030")[0] >= 0xD8
    return marks + rare + level2 + _words_evidence(sjis_text)


def _words_evidence(sjis_text: str) -> int:
    """+2 when every run of half-width katakana is a Japanese word, -1 when one is not (0 without the list)."""
    if not japanese_words.available():
        return 0
    runs, run = [], ""
    for ch in sjis_text + " ":
        if _hw_kana(ch):
            run += ch
        elif run:
            runs.append(run)
            run = ""
    return 2 if runs and all(japanese_words.is_word(r) for r in runs) else -1


def _collision(candidates: list[tuple[int, CodeText]], readings: Iterable[str]) -> CodeText:
    """GB18030 hanzi or half-width katakana: decided by Chinese words or Japanese evidence, else refused.

    Neither zxing-cpp nor zbar knows GB18030, so their readings (always Shift_JIS here) are
    no evidence on their own. The GB18030 reading wins when its hanzi form Chinese words (at
    least half of the adjacent pairs lie inside a word of two to four hanzi of jieba's
    dictionary). The bytes are truly ambiguous when the hanzi form no word at all and do
    not look like a Chinese name (a common surname starting a run of two or three): there
    the Shift_JIS reading wins when zxing-cpp read it so (the decoders' agreement) and the
    bytes carry at least ``JAPANESE_EVIDENCE_NEEDED`` pieces of evidence for Japanese
    (``_japanese_evidence``: ﾗｰﾒﾝ = 装逸 has ｰ, ﾝ, the rare 逸 and is a Japanese word; ｵｵｻｶ =
    档欢 has the rare 档 and is a word); anything between is refused (ｶﾀｶﾅ = 独杜: a word,
    but two frequent hanzi and no mark).
    """
    gb = next(c for level, c in candidates if c.encoding == GB18030)
    sjis = next(c for level, c in candidates if c.encoding == SHIFT_JIS)
    pairs, hits = _word_pairs(gb.text)
    if pairs and hits * 2 >= pairs:
        return gb
    readings = list(readings)
    if (pairs and hits == 0 and sjis.text in readings and gb.text not in readings
            and not _looks_like_a_name(gb.text)
            and _japanese_evidence(gb.text, sjis.text) >= JAPANESE_EVIDENCE_NEEDED):
        return sjis
    return _refused(UNDECODABLE)


#: The hundred most common Chinese surnames (single characters), for ``_looks_like_a_name``.
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢")


def _looks_like_a_name(text: str) -> bool:
    """True when a run of two or three hanzi in ``text`` starts with a common surname: a Chinese
    name (罗霞, 蒋英云), which forms no dictionary word and whose GB 2312 bytes often also spell
    half-width katakana (罗霞 → ﾂﾞﾏｼ). Such bytes are refused rather than read as Japanese."""
    run: list[str] = []
    for ch in text + " ":
        if _hanzi(ch):
            run.append(ch)
            continue
        if 2 <= len(run) <= 3 and run[0] in COMMON_SURNAMES:
            return True
        run = []
    return False


def _gb_or_katakana(candidates: list[tuple[int, CodeText]]) -> bool:
    """True when the bytes read as plausible Chinese in GB18030 and as spelled half-width katakana."""
    gb = any(level >= 2 and c.encoding == GB18030 for level, c in candidates)
    return gb and any(level == 2 and c.encoding == SHIFT_JIS for level, c in candidates)


def _only_unreadable(body: bytes) -> bool:
    """True when the bytes decode as UTF-8 or GB18030, but only to control or invalid characters."""
    for _, codec, _ in CHARSET_RULES[:2]:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        if not readable(text):
            return True
    return False
