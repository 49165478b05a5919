"""Request signing between a terminal and the acceptance system (HMAC-SHA256).

Every request a terminal sends carries five headers::

    X-Terminal-Id     the terminal's id
    X-Timestamp       Unix seconds when the request was signed
    X-Nonce           32 random hex characters, never reused
    X-Content-SHA256  hex SHA-256 of the exact body bytes (of b"" when there is no body)
    X-Signature       hex HMAC-SHA256 with the terminal's key over the canonical string

The canonical string is these lines joined by ``\\n``::

    HEYIBAN-HMAC-SHA256
    <terminal id>
    <METHOD>
    <path and query exactly as sent, e.g. /api/v1/catalog/items?since_version=3>
    <timestamp>
    <nonce>
    <body SHA-256>

The server recomputes the body hash from what it received, rejects a clock skew over five
minutes and refuses a nonce it has seen in the last ten minutes. ``TerminalAuth`` signs a
``requests`` request; ``verify_request`` is the server's side, in two halves for a server that
streams: ``verify_headers`` (everything but the body, since the signature covers the body's
claimed hash) before reading the body, ``verify_body`` after.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol

import requests

SCHEME = "HEYIBAN-HMAC-SHA256"
HEADER_TERMINAL = "X-Terminal-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_CONTENT = "X-Content-SHA256"
HEADER_SIGNATURE = "X-Signature"
MAX_SKEW_SECONDS = 300
NONCE_MEMORY_SECONDS = 2 * MAX_SKEW_SECONDS
MIN_KEY_BYTES = 32

_NONCE = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class TerminalKeyError(ValueError):
    """A terminal key that cannot be used (message names the file, never the key)."""


def body_digest(body: bytes | None) -> str:
    return hashlib.sha256(body or b"").hexdigest()


def canonical_string(terminal_id: str, method: str, path: str, timestamp: str, nonce: str, content_sha256: str) -> bytes:
    return "\n".join((SCHEME, terminal_id, method.upper(), path, timestamp, nonce, content_sha256)).encode("utf-8")


def compute_signature(key: bytes, terminal_id: str, method: str, path: str, timestamp: str, nonce: str,
                      content_sha256: str) -> str:
    message = canonical_string(terminal_id, method, path, timestamp, nonce, content_sha256)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_headers(key: bytes, terminal_id: str, method: str, path: str, body: bytes | None,
                   now: float | None = None, nonce: str | None = None,
                   content_sha256: str | None = None) -> dict[str, str]:
    """The five headers for one request. ``content_sha256`` is given for streamed bodies."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(16)
    digest = content_sha256 or body_digest(body)
    return {
        HEADER_TERMINAL: terminal_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_CONTENT: digest,
        HEADER_SIGNATURE: compute_signature(key, terminal_id, method, path, timestamp, nonce, digest),
    }


class TerminalAuth(requests.auth.AuthBase):
    """Signs each prepared ``requests`` request; a fresh nonce and timestamp every time.

    A streamed body (an iterator, e.g. an upload with progress) cannot be hashed here:
    the caller sets ``X-Content-SHA256`` itself and that value is signed.
    """

    def __init__(self, terminal_id: str, key: bytes, clock: Callable[[], float] = time.time):
        if len(key) < MIN_KEY_BYTES:
            raise TerminalKeyError(f"a terminal key has at least {MIN_KEY_BYTES} bytes")
        self.terminal_id = terminal_id
        self._key = key
        self._clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        preset = request.headers.get(HEADER_CONTENT)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, (bytes, bytearray)):
            if not preset:
                raise ValueError("a streamed body needs an X-Content-SHA256 header")
            digest = preset
        else:
            digest = body_digest(bytes(body) if body else b"")
        request.headers.update(signed_headers(self._key, self.terminal_id, request.method or "GET",
                                              request.path_url, None, now=self._clock(), content_sha256=digest))
        return request


# ---------------------------------------------------------------------------------------
# Server side


