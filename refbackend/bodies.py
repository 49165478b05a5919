"""How much body the reference backend reads, and reading it in bounded chunks (pure ASGI).

Every request body has a ceiling: a material page (``PUT …/pages/N``) up to the store's page
limit plus a margin for the multipart-free JPEG/PDF, everything else (JSON, clerk forms) up to
``MAX_JSON_BYTES``. ``declared_too_large`` refuses a ``Content-Length`` over the ceiling before
reading anything; ``read_body`` reads chunk by chunk and stops at the ceiling, so a body that
lies about its length, or a chunked one that never ends, costs at most the ceiling in memory.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

from refbackend.store import MAX_PAGE_BYTES

MAX_JSON_BYTES = 1024 * 1024
PAGE_LIMIT = MAX_PAGE_BYTES + 64 * 1024
_PAGE_ROUTE = re.compile(r"/api/v1/applications/[^/]+/materials/[^/]+/pages/[^/]+")
_LENGTH = re.compile(r"[0-9]{1,19}")


class BodyTooLarge(Exception):
    """The body passed its route's ceiling while it was being read."""


def body_limit(method: str, path: str) -> int:
    """The most bytes a request to ``path`` may carry."""
    if method == "PUT" and _PAGE_ROUTE.fullmatch(path):
        return PAGE_LIMIT
    return MAX_JSON_BYTES


def declared_too_large(headers: Mapping[str, str], limit: int) -> bool:
    """True when ``Content-Length`` claims more than ``limit`` (or is not a plain ASCII number)."""
    declared = headers.get("content-length")
    if declared is None:
        return False
    declared = declared.strip()
    return not _LENGTH.fullmatch(declared) or int(declared) > limit


async def read_body(receive: Callable, limit: int) -> bytes | None:
    """The whole body, at most ``limit`` bytes (``BodyTooLarge`` past it); None if the client left."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge()
        if not message.get("more_body", False):
            return bytes(body)
