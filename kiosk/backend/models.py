"""The kiosk ↔ acceptance-system contract as typed models (pydantic v2).

Both sides use these classes: the client parses every response with them, the reference
backend declares its endpoints with them, and the OpenAPI document is generated from
them (``docs/api/openapi.json``). The catalogue models follow the shared catalogue schema
(``assets/catalog/hekou_items.json``) key for key.

Every model forbids unknown keys and hides input values in validation errors, so that a
rejected ID number or name never ends up in an exception message or a log line.

``EmbeddedBackend`` (at the end) is the one plain dataclass here: what the entry layer hands
the kiosk's backend services when it started a backend in-process for the demo.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator

from drivers.idcard.codes import gb11643_valid

# ---------------------------------------------------------------------------------------
# Shared bits


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def error_location(problem: dict) -> str:
    """Where a validation problem lies (``pages.0.sha256``), naming no input.

    pydantic hides input *values*, but a location holds the input's own keys: a key the
    contract does not name (``{"370503…": null}``) or a key of a free-form map. Only field
    names and list positions are shown; any other part is ``?``, an unknown key ``(unknown key)``."""
    parts = [str(part) if isinstance(part, int) or _FIELD_NAME.fullmatch(str(part)) else "?"
             for part in problem.get("loc", ())]
    if problem.get("type") == "extra_forbidden" and parts:
        parts[-1] = "(unknown key)"
    return ".".join(parts)


# Strict: a JSON true is not the number 1, and "yes" is not true.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]


def _not_a_number(value: object) -> object:
    if isinstance(value, (int, float)):
        raise ValueError("dates and times are ISO 8601 strings, e.g. 2025-03-04T09:30:00+08:00")
    return value


# A number is not a date: only ISO 8601 text (or a date object in Python).
DateTime = Annotated[datetime, BeforeValidator(_not_a_number)]
Day = Annotated[date, BeforeValidator(_not_a_number)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=2000)]
IdempotencyKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:_.-]{7,127}$")]
AcceptanceNumber = Annotated[str, Field(pattern=r"^[A-Z0-9-]{6,40}$",
                                        description="受理编号, e.g. 370503-20250304-000017")]
ItemCode = Annotated[str, Field(pattern=r"^\d{6}-[A-Z][A-Z0-9]{0,9}-\d{4}$", description="事项编码, e.g. 370503-GA-0001")]


class FieldProblem(ContractModel):
    field: str
    problem: str


class ErrorDetail(ContractModel):
    code: str = Field(description="stable machine-readable code, e.g. bad_signature, missing_materials")
    message: str = Field(description="one plain sentence for a technician; never contains personal data")
    fields: list[FieldProblem] = Field(default_factory=list)
    attempts_left: Int | None = Field(None, ge=0, description="wrong_pin: PIN attempts left before the grid "
                                                              "worker is locked")
    retry_after_seconds: Int | None = Field(None, ge=0, description="pin_locked: seconds until the grid worker "
                                                                    "may try again")


class ErrorBody(ContractModel):
    error: ErrorDetail


# ---------------------------------------------------------------------------------------
# Catalogue (事项 and 办事指南)

ItemType = Literal["行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政检查", "其他行政权力", "公共服务"]
ItemLevel = Literal["区级", "镇街级", "村居级"]
ServiceObject = Literal["自然人", "法人", "非法人组织"]
MaterialFormat = Literal["原件", "复印件", "原件及复印件", "电子材料", "照片"]
LifeEvent = Literal["出生", "上学", "就业", "创业", "结婚", "生育", "住房", "就医", "社保", "养老", "退休",
                    "残疾人服务", "退役军人", "身后事", "出行", "经营", "农业生产"]


class Material(ContractModel):
    name: str = Field(min_length=1, max_length=200)
    copies: Int = Field(ge=0, le=99)
    format: MaterialFormat
    required: Bool
    sample: str = Field(max_length=2000, description="what a good one looks like, or empty")
    note: str = Field(max_length=2000)
    kiosk_capture: Bool = Field(description="the kiosk's document camera can capture it")


class TimeLimit(ContractModel):
    kind: Literal["即办件", "承诺件"]
    statutory_days: Int = Field(ge=0, le=3650, description="法定办结时限 in working days")
    promised_days: Int = Field(ge=0, le=3650, description="承诺办结时限 in working days; 0 for 即办件")

    @model_validator(mode="after")
    def _consistent(self) -> "TimeLimit":
        if self.kind == "即办件" and self.promised_days != 0:
            raise ValueError("a 即办件 has promised_days 0")
        if self.kind == "承诺件" and self.promised_days < 1:
            raise ValueError("a 承诺件 promises at least one day")
        return self


class Fees(ContractModel):
    charged: Bool
    description: str = Field(min_length=1, max_length=2000)


class Location(ContractModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(max_length=300)
    hours: str = Field(max_length=200)


class KioskAbility(ContractModel):
    can_apply: Bool
    can_pickup: Bool


# -- Applications at the kiosk (issue 11): the application definition an item carries -------
#
# An item that can be applied for at a terminal (``kiosk.can_apply``) carries, as data, what
# the kiosk asks for: the form's fields (type, validation, where the value comes from), how
# each material is provided (photographed with its kind and page count, satisfied by the ID
# card just read, replaced by an electronic licence or by signing a 告知承诺), the conditions
# the card can prove, how the result may be delivered, and the consent texts. 即办件 or 承诺件
# (with its promised working days) is the item's own ``time_limit``.

FieldType = Literal["text", "phone", "id_number", "digits", "date", "choice"]
FieldSource = Literal["typed", "id.name", "id.id_number", "id.address", "id.birth_date", "id.gender", "id.phone"]
MaterialKind = Literal["a4", "card", "photo"]
LicenceKind = Literal["hukou", "marriage", "disability", "social_security", "birth", "driving"]
DeliveryMethod = Literal["window", "post", "locker"]
FieldKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

LICENCE_TEXT: dict[str, str] = {
    "hukou": "居民户口簿", "marriage": "结婚证", "disability": "残疾人证", "social_security": "社会保障卡",
    "birth": "出生医学证明", "driving": "机动车驾驶证",
}
#: sources whose value the resident cannot change on the form (they come from the card); a field
#: whose source holds nothing (an identity code without an address) is typed instead
READ_ONLY_SOURCES = frozenset({"id.name", "id.id_number", "id.address", "id.birth_date", "id.gender"})


class FormFieldSpec(ContractModel):
    key: FieldKey = Field(description="the key in ApplicationCreate.form")
    label: str = Field(min_length=1, max_length=40, description="what the resident and the clerk read")
    type: FieldType = "text"
    source: FieldSource = Field("typed", description="typed, or pre-filled from the identity (ID card or code)")
    required: Bool = True
    editable: Bool | None = Field(None, description="default: false for the card's name, number, address, birth "
                                                    "date and gender, true otherwise")
    min_length: Int = Field(0, ge=0, le=2000)
    max_length: Int = Field(100, ge=1, le=2000)
    pattern: str = Field("", max_length=200, description="a regular expression the whole value must match")
    pattern_hint: str = Field("", max_length=100, description="what the pattern asks for, in plain words")
    options: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=12)
    hint: str = Field("", max_length=60, description="shown in the empty field")

    @model_validator(mode="after")
    def _consistent(self) -> "FormFieldSpec":
        if self.type == "choice" and len(self.options) < 2:
            raise ValueError(f"field {self.key}: a choice needs at least two options")
        if self.type != "choice" and self.options:
            raise ValueError(f"field {self.key}: options are only for type choice")
        if self.min_length > self.max_length:
            raise ValueError(f"field {self.key}: min_length is above max_length")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"field {self.key}: pattern is not a regular expression ({exc})") from None
        wanted = {"id.id_number": "id_number", "id.phone": "phone", "id.birth_date": "date"}.get(self.source)
        if wanted and self.type != wanted:
            raise ValueError(f"field {self.key}: source {self.source} needs type {wanted}")
        return self

    @property
    def is_editable(self) -> bool:
        return self.editable if self.editable is not None else self.source not in READ_ONLY_SOURCES


class MaterialSpec(ContractModel):
    index: Int = Field(ge=0, le=99, description="the material's position in the item's materials")
    kind: MaterialKind = Field(description="a4: a page; card: a card (ID-1 size); photo: a portrait or a scene")
    pages: Int = Field(1, ge=1, le=10, description="pages expected (both sides of a card are two pages)")
    satisfied_by_card: Bool = Field(False, description="the ID card the applicant identified with is this material")
    agent_only: Bool = Field(False, description="asked for only when a grid worker applies for the resident (代办)")
    licence: LicenceKind | None = Field(None, description="an electronic licence (电子证照) of this kind replaces it")
    commitment: str = Field("", max_length=1000, description="告知承诺: signing this text replaces the material")
    sensitive: Bool = Field(False, description="its image holds sensitive personal information (PIPL Arts. 28–29)")
    example: str = Field("", pattern=r"^[a-z0-9_]{0,40}$", description="example picture (assets/apply/examples)")
    where_to_get: str = Field("", max_length=200, description="for the 一次性告知单: where a resident gets it")


class ConditionSpec(ContractModel):
    kind: Literal["min_age", "max_age"]
    years: Int = Field(ge=0, le=150)
    from_month_start: Bool = Field(False, description="min_age: may apply from the first day of the birthday's "
                                                      "month (当月可申请)")
    text: str = Field(min_length=1, max_length=200, description="the condition in plain words")


class ApplicationSpec(ContractModel):
    """What the kiosk asks for when a resident applies for this item (data, not code)."""

    fields: list[FormFieldSpec] = Field(max_length=30)
    materials: list[MaterialSpec] = Field(default_factory=list, max_length=30)
    conditions: list[ConditionSpec] = Field(default_factory=list, max_length=10)
    delivery: list[DeliveryMethod] = Field(default_factory=lambda: ["window"], min_length=1, max_length=3)
    purpose: str = Field(min_length=1, max_length=500, description="consent: what the data is used for")
    collected: str = Field(min_length=1, max_length=500, description="consent: what is collected")
    retention: str = Field(min_length=1, max_length=300, description="consent: how long it is kept")

    @model_validator(mode="after")
    def _unique(self) -> "ApplicationSpec":
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("a form field key is used twice")
        indexes = [mat.index for mat in self.materials]
        if len(set(indexes)) != len(indexes):
            raise ValueError("a material index is used twice")
        if len(set(self.delivery)) != len(self.delivery):
            raise ValueError("a delivery method is listed twice")
        return self


def application_problems(spec: ApplicationSpec, materials: list, can_apply: bool,
                         service_objects: list[str]) -> list[str]:
    """What does not fit between an item and its application definition (``materials`` are the
    item's materials, as models or dicts)."""
    problems = []
    if not can_apply:
        problems.append("an application definition on an item that cannot be applied for at a kiosk")
    if "自然人" not in service_objects:
        problems.append("an application definition on an item that is not for persons (自然人)")

    def attr(material, key):
        return material.get(key) if isinstance(material, dict) else getattr(material, key, None)

    covered = set()
    for mat in spec.materials:
        if mat.index >= len(materials):
            problems.append(f"material index {mat.index}: the item lists only {len(materials)} materials")
            continue
        covered.add(mat.index)
        if mat.satisfied_by_card and mat.agent_only:
            problems.append(f"material {mat.index}: satisfied by the applicant's card, so it cannot be agent_only")
        if not attr(materials[mat.index], "kiosk_capture") and not (mat.commitment or mat.satisfied_by_card
                                                                    or mat.licence):
            problems.append(f"material {mat.index}: the camera cannot capture it (kiosk_capture false) and "
                            "nothing else provides it")
    for index, material in enumerate(materials):
        if attr(material, "required") and index not in covered:
            problems.append(f"required material {index} ({attr(material, 'name')}) is not in the definition")
    return problems



class ServiceItem(ContractModel):
    """One 事项 with every element of its 办事指南, exactly as in the shared catalogue schema."""

    code: ItemCode
    name: str = Field(min_length=1, max_length=200)
    type: ItemType
    department: str = Field(min_length=1, max_length=200)
    level: ItemLevel
    service_objects: list[ServiceObject] = Field(min_length=1)
    legal_basis: list[LongText]
    conditions: list[LongText]
    materials: list[Material]
    time_limit: TimeLimit
    fees: Fees
    process: list[ShortText]
    locations: list[Location]
    phone: str = Field(max_length=40)
    kiosk: KioskAbility
    result: str = Field(max_length=200)
    life_events: list[LifeEvent]
    keywords: list[Annotated[str, Field(max_length=50)]]
    popularity: Int = Field(ge=0, le=100)
    application: ApplicationSpec | None = Field(None, description="what the kiosk asks for when a resident "
                                                                  "applies here (issue 11)")

    @model_validator(mode="after")
    def _application_fits(self) -> "ServiceItem":
        if self.application is not None:
            problems = application_problems(self.application, list(self.materials), self.kiosk.can_apply,
                                            list(self.service_objects))
            if problems:
                raise ValueError("application: " + problems[0])
        return self


class CatalogPage(ContractModel):
    """Changes since ``since_version``: items added or changed, and codes removed."""

    version: Int = Field(ge=0, description="the catalogue version after applying this page")
    since_version: Int = Field(ge=0)
    items: list[ServiceItem]
    removed: list[ItemCode]
    has_more: Bool = Field(description="ask again with since_version=version for the rest")
    full: Bool = Field(description="true when this starts a complete catalogue: the terminal drops every item "
                                   "it has before applying it (first sync, or a backend that was reset)")


# ---------------------------------------------------------------------------------------
# People

IdType = Literal["resident_id", "hk_macao_permit", "taiwan_permit", "foreign_permanent", "passport"]

class Person(ContractModel):
    """The applicant (or holder) as read from an ID card or typed in."""

    id_type: IdType = "resident_id"
    id_number: str = Field(min_length=5, max_length=32)
    name: str = Field(min_length=1, max_length=60)
    phone: str = Field("", pattern=r"^(|1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
    address: str = Field("", max_length=200)

    @field_validator("id_number")
    @classmethod
    def _normalise_id(cls, value: str) -> str:
        return value.strip().upper()

    @model_validator(mode="after")
    def _check_id(self) -> "Person":
        if self.id_type == "resident_id" and not gb11643_valid(self.id_number):
            raise ValueError("id_number is not a valid resident ID number (check digit or birth date)")
        if self.id_type != "resident_id" and not re.fullmatch(r"[A-Z0-9]{5,32}", self.id_number):
            raise ValueError("id_number may contain letters and digits only")
        return self


class GridWorker(ContractModel):
    """A village grid worker (网格员) who applies on a resident's behalf (代办)."""

    worker_id: str = Field(pattern=r"^[A-Za-z0-9-]{2,32}$", description="the worker's staff number")
    name: str = Field(min_length=1, max_length=60)
    phone: str = Field("", pattern=r"^(|1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class HolderQuery(ContractModel):
    id_type: IdType = "resident_id"
    id_number: str = Field(min_length=5, max_length=32)

    @field_validator("id_number")
    @classmethod
    def _normalise_id(cls, value: str) -> str:
        return value.strip().upper()


IDENTITY_CODE_PATTERN = r"^HYBID:[A-Za-z0-9_-]{16,64}$"


class IdentityCodeQuery(ContractModel):
    """A personal identity code (电子身份码) shown on a resident's phone instead of the ID card."""

    code: str = Field(pattern=IDENTITY_CODE_PATTERN, repr=False,
                      description="the scanned text: HYBID: followed by 16–64 of A–Z a–z 0–9 _ -")


class ResolvedIdentity(ContractModel):
    person: Person = Field(description="the holder: id_type, id_number, name; phone and address when known")
    expires_at: DateTime = Field(description="the code is refused (410 identity_code_expired) from this moment")


# ---------------------------------------------------------------------------------------
# Grid workers (网格员) signing in for 代办

STAFF_CODE_PATTERN = r"^HYBSTAFF:[A-Za-z0-9_-]{8,64}$"
STAFF_CARD_PATTERN = r"^[0-9]{17}[0-9Xx]$"
PIN_ATTEMPTS = 5
PIN_LOCK_SECONDS = 15 * 60


class StaffCredential(ContractModel):
    kind: Literal["staff_code", "id_card"] = Field(
        description="staff_code: the text of the worker's staff QR code; id_card: the ID number read from the "
                    "worker's own ID card, which serves as the staff card")
    value: str = Field(pattern=r"^(HYBSTAFF:[A-Za-z0-9_-]{8,64}|[0-9]{17}[0-9Xx])$", repr=False)

    @model_validator(mode="after")
    def _value_fits_kind(self) -> "StaffCredential":
        if self.kind == "staff_code" and not re.fullmatch(STAFF_CODE_PATTERN, self.value):
            raise ValueError("a staff code is HYBSTAFF: followed by 8–64 letters, digits, _ or -")
        if self.kind == "id_card" and not re.fullmatch(STAFF_CARD_PATTERN, self.value):
            raise ValueError("a staff card is given by its 18-character ID number")
        return self


class StaffSignIn(ContractModel):
    """A grid worker's credential and PIN. The terminal never stores or logs either."""

    credential: StaffCredential
    pin: str = Field(pattern=r"^[0-9]{6}$", repr=False, description="the worker's 6-digit PIN")


# ---------------------------------------------------------------------------------------
# Staff calls (呼叫工作人员)

ScreenName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]{0,39}$",
                                  description="the screen the resident was on, e.g. apply.form")]


