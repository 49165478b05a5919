"""The demo service catalogue (assets/catalog/hekou_items.json) is complete enough to demo with.

A resident browsing the kiosk would notice a missing guide element, a broken enum, an item
without materials or a catalogue that only covers a corner of the district; these tests
guard the shape and the mix described in assets/catalog/README.md.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

CATALOG_PATH = Path(__file__).resolve().parents[2] / "assets" / "catalog" / "hekou_items.json"

ITEM_TYPES = {"行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政检查", "其他行政权力", "公共服务"}
LEVELS = {"区级", "镇街级", "村居级"}
SERVICE_OBJECTS = {"自然人", "法人", "非法人组织"}
MATERIAL_FORMATS = {"原件", "复印件", "原件及复印件", "电子材料", "照片"}
TIME_LIMIT_KINDS = {"即办件", "承诺件"}
LIFE_EVENTS = {
    "出生", "上学", "就业", "创业", "结婚", "生育", "住房", "就医", "社保", "养老", "退休",
    "残疾人服务", "退役军人", "身后事", "出行", "经营", "农业生产",
}
TOWNS = ["六合街道", "河口街道", "义和镇", "仙河镇", "孤岛镇", "新户镇"]

ITEM_KEYS = {
    "code": str, "name": str, "type": str, "department": str, "level": str,
    "service_objects": list, "legal_basis": list, "conditions": list, "materials": list,
    "time_limit": dict, "fees": dict, "process": list, "locations": list, "phone": str,
    "kiosk": dict, "result": str, "life_events": list, "keywords": list, "popularity": int,
}
MATERIAL_KEYS = {
    "name": str, "copies": int, "format": str, "required": bool, "sample": str, "note": str,
    "kiosk_capture": bool,
}


@pytest.fixture(scope="module")
def items() -> list[dict]:
    data = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _label(item: dict) -> str:
    return f"{item.get('code')} {item.get('name')}"


def test_catalogue_has_at_least_160_items(items):
    assert len(items) >= 160


def test_codes_are_unique_and_follow_the_division_pattern(items):
    codes = [item["code"] for item in items]
    duplicates = [code for code, n in Counter(codes).items() if n > 1]
    assert not duplicates
    bad = [code for code in codes if not re.fullmatch(r"370503-[A-Z]{2,4}-\d{4}", code)]
    assert not bad


def test_one_department_per_code_prefix(items):
    departments_by_prefix: dict[str, set[str]] = {}
    for item in items:
        prefix = item["code"].split("-")[1]
        departments_by_prefix.setdefault(prefix, set()).add(item["department"])
    mixed = {prefix: deps for prefix, deps in departments_by_prefix.items() if len(deps) > 1}
    assert not mixed


def test_every_item_has_every_key_with_the_right_type(items):
    for item in items:
        # "application": the optional application definition (issue 11), checked in test_apply_definitions
        assert set(item) - {"application"} == set(ITEM_KEYS), _label(item)
        for key, expected in ITEM_KEYS.items():
            value = item[key]
            assert isinstance(value, expected) and not isinstance(value, bool), (_label(item), key)
        for key in ("code", "name", "department", "phone"):
            assert item[key].strip(), (_label(item), key)
        for key in ("service_objects", "legal_basis", "conditions", "process", "locations", "materials"):
            assert item[key], (_label(item), key)
        for key in ("legal_basis", "conditions", "process", "keywords", "life_events"):
            assert all(isinstance(s, str) and s.strip() for s in item[key]), (_label(item), key)


def test_enums_are_valid(items):
    for item in items:
        assert item["type"] in ITEM_TYPES, _label(item)
        assert item["level"] in LEVELS, _label(item)
        assert set(item["service_objects"]) <= SERVICE_OBJECTS, _label(item)
        assert item["time_limit"]["kind"] in TIME_LIMIT_KINDS, _label(item)
        for material in item["materials"]:
            assert material["format"] in MATERIAL_FORMATS, (_label(item), material["name"])


def test_every_level_is_represented(items):
    assert {item["level"] for item in items} == LEVELS


def test_time_limits_are_consistent(items):
    for item in items:
        limit = item["time_limit"]
        assert set(limit) == {"kind", "statutory_days", "promised_days"}, _label(item)
        statutory, promised = limit["statutory_days"], limit["promised_days"]
        assert isinstance(statutory, int) and isinstance(promised, int), _label(item)
        assert 0 <= promised <= statutory, _label(item)
        if limit["kind"] == "即办件":
            assert promised == 0, _label(item)
        else:
            assert promised >= 1, _label(item)


def test_at_least_a_third_are_done_on_the_spot(items):
    on_the_spot = [i for i in items if i["time_limit"]["promised_days"] == 0]
    assert len(on_the_spot) * 3 >= len(items)
    assert any(i["time_limit"]["kind"] == "承诺件" for i in items)


def test_kiosk_flags(items):
    for item in items:
        kiosk = item["kiosk"]
        assert set(kiosk) == {"can_apply", "can_pickup"}, _label(item)
        assert all(isinstance(v, bool) for v in kiosk.values()), _label(item)
        if kiosk["can_pickup"]:
            assert item["result"].strip(), f"{_label(item)}: nothing to pick up"
    assert sum(item["kiosk"]["can_apply"] for item in items) >= 60
    assert any(not item["kiosk"]["can_apply"] for item in items)


def test_window_only_items_say_where_to_go(items):
    for item in items:
        for location in item["locations"]:
            assert set(location) == {"name", "address", "hours"}, _label(item)
            assert all(isinstance(v, str) and v.strip() for v in location.values()), _label(item)


def test_at_least_eight_departments(items):
    assert len({item["department"] for item in items}) >= 8


def test_all_six_towns_and_streets_appear(items):
    text = json.dumps(items, ensure_ascii=False)
    missing = [town for town in TOWNS if town not in text]
    assert not missing


def test_every_material_has_a_name_and_format(items):
    for item in items:
        for material in item["materials"]:
            assert set(material) == set(MATERIAL_KEYS), _label(item)
            for key, expected in MATERIAL_KEYS.items():
                assert isinstance(material[key], expected), (_label(item), key)
            assert material["name"].strip() and material["format"].strip(), _label(item)
            assert material["copies"] >= 0, _label(item)


def test_keywords_for_most_items(items):
    with_keywords = [i for i in items if i["keywords"]]
    assert len(with_keywords) >= 0.8 * len(items)


def test_life_events_come_from_the_allowed_list(items):
    for item in items:
        assert set(item["life_events"]) <= LIFE_EVENTS, _label(item)


def test_fees_phone_and_popularity(items):
    for item in items:
        fees = item["fees"]
        assert set(fees) == {"charged", "description"}, _label(item)
        assert isinstance(fees["charged"], bool) and fees["description"].strip(), _label(item)
        assert re.fullmatch(r"0546-\d{7}", item["phone"]), _label(item)
        assert 0 <= item["popularity"] <= 100, _label(item)


def test_legal_basis_names_a_document(items):
    for item in items:
        for basis in item["legal_basis"]:
            assert basis.startswith("《") and "》" in basis, (_label(item), basis)
