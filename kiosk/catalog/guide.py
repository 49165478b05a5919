"""The plain-language guide (办事指南) of one item, laid out for reading on the kiosk.

``build_guide`` turns an item's record into headed sections — conditions, materials,
time limit, fees, process, where to go, phone, legal basis — skipping what the record
does not have (a catalogue may carry only ``code`` and ``name``), and never failing on a
field of an unexpected shape. Headings and the few composed phrases go through ``tr``
(kiosk.i18n), the catalogue's own wording is shown as written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Collection

from kiosk.catalog.items import CatalogItem

Translate = Callable[..., str]


@dataclass(frozen=True)
class GuideLine:
    text: str
    detail: str = ""       # a second, smaller line (a material's sample, an address)
    emphasis: bool = False  # e.g. a required material


@dataclass(frozen=True)
class GuideSection:
    title_key: str
    lines: tuple[GuideLine, ...]
    numbered: bool = False


@dataclass(frozen=True)
class Guide:
    code: str
    name: str
    facts: tuple[str, ...]                # short badges: 即办件, 不收费, 可在本机申请 …
    sections: tuple[GuideSection, ...] = field(default_factory=tuple)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def time_limit_text(record: dict, tr: Translate) -> str:
    limit = record.get("time_limit")
    if not isinstance(limit, dict):
        return ""
    promised, statutory = _int(limit.get("promised_days")), _int(limit.get("statutory_days"))
    if limit.get("kind") == "即办件" or promised == 0:
        return tr("guide.time_on_the_spot")
    if promised:
        text = tr("guide.time_promised", days=promised)
        if statutory and statutory != promised:
            text += tr("guide.time_statutory", days=statutory)
        return text
    if statutory:
        return tr("guide.time_statutory_only", days=statutory)
    return ""


def fee_text(record: dict, tr: Translate) -> str:
    fees = record.get("fees")
    if not isinstance(fees, dict):
        return ""
    description = fees.get("description") if isinstance(fees.get("description"), str) else ""
    if fees.get("charged") is False:
        return description.strip() or tr("guide.free")
    return description.strip()


def build_guide(item: CatalogItem, tr: Translate, offers: Collection[str] = ()) -> Guide:
    """The plain-language guide of ``item``. ``offers`` names the services this terminal really
    has ("apply", "pickup"): a badge never promises what the kiosk cannot do yet."""
    record = item.data if isinstance(item.data, dict) else {}
    facts: list[str] = []
    limit = record.get("time_limit") if isinstance(record.get("time_limit"), dict) else {}
    if limit.get("kind") == "即办件" or (limit and _int(limit.get("promised_days")) == 0):
        facts.append(tr("guide.fact_on_the_spot"))
    elif _int(limit.get("promised_days")):
        facts.append(tr("guide.fact_days", days=_int(limit.get("promised_days"))))
    fees = record.get("fees") if isinstance(record.get("fees"), dict) else {}
    if fees.get("charged") is False:
        facts.append(tr("guide.free"))
    elif fees.get("charged") is True:
        facts.append(tr("guide.fact_fee"))
    if not item.can_apply_here:  # applying here needs the item's application definition too
        facts.append(tr("guide.fact_window_only"))
    elif "apply" in offers:
        facts.append(tr("guide.fact_kiosk_apply"))
    if item.can_pickup and "pickup" in offers:
        facts.append(tr("guide.fact_kiosk_pickup"))

    sections: list[GuideSection] = []
    about = []
    if item.department:
        about.append(GuideLine(tr("guide.department", name=item.department)))
    if item.type or item.level:
        about.append(GuideLine(" · ".join(x for x in (item.type, item.level) if x)))
    if item.service_objects:
        about.append(GuideLine(tr("guide.for_whom", who="、".join(item.service_objects))))
    if item.result:
        about.append(GuideLine(tr("guide.result", result=item.result)))
    if about:
        sections.append(GuideSection("guide.about", tuple(about)))

    conditions = _texts(record.get("conditions"))
    if conditions:
        sections.append(GuideSection("guide.conditions", tuple(GuideLine(c) for c in conditions), numbered=True))

    materials = []
    for material in record.get("materials") or []:
        if not isinstance(material, dict) or not isinstance(material.get("name"), str):
            continue
        parts = []
        if isinstance(material.get("format"), str) and material["format"]:
            parts.append(material["format"])
        copies = _int(material.get("copies"))
        if copies:
            parts.append(tr("guide.copies", n=copies))
        required = material.get("required") is not False
        parts.append(tr("guide.required") if required else tr("guide.optional"))
        text = material["name"].strip() + "（" + "，".join(parts) + "）"
        detail = " ".join(x.strip() for x in (material.get("sample"), material.get("note"))
                          if isinstance(x, str) and x.strip())
        materials.append(GuideLine(text, detail, emphasis=required))
    if materials:
        sections.append(GuideSection("guide.materials", tuple(materials), numbered=True))

    when = time_limit_text(record, tr)
    if when:
        sections.append(GuideSection("guide.time_limit", (GuideLine(when),)))
    fee = fee_text(record, tr)
    if fee:
        sections.append(GuideSection("guide.fees", (GuideLine(fee),)))
    steps = _texts(record.get("process"))
    if steps:
        sections.append(GuideSection("guide.process", (GuideLine(" → ".join(steps)),)))

    places = []
    for place in record.get("locations") or []:
        if not isinstance(place, dict) or not isinstance(place.get("name"), str):
            continue
        detail = "；".join(x.strip() for x in (place.get("address"), place.get("hours"))
                          if isinstance(x, str) and x.strip())
        places.append(GuideLine(place["name"].strip(), detail))
    if places:
        sections.append(GuideSection("guide.where", tuple(places)))
    phone = record.get("phone")
    if isinstance(phone, str) and phone.strip():
        sections.append(GuideSection("guide.phone", (GuideLine(phone.strip(), emphasis=True),)))
    basis = _texts(record.get("legal_basis"))
    if basis:
        sections.append(GuideSection("guide.basis", tuple(GuideLine(b) for b in basis)))
    return Guide(item.code, item.name, tuple(facts), tuple(sections))