StaffAlert = Literal["door_left_open", "door_empty", "lock_jammed", "locker_silent", "pickup_interrupted"]
STAFF_ALERT_TEXT: dict[str, str] = {
    "door_left_open": "柜门未关闭",
    "door_empty": "柜门已开但柜内没有物品",
    "lock_jammed": "柜门锁打不开",
    "locker_silent": "柜门控制板无应答",
    "pickup_interrupted": "取件中途终端重启，未确认取件：请核对柜内物品",
}


class StaffCallCreate(ContractModel):
    """A resident pressed 呼叫工作人员, or the terminal needs a person at its locker (``alert``).
    No personal data: the terminal comes from the signature."""

    screen: ScreenName
    called_at: DateTime = Field(description="when the button was pressed, by the terminal's clock")
    alert: StaffAlert | None = Field(None, description="set when the terminal itself calls for a technician "
                                                       "(a locker problem during a pickup)")
    door: Int | None = Field(None, ge=1, le=999, description="the locker door concerned, with an alert")


class StaffCallReceipt(ContractModel):
    call_id: str
    screen: ScreenName
    called_at: DateTime
    recorded_at: DateTime
    alert: StaffAlert | None = None
    door: Int | None = None


class StaffCall(ContractModel):
    """A staff call as the back office sees it."""

    call_id: str
    terminal_id: str
    terminal_name: str
    screen: ScreenName
    called_at: DateTime
    recorded_at: DateTime
    handled_at: DateTime | None = None
    alert: StaffAlert | None = None
    door: Int | None = None


