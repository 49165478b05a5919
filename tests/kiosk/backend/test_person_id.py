"""A resident's ID number in the contract is checked by the one GB 11643 validator
(drivers.idcard.codes.gb11643_valid): check character and a real, past birth date."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from drivers.idcard.codes import with_check_char
from kiosk.backend import models as m


@pytest.mark.parametrize("number", [
    with_check_char("37050319850231123"),  # 31 February, right check character
    with_check_char("37050318991231123"),  # before 1900
    with_check_char("370503" + (dt.date.today() + dt.timedelta(days=400)).strftime("%Y%m%d") + "123"),  # future
])
def test_a_resident_id_with_an_impossible_birth_date_is_refused_without_showing_it(number):
    with pytest.raises(ValidationError) as caught:
        m.Person(id_number=number, name="李四")
    assert number not in str(caught.value) and "birth date" in str(caught.value)

