"""Application definitions as data in the catalogue, and ``kiosk catalog check`` on them (issue 11)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.catalog.items import items_from_dicts, load_catalog_file
from kiosk.catalog.service import DEMO_CATALOG_PATH
from refbackend.seed import CatalogFileError
from refbackend.seed import load_catalog_file as load_contract_items

ROOT = Path(__file__).resolve().parents[3]
ALLOWANCE = "370503-XZ-0004"


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return json.loads(DEMO_CATALOG_PATH.read_text(encoding="utf-8"))


def record(records, code: str) -> dict:
    return copy.deepcopy(next(r for r in records if r["code"] == code))


def test_the_demo_catalogue_offers_seven_items_for_applying_here():
    items = load_catalog_file(DEMO_CATALOG_PATH).items
    here = {item.name for item in items if item.can_apply_here}
    assert here == {"高龄津贴发放", "老年人优待证办理", "残疾人两项补贴申请", "城乡居民基本养老保险待遇申领", "生育登记",
                    "临时救助", "异地就医备案"}
    assert all(item.for_persons for item in items if item.can_apply_here)
    assert len(load_contract_items()) == len(items)  # the backend's contract accepts every definition


def test_the_elderly_allowance_is_defined_as_the_guide_says():
    item = next(i for i in load_catalog_file(DEMO_CATALOG_PATH).items if i.code == ALLOWANCE)
    spec = item.application
    typed = [f.key for f in spec.fields if f.source in ("typed", "id.phone")]
    assert typed == ["phone"]  # one field to type: 联系电话 (pre-filled when an identity code brings it)
    names = [m["name"] for m in item.data["materials"]]
    by_index = {m.index: m for m in spec.materials}
    assert by_index[0].satisfied_by_card and names[0] == "老人居民身份证或户口簿"
    assert by_index[1].kind == "card" and by_index[1].pages == 1 and names[1] == "老人本人的银行卡或社保卡"
    assert by_index[2].agent_only and names[2] == "代办人居民身份证"
    assert [(c.kind, c.years, c.from_month_start) for c in spec.conditions] == [("min_age", 80, True)]
    assert item.data["time_limit"] == {"kind": "承诺件", "statutory_days": 20, "promised_days": 10}


@pytest.mark.parametrize("change, words", [
    (lambda r: r["application"]["materials"].pop(1), "required material 1"),
    (lambda r: r["application"]["materials"][1].update(index=9), "index 9"),
    (lambda r: r["application"]["fields"][3].update(pattern="[0-9"), "not a regular expression"),
    (lambda r: r["application"]["fields"].append({"key": "x", "label": "选项", "type": "choice"}), "two options"),
    (lambda r: r["application"]["fields"].append({"key": "phone", "label": "电话"}), "used twice"),
    (lambda r: r["kiosk"].update(can_apply=False), "cannot be applied for"),
    (lambda r: r["application"]["fields"][1].update(type="text"), "needs type id_number"),
])
def test_a_broken_definition_is_reported_and_the_item_stays_window_only(records, change, words, tmp_path):
    broken = record(records, ALLOWANCE)
    change(broken)
    report = items_from_dicts([broken])
    assert not report.items[0].can_apply_here
    assert any(words in problem and ALLOWANCE in problem for problem in report.problems), report.problems
    path = tmp_path / "broken-catalog.json"
    path.write_text(json.dumps([broken], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogFileError):  # and the reference backend refuses to seed it
        load_contract_items(path)


def test_kiosk_catalog_check_lists_the_items_and_fails_on_a_broken_definition(records, tmp_path):
    good = subprocess.run([sys.executable, "-m", "kiosk.cli", "catalog", "check"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "applications: 7 items can be applied for at the kiosk" in good.stdout
    assert "carry no application definition" in good.stdout
    broken = record(records, ALLOWANCE)
    broken["application"]["materials"][1]["example"] = "no_such_picture"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([broken], ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "kiosk.cli", "catalog", "check", str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "example picture 'no_such_picture' not found" in bad.stdout