class StaffCallList(ContractModel):
    calls: list[StaffCall]


# ---------------------------------------------------------------------------------------
# Technician audit (issue 13): every entry to the hidden diagnostics and every action there

AuditEvent = Literal["entry_opened", "pin_wrong", "pin_locked", "signed_in", "signed_out", "action"]


class AuditEventCreate(ContractModel):
    """One technician event on a terminal. No personal data: names of actions and devices only."""

    event: AuditEvent = Field(description="entry_opened: the hidden gesture opened the PIN pad; pin_wrong, "
                                          "pin_locked, signed_in, signed_out; action: something done on the "
                                          "diagnostics screen")
    at: DateTime = Field(description="when it happened, by the terminal's clock")
    action: str = Field("", pattern=r"^[a-z0-9_.]{0,40}$", description="for action: e.g. print_test_page, "
                                                                       "open_door, health_check")
    device: str = Field("", pattern=r"^[a-z0-9_]{0,20}$", description="the device acted on, e.g. locker")
    detail: str = Field("", max_length=200, description="e.g. door 3, level external, lockout 60 s")
    outcome: Literal["", "ok", "failed", "refused"] = ""


class AuditReceipt(ContractModel):
    audit_id: str
    recorded_at: DateTime


class AuditRecord(ContractModel):
    """A technician event as the back office sees it."""

    audit_id: str
    terminal_id: str
    event: AuditEvent
    at: DateTime
    recorded_at: DateTime
    action: str = ""
    device: str = ""
    detail: str = ""
    outcome: str = ""


