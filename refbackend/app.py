"""The reference backend's HTTP API (FastAPI): the contract of ``kiosk.backend.models``, for real.

Terminal endpoints live under ``/api/v1`` and accept only signed requests: an ASGI
middleware checks the signature headers (``kiosk.backend.signing``) before reading the body,
reads the body up to its route's ceiling (``refbackend.bodies``) and answers 401 or 413 before
any route sees the request. Back-office endpoints under ``/api/v1/clerk`` and the clerk's web
page under ``/clerk`` use HTTP Basic auth instead, checked and throttled before any body is read
(``refbackend.clerk_gate``, ``refbackend.throttle``). Every answer carries the browser security
headers of ``refbackend.security_headers``. Look-ups of cases by ID number are limited and
audited (``refbackend.lookups``). ``/docs`` and ``/redoc`` exist only with ``interactive_docs``.

Every refusal is an ``ErrorBody`` with a stable code and a message free of personal data
(a wrong PIN adds ``attempts_left``, a lock ``retry_after_seconds`` and a ``Retry-After``
header); validation errors never echo the values that were sent.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Annotated, Any, Callable, Literal

import anyio
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk import __version__
from kiosk.backend import models as m
from kiosk.backend.signing import AuthFailure, SCHEME, verify_body, verify_headers
from refbackend.bodies import BodyTooLarge, body_limit, declared_too_large, read_body
from refbackend.clerk_gate import CLERK_USER, ClerkGate, clerk_credentials_ok
from refbackend.lookups import HolderLookups
from refbackend.security_headers import SecurityHeaders
from refbackend.store import ApiError, ReferenceStore
from refbackend.throttle import DatabaseLoginThrottle, LoginThrottle

log = logging.getLogger(__name__)

API = "/api/v1"
CLERK_API = "/api/v1/clerk"

_ERROR_TEXT = {
    400: ("the HTTP request itself is malformed (a header name that is not a token, a bad "
          "Content-Length): answered by the HTTP server before the application, as plain text"),
    304: "not modified: the catalogue version matches If-None-Match",
    401: "missing or bad signature, clock skew over 5 minutes, or a replayed nonce",
    403: "the signed terminal may not act for another terminal",
    404: "not found",
    410: "gone: it existed but is no longer valid",
    409: "conflicts with the current state (or an Idempotency-Key reused for another request)",
    413: "the body is too large",
    415: "unsupported media type",
    422: "the request does not fit the contract; fields name each problem",
    423: "locked for a while; retry_after_seconds says how long",
    429: "too many wrong codes from this terminal; try again later",
}


def _errors(*codes: int, text: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses; ``text`` overrides a status' description.

    Every operation may also answer 413: the body ceiling (``refbackend.bodies``) is checked
    before the route, so a body valid by the schema can still pass it (700,000 characters of
    photo, JSON-escaped, are 4 MB). And 400: the HTTP server refuses a request it cannot parse
    before the application sees it, with a plain-text body (so no contract error body)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, 400, 413}):
        description = (text or {}).get(code, _ERROR_TEXT[code])
        bodiless = code in (304, 400)
        out[code] = {"description": description} if bodiless else {"model": m.ErrorBody, "description": description}
    return out


def error_response(status: int, code: str, message: str, fields: list[m.FieldProblem] | None = None,
                   headers: dict[str, str] | None = None, *, attempts_left: int | None = None,
                   retry_after_seconds: int | None = None) -> JSONResponse:
    body = m.ErrorBody(error=m.ErrorDetail(code=code, message=message, fields=fields or [],
                                           attempts_left=attempts_left, retry_after_seconds=retry_after_seconds))
    if retry_after_seconds is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after_seconds)}
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers)


class TerminalSignatureMiddleware:
    """Checks the signature of every terminal request before routing (pure ASGI).

    The headers are checked first (``verify_headers``: the signature covers the body's claimed
    hash), so a request without a valid signature is refused before a byte of its body is read.
    A declared ``Content-Length`` over the route's limit is refused with 413 at once; the body
    of a signed request is then read in chunks and refused with 413 as soon as it passes the
    limit (a chunked upload that never ends is cut off). Only then are the body's hash and the
    nonce checked."""

    def __init__(self, app: Any, store: ReferenceStore, clock: Callable[[], float]):
        self.app = app
        self.store = store
        self.clock = clock

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API + "/") or path.startswith(CLERK_API + "/"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], path)
        headers = Headers(scope=scope)
        if declared_too_large(headers, limit):
            await error_response(413, "body_too_large", "the body is too large")(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or path.encode("utf-8")
        signed_path = raw_path.decode("latin-1")
        if scope.get("query_string"):
            signed_path += "?" + scope["query_string"].decode("latin-1")
        try:
            # on a worker thread: the terminal's key comes from the store, whose lock a write may hold
            signed = await anyio.to_thread.run_sync(
                lambda: verify_headers(headers, scope["method"], signed_path, self.store.terminal_key, self.clock()))
            try:
                data = await read_body(receive, limit)
            except BodyTooLarge:
                await error_response(413, "body_too_large", "the body is too large")(scope, receive, send)
                return
            if data is None:
                return  # the client went away
            verified = await anyio.to_thread.run_sync(lambda: verify_body(signed, data, self.store, self.clock()))
        except AuthFailure as failure:
            log.warning("terminal request refused", extra={"fields": {
                "code": failure.code, "terminal": _printable(headers.get("x-terminal-id", ""))[:64],
                "method": scope["method"], "path": path}})
            response = error_response(401, failure.code, failure.message,
                                      headers={"WWW-Authenticate": SCHEME})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["terminal_id"] = verified.terminal_id
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": data, "more_body": False}

        await self.app(scope, replay, send)


def _printable(text: str) -> str:
    """A header value as it may go into a log line: printable ASCII, the rest as '?'."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)


