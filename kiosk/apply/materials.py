"""One material of an application as the resident provides it at the kiosk.

A ``MaterialState`` says how the material is provided (``how``):

- ``""``: not yet;
- ``id_card``: the ID card the applicant identified with *is* this material (read, not photographed);
- ``e_licence``: the backend holds an electronic licence (电子证照) for it (``licence``);
- ``pages``: photographed (``pages``, files in the session's scratch folder);
- ``commitment``: the applicant signed the item's 告知承诺 instead (``pages`` holds the signed text);
- ``skipped``: an optional material the resident does not have.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.apply.pages import PageFile

PENDING, ID_CARD, E_LICENCE, PAGES, COMMITMENT, SKIPPED = "", "id_card", "e_licence", "pages", "commitment", "skipped"


@dataclass
class MaterialState:
    index: int  # position in the item's materials
    name: str
    spec: Any  # kiosk.backend.models.MaterialSpec
    required: bool
    note: str = ""  # the guide's sample and note for it
    how: str = PENDING
    pages: list[PageFile] = field(default_factory=list)
    licence: Any = None  # kiosk.backend.models.Licence

    @property
    def provided(self) -> bool:
        if self.how in (ID_CARD, E_LICENCE):
            return True
        return self.how in (PAGES, COMMITMENT) and bool(self.pages)

    @property
    def automatic(self) -> bool:
        """Provided without the resident doing anything (card read, licence found)."""
        return self.how in (ID_CARD, E_LICENCE)

    @property
    def missing(self) -> bool:
        """Required and not provided."""
        return self.required and not self.provided

    @property
    def sensitive_image(self) -> bool:
        """A captured image of this material holds sensitive personal information."""
        return self.spec.sensitive and self.how == PAGES and bool(self.pages)

    def receipt_text(self) -> str:
        """How the receipt lists it: 已读取身份证, 电子证照, 照片 2 页, 告知承诺."""
        if self.how == ID_CARD:
            return "已读取身份证"
        if self.how == E_LICENCE:
            return "电子证照"
        if self.how == COMMITMENT:
            return "告知承诺"
        if self.how == PAGES:
            return f"照片{len(self.pages)}页"
        return ""