class AuditList(ContractModel):
    events: list[AuditRecord]


class HolderLookup(ContractModel):
    """One look-up of a person's cases by ID number (a terminal's by-holder, a clerk's filter)."""
    at: datetime
    asker: str = Field(max_length=80, description="terminal:<id> or clerk:<client address>")
    id_number_masked: str = Field(max_length=32, description="first four and last four characters only")
    found: Int | None = Field(None, ge=0, description="cases found; absent when the look-up was refused")
    refused: bool = Field(description="true when the asker had used up its look-ups (answered 429)")


class HolderLookupList(ContractModel):
    lookups: list[HolderLookup]


# ---------------------------------------------------------------------------------------
# Applications and materials

FormValue = Annotated[str, Field(max_length=2000)]


# -- issue 11: how each material was provided, the consent record, the delivery choice -------

class MaterialProvision(ContractModel):
    """How one material of the item was provided at the kiosk."""

    index: Int = Field(ge=0, le=99, description="the material's position in the item's materials")
    how: Literal["pages", "id_card", "e_licence", "commitment"] = Field(
        description="pages: photographed (its pages are uploaded); id_card: the ID card the applicant identified "
                    "with; e_licence: an electronic licence the backend holds (licence_id); commitment: the "
                    "applicant signed the item's 告知承诺 (the signed text is uploaded as the material's page)")
    licence_id: str | None = Field(None, pattern=r"^[A-Z0-9-]{4,40}$")

    @model_validator(mode="after")
    def _licence(self) -> "MaterialProvision":
        if (self.how == "e_licence") != (self.licence_id is not None):
            raise ValueError("licence_id is given exactly when how is e_licence")
        return self


