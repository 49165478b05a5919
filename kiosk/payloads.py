"""The one parser for scanned codes: every payload, from any scanner, is classified here.

``classify(data)`` takes what a scanner delivered (text, bytes, or a
``drivers.scanner.ScanEvent``) and returns a ``Payload`` of one of these kinds:

- ``identity_code``: a resident's e-ID code shown on a phone: ``HYBID:`` followed by 16–64
  characters of ``A–Z a–z 0–9 _ -``; ``value`` is the whole text.
- ``staff_code``: a grid worker's staff QR code: ``HYBSTAFF:`` followed by 8–64 of the same
  characters; ``value`` is the whole text.
- ``receipt``: an acceptance (case) number, bare or inside a link printed on a receipt;
  ``value`` is the normalised number, e.g. ``370503-20260612-000123`` → ``37050320260612000123``.
  A case number is the 6-digit region code, the 8-digit acceptance date and a 4–8 digit
  sequence, optionally after a 1–4 letter prefix and with dashes or spaces between the parts.
- ``pickup_code``: a 6–8 digit pickup code (取件码); ``value`` is the code.
- ``url``: any other http(s) link (an e-certificate, a service page); ``value`` is the link.
- ``unknown``: readable text that is none of these.
- ``rejected``: not usable at all — empty, longer than ``MAX_CHARS``, bytes with no
  trustworthy text in them, or containing control/format characters (garbage from a bad
  read, or a payload crafted to disturb the screen). ``problem`` is a translation key for
  what the resident is told; ``detail`` is a short line for a technician. Nothing from the
  payload itself is put into ``detail``.

Bytes (and a ``ScanEvent``'s bytes, already decoded by its scanner) are turned into text by
the one code decoder, ``drivers.codetext.decode_code_text``, so a code is classified the
same whatever read it. A ``Payload``'s ``repr`` shows its kind and length, never its text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from drivers.codetext import EMPTY, GARBAGE, decode_code_text
from drivers.scanner.base import OVERSIZED, ScanEvent

MAX_CHARS = 1024

RECEIPT, PICKUP_CODE, URL, UNKNOWN, REJECTED = "receipt", "pickup_code", "url", "unknown", "rejected"
IDENTITY_CODE, STAFF_CODE = "identity_code", "staff_code"

_CASE = re.compile(r"(?P<prefix>[A-Za-z]{1,4}[-\s]?)?(?P<region>\d{6})[-\s]?(?P<date>\d{8})[-\s]?(?P<seq>\d{4,8})")
_PICKUP = re.compile(r"\d{6,8}")
_IDENTITY = re.compile(r"HYBID:[A-Za-z0-9_-]{16,64}")
_STAFF = re.compile(r"HYBSTAFF:[A-Za-z0-9_-]{8,64}")
_CASE_QUERY_KEYS = ("case", "case_no", "caseno", "case_number", "acceptance_no", "acceptance_number", "no",
                    "slbh", "bjbh", "receipt")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


@dataclass(frozen=True, repr=False)
class Payload:
    kind: str
    text: str = ""
    value: str = ""
    problem: str = ""  # translation key, when rejected
    detail: str = ""  # for a technician, when rejected
    source: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind != REJECTED

    def __repr__(self) -> str:  # the text may be personal: only its shape goes into logs
        return f"Payload({self.kind}, {len(self.text)} chars, problem={self.problem!r})"

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"kind": self.kind}
        if self.accepted:
            result.update(text=self.text, value=self.value)
        else:
            result.update(problem=self.problem, detail=self.detail)
        if self.source:
            result["source"] = self.source
        return result


def _reject(problem: str, detail: str, source: str) -> Payload:
    return Payload(REJECTED, problem=problem, detail=detail, source=source)


def case_number(text: str) -> str | None:
    """The normalised case number if ``text`` is exactly one, else None."""
    match = _CASE.fullmatch(text.strip())
    if not match or not _plausible_date(match.group("date")):
        return None
    prefix = (match.group("prefix") or "").strip(" -").upper()
    return prefix + match.group("region") + match.group("date") + match.group("seq")


def _plausible_date(yyyymmdd: str) -> bool:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    return 2000 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def classify(data: Any, source: str = "") -> Payload:
    """Classify one scanned payload (str, bytes or a ScanEvent)."""
    if isinstance(data, ScanEvent):
        source = source or data.source
        if data.error == OVERSIZED:
            return _reject("payload.too_long", "the code is longer than the scanner limit", source)
        if data.text is None:
            return _undecoded(data.error, len(data.raw), source)
        data = data.text
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > MAX_CHARS * 4:
            return _reject("payload.too_long", f"{len(raw)} bytes (at most {MAX_CHARS} characters)", source)
        decoded = decode_code_text(raw)
        if not decoded.ok:
            return _undecoded(decoded.problem, len(raw), source)
        data = decoded.text
    if not isinstance(data, str):
        return _reject("payload.undecodable", f"not text ({type(data).__name__})", source)
    text = data.strip()
    if not text:
        return _reject("payload.empty", "the code is empty", source)
    if len(text) > MAX_CHARS:
        return _reject("payload.too_long", f"{len(text)} characters (at most {MAX_CHARS})", source)
    bad = [char for char in text if unicodedata.category(char) in _BAD_CATEGORIES or char == "\ufffd"]
    if bad:
        names = sorted({f"U+{ord(char):04X}" for char in bad})[:4]
        return _reject("payload.garbage", f"{len(bad)} control or invalid characters ({', '.join(names)})", source)

    if _IDENTITY.fullmatch(text):
        return Payload(IDENTITY_CODE, text, text, source=source)
    if _STAFF.fullmatch(text):
        return Payload(STAFF_CODE, text, text, source=source)
    number = case_number(text)
    if number:
        return Payload(RECEIPT, text, number, source=source)
    if _PICKUP.fullmatch(text):
        return Payload(PICKUP_CODE, text, text, source=source)
    if text.lower().startswith(("http://", "https://")):
        if any(char.isspace() for char in text):
            return Payload(UNKNOWN, text, "", source=source)
        try:
            parts = urlsplit(text)
        except ValueError:  # e.g. an unclosed [IPv6] bracket
            return Payload(UNKNOWN, text, "", source=source)
        if not parts.hostname:
            return Payload(UNKNOWN, text, "", source=source)
        number = _case_in_url(parts)
        if number:
            return Payload(RECEIPT, text, number, source=source)
        return Payload(URL, text, text, source=source)
    return Payload(UNKNOWN, text, "", source=source)


def _undecoded(problem: str, size: int, source: str) -> Payload:
    """The rejection for bytes the code decoder refused (``drivers.codetext`` problems)."""
    if problem == EMPTY:
        return _reject("payload.empty", "the code is empty", source)
    if problem == GARBAGE:
        return _reject("payload.garbage", f"{size} bytes that decode to control or invalid characters", source)
    return _reject(  # UNDECODABLE, or an event that says nothing more
"payload.undecodable",
                   f"{size} bytes that are not trustworthy text (UTF-8, or GB18030 Chinese)", source)


def _case_in_url(parts) -> str | None:
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key.lower() in _CASE_QUERY_KEYS:
            number = case_number(value)
            if number:
                return number
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if segments:
        return case_number(segments[-1])
    return None
