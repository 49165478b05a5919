"""What goes to the backend: the contract's ``ApplicationCreate`` and the pages to upload.

``build(...)`` takes what the apply flow collected — the identity (and the grid worker in
代办), the form's values, each material's state, the consents and the delivery choice — and
returns the request and the pages as ``(material index, page no, content type, bytes)``.
Pages are read from the session's scratch folder at this moment, and only here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.apply.materials import COMMITMENT, E_LICENCE, ID_CARD, PAGES, MaterialState
from kiosk.backend import models as m


def applicant(identity: Any, values: dict[str, str]) -> m.Person:
    phone = values.get("phone") or getattr(identity, "phone", "") or ""
    return m.Person(id_type=identity.id_type, id_number=identity.id_number, name=identity.name,
                    phone=phone if _phone_ok(phone) else "",
                    address=(getattr(identity, "address", "") or "")[:200])


def _phone_ok(phone: str) -> bool:
    from kiosk.apply.form import PHONE

    return bool(PHONE.fullmatch(phone))


def provisions(materials: list[MaterialState]) -> list[m.MaterialProvision]:
    out = []
    for material in materials:
        if material.how == ID_CARD:
            out.append(m.MaterialProvision(index=material.index, how="id_card"))
        elif material.how == E_LICENCE and material.licence is not None:
            out.append(m.MaterialProvision(index=material.index, how="e_licence",
                                           licence_id=material.licence.licence_id))
        elif material.how == COMMITMENT and material.pages:
            out.append(m.MaterialProvision(index=material.index, how="commitment"))
    return out


def pages(materials: list[MaterialState]) -> list[tuple[int, int, str, bytes]]:
    out = []
    for material in materials:
        if material.how in (PAGES, COMMITMENT):
            for number, page in enumerate(material.pages, start=1):
                out.append((material.index, number, "image/jpeg", page.path.read_bytes()))
    return out


def build(item_code: str, identity: Any, agent: Any, values: dict[str, str], materials: list[MaterialState],
          consent_text: str, sensitive_asked: bool, agreed_at: dt.datetime,
          delivery: m.DeliveryChoice) -> tuple[m.ApplicationCreate, list[tuple[int, int, str, bytes]]]:
    worker = (m.GridWorker(worker_id=agent.worker_id, name=agent.name, phone=getattr(agent, "phone", "") or "")
              if agent is not None else None)
    create = m.ApplicationCreate(
        item_code=item_code, applicant=applicant(identity, values), agent=worker,
        form={key: value for key, value in values.items() if value},
        materials=provisions(materials),
        consent=m.ConsentRecord(terms=True, sensitive=True if sensitive_asked else None, agreed_at=agreed_at,
                                text=consent_text[:2000]),
        delivery=delivery)
    return create, pages(materials)