class AuthFailure(Exception):
    """Why a request is not accepted as coming from a terminal (answered with 401)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class NonceStore(Protocol):
    def remember(self, terminal_id: str, nonce: str, timestamp: int, now: float) -> bool:
        """Record a nonce; False when it was already seen (a replay)."""


@dataclass(frozen=True)
class VerifiedRequest:
    terminal_id: str
    timestamp: int


@dataclass(frozen=True)
class SignedHeaders:
    """A request whose headers carry a valid signature; its body is not checked yet."""

    terminal_id: str
    timestamp: int
    nonce: str
    content_sha256: str


_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def verify_headers(headers: Mapping[str, str], method: str, path: str, key_for: Callable[[str], bytes | None],
                   now: float | None = None) -> SignedHeaders:
    """Check everything a terminal request says before its body: the five headers, the
    terminal's key, the signature (which covers the body's claimed hash) and the clock.

    A server calls this before it reads a single byte of the body, so that nobody without a
    terminal key can make it read (or hold) a body at all. Raises ``AuthFailure``."""
    now = time.time() if now is None else now
    terminal_id = headers.get(HEADER_TERMINAL, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    timestamp_text = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    claimed_digest = headers.get(HEADER_CONTENT, "")
    if not (terminal_id and signature and timestamp_text and nonce and claimed_digest):
        raise AuthFailure("missing_signature", "the request is not signed (X-Terminal-Id, X-Timestamp, X-Nonce, "
                                               "X-Content-SHA256 and X-Signature are required)")
    if not _TERMINAL.fullmatch(terminal_id):
        raise AuthFailure("unknown_terminal", "the terminal id is not valid")
    # ASCII digits only: str.isdigit() also takes '²' or '٣', which int() then refuses
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise AuthFailure("bad_timestamp", "X-Timestamp must be Unix seconds")
    if not _NONCE.fullmatch(nonce):
        raise AuthFailure("bad_nonce", "X-Nonce must be 32 lowercase hex characters")
    if not _HEX64.fullmatch(claimed_digest):
        raise AuthFailure("bad_content_hash", "X-Content-SHA256 must be 64 lowercase hex characters")
    timestamp = int(timestamp_text)
    key = key_for(terminal_id)
    if key is None:
        raise AuthFailure("unknown_terminal", "this terminal is not registered with the backend")
    expected = compute_signature(key, terminal_id, method, path, timestamp_text, nonce, claimed_digest)
    if not hmac.compare_digest(expected, signature.lower()):
        raise AuthFailure("bad_signature", "the signature does not match (wrong key, or the request was altered)")
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise AuthFailure("clock_skew", f"the terminal's clock is {int(timestamp - now):+d} s off the server's "
                                        f"(at most {MAX_SKEW_SECONDS} s allowed)")
    return SignedHeaders(terminal_id, timestamp, nonce, claimed_digest)


def verify_body(signed: SignedHeaders, body: bytes, nonces: NonceStore, now: float | None = None) -> VerifiedRequest:
    """Second half of ``verify_headers``: the body matches the signed hash, and the nonce is new."""
    now = time.time() if now is None else now
    if not hmac.compare_digest(signed.content_sha256, body_digest(body)):
        raise AuthFailure("bad_content_hash", "the body does not match X-Content-SHA256")
    if not nonces.remember(signed.terminal_id, signed.nonce, signed.timestamp, now):
        raise AuthFailure("replayed", "this request was already received (nonce reused)")
    return VerifiedRequest(signed.terminal_id, signed.timestamp)


def verify_request(headers: Mapping[str, str], method: str, path: str, body: bytes,
                   key_for: Callable[[str], bytes | None], nonces: NonceStore,
                   now: float | None = None) -> VerifiedRequest:
    """Check a terminal request; raise ``AuthFailure`` with a stable code when it fails."""
    now = time.time() if now is None else now
    return verify_body(verify_headers(headers, method, path, key_for, now), body, nonces, now)


# ---------------------------------------------------------------------------------------
# Keys


def generate_key() -> str:
    """A new terminal key as the text stored in a key file (base64 of 32 random bytes)."""
    return base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode("ascii")


def parse_key(text: str, where: str = "the key") -> bytes:
    """Decode a key given as base64 (or 64+ hex characters); at least 32 bytes."""
    text = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64,}", text) and len(text) % 2 == 0:
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None,
                                   validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None:
        raise TerminalKeyError(f"{where} is not base64 or hex text")
    if len(raw) < MIN_KEY_BYTES:
        raise TerminalKeyError(f"{where} is too short ({len(raw)} bytes; at least {MIN_KEY_BYTES})")
    return raw


def read_key_file(path: Path | str) -> bytes:
    path = Path(path)
    try:
        text = path.read_text("ascii")
    except FileNotFoundError:
        raise TerminalKeyError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TerminalKeyError(f"key file {path} cannot be read ({type(exc).__name__})") from None
    return parse_key(text, f"key file {path}")


def write_key_file(path: Path | str, text: str | None = None) -> str:
    """Write a key (a new one unless given) to ``path`` readable by the owner only."""
    path = Path(path)
    text = text or generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return text