class ConsentRecord(ContractModel):
    """What the applicant agreed to on the terminal, and when."""

    terms: Bool = Field(description="consent to processing this application's personal data")
    sensitive: Bool | None = Field(None, description="separate consent for sensitive personal information in the "
                                                     "images (PIPL Arts. 28–29); null when none was captured")
    agreed_at: DateTime
    text: LongText = Field(description="the purpose, what is collected and how long it is kept, as shown")

    @model_validator(mode="after")
    def _agreed(self) -> "ConsentRecord":
        if not self.terms or self.sensitive is False:
            raise ValueError("an application is only made with every consent given")
        return self


class DeliveryChoice(ContractModel):
    """How the applicant receives the result: at a centre's window, free by post, or from this terminal's locker."""

    method: DeliveryMethod
    centre: ShortText = Field("", description="window: the service centre")
    address: ShortText = Field("", description="post: the address")
    phone: str = Field("", pattern=r"^(|1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", description="post: a phone number")
    terminal_id: str = Field("", max_length=64, description="locker: the terminal")

    @model_validator(mode="after")
    def _complete(self) -> "DeliveryChoice":
        if self.method == "window" and not self.centre.strip():
            raise ValueError("window delivery names the centre")
        if self.method == "post" and not (self.address.strip() and self.phone):
            raise ValueError("post delivery needs an address and a phone number")
        if self.method == "locker" and not self.terminal_id:
            raise ValueError("locker delivery names the terminal")
        return self


class ApplicationCreate(ContractModel):
    item_code: ItemCode
    applicant: Person
    agent: GridWorker | None = Field(None, description="set when a grid worker applies on the applicant's behalf (代办)")
    form: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], FormValue] = Field(
        default_factory=dict, max_length=60, description="the form's fields, by field name")
    materials: list[MaterialProvision] = Field(default_factory=list, max_length=30,
                                               description="how materials were provided other than by pages")
    consent: ConsentRecord | None = Field(None, description="the consents given on the terminal")
    delivery: DeliveryChoice | None = Field(None, description="how the result is delivered")


PageContentType = Literal["image/jpeg", "application/pdf"]


class PageInfo(ContractModel):
    page_no: Int = Field(ge=1, le=50)
    content_type: PageContentType
    size: Int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class MaterialSlot(ContractModel):
    index: Int = Field(ge=0, description="position of the material in the item's guide")
    name: str
    required: Bool
    pages: list[PageInfo]


class Application(ContractModel):
    application_id: str
    item_code: ItemCode
    item_name: str
    status: Literal["draft", "submitted"]
    created_at: DateTime
    agent_handled: Bool
    materials: list[MaterialSlot]
    acceptance_number: AcceptanceNumber | None = None


class PageReceipt(ContractModel):
    application_id: str
    material_index: Int
    page: PageInfo


class SubmitRequest(ContractModel):
    declaration_accepted: Bool = Field(description="the applicant confirmed the materials are true (承诺)")
    note: str = Field("", max_length=500)


class SubmitResult(ContractModel):
    application_id: str
    acceptance_number: AcceptanceNumber
    verification_code: str = Field(pattern=r"^\d{6}$", description="查询码 printed on the receipt")
    item_code: ItemCode
    item_name: str
    accepted_at: DateTime
    kind: Literal["即办件", "承诺件"]
    outcome: Literal["completed", "promised"] = Field(
        description="completed: decided on the spot (即办); promised: decided by promised_date")
    message: str = Field(description="one plain sentence for the resident")
    promised_date: Day | None = None
    agent_handled: Bool


