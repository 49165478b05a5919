"""The ID card simulator's deck: virtual cards a tester places on the simulated reader.

The built-in deck covers all four card types, valid and expired cards, a long-term (长期)
card, a rare-character name (䶮, CJK extension A), a minority name with the middle dot, and
a card with an appended address (追加住址). Every person, number and address in it is
invented; the numbers carry correct GB 11643 check digits.

A deck can also be loaded from a TOML file of ``[[card]]`` tables (see ``load_deck``); each
card is checked by encoding it into the 256-byte text block and parsing it back, so that a
mistake in the file is reported when the simulator starts, not when a tester places the card.
"""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.idcard.card import LONG_TERM, CardType, IdCard
from drivers.idcard.cardtext import PHOTO_LEN, CardDataError, encode_card_text, parse_card_text
from drivers.idcard.codes import GENDERS, NATIONS


def synthetic_bytes(seed: str, size: int) -> bytes:
    """Deterministic filler standing in for a card's WLT photo or fingerprint template."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass(frozen=True, repr=False)
class VirtualCard:
    key: str
    label: str  # what the card is for, without personal data: "resident, expired"
    card: IdCard
    fingerprint: bytes = field(default=b"")

    def __repr__(self) -> str:
        return f"VirtualCard({self.key!r}, {self.label!r})"


def _card(key: str, label: str, fingerprint: bool = False, **fields: Any) -> VirtualCard:
    gender_code = fields.pop("gender_code")
    nation_code = fields.pop("nation_code", "")
    card = IdCard(gender_code=gender_code, gender=GENDERS[gender_code], nation_code=nation_code,
                  nation=NATIONS.get(nation_code, ""), photo_wlt=synthetic_bytes(f"photo/{key}", PHOTO_LEN),
                  **fields)
    return VirtualCard(key, label, card, synthetic_bytes(f"fingerprint/{key}", 1024) if fingerprint else b"")


HEKOU_ISSUER = "东营市公安局河口分局"


def builtin_deck() -> dict[str, VirtualCard]:
    cards = [
        _card("resident", "resident card, valid", fingerprint=True, card_type=CardType.RESIDENT,
              chinese_name="李建军", gender_code="1", nation_code="01", birth_date="1985-03-12",
              address="山东省东营市河口区河口街道海宁路188号3号楼2单元501室", id_number="370503198503121231",
              issuer=HEKOU_ISSUER, valid_from="2019-04-20", valid_to="2039-04-20"),
        _card("resident-expired", "resident card, expired", card_type=CardType.RESIDENT,
              chinese_name="王秀兰", gender_code="2", nation_code="01", birth_date="1956-08-21",
              address="山东省东营市河口区六合街道六合村126号", id_number="370503195608212021",
              issuer=HEKOU_ISSUER, valid_from="2004-09-01", valid_to="2024-09-01"),
        _card("resident-long-term", "resident card, valid 长期 (long term)", card_type=CardType.RESIDENT,
              chinese_name="刘桂英", gender_code="2", nation_code="01", birth_date="1948-06-15",
              address="山东省东营市河口区义和镇义和村58号", id_number="370503194806152045",
              issuer=HEKOU_ISSUER, valid_from="2012-07-10", valid_to=LONG_TERM),
        _card("resident-rare-name", "resident card, rare character in the name (䶮)", card_type=CardType.RESIDENT,
              chinese_name="周䶮", gender_code="1", nation_code="01", birth_date="1990-07-28",
              address="山东省东营市河口区孤岛镇振兴路9号", id_number="370503199007280035",
              issuer=HEKOU_ISSUER, valid_from="2016-08-01", valid_to="2036-08-01"),
        _card("resident-minority", "resident card, minority name with middle dot, appended address",
              card_type=CardType.RESIDENT, chinese_name="买买提·吐尔逊", gender_code="1", nation_code="05",
              birth_date="1978-03-04", address="新疆乌鲁木齐市天山区解放南路77号",
              id_number="650102197803041510", issuer="乌鲁木齐市公安局天山区分局",
              valid_from="2018-05-06", valid_to="2038-05-06",
              appended_address="山东省东营市河口区新户镇太平村33号"),
        _card("resident-young", "resident card of a young adult, 10-year validity", card_type=CardType.RESIDENT,
              chinese_name="张雨涵", gender_code="2", nation_code="01", birth_date="2001-01-01",
              address="山东省东营市河口区河口街道河滨路20号", id_number="370503200101010029",
              issuer=HEKOU_ISSUER, valid_from="2017-02-01", valid_to="2027-02-01"),
        _card("senior", "resident card of an 86-year-old, valid 长期 (long term)", card_type=CardType.RESIDENT,
              chinese_name="欧阳娜娜", gender_code="2", nation_code="01", birth_date="1940-03-05",
              address="山东省东营市河口区仙河镇仙河村12号", id_number="370503194003050029",
              issuer=HEKOU_ISSUER, valid_from="2010-05-18", valid_to=LONG_TERM),
        _card("grid-worker", "resident card of a village grid worker (网格员), valid", card_type=CardType.RESIDENT,
              chinese_name="王晓梅", gender_code="2", nation_code="01", birth_date="1988-11-23",
              address="山东省东营市河口区仙河镇仙河村3号", id_number="370503198811230026",
              issuer=HEKOU_ISSUER, valid_from="2020-06-01", valid_to="2040-06-01"),
        _card("hk-permit", "Hong Kong residence permit (J), valid", card_type=CardType.HK_MO_TW_PERMIT,
              chinese_name="陈嘉欣", gender_code="2", birth_date="1992-03-15",
              address="山东省东营市河口区河口街道黄河路56号", id_number="810000199203150028",
              issuer=HEKOU_ISSUER, valid_from="2023-06-01", valid_to="2028-06-01",
              pass_number="H60123456", issue_count=1),
        _card("tw-permit-expired", "Taiwan residence permit (J), expired", card_type=CardType.HK_MO_TW_PERMIT,
              chinese_name="林志明", gender_code="1", birth_date="1987-09-11",
              address="山东省东营市河口区仙河镇海港路12号", id_number="830000198709110014",
              issuer=HEKOU_ISSUER, valid_from="2019-01-15", valid_to="2024-01-15",
              pass_number="03012345", issue_count=2),
        _card("foreign-2017", "foreign permanent residence card 2017 (I), valid",
              card_type=CardType.FOREIGN_PERMANENT_2017, english_name="WILLIAMS, JOHN ROBERT",
              chinese_name="威廉斯", gender_code="1", birth_date="1985-06-12", id_number="USA378506120037",
              nationality="USA", valid_from="2017-10-01", valid_to="2027-10-01", card_version="01",
              authority_code="1500"),
        _card("foreign-2023", "foreign permanent residence card 2023 (Y), long English name",
              card_type=CardType.FOREIGN_PERMANENT_2023, chinese_name="蒙雅丽",
              english_name="MONTGOMERY-WILLIAMSON, ALEXANDRA CATHERINE", gender_code="2",
              birth_date="1990-03-15", id_number="937840199003150021", nationality="USA",
              valid_from="2023-12-01", valid_to="2033-12-01", renewal_count=0),
    ]
    return {card.key: card for card in cards}


_FIELDS = {"card_type", "name", "chinese_name", "english_name", "gender", "nation", "birth_date", "address",
           "id_number", "issuer", "valid_from", "valid_to", "nationality", "pass_number", "issue_count",
           "renewal_count", "card_version", "authority_code", "old_card_link", "appended_address", "label",
           "key", "fingerprint"}


def card_from_table(table: dict[str, Any], where: str) -> VirtualCard:
    unknown = set(table) - _FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    key = str(table.get("key") or "").strip()
    if not key:
        raise ValueError(f"{where}: every card needs a key")
    try:
        card_type = CardType(table.get("card_type", "resident"))
    except ValueError:
        raise ValueError(f"{where}: card_type must be one of {', '.join(t.value for t in CardType)}") from None
    gender = str(table.get("gender", "1"))
    gender_code = {"男": "1", "女": "2"}.get(gender, gender)
    if gender_code not in GENDERS:
        raise ValueError(f"{where}: gender must be 男, 女 or a code 0/1/2/9")
    nation = str(table.get("nation", "01" if card_type is CardType.RESIDENT else ""))
    if nation and nation not in NATIONS:
        by_name = {name: code for code, name in NATIONS.items()}
        if nation not in by_name:
            raise ValueError(f"{where}: unknown nation {nation!r}")
        nation = by_name[nation]
    fields = {name: table[name] for name in ("english_name", "birth_date", "address", "id_number", "issuer",
                                             "valid_from", "valid_to", "nationality", "pass_number",
                                             "card_version", "authority_code", "old_card_link",
                                             "appended_address") if name in table}
    for name in ("issue_count", "renewal_count"):
        if name in table:
            fields[name] = int(table[name])
    chinese = table.get("chinese_name", table.get("name", ""))
    virtual = _card(key, str(table.get("label") or f"{card_type.value} (from deck file)"),
                    fingerprint=bool(table.get("fingerprint", False)), card_type=card_type, chinese_name=chinese,
                    gender_code=gender_code, nation_code=nation if card_type is CardType.RESIDENT else "",
                    **fields)
    try:
        parse_card_text(encode_card_text(virtual.card))
    except (CardDataError, ValueError) as exc:
        raise ValueError(f"{where}: card {key!r} would not read back: {exc}") from None
    return virtual


def load_deck(path: str | Path, include_builtin: bool = True) -> dict[str, VirtualCard]:
    """Cards from a TOML file of ``[[card]]`` tables (keys as in ``IdCard``; ``name`` = Chinese name)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the card deck: {exc}") from None
    deck = builtin_deck() if include_builtin else {}
    tables = data.get("card", [])
    if not isinstance(tables, list):
        raise ValueError(f"{path}: expected [[card]] tables")
    for index, table in enumerate(tables, start=1):
        card = card_from_table(table, f"{path} card #{index}")
        deck[card.key] = card
    return deck
