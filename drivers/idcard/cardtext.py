"""The 256-byte text block of a GA/T 467 read: parse it into an ``IdCard``, or build one.

The text is UCS-2 little-endian (decoded as UTF-16-LE so that a surrogate pair survives),
each field space padded at a fixed byte offset. The card-type flag at byte 248 tells the
four layouts apart: blank for the resident card, 'J' for the Hong Kong/Macao/Taiwan
residence permit, 'I' for the 2017 and 'Y' for the 2023 foreign permanent residence card.

``parse_card_text`` validates what it reads (dates, codes, the GB 11643 check digit of
18-digit numbers) and raises ``CardDataError`` — with the raw bytes, never the holder's data
in the message — for anything a genuine card would not contain. ``encode_card_text`` is its
inverse; the simulator uses it to put virtual cards on the wire.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from drivers.base import ProtocolError
from drivers.idcard.card import LONG_TERM, CardType, IdCard
from drivers.idcard.codes import GENDERS, NATIONS, gb11643_valid

TEXT_LEN = 256
PHOTO_LEN = 1024
FINGERPRINT_LEN = 1024
FLAG_OFFSET = 248

# (offset, length in bytes) of each field, per layout
RESIDENT = {
    "chinese_name": (0, 30), "gender": (30, 2), "nation": (32, 4), "birth": (36, 16), "address": (52, 70),
    "number": (122, 36), "issuer": (158, 30), "valid_from": (188, 16), "valid_to": (204, 16),
}
PERMIT_J = dict(RESIDENT, pass_number=(220, 18), issue_count=(238, 4))
FOREIGN_I = {
    "english_name": (0, 120), "gender": (120, 2), "number": (122, 30), "nationality": (152, 6),
    "chinese_name": (158, 30), "valid_from": (188, 16), "valid_to": (204, 16), "birth": (220, 16),
    "version": (236, 4), "authority": (240, 8),
}
FOREIGN_Y = {
    "chinese_name": (0, 30), "gender": (30, 2), "renewal_count": (32, 4), "birth": (36, 16),
    "english_name": (52, 70), "number": (122, 36), "issuer": (158, 30), "valid_from": (188, 16),
    "valid_to": (204, 16), "english_name_more": (220, 22), "nationality": (242, 6), "old_card_link": (250, 6),
}
FLAGS = {" ": CardType.RESIDENT, "\x00": CardType.RESIDENT, "J": CardType.HK_MO_TW_PERMIT,
         "I": CardType.FOREIGN_PERMANENT_2017, "Y": CardType.FOREIGN_PERMANENT_2023}
LAYOUTS = {CardType.RESIDENT: RESIDENT, CardType.HK_MO_TW_PERMIT: PERMIT_J,
           CardType.FOREIGN_PERMANENT_2017: FOREIGN_I, CardType.FOREIGN_PERMANENT_2023: FOREIGN_Y}
FLAG_CHARS = {CardType.RESIDENT: " ", CardType.HK_MO_TW_PERMIT: "J",
              CardType.FOREIGN_PERMANENT_2017: "I", CardType.FOREIGN_PERMANENT_2023: "Y"}

_ALPHA3 = re.compile(r"[A-Z]{3}")
_FOREIGN_2017_NUMBER = re.compile(r"[A-Z]{3}\d{12}")


class CardDataError(ProtocolError):
    """The card's text is not what a genuine card holds (code DEV-004, raw bytes attached)."""


def _decode(text: bytes, offset: int, length: int) -> str:
    raw = text[offset:offset + length]
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardDataError(f"field at byte {offset} is not valid UCS-2 text", raw=text) from None
    value = value.rstrip(" \x00").strip()
    for char in value:
        category = unicodedata.category(char)
        # private-use characters stay: some cards carry rare name characters there
        if category in ("Cc", "Cf", "Cs"):
            raise CardDataError(f"field at byte {offset} holds a control character", raw=text)
    return value


def _date(value: str, what: str, text: bytes, allow_long_term: bool = False) -> str:
    if allow_long_term and value == LONG_TERM:
        return LONG_TERM
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise CardDataError(f"{what} is not a YYYYMMDD date", raw=text)
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
    except ValueError:
        raise CardDataError(f"{what} is not a calendar date", raw=text) from None


def _count(value: str, what: str, text: bytes) -> int:
    if not value.isascii() or not value.isdigit():
        raise CardDataError(f"{what} is not a number", raw=text)
    return int(value)


def _gender(value: str, text: bytes) -> tuple[str, str]:
    if value not in GENDERS:
        raise CardDataError("gender code is not one of 0, 1, 2, 9", raw=text)
    return value, GENDERS[value]


def card_type_of(text: bytes) -> CardType:
    if len(text) != TEXT_LEN:
        raise CardDataError(f"card text has {len(text)} bytes, expected {TEXT_LEN}", raw=text)
    flag = _raw_char(text, FLAG_OFFSET)
    if flag not in FLAGS:
        raise CardDataError("unknown card-type flag at byte 248", raw=text)
    return FLAGS[flag]


def _raw_char(text: bytes, offset: int) -> str:
    try:
        return text[offset:offset + 2].decode("utf-16-le")
    except UnicodeDecodeError:
        return "\ufffd"