# ---------------------------------------------------------------------------------------
# Cases

CaseState = Literal["accepted", "reviewing", "supplement", "approved", "rejected", "ready_for_pickup", "closed"]

CASE_STATE_TEXT: dict[str, str] = {
    "accepted": "已受理",
    "reviewing": "审查中",
    "supplement": "待补正",
    "approved": "已办结（准予）",
    "rejected": "已办结（不予）",
    "ready_for_pickup": "待取件",
    "closed": "已取件",
}


class Remedy(ContractModel):
    kind: Literal["行政复议", "行政诉讼"]
    authority: str = Field(min_length=1, max_length=200, description="where to apply")
    time_limit: str = Field(min_length=1, max_length=100, description="e.g. 自收到决定之日起60日内")


class Decision(ContractModel):
    approved: Bool
    decided_at: DateTime
    result_name: str = Field("", max_length=200)
    reasons: list[LongText] = Field(default_factory=list)
    remedies: list[Remedy] = Field(default_factory=list)
    note: str = Field("", max_length=2000)


class CaseEvent(ContractModel):
    at: DateTime
    state: CaseState
    title: str
    detail: str = ""


class PickupInfo(ContractModel):
    terminal_id: str
    door: Int
    issued_at: DateTime
    picked_up_at: DateTime | None = None


class Supplement(ContractModel):
    """补正: what the applicant still has to hand in, told all at once (一次性告知)."""

    requested_at: DateTime
    items: list[LongText] = Field(min_length=1, max_length=30, description="every missing or faulty material")
    note: str = Field("", max_length=2000, description="where and how to hand them in")
    deadline: Day | None = None


class CaseMaterial(ContractModel):
    name: str = Field(max_length=200)
    pages: Int = Field(ge=0)


Delivery = Literal["terminal", "counter", "post"]
DELIVERY_TEXT: dict[str, str] = {"terminal": "自助终端柜门领取", "counter": "窗口领取", "post": "免费邮寄"}


class CaseStatus(ContractModel):
    acceptance_number: AcceptanceNumber
    item_code: ItemCode
    item_name: str
    state: CaseState
    state_text: str
    accepted_at: DateTime
    kind: Literal["即办件", "承诺件"]
    promised_date: Day | None = None
    agent_handled: Bool
    timeline: list[CaseEvent]
    decision: Decision | None = None
    pickup: PickupInfo | None = None
    # -- following a case (issue 12) --
    supplement: Supplement | None = Field(None, description="补正: what is still missing, all of it at once; set "
                                                            "while the case waits for it (state supplement)")
    delivery: Delivery = Field("counter", description="how the result reaches the applicant")
    delivery_terminal_id: str | None = Field(None, description="delivery terminal: the terminal whose locker "
                                                               "will hold the result")
    department: str = Field("", max_length=200, description="the department that decides the case")
    materials: list[CaseMaterial] = Field(default_factory=list, description="the materials received, with pages")
    applicant_masked: str = Field("", max_length=60, description="the applicant's name, masked (张*三)")
    verification_code: str | None = Field(None, pattern=r"^\d{6}$",
                                          description="查询码, for reprinting the acceptance receipt")


class CaseQuery(ContractModel):
    """A case by its number and the 查询码 printed on the receipt, or by its number and the ID card
    of its holder (read on the terminal) — exactly one of the two."""

    acceptance_number: AcceptanceNumber
    verification_code: str | None = Field(None, pattern=r"^\d{6}$")
    holder: HolderQuery | None = Field(None, description="the holder's ID, read from the card on the terminal")

    @model_validator(mode="after")
    def _one_proof(self) -> "CaseQuery":
        if (self.verification_code is None) == (self.holder is None):
            raise ValueError("give either verification_code or holder")
        return self


class CaseSummary(ContractModel):
    acceptance_number: AcceptanceNumber
    item_name: str
    state: CaseState
    state_text: str
    accepted_at: DateTime


class CaseList(ContractModel):
    cases: list[CaseSummary]


# ---------------------------------------------------------------------------------------
# Pickups (自助取件)


class PickupSlot(ContractModel):
    pickup_id: str
    acceptance_number: AcceptanceNumber
    item_name: str
    result_name: str
    door: Int = Field(ge=1, le=999)
    issued_at: DateTime


class PickupList(ContractModel):
    terminal_id: str
    slots: list[PickupSlot]


class PickupVerify(ContractModel):
    """Who is collecting: the ID card holder, the pickup code (SMS), or the acceptance receipt
    (acceptance number and 查询码, which the receipt says it can be collected with)."""

    method: Literal["id_card", "pickup_code", "receipt"]
    id_type: IdType = "resident_id"
    id_number: str | None = Field(None, min_length=5, max_length=32)
    pickup_code: str | None = Field(None, pattern=r"^\d{6}$")
    acceptance_number: AcceptanceNumber | None = None
    verification_code: str | None = Field(None, pattern=r"^\d{6}$")

    @model_validator(mode="after")
    def _one_credential(self) -> "PickupVerify":
        if self.method == "id_card" and not self.id_number:
            raise ValueError("method id_card needs id_number")
        if self.method == "pickup_code" and not self.pickup_code:
            raise ValueError("method pickup_code needs pickup_code")
        if self.method == "receipt" and not (self.acceptance_number and self.verification_code):
            raise ValueError("method receipt needs acceptance_number and verification_code")
        return self