def _terminal(request: Request) -> str:
    return request.state.terminal_id


def own_terminal(terminal_id: str, signed: str) -> None:
    if terminal_id != signed:
        raise ApiError(403, "other_terminal", "a terminal can only act for itself")


def require_clerk(request: Request) -> str:
    """HTTP Basic: user ``clerk`` and the backend's clerk password (``ClerkGate`` has already
    checked and throttled them before the body was read; this is the routes' own check)."""
    if not clerk_credentials_ok(request.headers.get("authorization", ""), request.app.state.clerk_password):
        raise ApiError(401, "clerk_login_required", "log in as clerk (HTTP Basic)")
    return CLERK_USER


Terminal = Annotated[str, Depends(_terminal)]
Clerk = Annotated[str, Depends(require_clerk)]
Key = Annotated[str, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9][A-Za-z0-9:_.-]{7,127}$",
                            description="client-generated; a repeat returns the original answer")]


def create_app(store: ReferenceStore, clerk_password: str, clock: Callable[[], float] = time.time,
               clerk_fonts: bool = True, throttle: LoginThrottle | None = None,
               lookup_limits: dict[str, tuple[int, float]] | None = None,
               interactive_docs: bool = False) -> FastAPI:
    """``clerk_fonts``: the clerk's pages serve the bundled Chinese font (off only to compare renders).
    ``throttle``: where wrong clerk passwords are counted (default: the database, ``refbackend.throttle``).
    ``lookup_limits``: look-ups by ID number allowed per asker kind, (count, seconds) (``refbackend.lookups``).
    ``interactive_docs``: serve ``/docs`` and ``/redoc`` (development only; ``/openapi.json`` is
    always served)."""
    app = FastAPI(
        docs_url="/docs" if interactive_docs else None, redoc_url="/redoc" if interactive_docs else None,
        title="河易办 acceptance system API (reference backend)",
        version=__version__,
        description=(
            "The contract between a 河易办 self-service terminal and the district's comprehensive acceptance "
            "system (综合受理系统). Terminal requests are signed: headers X-Terminal-Id, X-Timestamp (Unix "
            "seconds), X-Nonce (32 hex), X-Content-SHA256 (hex SHA-256 of the body) and X-Signature (hex "
            "HMAC-SHA256 with the terminal's key over \"HEYIBAN-HMAC-SHA256\\n<terminal>\\n<METHOD>\\n<path?query>"
            "\\n<timestamp>\\n<nonce>\\n<body sha256>\"). Missing or bad signatures, clock skew over 5 minutes "
            "and replayed nonces get 401. State-changing calls carry an Idempotency-Key; a repeat gets the "
            "original answer. Back-office (clerk) endpoints use HTTP Basic auth; after repeated wrong passwords a "
            "client (and the clerk account) is refused with 429 and Retry-After for a while."),
        openapi_tags=[{"name": t} for t in ("catalogue", "identity", "staff", "applications", "cases", "pickups",
                                             "ratings", "terminals", "clerk")],
    )
    app.state.store = store
    app.state.clerk_password = clerk_password
    # the limits live in the database: every worker on it counts the same tries
    app.state.lookups = lookups = HolderLookups(store.db, lookup_limits)
    app.add_middleware(TerminalSignatureMiddleware, store=store, clock=clock)
    app.add_middleware(ClerkGate, password=lambda: app.state.clerk_password,
                       throttle=throttle or DatabaseLoginThrottle(store.db), clock=clock)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, refusals included
    csrf_token = store.form_token(clerk_password)  # the same in every worker of one database
    app.state.csrf_token = csrf_token

    # -- errors ----------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="clerk"'} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.fields, headers, attempts_left=exc.attempts_left,
                              retry_after_seconds=exc.retry_after_seconds)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for problem in exc.errors()[:20]:
            location = m.error_location(problem)
            fields.append(m.FieldProblem(field=location[:200], problem=str(problem.get("msg", "invalid"))[:300]))
        return error_response(422, "invalid_request", "the request does not fit the contract", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not even UTF-8 JSON
            return error_response(422, "invalid_request", "the body is not UTF-8 JSON")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # name every method of the path, not just those of the first route
            headers["Allow"] = ", ".join(sorted(_allowed_methods(app, request.scope)))
        return error_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail)[:200],
                              headers=headers or None)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed inside the backend", exc_info=(type(exc), exc, exc.__traceback__),
                  extra={"fields": {"method": request.method, "path": request.url.path}})
        return error_response(500, "internal_error", "the backend failed; the request can be repeated")

    signed = {"security": [{"terminalSignature": []}]}
    clerk_only = {"security": [{"clerkBasic": []}]}

    def once(terminal_id: str, key: str, route: str, body: BaseModel, action: Callable[[Any], Any]) -> Response:
        """Run a state-changing call once per idempotency key; a repeat gets the stored answer."""
        status, text, replayed = store.idempotent(terminal_id, key, route, body.model_dump_json().encode(), action)
        # Like Stripe's header: tells the client this is the answer stored for its key, as it was then.
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(text, status_code=status, media_type="application/json", headers=headers)

    # -- catalogue -------------------------------------------------------------------------
    @app.get(f"{API}/catalog/items", tags=["catalogue"], response_model=m.CatalogPage,
             responses=_errors(304, 401, 422), openapi_extra=signed,
             summary="Catalogue changes since a version (incremental sync); ETag / If-None-Match")
    def catalog_items(request: Request, response: Response, _t: Terminal,
                      since_version: Annotated[int, Query(ge=0, le=2 ** 53)] = 0,
                      limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Any:
        version = store.catalog_version()
        etag = f'"cat-{version}"'
        if request.headers.get("if-none-match") == etag and since_version == version:
            return Response(status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "no-cache"
        return store.catalog_changes(since_version, limit)

    @app.get(f"{API}/catalog/items/{{code}}", tags=["catalogue"], response_model=m.ServiceItem,
             responses=_errors(401, 404, 422), openapi_extra=signed, summary="One item with its whole guide")
    def catalog_item(code: Annotated[str, Path(pattern=r"^\d{6}-[A-Z][A-Z0-9]{0,9}-\d{4}$")], _t: Terminal) -> Any:
        return store.item(code)

    # -- identity and grid workers ---------------------------------------------------------
    @app.post(f"{API}/identity/resolve", tags=["identity"], response_model=m.ResolvedIdentity,
              responses=_errors(401, 404, 410, 422, 429, text={
                  404: "identity_code_unknown: no identity has this code",
                  410: "identity_code_expired: the code is no longer valid; the holder shows a fresh one",
                  429: "too many unknown codes from this terminal; try again later"}),
              openapi_extra=signed, summary="The person behind a personal identity code (HYBID:…) shown on a phone")
    def resolve_identity(body: m.IdentityCodeQuery, terminal_id: Terminal) -> Any:
        return store.resolve_identity(terminal_id, body)

    @app.post(f"{API}/staff/sign-in", tags=["staff"], response_model=m.GridWorker,
              responses=_errors(401, 403, 404, 422, 423, 429, text={
                  403: "wrong_pin: the PIN is wrong; attempts_left says how many tries remain",
                  404: "unknown_staff: no grid worker has this staff code or staff card",
                  423: "pin_locked: 5 wrong PINs in a row lock the worker for 15 minutes; retry_after_seconds "
                       "says how long is left",
                  429: "too many unknown credentials from this terminal; try again later"}),
              openapi_extra=signed,
              summary="A grid worker (网格员) signs in for 代办 with a staff code or staff card and a 6-digit PIN; "
                      "never repeat it automatically (each wrong PIN counts)")
    def staff_sign_in(body: m.StaffSignIn, terminal_id: Terminal) -> Any:
        return store.staff_sign_in(terminal_id, body)

    @app.post(f"{API}/staff-calls", tags=["staff"], status_code=201, response_model=m.StaffCallReceipt,
              responses={200: {"model": m.StaffCallReceipt, "description": "a repeat of an earlier call"},
                         **_errors(401, 404, 409, 422)}, openapi_extra=signed,
              summary="呼叫工作人员: a resident asks for help at this terminal; shown on the clerk's page at once")
    def staff_call(body: m.StaffCallCreate, key: Key, terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/staff-calls", body,
                    lambda conn: store.staff_call(conn, terminal_id, body))

    # -- technicians' audit trail (issue 13) ------------------------------------------------
    @app.post(f"{API}/audit", tags=["staff"], status_code=201, response_model=m.AuditReceipt,
              responses={200: {"model": m.AuditReceipt, "description": "a repeat of an earlier event"},
                         **_errors(401, 404, 409, 422)}, openapi_extra=signed,
              summary="A technician's event on this terminal (hidden entry, PIN, diagnostics action) for the "
                      "audit trail")
    def audit(body: m.AuditEventCreate, key: Key, terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/audit", body, lambda conn: store.audit(conn, terminal_id, body))

    # -- applications ----------------------------------------------------------------------
    @app.post(f"{API}/applications", tags=["applications"], status_code=201, response_model=m.Application,
              responses={200: {"model": m.Application, "description": "a repeat of an earlier create"},
                         **_errors(401, 404, 409, 422)}, openapi_extra=signed,
              summary="Create an application (draft) for an item; a grid worker may act for the applicant")
    def create_application(body: m.ApplicationCreate, key: Key, terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/applications", body,
                    lambda conn: store.create_application(conn, terminal_id, body))

    @app.get(f"{API}/applications/{{application_id}}", tags=["applications"], response_model=m.Application,
             responses=_errors(401, 404, 422), openapi_extra=signed,
             summary="An application with the pages the backend holds (to resume an upload)")
    def get_application(application_id: Annotated[str, Path(max_length=64)], terminal_id: Terminal) -> Any:
        return store.get_application(terminal_id, application_id)

    page_body = {"requestBody": {"required": True, "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}

    @app.put(f"{API}/applications/{{application_id}}/materials/{{material_index}}/pages/{{page_no}}",
             tags=["applications"], response_model=m.PageReceipt, responses=_errors(401, 404, 409, 413, 415, 422),
             openapi_extra={**signed, **page_body},
             summary="Upload one page of a material (JPEG or PDF); repeating it is harmless")
    async def put_page(request: Request, application_id: Annotated[str, Path(max_length=64)],
                       material_index: Annotated[int, Path(ge=0, le=99)], page_no: Annotated[int, Path(ge=1, le=99)],
                       terminal_id: Terminal) -> Any:
        data = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return await anyio.to_thread.run_sync(
            lambda: store.put_page(terminal_id, application_id, material_index, page_no, content_type, data))

    @app.delete(f"{API}/applications/{{application_id}}/materials/{{material_index}}/pages/{{page_no}}",
                tags=["applications"], status_code=204, responses=_errors(401, 404, 409, 422), openapi_extra=signed,
                summary="Remove a page (a retake) before the application is submitted")
    def delete_page(application_id: Annotated[str, Path(max_length=64)],
                    material_index: Annotated[int, Path(ge=0, le=99)], page_no: Annotated[int, Path(ge=1, le=99)],
                    terminal_id: Terminal) -> Response:
        store.delete_page(terminal_id, application_id, material_index, page_no)
        return Response(status_code=204)

    @app.post(f"{API}/applications/{{application_id}}/submit", tags=["applications"], status_code=201,
              response_model=m.SubmitResult,
              responses={200: {"model": m.SubmitResult, "description": "the application was submitted before"},
                         **_errors(401, 404, 409, 422)}, openapi_extra=signed,
              summary="Submit: acceptance number, and the immediate result (即办) or the promised date (承诺)")
    def submit(application_id: Annotated[str, Path(max_length=64)], body: m.SubmitRequest, key: Key,
               terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/applications/{application_id}/submit", body,
                    lambda conn: store.submit(conn, terminal_id, application_id, body))

    # -- cases -----------------------------------------------------------------------------
    @app.post(f"{API}/cases/query", tags=["cases"], response_model=m.CaseStatus, responses=_errors(401, 404, 422, 429),
              openapi_extra=signed, summary="A case's status timeline by acceptance number and verification code")
    def case_query(body: m.CaseQuery, terminal_id: Terminal) -> Any:
        return store.case_by_number(terminal_id, body)

    @app.post(f"{API}/cases/by-holder", tags=["cases"], response_model=m.CaseList,
              responses=_errors(401, 422, 429, text={429: "too_many_lookups: this terminal has looked up too many "
                                                          "ID numbers lately; Retry-After says when to try again"}),
              openapi_extra=signed, summary="The cases of the ID card holder in front of the terminal "
                                            "(limited per terminal, every look-up audited)")
    def cases_by_holder(body: m.HolderQuery, terminal_id: Terminal) -> Any:
        lookups.allow("terminal", terminal_id, body.id_number, clock())
        found = store.cases_by_holder(body)
        lookups.record(f"terminal:{terminal_id}", body.id_number, len(found.cases), clock())
        return found

    # -- electronic licences (issue 11) ------------------------------------------------------
    @app.post(f"{API}/licences/lookup", tags=["applications"], response_model=m.LicenceList,
              responses=_errors(401, 422), openapi_extra=signed,
              summary="The holder's electronic licences (电子证照) of the given kinds, which replace materials")
    def licences_lookup(body: m.LicenceQuery, terminal_id: Terminal) -> Any:
        return store.find_licences(terminal_id, body)

    # -- pickups ---------------------------------------------------------------------------
    @app.get(f"{API}/terminals/{{terminal_id}}/pickups", tags=["pickups"], response_model=m.PickupList,
             responses=_errors(401, 403, 422), openapi_extra=signed,
             summary="Results waiting in this terminal's locker, by door")
    def pickups(terminal_id: Annotated[str, Path(max_length=64)], signed_terminal: Terminal) -> Any:
        own_terminal(terminal_id, signed_terminal)
        return store.waiting_pickups(terminal_id)

    @app.post(f"{API}/pickups/verify", tags=["pickups"], response_model=m.PickupMatches,
              responses=_errors(401, 422, 429), openapi_extra=signed,
              summary="Which results at this terminal belong to an ID card holder or a pickup code")
    def verify_pickup(body: m.PickupVerify, terminal_id: Terminal) -> Any:
        return store.verify_pickup(terminal_id, body)

    @app.post(f"{API}/pickups/{{pickup_id}}/confirm", tags=["pickups"], response_model=m.PickupRecord,
              responses=_errors(401, 404, 409, 422), openapi_extra=signed,
              summary="Record a pickup (time, door closed again, optional photo): closes the case")
    def confirm_pickup(pickup_id: Annotated[str, Path(max_length=64)], body: m.PickupConfirm, key: Key,
                       terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/pickups/{pickup_id}/confirm", body,
                    lambda conn: store.confirm_pickup(conn, terminal_id, pickup_id, body))

    # -- ratings and terminals -------------------------------------------------------------
    @app.post(f"{API}/ratings", tags=["ratings"], status_code=201, response_model=m.RatingReceipt,
              responses={200: {"model": m.RatingReceipt, "description": "a repeat of an earlier rating"},
                         **_errors(401, 404, 409, 422)}, openapi_extra=signed,
              summary="好差评: five levels; reasons (and a comment) with 不满意/非常不满意")
    def rate(body: m.RatingCreate, key: Key, terminal_id: Terminal) -> Any:
        return once(terminal_id, key, f"POST {API}/ratings", body, lambda conn: store.rate(conn, terminal_id, body))

    @app.post(f"{API}/terminals/{{terminal_id}}/heartbeat", tags=["terminals"], response_model=m.HeartbeatAck,
              responses=_errors(401, 403, 422), openapi_extra=signed,
              summary="The terminal's health and counters; answers the catalogue version and waiting pickups")
    def heartbeat(terminal_id: Annotated[str, Path(max_length=64)], body: m.Heartbeat,
                  signed_terminal: Terminal) -> Any:
        own_terminal(terminal_id, signed_terminal)
        return store.heartbeat(terminal_id, body)

    # -- back office -----------------------------------------------------------------------
    @app.get(f"{CLERK_API}/cases", tags=["clerk"], response_model=m.ClerkCaseList,
             responses=_errors(401, 422, 429, text={429: "too_many_lookups: too many look-ups by holder_id_number "
                                                         "from this client lately (each one is audited)"}),
             openapi_extra=clerk_only,
             summary="Cases, newest first, with their holder; optionally in one state or of one holder")
    def clerk_cases(request: Request, _c: Clerk, state: m.CaseState | None = None,
                    holder_id_number: Annotated[str | None, Query(min_length=5, max_length=32)] = None) -> Any:
        if holder_id_number is None:
            return store.clerk_cases(state, None)
        client = str((request.client.host if request.client else "unknown"))[:64]
        lookups.allow("clerk", client, holder_id_number, clock())
        found = store.clerk_cases(state, holder_id_number)
        lookups.record(f"clerk:{client}", holder_id_number, len(found.cases), clock())
        return found

    @app.get(f"{CLERK_API}/holder-lookups", tags=["clerk"], response_model=m.HolderLookupList,
             responses=_errors(401, 422), openapi_extra=clerk_only,
             summary="Look-ups of cases by ID number (terminals and clerks), newest first, numbers masked")
    def clerk_holder_lookups(_c: Clerk, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Any:
        return lookups.trail(limit)

    @app.get(f"{CLERK_API}/cases/{{acceptance_number}}", tags=["clerk"], response_model=m.CaseStatus,
             responses=_errors(401, 404, 422), openapi_extra=clerk_only, summary="One case")
    def clerk_case(acceptance_number: Annotated[str, Path(max_length=40)], _c: Clerk) -> Any:
        return store.clerk_case(acceptance_number)

    @app.post(f"{CLERK_API}/cases/{{acceptance_number}}/decision", tags=["clerk"], response_model=m.CaseStatus,
              responses=_errors(401, 404, 409, 422), openapi_extra=clerk_only,
              summary="Approve, or reject with reasons and the remedies "
                      "(行政复议/行政诉讼)")
    def clerk_decide(acceptance_number: Annotated[str, Path(max_length=40)], body: m.ClerkDecision, _c: Clerk) -> Any:
        return store.decide(acceptance_number, body)

    @app.post(f"{CLERK_API}/cases/{{acceptance_number}}/issue", tags=["clerk"], response_model=m.IssuedPickup,
              responses=_errors(401, 404, 409, 422), openapi_extra=clerk_only,
              summary="Put an approved result into a terminal's locker door; returns the pickup code")
    def clerk_issue(acceptance_number: Annotated[str, Path(max_length=40)], body: m.ClerkIssue, _c: Clerk) -> Any:
        return store.issue(acceptance_number, body)

    # -- back office: 审查中, 补正, re-issue, ratings (issue 12) ------------------------------------
    @app.post(f"{CLERK_API}/cases/{{acceptance_number}}/review", tags=["clerk"], response_model=m.CaseStatus,
              responses=_errors(401, 404, 409, 422), openapi_extra=clerk_only,
              summary="审查中: start reviewing an accepted case, or resume it once 补正 materials were handed in")
    def clerk_review(acceptance_number: Annotated[str, Path(max_length=40)], _c: Clerk) -> Any:
        return store.review(acceptance_number)

    @app.post(f"{CLERK_API}/cases/{{acceptance_number}}/supplement", tags=["clerk"], response_model=m.CaseStatus,
              responses=_errors(401, 404, 409, 422), openapi_extra=clerk_only,
              summary="补正: tell the applicant every missing or faulty material at once (一次性告知)")
    def clerk_supplement(acceptance_number: Annotated[str, Path(max_length=40)], body: m.ClerkSupplement,
                         _c: Clerk) -> Any:
        return store.request_supplement(acceptance_number, body)

    @app.post(f"{CLERK_API}/cases/{{acceptance_number}}/reissue", tags=["clerk"], response_model=m.IssuedPickup,
              responses=_errors(401, 404, 409, 422), openapi_extra=clerk_only,
              summary="Put a waiting result (back) into a door after checking the locker: the old pickup is "
                      "cancelled, a new pickup code is made (the only way a door opens twice for one result)")
    def clerk_reissue(acceptance_number: Annotated[str, Path(max_length=40)], body: m.ClerkIssue, _c: Clerk) -> Any:
        return store.reissue(acceptance_number, body)

    @app.get(f"{CLERK_API}/ratings", tags=["clerk"], response_model=m.ClerkRatingList, responses=_errors(401, 422),
             openapi_extra=clerk_only,
             summary="好差评: the ratings, newest first, with counts and averages per item and per terminal")
    def clerk_ratings(_c: Clerk, terminal_id: Annotated[str | None, Query(max_length=64)] = None,
                      item_code: Annotated[str | None, Query(max_length=40)] = None) -> Any:
        return store.clerk_ratings(terminal_id, item_code)

    @app.get(f"{CLERK_API}/terminals", tags=["clerk"], response_model=list[m.TerminalInfo],
             responses=_errors(401), openapi_extra=clerk_only, summary="Terminals, their last heartbeat, busy doors")
    def clerk_terminals(_c: Clerk) -> Any:
        return store.terminals()

    @app.get(f"{CLERK_API}/audit", tags=["clerk"], response_model=m.AuditList, responses=_errors(401, 422),
             openapi_extra=clerk_only, summary="Technicians' audit trail, newest first (at most 200)")
    def clerk_audit(_c: Clerk, terminal_id: Annotated[str | None, Query(max_length=64)] = None) -> Any:
        return store.audit_events(terminal_id)

    @app.get(f"{CLERK_API}/staff-calls", tags=["clerk"], response_model=m.StaffCallList,
             responses=_errors(401, 422), openapi_extra=clerk_only,
             summary="Staff calls: the open ones oldest first (state=open), or the last 200 (state=all)")
    def clerk_staff_calls(_c: Clerk, state: Literal["open", "all"] = "open") -> Any:
        return store.staff_calls(open_only=state == "open")

    @app.post(f"{CLERK_API}/staff-calls/{{call_id}}/handled", tags=["clerk"], response_model=m.StaffCall,
              responses=_errors(401, 404, 422), openapi_extra=clerk_only,
              summary="Mark a staff call handled (已处理); repeating it changes nothing")
    def clerk_staff_call_handled(call_id: Annotated[str, Path(max_length=64)], _c: Clerk) -> Any:
        return store.handle_staff_call(call_id)

    @app.put(f"{CLERK_API}/catalog/items/{{code}}", tags=["clerk"], response_model=m.CatalogPage,
             responses=_errors(401, 422), openapi_extra=clerk_only,
             summary="Add or change a catalogue item (terminals pick it up at their next sync)")
    def clerk_put_item(code: Annotated[str, Path(pattern=r"^\d{6}-[A-Z][A-Z0-9]{0,9}-\d{4}$")], body: m.ServiceItem,
                       _c: Clerk) -> Any:
        if body.code != code:
            raise ApiError(422, "code_mismatch", "the item's code differs from the one in the path",
                           [m.FieldProblem(field="body.code", problem="must equal the path's code")])
        version = store.upsert_item(body)
        return m.CatalogPage(version=version, since_version=version - 1, items=[body], removed=[], has_more=False,
                             full=False)

    @app.delete(f"{CLERK_API}/catalog/items/{{code}}", tags=["clerk"], status_code=204,
                responses=_errors(401, 404, 422), openapi_extra=clerk_only, summary="Withdraw a catalogue item")
    def clerk_delete_item(code: Annotated[str, Path(pattern=r"^\d{6}-[A-Z][A-Z0-9]{0,9}-\d{4}$")],
                          _c: Clerk) -> Response:
        store.remove_item(code)
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"ok": True, "catalog_version": store.catalog_version()}

    from refbackend.clerk_pages import FONT_DIR, install_clerk_pages

    install_clerk_pages(app, store, require_clerk, csrf_token, font_dir=FONT_DIR if clerk_fonts else None)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                             tags=app.openapi_tags)
        for path, operations in schema["paths"].items():
            if not path.startswith(CLERK_API + "/"):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "429" not in responses:
                    responses["429"] = {"description": "too_many_logins: too many wrong clerk passwords from this "
                                                       "client (or for the account); Retry-After says how long",
                                        "content": {"application/json": {"schema": {
                                            "$ref": "#/components/schemas/ErrorBody"}}}}
        schema.setdefault("components", {})["securitySchemes"] = {
            "terminalSignature": {"type": "apiKey", "in": "header", "name": "X-Signature",
                                  "description": "HMAC-SHA256 request signature; see the API description"},
            "clerkBasic": {"type": "http", "scheme": "basic"},
        }
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app


def _allowed_methods(app: FastAPI, scope: dict) -> set[str]:
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(dict(scope, method="__none__"))
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return methods or {"GET"}


def openapi_document() -> dict[str, Any]:
    """The contract as OpenAPI, independent of any data (what docs/api/openapi.json holds)."""
    store = ReferenceStore(":memory:")
    try:
        document = create_app(store, clerk_password="unused").openapi()
    finally:
        store.close()
    return json.loads(json.dumps(document))
