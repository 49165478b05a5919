"""Load the demo service catalogue (``assets/catalog/hekou_items.json``) into contract models.

A bad entry is reported by its position, its code and the field at fault, so the person
editing the JSON file can find it; nothing is loaded until every entry is valid.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from kiosk.backend.models import ServiceItem

DEMO_CATALOG_PATH = Path(__file__).resolve().parent.parent.parent / "assets" / "catalog" / "hekou_items.json"


class CatalogFileError(Exception):
    """The catalogue file cannot be used; the message says where and why."""


def load_catalog_file(path: Path | str = DEMO_CATALOG_PATH) -> list[ServiceItem]:
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CatalogFileError(f"{path}: the catalogue file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise CatalogFileError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, list):
        raise CatalogFileError(f"{path}: expected a JSON array of service items")
    items: list[ServiceItem] = []
    seen: set[str] = set()
    for position, entry in enumerate(data):
        code = entry.get("code", "?") if isinstance(entry, dict) else "?"
        try:
            item = ServiceItem.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(the entry)"
            raise CatalogFileError(f"{path}: item #{position + 1} ({code}): {where}: {first['msg']} "
                                   f"({exc.error_count()} problem(s) in this item)") from None
        if item.code in seen:
            raise CatalogFileError(f"{path}: item #{position + 1}: code {item.code} appears twice")
        seen.add(item.code)
        items.append(item)
    return items
