"""HTTP client for the acceptance system: one method per contract call.

Built on a ``requests`` session with:

- connect and read timeouts on every call;
- TLS verification always on, with an optional CA bundle for a private CA, and an optional pin
  of the backend certificate's SHA-256 fingerprint (urllib3's ``assert_fingerprint``): with a
  pin, a certificate any CA vouches for is still refused unless it is that one;
- every request signed (``kiosk.backend.signing``), re-signed with a fresh nonce on each
  attempt so a retry is never taken for a replay;
- retries with exponential backoff and jitter, only for calls that are safe to repeat
  (reads, PUTs, and state changes carrying an idempotency key the server honours);
- upload progress callbacks ``progress(sent_bytes, total_bytes)`` for page uploads.

Errors are the classes in ``kiosk.backend.errors``; responses are parsed into the contract
models, so a flow never sees raw JSON. Every ``requests`` failure (a refused connection, a
timeout, a reply cut off half-way, a malformed URL from a proxy) is ``BackendUnavailable``: the
item waits. A 4xx is a refusal for good (``BackendRejected``) only when it carries the
contract's error body: an HTML 403, 404 or 413 from a proxy in front of the backend says
nothing about the request and is ``BackendUnavailable`` too.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from pydantic import BaseModel, ValidationError

from kiosk.backend import models as m
from kiosk.backend.errors import (BackendAuthError, BackendError, BackendNotFound, BackendProtocolError,
                                  BackendRejected, BackendUnavailable)
from kiosk.backend.signing import HEADER_CONTENT, TerminalAuth

log = logging.getLogger(__name__)

API = "/api/v1"
ProgressCallback = Callable[[int, int], None]
T = TypeVar("T", bound=BaseModel)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _ProgressBody:
    """An upload body that reports how many bytes went out, chunk by chunk."""

    def __init__(self, data: bytes, progress: ProgressCallback | None, chunk: int = 64 * 1024):
        self._data = data
        self._progress = progress
        self._chunk = chunk

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[bytes]:
        total = len(self._data)
        view = memoryview(self._data)
        for start in range(0, total, self._chunk):
            piece = view[start:start + self._chunk]
            yield bytes(piece)
            if self._progress is not None:
                self._progress(min(start + self._chunk, total), total)


class BackendClient:
    def __init__(self, base_url: str, terminal_id: str, key: bytes, *, ca_bundle: str = "", tls_pin_sha256: str = "",
                 connect_timeout: float = 3.05, read_timeout: float = 20.0, retries: int = 3,
                 backoff: float = 0.5, max_backoff: float = 8.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 user_agent: str = ""):
        if not base_url:
            raise ValueError("no backend URL configured")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the backend URL must start with http:// or https:// and name a host")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            log.warning("backend URL is plain http to a remote host: requests are signed but not encrypted",
                        extra={"fields": {"host": parts.hostname}})
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.session = session or requests.Session()
        self.session.auth = TerminalAuth(terminal_id, key, clock)
        self.session.verify = ca_bundle or True  # never False
        if tls_pin_sha256:
            if parts.scheme != "https":
                raise ValueError("a TLS pin needs an https:// backend URL")
            self.session.mount("https://", _PinnedAdapter(tls_pin_sha256))
        self.session.trust_env = False  # a proxy from the environment must not see or alter requests
        from kiosk import __version__

        self.session.headers["User-Agent"] = user_agent or f"heyiban-kiosk/{__version__} ({terminal_id})"
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    # -- plumbing --------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, model: type[T] | None = None, json_body: BaseModel | None = None,
                 raw: bytes | None = None, content_type: str | None = None, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, repeatable: bool,
                 progress: ProgressCallback | None = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        url = self.base_url + API + path
        if params:
            url += "?" + urlencode(params)
        base_headers = dict(headers or {})
        body: bytes | None = None
        if json_body is not None:
            body = json_body.model_dump_json(exclude_none=False).encode("utf-8")
            base_headers["Content-Type"] = "application/json"
        elif raw is not None:
            body = raw
            base_headers["Content-Type"] = content_type or "application/octet-stream"
        if progress is not None and body is not None:
            base_headers[HEADER_CONTENT] = hashlib.sha256(body).hexdigest()
        attempts = 1 + (self.retries if repeatable else 0)
        what = f"{method} {path}"
        for attempt in range(1, attempts + 1):
            data: Any = _ProgressBody(body, progress) if (progress is not None and body is not None) else body
            try:
                response = self.session.request(method, url, data=data, headers=base_headers, timeout=self.timeout)
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not fix itself by retrying.
                raise BackendUnavailable(f"{what}: TLS verification failed ({_reason(exc)})", code="tls") from None
            except requests.exceptions.RequestException as exc:
                kind = "timeout" if isinstance(exc, requests.exceptions.Timeout) else "unreachable"
                if attempt < attempts:
                    self._pause(attempt, None, what, kind)
                    continue
                raise BackendUnavailable(f"{what}: backend {kind} ({_reason(exc)})", code=kind) from None
            if response.status_code in _RETRY_STATUS and attempt < attempts:
                self._pause(attempt, response.headers.get("Retry-After"), what, str(response.status_code))
                continue
            return self._result(response, what, model, ok)
        raise AssertionError("unreachable")

    def _pause(self, attempt: int, retry_after: str | None, what: str, why: str) -> None:
        delay = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        delay = delay * (0.5 + random.random() / 2)
        seconds = ascii_seconds(retry_after)
        if seconds is not None:
            delay = min(self.max_backoff, max(delay, float(seconds)))
        log.info("backend call failed, retrying", extra={"fields": {"call": what, "why": why, "attempt": attempt,
                                                                   "delay_s": round(delay, 2)}})
        self._sleep(delay)

    def _result(self, response: requests.Response, what: str, model: type[T] | None, ok: tuple[int, ...]) -> Any:
        status = response.status_code
        if status in ok or (status == 304 and 304 in ok):
            if model is None or status == 304:
                return response
            return self._parse(response, model, what)
        code, message, fields, detail = _error_of(response)
        contract = detail.pop("contract", False)
        text = f"{what}: {status} {code}: {message}"
        if status == 401:
            raise BackendAuthError(text, code=code, status=status)
        if status in (408, 429) or status >= 500:
            raise BackendUnavailable(text, code=code or str(status), status=status, **detail)
        if 400 <= status < 500 and not contract:
            # not the backend speaking (a proxy's HTML page): nothing is known about the request
            raise BackendUnavailable(text, code=code, status=status, **detail)
        if status == 404:
            raise BackendNotFound(text, code=code, status=status)
        if 400 <= status < 500:
            raise BackendRejected(text, code=code, status=status, fields=fields, **detail)
        raise BackendProtocolError(text, code=code or "unexpected_status", status=status)

    @staticmethod
    def _parse(response: requests.Response, model: type[T], what: str) -> T:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            first = m.error_location(exc.errors()[0]) if exc.errors() else "?"
            raise BackendProtocolError(f"{what}: answer does not fit the contract ({exc.error_count()} problems, "
                                       f"first at {first})", status=response.status_code,
                                       code="bad_response") from None

    # -- catalogue -------------------------------------------------------------------------
    def catalog_changes(self, since_version: int = 0, etag: str | None = None,
                        limit: int = 200) -> tuple[m.CatalogPage | None, str | None]:
        """Items changed since ``since_version``; ``(None, etag)`` when nothing changed (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", "/catalog/items", params={"since_version": since_version, "limit": limit},
                                 headers=headers, repeatable=True, ok=(200, 304))
        new_etag = response.headers.get("ETag")
        if response.status_code == 304:
            return None, new_etag or etag
        return self._parse(response, m.CatalogPage, "GET /catalog/items"), new_etag

    def catalog_item(self, code: str) -> m.ServiceItem:
        return self._request("GET", f"/catalog/items/{code}", model=m.ServiceItem, repeatable=True)

    # -- identity and grid workers ---------------------------------------------------------
    def resolve_identity(self, code: str) -> m.ResolvedIdentity:
        """The person behind a personal identity code (``HYBID:…``). 404 ``identity_code_unknown``,
        410 ``identity_code_expired``; a bad format raises pydantic's ValidationError before sending."""
        return self._request("POST", "/identity/resolve", model=m.ResolvedIdentity,
                             json_body=m.IdentityCodeQuery(code=code), repeatable=True, ok=(200,))

    def staff_sign_in(self, kind: str, value: str, pin: str) -> m.GridWorker:
        """A grid worker signs in with a staff code or staff card (ID number) and the PIN.

        Never repeated: every attempt that reaches the server counts against the worker's five."""
        request = m.StaffSignIn(credential=m.StaffCredential(kind=kind, value=value), pin=pin)
        return self._request("POST", "/staff/sign-in", model=m.GridWorker, json_body=request, repeatable=False,
                             ok=(200,))

    def call_staff(self, request: m.StaffCallCreate, idempotency_key: str) -> m.StaffCallReceipt:
        return self._request("POST", "/staff-calls", model=m.StaffCallReceipt, json_body=request,
                             headers={"Idempotency-Key": idempotency_key}, repeatable=True)

    def audit(self, request: m.AuditEventCreate, idempotency_key: str) -> m.AuditReceipt:
        """A technician event (hidden entry, PIN, diagnostics action) for the back office's audit trail."""
        return self._request("POST", "/audit", model=m.AuditReceipt, json_body=request,
                             headers={"Idempotency-Key": idempotency_key}, repeatable=True)

    # -- applications ----------------------------------------------------------------------
    def create_application(self, request: m.ApplicationCreate, idempotency_key: str) -> m.Application:
        """Create (or, repeating a key, find again) an application, with the pages it holds now."""
        response = self._request("POST", "/applications", json_body=request,
                                 headers={"Idempotency-Key": idempotency_key}, repeatable=True)
        application = self._parse(response, m.Application, "POST /applications")
        if response.headers.get("Idempotent-Replayed") == "true" and application.status == "draft":
            # The stored answer predates any page uploaded since: ask for the current state.
            application = self.get_application(application.application_id)
        return application

    def get_application(self, application_id: str) -> m.Application:
        return self._request("GET", f"/applications/{application_id}", model=m.Application, repeatable=True)

    def upload_page(self, application_id: str, material_index: int, page_no: int, data: bytes,
                    content_type: str, progress: ProgressCallback | None = None) -> m.PageReceipt:
        """PUT one page (JPEG or PDF). Repeating it with the same bytes is harmless."""
        return self._request("PUT", f"/applications/{application_id}/materials/{material_index}/pages/{page_no}",
                             model=m.PageReceipt, raw=data, content_type=content_type, repeatable=True,
                             progress=progress or (lambda sent, total: None))

    def delete_page(self, application_id: str, material_index: int, page_no: int) -> None:
        self._request("DELETE", f"/applications/{application_id}/materials/{material_index}/pages/{page_no}",
                      repeatable=True, ok=(204,))

    def submit_application(self, application_id: str, request: m.SubmitRequest,
                           idempotency_key: str) -> m.SubmitResult:
        return self._request("POST", f"/applications/{application_id}/submit", model=m.SubmitResult,
                             json_body=request, headers={"Idempotency-Key": idempotency_key}, repeatable=True)

    # -- cases -----------------------------------------------------------------------------
    def case_status(self, acceptance_number: str, verification_code: str) -> m.CaseStatus:
        query = m.CaseQuery(acceptance_number=acceptance_number, verification_code=verification_code)
        return self._request("POST", "/cases/query", model=m.CaseStatus, json_body=query, repeatable=True,
                             ok=(200,))

    def case_for_holder(self, acceptance_number: str, id_number: str, id_type: str = "resident_id") -> m.CaseStatus:
        """One case of the ID card holder in front of the terminal (no 查询码 needed)."""
        query = m.CaseQuery(acceptance_number=acceptance_number,
                            holder=m.HolderQuery(id_type=id_type, id_number=id_number))
        return self._request("POST", "/cases/query", model=m.CaseStatus, json_body=query, repeatable=True,
                             ok=(200,))

    def cases_by_holder(self, id_number: str, id_type: str = "resident_id") -> list[m.CaseSummary]:
        query = m.HolderQuery(id_type=id_type, id_number=id_number)
        result = self._request("POST", "/cases/by-holder", model=m.CaseList, json_body=query, repeatable=True,
                               ok=(200,))
        return list(result.cases)

    # -- electronic licences (issue 11) ------------------------------------------------------
    def find_licences(self, id_number: str, kinds: list[str], id_type: str = "resident_id") -> list[m.Licence]:
        """The holder's electronic licences (电子证照) of these kinds; the ID number goes in the body."""
        query = m.LicenceQuery(holder=m.HolderQuery(id_type=id_type, id_number=id_number), kinds=kinds)
        result = self._request("POST", "/licences/lookup", model=m.LicenceList, json_body=query, repeatable=True,
                               ok=(200,))
        return list(result.licences)

    # -- pickups ---------------------------------------------------------------------------
    def pickups_waiting(self) -> list[m.PickupSlot]:
        result = self._request("GET", f"/terminals/{self.terminal_id}/pickups", model=m.PickupList, repeatable=True)
        return list(result.slots)

    def verify_pickup(self, request: m.PickupVerify) -> list[m.PickupSlot]:
        # Not repeated: each try counts against the terminal's wrong-code allowance.
        result = self._request("POST", "/pickups/verify", model=m.PickupMatches, json_body=request,
                               repeatable=False, ok=(200,))
        return list(result.matches)

    def confirm_pickup(self, pickup_id: str, request: m.PickupConfirm, idempotency_key: str) -> m.PickupRecord:
        return self._request("POST", f"/pickups/{pickup_id}/confirm", model=m.PickupRecord, json_body=request,
                             headers={"Idempotency-Key": idempotency_key}, repeatable=True)

    # -- ratings and terminal --------------------------------------------------------------
    def rate(self, request: m.RatingCreate, idempotency_key: str) -> m.RatingReceipt:
        return self._request("POST", "/ratings", model=m.RatingReceipt, json_body=request,
                             headers={"Idempotency-Key": idempotency_key}, repeatable=True)

    def heartbeat(self, request: m.Heartbeat) -> m.HeartbeatAck:
        # Not repeated: the next heartbeat is due soon anyway.
        return self._request("POST", f"/terminals/{self.terminal_id}/heartbeat", model=m.HeartbeatAck,
                             json_body=request, repeatable=False, ok=(200,))