class PickupMatches(ContractModel):
    matches: list[PickupSlot]


class PickupConfirm(ContractModel):
    door: Int = Field(ge=1, le=999)
    picked_up_at: DateTime
    door_closed: Bool = Field(description="the lock board reported the door closed again")
    door_closed_at: DateTime | None = None
    verified_by: Literal["id_card", "pickup_code", "receipt"]
    photo_jpeg_base64: str | None = Field(None, max_length=700_000,
                                          description="optional photo of the person collecting (JPEG, base64)")


class PickupRecord(ContractModel):
    pickup_id: str
    acceptance_number: AcceptanceNumber
    door: Int
    picked_up_at: DateTime
    door_closed: Bool
    case_state: CaseState


# ---------------------------------------------------------------------------------------
# Ratings (好差评)

RatingReason = Literal["slow", "attitude", "many_trips", "many_materials", "unclear_guide", "complicated_process",
                       "system_problem", "not_resolved", "other"]

RATING_LEVEL_TEXT: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
RATING_REASON_TEXT: dict[str, str] = {
    "slow": "办理时间长",
    "attitude": "服务态度差",
    "many_trips": "多次跑腿",
    "many_materials": "要求材料多",
    "unclear_guide": "办事指南不清楚",
    "complicated_process": "办事流程繁琐",
    "system_problem": "设备或系统不好用",
    "not_resolved": "问题没有解决",
    "other": "其他",
}


class RatingCreate(ContractModel):
    acceptance_number: AcceptanceNumber | None = Field(None, description="the case rated")
    application_key: IdempotencyKey | None = Field(
        None, description="the idempotency key the application was created with, when the kiosk has "
                          "no acceptance number yet (submitted from its outbox)")
    level: Int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    reasons: list[RatingReason] = Field(default_factory=list, max_length=9)
    comment: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _rules(self) -> "RatingCreate":
        if not self.acceptance_number and not self.application_key:
            raise ValueError("a rating is tied to a case: give acceptance_number or application_key")
        if self.level <= 2 and not self.reasons:
            raise ValueError("不满意/非常不满意 needs at least one reason")
        if self.level >= 3 and (self.reasons or self.comment):
            raise ValueError("reasons and comment are only given with 不满意/非常不满意")
        return self


class RatingReceipt(ContractModel):
    rating_id: str
    acceptance_number: AcceptanceNumber
    level: Int
    recorded_at: DateTime


# ---------------------------------------------------------------------------------------
# Terminals


class DeviceHealthChange(ContractModel):
    """One entry of a device's health history (a status change), oldest first."""

    at: DateTime
    state: str = Field(max_length=40, description="online, offline, no_device, hardware_error, user_error, ...")
    code: str = Field("", max_length=12, description="a DEV-… code when the state is an error")
    summary: str = Field("", max_length=120, description="e.g. paper near_end; never personal data")


class DeviceHealth(ContractModel):
    device: str = Field(max_length=40)
    status: str = Field(max_length=40, description="online, offline, error, ...")
    detail: str = Field("", max_length=300)
    counters: dict[Annotated[str, Field(max_length=40)], Int] = Field(default_factory=dict, max_length=50)
    history: list[DeviceHealthChange] = Field(default_factory=list, max_length=20,
                                              description="the newest status changes (health history)")


class LockerReport(ContractModel):
    """The locker as its boards report it: doors, which hold an item (boards with item sensors) and
    which stand open. The backend compares it with the results it registered."""

    doors: Int = Field(ge=1, le=999)
    sensors: Bool = Field(description="the boards have item sensors; without them loaded is always empty")
    loaded: list[Annotated[int, Field(ge=1, le=999)]] = Field(default_factory=list, max_length=999)
    open: list[Annotated[int, Field(ge=1, le=999)]] = Field(default_factory=list, max_length=999)


class Heartbeat(ContractModel):
    sent_at: DateTime
    software_version: str = Field(max_length=40)
    uptime_seconds: Int = Field(ge=0)
    devices: list[DeviceHealth] = Field(default_factory=list, max_length=30)
    outbox_pending: Int = Field(0, ge=0)
    outbox_quarantined: Int = Field(0, ge=0)
    catalog_version: Int = Field(0, ge=0)
    locker: LockerReport | None = Field(None, description="what the locker's doors hold, as the boards see it")


class HeartbeatAck(ContractModel):
    server_time: DateTime
    catalog_version: Int
    pickups_waiting: Int


# ---------------------------------------------------------------------------------------
# Electronic licences (电子证照, issue 11): materials the backend already holds for a person


class LicenceQuery(ContractModel):
    """Which licences of these kinds the holder has (the ID number travels in the body, never in a URL)."""

    holder: HolderQuery
    kinds: list[LicenceKind] = Field(min_length=1, max_length=10)


