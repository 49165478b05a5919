"""Contract models: the catalogue schema exactly, and no personal data in validation errors."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend_support import catalog_items, resident_id
from kiosk.backend import models as m


def item_dict():
    return catalog_items()[0].model_dump(mode="json")


def test_every_catalogue_item_round_trips_through_json():
    for item in catalog_items():
        assert m.ServiceItem.model_validate_json(item.model_dump_json()) == item


def test_catalogue_item_has_exactly_the_shared_schema_keys():
    expected = {"code", "name", "type", "department", "level", "service_objects", "legal_basis", "conditions",
                "materials", "time_limit", "fees", "process", "locations", "phone", "kiosk", "result",
                "life_events", "keywords", "popularity"}
    # plus the optional application definition of items that can be applied for at a kiosk (issue 11)
    assert set(m.ServiceItem.model_fields) == expected | {"application"}
    assert set(m.Material.model_fields) == {"name", "copies", "format", "required", "sample", "note",
                                            "kiosk_capture"}


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.pop("phone"), "phone"),
    (lambda d: d.update(extra_key=1), "extra_key"),
    (lambda d: d.update(type="行政许可证"), "type"),
    (lambda d: d.update(level="省级"), "level"),
    (lambda d: d["time_limit"].update(kind="即办件", promised_days=3), "time_limit"),
    (lambda d: d.update(popularity=101), "popularity"),
    (lambda d: d.update(code="GA-0001"), "code"),
])
def test_an_item_off_schema_is_refused_naming_the_field(mutate, where):
    data = item_dict()
    mutate(data)
    with pytest.raises(ValidationError) as caught:
        m.ServiceItem.model_validate(data)
    assert where in str(caught.value)


def test_resident_id_check_character_is_enforced():
    good = resident_id()
    m.Person(id_number=good, name="李四")
    m.Person(id_number=good.lower(), name="李四")  # a lowercase x is normalised
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        m.Person(id_number=bad, name="李四")


def test_validation_errors_never_contain_the_personal_data_given():
    bad_id = resident_id()[:-1] + "9" if not resident_id().endswith("9") else resident_id()[:-1] + "8"
    with pytest.raises(ValidationError) as caught:
        m.Person(id_number=bad_id, name="王小明", phone="1381234567x")
    text = str(caught.value)
    assert bad_id not in text
    assert "王小明" not in text
    assert "1381234567x" not in text


@pytest.mark.parametrize("data, ok", [
    (dict(acceptance_number="370503-20250101-000001", level=5), True),
    (dict(acceptance_number="370503-20250101-000001", level=2, reasons=["slow"], comment="等了很久"), True),
    (dict(acceptance_number="370503-20250101-000001", level=1), False),  # 非常不满意 needs a reason
    (dict(acceptance_number="370503-20250101-000001", level=4, reasons=["slow"]), False),
    (dict(level=5), False),  # not tied to a case
    (dict(application_key="abcdef0123456789:create", level=3), True),
    (dict(acceptance_number="370503-20250101-000001", level=6), False),
    (dict(acceptance_number="370503-20250101-000001", level=2, reasons=["rude"]), False),
])
def test_rating_rules(data, ok):
    if ok:
        m.RatingCreate(**data)
    else:
        with pytest.raises(ValidationError):
            m.RatingCreate(**data)


def test_pickup_verification_needs_the_credential_of_its_method():
    m.PickupVerify(method="pickup_code", pickup_code="123456")
    with pytest.raises(ValidationError):
        m.PickupVerify(method="id_card")
    with pytest.raises(ValidationError):
        m.PickupVerify(method="pickup_code", pickup_code="12345")


def test_a_rejection_must_state_a_reason():
    with pytest.raises(ValidationError):
        m.ClerkDecision(approve=False, reasons=["  "])
    assert m.ClerkDecision(approve=False, reasons=["材料不全"]).remedies is None