def _reason(exc: Exception) -> str:
    """A short cause without URLs' query strings or bodies."""
    text = type(exc).__name__
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    if reason is not None:
        text += f": {type(reason).__name__}"
    return text


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """Refuses any server certificate but the one with this SHA-256 fingerprint (after CA checks)."""

    def __init__(self, fingerprint: str):
        self.fingerprint = fingerprint.replace(":", "").lower()
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self.fingerprint
        super().init_poolmanager(*args, **kwargs)


def ascii_seconds(text: str | None) -> int | None:
    """A ``Retry-After`` in whole seconds: ASCII digits only ("²" and "٣" are digits to ``isdigit``)."""
    if text and len(text) <= 9 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _error_of(response: requests.Response) -> tuple[str, str, list, dict[str, Any]]:
    """Code, message, field problems, and attempts_left / retry_after_seconds of a refusal;
    ``contract`` says whether the body was the contract's error body."""
    detail: dict[str, Any] = {"attempts_left": None,
                              "retry_after_seconds": ascii_seconds(response.headers.get("Retry-After"))}
    try:
        body = m.ErrorBody.model_validate_json(response.content)
    except (ValidationError, ValueError):
        return f"http_{response.status_code}", (response.reason or "no explanation given")[:100], [], detail
    detail["contract"] = True
    detail["attempts_left"] = body.error.attempts_left
    if body.error.retry_after_seconds is not None:
        detail["retry_after_seconds"] = body.error.retry_after_seconds
    return body.error.code, body.error.message, [f.model_dump() for f in body.error.fields], detail


__all__ = ["BackendClient", "BackendError", "BackendUnavailable", "BackendAuthError", "BackendRejected",
           "BackendNotFound", "BackendProtocolError", "ProgressCallback"]