class Licence(ContractModel):
    licence_id: str = Field(pattern=r"^[A-Z0-9-]{4,40}$")
    kind: LicenceKind
    name: str = Field(description="e.g. 居民户口簿（电子证照）")
    issuer: str
    issued_on: Day
    number_masked: str = Field(description="the licence's number, masked")


class LicenceList(ContractModel):
    licences: list[Licence]


# ---------------------------------------------------------------------------------------
# Back office (clerk)


class ClerkDecision(ContractModel):
    approve: Bool
    result_name: str = Field("", max_length=200, description="what the resident receives, when approved")
    reasons: list[LongText] = Field(default_factory=list, max_length=20)
    remedies: list[Remedy] | None = Field(
        None, description="remedies told to the applicant on a rejection; the district's defaults when omitted")
    note: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _reasons_for_rejection(self) -> "ClerkDecision":
        if not self.approve and not any(reason.strip() for reason in self.reasons):
            raise ValueError("a rejection states at least one reason")
        return self


class ClerkIssue(ContractModel):
    terminal_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    door: Int = Field(ge=1, le=999)


class IssuedPickup(ContractModel):
    pickup_id: str
    acceptance_number: AcceptanceNumber
    terminal_id: str
    door: Int
    pickup_code: str = Field(description="the code sent to the applicant (by SMS in a real deployment)")
    issued_at: DateTime


class Holder(ContractModel):
    """Whose case it is (the applicant), for the back office."""

    id_type: IdType = "resident_id"
    id_number: str
    name: str


class ClerkCase(ContractModel):
    acceptance_number: AcceptanceNumber
    item_code: ItemCode
    item_name: str
    state: CaseState
    state_text: str
    accepted_at: DateTime
    promised_date: Day | None
    applicant_masked: str = Field(description="the applicant's name and ID number, masked")
    agent_masked: str = ""
    agent: GridWorker | None = Field(None, description="the grid worker who applied on the applicant's behalf (代办)")
    pages: Int
    holder: Holder | None = Field(None, description="the applicant (whose case it is)")


class ClerkCaseList(ContractModel):
    cases: list[ClerkCase]


class TerminalInfo(ContractModel):
    terminal_id: str
    name: str
    last_heartbeat_at: DateTime | None
    last_heartbeat: Heartbeat | None
    doors: Int
    occupied_doors: list[int]
    free_doors: list[int] = Field(default_factory=list, description="doors a result can be issued to: no result "
                                                                    "registered, none reported inside")
    loaded_unregistered: list[int] = Field(default_factory=list, description="doors the terminal reports loaded "
                                                                             "that hold no registered result")
    registered_empty: list[int] = Field(default_factory=list, description="doors holding a registered result "
                                                                          "that the terminal reports empty")


# ---------------------------------------------------------------------------------------
# Back office: review, 补正, re-issue and ratings (issue 12)


class ClerkSupplement(ContractModel):
    """Ask for 补正: every missing or faulty material at once."""

    items: list[LongText] = Field(min_length=1, max_length=30)
    note: str = Field("", max_length=2000)
    deadline_days: Int | None = Field(None, ge=1, le=90, description="working days to hand them in")

    @model_validator(mode="after")
    def _something_missing(self) -> "ClerkSupplement":
        if not any(item.strip() for item in self.items):
            raise ValueError("name at least one missing material")
        return self


class ClerkRating(ContractModel):
    rating_id: str
    acceptance_number: AcceptanceNumber
    item_code: ItemCode
    item_name: str
    terminal_id: str
    level: Int = Field(ge=1, le=5)
    level_text: str
    reasons: list[RatingReason]
    comment: str
    recorded_at: DateTime


class RatingSummary(ContractModel):
    key: str = Field(description="the item code or the terminal id")
    name: str
    count: Int
    average: float
    levels: dict[str, Int] = Field(description="how many ratings of each level, \"1\" … \"5\"")


class ClerkRatingList(ContractModel):
    ratings: list[ClerkRating]
    by_item: list[RatingSummary]
    by_terminal: list[RatingSummary]


# ---------------------------------------------------------------------------------------
# Embedding: a backend running inside the kiosk process (the demo)


@dataclass(frozen=True)
class EmbeddedBackend:
    """A backend the entry layer started in-process (``refbackend.embed.start_for_settings``).

    ``build_backend(settings, embedded=...)`` talks to ``url`` with ``terminal_key`` and calls
    ``stop()`` when the backend services stop. ``clerk_password`` opens the clerk's page (at
    ``direct_url``, past the fault switch ``control`` when there is one).
    """

    url: str
    terminal_key: bytes = dc_field(repr=False)
    clerk_password: str = dc_field(repr=False)
    stop: Callable[[], None] = dc_field(repr=False)
    #: testers' handle (``control(action, params)`` / ``state()``, like a device simulator):
    #: ``kiosk sim backend …`` makes cases, decides and issues them, and switches the network the
    #: kiosk talks through down, slow or failing
    control: Any = dc_field(default=None, repr=False)
    #: the backend itself, past the network switch (the clerk's page); ``url`` when there is no switch
    direct_url: str = ""
