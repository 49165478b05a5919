"""The 256-byte card text: every field at the offset the standard gives, all four card types."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples

from drivers.idcard.card import LONG_TERM, CardType
from drivers.idcard.cardtext import CardDataError, encode_card_text, parse_card_text
from drivers.idcard.codes import NATIONS, gb11643_check_char, gb11643_valid, with_check_char
from drivers.idcard.deck import builtin_deck


def layout(**fields: tuple[int, str]) -> bytes:
    """A text block built by hand from (offset, value) pairs, independent of the encoder."""
    buffer = bytearray(" ".encode("utf-16-le") * 128)
    for offset, value in fields.values():
        encoded = value.encode("utf-16-le")
        buffer[offset:offset + len(encoded)] = encoded
    return bytes(buffer)


def test_resident_card_fields_at_their_offsets():
    text = layout(name=(0, "李建军"), gender=(30, "1"), nation=(32, "01"), birth=(36, "19850312"),
                  address=(52, "山东省东营市河口区海宁路188号"), number=(122, "370503198503121231"),
                  issuer=(158, "东营市公安局河口分局"), start=(188, "20190420"), end=(204, "20390420"))
    card = parse_card_text(text, b"W" * 1024)
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.gender, card.nation, card.birth_date) == ("李建军", "男", "汉", "1985-03-12")
    assert card.address == "山东省东营市河口区海宁路188号"
    assert card.id_number == "370503198503121231" and card.issuer == "东营市公安局河口分局"
    assert (card.valid_from, card.valid_to) == ("2019-04-20", "2039-04-20")
    assert card.to_json()["photo_wlt_bytes"] == 1024


def test_long_term_validity_is_kept_as_changqi():
    text = layout(name=(0, "刘桂英"), gender=(30, "2"), nation=(32, "01"), birth=(36, "19480615"),
                  number=(122, "370503194806152045"), start=(188, "20120710"), end=(204, "长期"))
    card = parse_card_text(text)
    assert card.valid_to == LONG_TERM and card.gender == "女" and not card.is_expired()


def test_hong_kong_macao_taiwan_permit_flag_j():
    text = layout(name=(0, "陈嘉欣"), gender=(30, "2"), birth=(36, "19920315"), address=(52, "河口区黄河路56号"),
                  number=(122, "810000199203150028"), issuer=(158, "东营市公安局河口分局"), start=(188, "20230601"),
                  end=(204, "20280601"), pass_number=(220, "H60123456"), count=(238, "01"), flag=(248, "J"))
    card = parse_card_text(text)
    assert card.card_type is CardType.HK_MO_TW_PERMIT
    assert (card.pass_number, card.issue_count, card.nation) == ("H60123456", 1, "")
    data = card.to_json()
    assert data["card_type"] == "hk_mo_tw_permit" and data["pass_number"] == "H60123456"
    assert data["issue_count"] == 1 and data["nation"] is None


def test_foreign_permanent_2017_flag_i():
    text = layout(english=(0, "WILLIAMS, JOHN ROBERT"), gender=(120, "1"), number=(122, "USA378506120037"),
                  nationality=(152, "USA"), chinese=(158, "威廉斯"), start=(188, "20171001"), end=(204, "20271001"),
                  birth=(220, "19850612"), version=(236, "01"), authority=(240, "1500"), flag=(248, "I"))
    card = parse_card_text(text)
    assert card.card_type is CardType.FOREIGN_PERMANENT_2017
    assert (card.name, card.english_name, card.nationality) == ("威廉斯", "WILLIAMS, JOHN ROBERT", "USA")
    assert (card.id_number, card.birth_date, card.authority_code) == ("USA378506120037", "1985-06-12", "1500")


def test_foreign_permanent_2017_without_chinese_name_uses_the_english_name():
    text = layout(english=(0, "DOE, JANE"), gender=(120, "2"), number=(122, "GBR378506120036"),
                  nationality=(152, "GBR"), start=(188, "20171001"), end=(204, "20271001"),
                  birth=(220, "19850612"), flag=(248, "I"))
    assert parse_card_text(text).to_json()["name"] == "DOE, JANE"


def test_foreign_permanent_2023_flag_y_with_continued_english_name():
    english = "MONTGOMERY-WILLIAMSON, ALEXANDRA CATHERINE"
    text = layout(chinese=(0, "蒙雅丽"), gender=(30, "2"), renewal=(32, "00"), birth=(36, "19900315"),
                  english=(52, english[:35]), number=(122, "937840199003150021"), start=(188, "20231201"),
                  end=(204, "20331201"), more=(220, english[35:]), nationality=(242, "USA"), flag=(248, "Y"))
    card = parse_card_text(text)
    assert card.card_type is CardType.FOREIGN_PERMANENT_2023
    assert card.english_name == english and card.name == "蒙雅丽" and card.renewal_count == 0
    assert card.to_json()["nationality"] == "USA"


@pytest.mark.parametrize("key", sorted(builtin_deck()))
def test_every_deck_card_round_trips(key):
    card = builtin_deck()[key].card
    parsed = parse_card_text(encode_card_text(card), card.photo_wlt)
    assert dataclasses.replace(parsed, appended_address=card.appended_address) == card


def test_deck_covers_all_types_expired_and_rare_characters():
    deck = builtin_deck()
    assert {c.card.card_type for c in deck.values()} == set(CardType)
    assert any(c.card.is_expired() for c in deck.values())
    assert any(not c.card.is_expired() for c in deck.values())
    assert any(any(0x3400 <= ord(ch) <= 0x4DBF for ch in c.card.name) for c in deck.values())


def test_gb11643_check_digit_including_x():
    assert gb11643_valid("11010519491231002X")  # the standard's own example
    assert gb11643_valid("11010519491231002x")
    assert gb11643_check_char("11010519491231002") == "X"
    assert not gb11643_valid("110105194912310021")
    assert not gb11643_valid("11010519491231002")
    assert not gb11643_valid("11010519491231002XX") and not gb11643_valid("")
    assert not gb11643_valid("１１０１０５１９４９１２３１００２X")  # full-width digits
    assert not gb11643_valid(None)


@pytest.mark.parametrize("number", [
    "370503198503121231",  # resident cards of the deck
    "370503194806152045",
    "650102197803041510",
    "810000199203150028",  # Hong Kong residence permit
    "830000198709110014",  # Taiwan residence permit
    "937840199003150021",  # 2023 foreign permanent residence card
    with_check_char("82000020000229001"),  # Macao permit, born on a leap day
    with_check_char("37050319000101001"),  # born on the first day allowed
])
def test_real_citizen_numbers_are_valid(number):
    assert gb11643_valid(number)


@pytest.mark.parametrize("birth", ["19850231", "19851301", "19850001", "19850100", "20230229", "19000229",
                                   "18991231", "00000000", "99999999"])
def test_impossible_birth_dates_are_refused_even_with_the_right_check_character(birth):
    number = with_check_char(f"370503{birth}123")
    assert gb11643_check_char(number[:17]) == number[17] and not gb11643_valid(number)


def test_a_birth_date_after_today_is_refused():
    today = dt.date(2026, 6, 12)
    born_today = with_check_char("370503" + today.strftime("%Y%m%d") + "123")
    born_tomorrow = with_check_char("370503" + (today + dt.timedelta(days=1)).strftime("%Y%m%d") + "123")
    assert gb11643_valid(born_today, today=today) and not gb11643_valid(born_tomorrow, today=today)
    next_year = dt.date.today() + dt.timedelta(days=366)
    assert not gb11643_valid(with_check_char("370503" + next_year.strftime("%Y%m%d") + "123"))


@pytest.mark.parametrize("key", sorted(builtin_deck()))
def test_every_18_character_number_in_the_deck_is_valid(key):
    card = builtin_deck()[key].card
    assert gb11643_valid(card.id_number) == (card.card_type is not CardType.FOREIGN_PERMANENT_2017)


@pytest.mark.parametrize("number,flag", [
    (with_check_char("37050320300101123"), " "),  # born in 2030
    (with_check_char("37050319850231123"), " "),  # born on 31 February
    (with_check_char("81000020300101002"), "J"),
    (with_check_char("93784019850231002"), "Y"),
])
def test_a_card_whose_number_has_an_impossible_birth_date_is_refused(number, flag):
    if flag == " ":
        text = layout(name=(0, "李建军"), gender=(30, "1"), nation=(32, "01"), birth=(36, "19850312"),
                      number=(122, number), start=(188, "20190420"), end=(204, "20390420"))
    else:
        card = builtin_deck()["hk-permit" if flag == "J" else "foreign-2023"].card
        text = encode_card_text(dataclasses.replace(card, id_number=number))
    with pytest.raises(CardDataError) as caught:
        parse_card_text(text)
    assert "GB 11643" in str(caught.value) and number not in str(caught.value)


def test_wrong_check_digit_is_refused_without_personal_data_in_the_message():
    text = layout(name=(0, "李建军"), gender=(30, "1"), nation=(32, "01"), birth=(36, "19850312"),
                  number=(122, "370503198503121232"), start=(188, "20190420"), end=(204, "20390420"))
    with pytest.raises(CardDataError) as caught:
        parse_card_text(text)
    assert "GB 11643" in str(caught.value) and caught.value.raw == text
    assert "李建军" not in str(caught.value) and "370503198503121232" not in str(caught.value)


def test_all_56_nations_and_97_98_are_named():
    assert len(NATIONS) == 58
    assert NATIONS["01"] == "汉" and NATIONS["56"] == "基诺" and NATIONS["97"] == "其他"
    assert NATIONS["98"] == "外国血统中国籍人士"
    assert [f"{n:02d}" for n in range(1, 57)] == [k for k in NATIONS if k not in ("97", "98")]


@pytest.mark.parametrize("field,value", [("nation", (32, "77")), ("birth", (36, "19851399")),
                                         ("gender", (30, "5")), ("flag", (248, "Q"))])
def test_impossible_values_are_refused(field, value):
    fields = dict(name=(0, "李建军"), gender=(30, "1"), nation=(32, "01"), birth=(36, "19850312"),
                  number=(122, "370503198503121231"), start=(188, "20190420"), end=(204, "20390420"))
    fields[field] = value
    with pytest.raises(CardDataError):
        parse_card_text(layout(**fields))


def test_card_repr_never_shows_the_holder():
    card = builtin_deck()["resident"].card
    assert "李建军" not in repr(card) and "370503" not in repr(card) and "李建军" not in str(card)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_random_text_blocks_parse_or_raise_card_data_error(text):
    try:
        parse_card_text(text)
    except CardDataError as exc:
        assert exc.raw == text


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.sampled_from(sorted(builtin_deck())), st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)),
                                                         min_size=1, max_size=6))
def test_mutated_genuine_text_parses_or_raises_card_data_error(key, changes):
    text = bytearray(encode_card_text(builtin_deck()[key].card))
    for position, value in changes:
        text[position] = value
    try:
        card = parse_card_text(bytes(text))
    except CardDataError:
        return
    assert card.card_type in CardType and card.to_json()["card_type"]
