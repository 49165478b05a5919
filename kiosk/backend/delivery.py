"""How each kind of outbox item is sent: the steps, their idempotency keys, the summary kept.

- ``application``: create the application (key ``<item key>:create``), upload each page
  the server does not already have with the same SHA-256 (so a resumed delivery sends
  only the missing pages), then submit (key ``<item key>:submit``).
- ``rating``: one POST with the item key.
- ``pickup.confirm``: one POST with the item key.
- ``staff.call``: one POST with the item key.
- ``audit``: one POST with the item key (a technician's event).

Every step is safe to repeat, which is what makes a resend after a crash harmless.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from pydantic import ValidationError

from kiosk.backend import models as m
from kiosk.backend.client import BackendClient
from kiosk.backend.outbox import CorruptItem, Envelope

Progress = Callable[[int, int], None]


def create_key(item_key: str) -> str:
    return f"{item_key}:create"


def item_key_of_create(key: str) -> str | None:
    """The outbox item behind an application's create key (``create_key``'s inverse), or None."""
    return key[:-len(":create")] if key.endswith(":create") else None


def submit_key(item_key: str) -> str:
    return f"{item_key}:submit"


def application_payload(create: m.ApplicationCreate, submit: m.SubmitRequest,
                        pages: list[tuple[int, int, str, bytes]]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Payload and attachments for an application; ``pages`` are (material index, page no, type, bytes)."""
    listed = []
    parts: dict[str, bytes] = {}
    for material_index, page_no, content_type, data in pages:
        name = f"m{material_index}p{page_no}"
        if name in parts:
            raise ValueError(f"page {page_no} of material {material_index} is given twice")
        parts[name] = data
        listed.append({"material_index": material_index, "page_no": page_no, "content_type": content_type,
                       "part": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    payload = {"create": create.model_dump(mode="json"), "submit": submit.model_dump(mode="json"), "pages": listed}
    return payload, parts


class Deliverer:
    """The outbox's ``deliver`` function for a given client."""

    def __init__(self, client: BackendClient):
        self.client = client

    def __call__(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        handler = {"application": self._application, "rating": self._rating,
                   "pickup.confirm": self._pickup, "staff.call": self._staff_call,
                   "audit": self._audit}.get(envelope.kind)
        if handler is None:
            raise CorruptItem(f"no handler for kind {envelope.kind!r}")
        try:
            return handler(envelope, progress)
        except (ValidationError, KeyError, TypeError) as exc:
            raise CorruptItem(f"payload does not fit the {envelope.kind} contract ({type(exc).__name__})") from None

    def _application(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        payload = envelope.payload
        create = m.ApplicationCreate.model_validate(payload["create"])
        submit = m.SubmitRequest.model_validate(payload["submit"])
        pages = payload["pages"]
        for page in pages:
            data = envelope.part(page["part"])
            if hashlib.sha256(data).hexdigest() != page["sha256"]:
                raise CorruptItem(f"attachment {page['part']!r} does not match its checksum")
        total = sum(int(page["size"]) for page in pages) or 1
        done = 0
        if progress:
            progress(0, total)
        application = self.client.create_application(create, create_key(envelope.key))
        if application.status == "draft":
            held = {(slot.index, info.page_no): info.sha256 for slot in application.materials for info in slot.pages}
            for page in pages:
                size = int(page["size"])
                if held.get((page["material_index"], page["page_no"])) != page["sha256"]:
                    base = done

                    def on_page(sent: int, _total: int, base: int = base) -> None:
                        if progress:
                            progress(base + sent, total)

                    self.client.upload_page(application.application_id, page["material_index"], page["page_no"],
                                            envelope.part(page["part"]), page["content_type"], on_page)
                done += size
                if progress:
                    progress(done, total)
        result = self.client.submit_application(application.application_id, submit, submit_key(envelope.key))
        if progress:
            progress(total, total)
        return result, {"acceptance_number": result.acceptance_number}

    def _rating(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        rating = m.RatingCreate.model_validate(envelope.payload["rating"])
        receipt = self.client.rate(rating, envelope.key)
        return receipt, {"rating_id": receipt.rating_id}

    def _pickup(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        confirm = m.PickupConfirm.model_validate(envelope.payload["confirm"])
        record = self.client.confirm_pickup(str(envelope.payload["pickup_id"]), confirm, envelope.key)
        return record, {"pickup_id": record.pickup_id, "acceptance_number": record.acceptance_number}

    def _staff_call(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        call = m.StaffCallCreate.model_validate(envelope.payload["call"])
        receipt = self.client.call_staff(call, envelope.key)
        return receipt, {"call_id": receipt.call_id}

    def _audit(self, envelope: Envelope, progress: Progress | None) -> tuple[Any, dict[str, Any]]:
        event = m.AuditEventCreate.model_validate(envelope.payload["event"])
        receipt = self.client.audit(event, envelope.key)
        return receipt, {"audit_id": receipt.audit_id}