def parse_card_text(text: bytes, photo: bytes = b"", fingerprint: bytes = b"") -> IdCard:
    """Parse the 256-byte text block into an ``IdCard``; ``CardDataError`` if it is not genuine."""
    text = bytes(text)
    card_type = card_type_of(text)
    layout = LAYOUTS[card_type]
    fields = {key: _decode(text, offset, length) for key, (offset, length) in layout.items()}
    common = {"photo_wlt": bytes(photo), "fingerprint": bytes(fingerprint)}
    gender_code, gender = _gender(fields["gender"], text)
    valid_from = _date(fields["valid_from"], "valid-from date", text)
    valid_to = _date(fields["valid_to"], "valid-to date", text, allow_long_term=True)
    birth = _date(fields["birth"], "birth date", text)

    if card_type in (CardType.RESIDENT, CardType.HK_MO_TW_PERMIT):
        if not fields["chinese_name"]:
            raise CardDataError("the name is empty", raw=text)
        if not gb11643_valid(fields["number"]):
            raise CardDataError("the card number is not a GB 11643 number (check character or birth date)", raw=text)
        nation_code, nation = "", ""
        if card_type is CardType.RESIDENT:
            nation_code = fields["nation"]
            if nation_code not in NATIONS:
                raise CardDataError("unknown nation code", raw=text)
            nation = NATIONS[nation_code]
            extra = {}
        else:
            if not fields["pass_number"]:
                raise CardDataError("the permit has no pass number", raw=text)
            extra = {"pass_number": fields["pass_number"],
                     "issue_count": _count(fields["issue_count"], "issue count", text)}
        return IdCard(card_type, chinese_name=fields["chinese_name"], gender_code=gender_code, gender=gender,
                      nation_code=nation_code, nation=nation, birth_date=birth, address=fields["address"],
                      id_number=fields["number"].upper(), issuer=fields["issuer"], valid_from=valid_from,
                      valid_to=valid_to, **extra, **common)

    if not _ALPHA3.fullmatch(fields["nationality"]):
        raise CardDataError("nationality is not a three-letter code", raw=text)
    if card_type is CardType.FOREIGN_PERMANENT_2017:
        if not fields["english_name"]:
            raise CardDataError("the English name is empty", raw=text)
        if not _FOREIGN_2017_NUMBER.fullmatch(fields["number"]):
            raise CardDataError("the card number is not three letters and twelve digits", raw=text)
        return IdCard(card_type, chinese_name=fields["chinese_name"], english_name=fields["english_name"],
                      gender_code=gender_code, gender=gender, birth_date=birth, id_number=fields["number"],
                      valid_from=valid_from, valid_to=valid_to, nationality=fields["nationality"],
                      card_version=fields["version"], authority_code=fields["authority"], **common)

    english = (fields["english_name"] + fields["english_name_more"]).strip()
    if not fields["chinese_name"] and not english:
        raise CardDataError("the card carries no name", raw=text)
    if not gb11643_valid(fields["number"]):
        raise CardDataError("the card number is not a GB 11643 number (check character or birth date)", raw=text)
    return IdCard(card_type, chinese_name=fields["chinese_name"], english_name=english, gender_code=gender_code,
                  gender=gender, birth_date=birth, id_number=fields["number"].upper(), issuer=fields["issuer"],
                  valid_from=valid_from, valid_to=valid_to, nationality=fields["nationality"],
                  renewal_count=_count(fields["renewal_count"], "renewal count", text),
                  old_card_link=fields["old_card_link"], **common)


# ---------------------------------------------------------------------------------------
# Building a text block (simulator, tests)


def _put(buffer: bytearray, offset: int, length: int, value: str, what: str) -> None:
    encoded = value.encode("utf-16-le")
    if len(encoded) > length:
        raise ValueError(f"{what} does not fit in {length} bytes")
    buffer[offset:offset + length] = encoded + " ".encode("utf-16-le") * ((length - len(encoded)) // 2)


def _yyyymmdd(iso: str) -> str:
    return LONG_TERM if iso == LONG_TERM else iso.replace("-", "")


def encode_card_text(card: IdCard) -> bytes:
    """The 256-byte text block a reader returns for ``card`` (the inverse of ``parse_card_text``)."""
    buffer = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    layout = LAYOUTS[card.card_type]
    values: dict[str, str] = {
        "gender": card.gender_code,
        "birth": _yyyymmdd(card.birth_date),
        "number": card.id_number,
        "valid_from": _yyyymmdd(card.valid_from),
        "valid_to": _yyyymmdd(card.valid_to),
    }
    if card.card_type in (CardType.RESIDENT, CardType.HK_MO_TW_PERMIT):
        values.update(chinese_name=card.chinese_name, nation=card.nation_code, address=card.address,
                      issuer=card.issuer)
        if card.card_type is CardType.HK_MO_TW_PERMIT:
            values.update(pass_number=card.pass_number, issue_count=f"{card.issue_count or 0:02d}")
    elif card.card_type is CardType.FOREIGN_PERMANENT_2017:
        values.update(english_name=card.english_name, nationality=card.nationality, chinese_name=card.chinese_name,
                      version=card.card_version, authority=card.authority_code)
    else:
        head, rest = card.english_name[:35], card.english_name[35:]
        values.update(chinese_name=card.chinese_name, renewal_count=f"{card.renewal_count or 0:02d}",
                      english_name=head, english_name_more=rest, issuer=card.issuer,
                      nationality=card.nationality, old_card_link=card.old_card_link)
    for key, (offset, length) in layout.items():
        if key in values:
            _put(buffer, offset, length, values[key], key)
    _put(buffer, FLAG_OFFSET, 2, FLAG_CHARS[card.card_type], "flag")
    return bytes(buffer)


def encode_address(address: str) -> bytes:
    """The 70-byte appended-address block of command 30 03."""
    buffer = bytearray(70)
    _put(buffer, 0, 70, address, "appended address")
    return bytes(buffer)


def parse_address(data: bytes) -> str:
    return _decode(bytes(data[:70]), 0, 70) if data else ""
