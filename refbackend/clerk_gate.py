"""The door in front of everything a clerk uses: the clerk API and the clerk's pages (pure ASGI).

For ``/api/v1/clerk/…``, ``/clerk`` and ``/clerk/…`` (not the public fonts under
``/clerk-static``) it decides before any route, dependency or body parser runs:

1. no ``Authorization`` header: 401 with the Basic challenge (a browser then asks for the
   password; this is not counted as a wrong password);
2. the client address or the clerk account is throttled (``refbackend.throttle``): 429 with
   ``Retry-After``, without looking at the password;
3. a wrong user or password: counted, logged (the client address, never what was typed),
   401 — or 429 at once when this very try locked the client;
4. a ``Content-Length`` over ``MAX_JSON_BYTES``: 413 without reading the body; otherwise the
   body is read in bounded chunks (413 past the ceiling) and handed on.

So an anonymous client can neither guess quickly nor make the server read a body. The routes
keep their own ``require_clerk`` dependency, which checks the same credentials again.
"""
from __future__ import annotations

import base64
import hmac
import logging
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response

from kiosk.backend import models as m
from refbackend.bodies import MAX_JSON_BYTES, BodyTooLarge, declared_too_large, read_body
from refbackend.throttle import LoginThrottle

log = logging.getLogger(__name__)

CLERK_USER = "clerk"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="clerk"'}


def is_clerk_path(path: str) -> bool:
    return (path == "/api/v1/clerk" or path.startswith("/api/v1/clerk/") or path == "/clerk"
            or path.startswith("/clerk/"))


def basic_credentials(header: str) -> tuple[str, str]:
    """User and password of an HTTP Basic ``Authorization`` header ("", "" when it is not one)."""
    if not header[:6].lower() == "basic ":
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return user, password


def clerk_credentials_ok(header: str, expected_password: str) -> bool:
    user, password = basic_credentials(header)
    # both comparisons always run: the time taken says nothing about which part was wrong
    user_ok = hmac.compare_digest(user.encode(), CLERK_USER.encode())
    password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
    return user_ok and password_ok


def refusal(path: str, status: int, code: str, message: str, headers: dict[str, str] | None = None,
            retry_after: int | None = None) -> Response:
    """The contract's error body for the API; a short page for the clerk's browser."""
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if path.startswith("/api/"):
        body = m.ErrorBody(error=m.ErrorDetail(code=code, message=message, retry_after_seconds=retry_after))
        return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers)
    text = {401: "请以 clerk 用户登录。", 413: "提交的内容太大。",
            429: f"密码错误次数过多，请 {retry_after} 秒后再试。"}.get(status, message)
    headers["Cache-Control"] = "no-store"
    return HTMLResponse(f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>综合受理后台</title>"
                        f"</head><body><p>{text}</p></body></html>", status_code=status, headers=headers)


class ClerkGate:
    """ASGI middleware: authenticate and throttle clerk requests before their body is read."""

    def __init__(self, app: Any, password: Callable[[], str], throttle: LoginThrottle,
                 clock: Callable[[], float]):
        self.app = app
        self.password = password
        self.throttle = throttle
        self.clock = clock

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_clerk_path(path):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        authorization = headers.get("authorization", "")
        if not authorization:
            await refusal(path, 401, "clerk_login_required", "log in as clerk (HTTP Basic)", CHALLENGE)(
                scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        user, _ = basic_credentials(authorization)
        keys = [("client", str(client)), ("account", CLERK_USER)]
        now = self.clock()
        wait = await run_in_threadpool(self.throttle.retry_after, keys, now)  # a database read
        if wait:
            await refusal(path, 429, "too_many_logins", "too many wrong passwords; try again later",
                          retry_after=wait)(scope, receive, send)
            return
        if not clerk_credentials_ok(authorization, self.password()):
            wait = await run_in_threadpool(self.throttle.failed, keys, now)
            log.warning("clerk login refused", extra={"fields": {
                "client": str(client)[:64], "known_user": user == CLERK_USER, "locked_seconds": wait}})
            if wait:
                response = refusal(path, 429, "too_many_logins", "too many wrong passwords; try again later",
                                   retry_after=wait)
            else:
                response = refusal(path, 401, "clerk_login_required", "log in as clerk (HTTP Basic)", CHALLENGE)
            await response(scope, receive, send)
            return
        await run_in_threadpool(self.throttle.succeeded, keys, now)
        if declared_too_large(headers, MAX_JSON_BYTES):
            await refusal(path, 413, "body_too_large", "the body is too large")(scope, receive, send)
            return
        try:
            data = await read_body(receive, MAX_JSON_BYTES)
        except BodyTooLarge:
            await refusal(path, 413, "body_too_large", "the body is too large")(scope, receive, send)
            return
        if data is None:
            return
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": data, "more_body": False}

        await self.app(scope, replay, send)
