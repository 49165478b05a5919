"""Headers that tell a browser how to treat every answer of the reference backend (pure ASGI).

Added to every response unless the route set its own:

- ``X-Content-Type-Options: nosniff``: a page image or a JSON answer is never run as a script;
- ``X-Frame-Options: DENY`` and the CSP's ``frame-ancestors 'none'``: no other site can frame
  the clerk's pages (clickjacking the 准予办理 button);
- ``Referrer-Policy: no-referrer``: a case page's address (its acceptance number) does not
  leave with a link;
- ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` for answers that are
  not pages (JSON, images). The clerk's pages send their own policy (``clerk_pages.page_csp``):
  only their own inline script and style (by hash), fonts, images and requests from the same
  origin, forms posted back to it.

The interactive API pages (``/docs``, ``/redoc``, only with ``interactive_docs``) load their
script from a CDN, so they get no default policy.
"""
from __future__ import annotations

from typing import Any, Callable

DEFAULT_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
_INTERACTIVE = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        interactive = scope.get("path", "").startswith(_INTERACTIVE)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in DEFAULT_HEADERS:
                    if name in present or (interactive and name == b"content-security-policy"):
                        continue
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
